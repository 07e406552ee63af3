// `supernova profile` and `supernova split` as a user runs them, on a real model (the PP-OCR
// orientation classifier): the split directory's layout and plan, head then tail against the
// whole model, and every error one line with nothing written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "collab/link.h"
#include "ir/onnx_import.h"
#include "optimizer/graph_builder.h"
#include "supernova/session.h"
#include "test_util.h"
#include "tools/cli_util.h"

namespace supernova::collab {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using supernova::testing::Cli;

const std::string kClsModel =
    std::string(SUPERNOVA_ASSETS_DIR) + "/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx";

class CliSplit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("cli_split_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    if (!fs::exists(kClsModel)) return;
    // One thread on both sides: two on a loaded two-core machine can take seconds to spin
    // up, and the tests need the files, not the timings. The slowdown makes the two differ.
    const std::string common =
        kClsModel + " --shape x=1,3,48,192 --threads 1 --iterations 2 --warmup 0 ";
    edge_ok_ = Cli("profile " + common + "--slowdown 4 -o " + Path("edge.json")).code == 0;
    cloud_ok_ = Cli("profile " + common + "-o " + Path("cloud.json")).code == 0;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override {
    if (!fs::exists(kClsModel))
      GTEST_SKIP() << kClsModel << " is missing (scripts/fetch_models.sh fetches it)";
    ASSERT_TRUE(edge_ok_ && cloud_ok_) << "supernova profile failed";
  }
  static std::string Path(const std::string& name) { return (dir_ / name).string(); }
  static std::string Split(const std::string& out, const std::string& extra) {
    return "split " + kClsModel + " -o " + Path(out) + " --edge-profile " + Path("edge.json") +
           " --cloud-profile " + Path("cloud.json") + " " + extra;
  }
  static json ReadJson(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
  }

  static fs::path dir_;
  static bool edge_ok_, cloud_ok_;
};
fs::path CliSplit::dir_;
bool CliSplit::edge_ok_ = false;
bool CliSplit::cloud_ok_ = false;

// The model's outputs, run with the reference kernels alone (the same kernel for a node
// whatever its neighbours, so a split can be compared bit for bit).
std::map<std::string, Tensor> RunFile(const std::string& path,
                                      const std::vector<std::pair<std::string, Tensor>>& feeds) {
  SessionOptions options;
  options.num_threads = 1;
  options.providers = {"cpu_reference"};
  auto session = Session::Open(path, options);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  std::map<std::string, Tensor> named;
  if (!session.ok()) return named;
  std::vector<Tensor> outputs;
  Status s = (*session)->Run(feeds, &outputs);
  EXPECT_TRUE(s.ok()) << s.ToString();
  for (size_t i = 0; s.ok() && i < outputs.size(); ++i)
    named[(*session)->outputs()[i].name] = outputs[i].Clone();
  return named;
}

TEST_F(CliSplit, ProfilesAddUpAndKnowTheirShapes) {
  const json edge = ReadJson(Path("edge.json"));
  double sum = 0;
  for (const json& n : edge["nodes"]) sum += n["ms"].get<double>();
  EXPECT_NEAR(sum, edge["total_ms"].get<double>(), 1e-6 * sum);
  EXPECT_DOUBLE_EQ(edge["total_ms"].get<double>(), 4 * edge["measured_ms"].get<double>());
  EXPECT_EQ(edge["tensors"]["x"]["bytes"].get<size_t>(), 3u * 48 * 192 * 4);
  EXPECT_EQ(edge["tensors"]["softmax_0.tmp_0"]["shape"], json({1, 2}));
  EXPECT_EQ(edge["nodes"].size(), 471u);  // every node of the file, Constants included
}

TEST_F(CliSplit, AutoWritesTheDirectoryThePlanDescribes) {
  auto out = Cli(Split("auto", "--link 10,20 --cut-codec fp16 --json"), "/dev/null");
  ASSERT_EQ(out.code, 0) << out.text;
  const json plan = json::parse(out.text);
  EXPECT_EQ(plan, ReadJson(Path("auto/plan.json")));
  EXPECT_EQ(plan["model"], "ch_ppocr_mobile_v2.0_cls_infer.onnx");
  EXPECT_EQ(plan["inputs"], json({"x"}));
  EXPECT_EQ(plan["codec"], "fp16");
  EXPECT_EQ(plan["edge"]["slowdown"], 4);
  const Link link{10, 20, 0};
  int materialized = 0;
  bool chosen_seen = false;
  for (const json& c : plan["candidates"]) {
    const double edge = c["edge_ms"], cloud = c["cloud_ms"], transfer = c["transfer_ms"];
    EXPECT_DOUBLE_EQ(c["total_ms"].get<double>(), edge + transfer + cloud);
    if (c["kind"] != "edge_only") {
      EXPECT_DOUBLE_EQ(transfer, link.TransferMs(c["sent_bytes"], c["result_bytes"]));
    }
    if (c["id"] == plan["chosen"]) chosen_seen = true;
    if (!c["materialized"].get<bool>()) continue;
    ++materialized;
    const std::string head = c["head"].is_null() ? "" : c["head"].get<std::string>();
    const std::string tail = c["tail_model"].is_null() ? "" : c["tail_model"].get<std::string>();
    EXPECT_TRUE(head.empty() || fs::exists(Path("auto/" + head))) << head;
    EXPECT_TRUE(tail.empty() || fs::exists(Path("auto/repository/" + tail + "/1/model.onnx")))
        << tail;
    EXPECT_EQ(head.empty(), c["kind"] == "cloud_only");
    EXPECT_EQ(tail.empty(), c["kind"] == "edge_only");
  }
  EXPECT_TRUE(chosen_seen);
  EXPECT_GE(materialized, 2);  // at least edge-only and cloud-only
  EXPECT_TRUE(fs::exists(Path("auto/head.onnx")) || fs::exists(Path("auto/tail.onnx")));
  EXPECT_FALSE(fs::exists(Path("auto.tmp")));
  // Written again, named with a trailing slash: replaced in place, the temporary beside it.
  fs::remove(Path("auto/head.onnx"));
  ASSERT_EQ(Cli(Split("auto/", "--link 10,20 --cut-codec fp16"), "/dev/null").code, 0);
  EXPECT_EQ(ReadJson(Path("auto/plan.json")), plan);
  EXPECT_TRUE(fs::exists(Path("auto/head.onnx")) || fs::exists(Path("auto/tail.onnx")));
  EXPECT_FALSE(fs::exists(Path("auto.tmp")));
  EXPECT_FALSE(fs::exists(Path("auto/.tmp")));
}

TEST_F(CliSplit, HeadThenTailEqualTheWholeModel) {
  // A cut from the middle of the candidates, two tensors where one has them (an SE block).
  auto listed = Cli(Split("list", "--link 10,20 --json"), "/dev/null");
  ASSERT_EQ(listed.code, 0) << listed.text;
  const json candidates = json::parse(listed.text)["candidates"];
  std::vector<std::string> cut;
  for (size_t i = candidates.size() / 2; i < candidates.size() && cut.size() < 2; ++i)
    if (candidates[i]["kind"] == "split" && candidates[i]["tensors"].size() >= cut.size())
      cut = candidates[i]["tensors"].get<std::vector<std::string>>();
  ASSERT_FALSE(cut.empty());
  std::string cut_flag;
  for (const std::string& t : cut) cut_flag += (cut_flag.empty() ? "" : ",") + t;

  auto model = ir::ImportOnnxFile(kClsModel);
  ASSERT_TRUE(model.ok());
  std::vector<std::pair<std::string, Tensor>> feeds = {
      {"x", supernova::testing::RandomTensor({1, 3, 48, 192}, 5, 0, 1)}};
  std::map<std::string, Tensor> whole = RunFile(kClsModel, feeds);
  for (const std::string codec : {"none", "fp16"}) {
    SCOPED_TRACE(codec);
    auto out =
        Cli(Split("mid_" + codec, "--link 10,20 --cut " + cut_flag + " --cut-codec " + codec));
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_THAT(out.text, ::testing::HasSubstr("<- chosen"));
    std::map<std::string, Tensor> sent = RunFile(Path("mid_" + codec + "/head.onnx"), feeds);
    std::vector<std::pair<std::string, Tensor>> wire(sent.begin(), sent.end());
    std::map<std::string, Tensor> got = RunFile(Path("mid_" + codec + "/tail.onnx"), wire);
    ASSERT_EQ(got.size(), 1u);
    const Tensor& want = whole["softmax_0.tmp_0"];
    const Tensor& have = got["softmax_0.tmp_0"];
    if (codec == "none") {  // the same kernels on the same values
      EXPECT_TRUE(supernova::testing::TensorsNear(want, have, 0, 0));
    } else {  // probabilities from cut values rounded to 11 significant bits
      EXPECT_TRUE(supernova::testing::TensorsNear(want, have, 0, 1e-2));
    }
  }
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// The same through `supernova run` and its files: the head's outputs, written as output_<i>.pb
// in plan order, are the tail's inputs by name.
TEST_F(CliSplit, SupernovaRunCarriesTheCutAcrossFiles) {
  auto listed = Cli(Split("run_cut", "--link 10,20 --json"), "/dev/null");
  ASSERT_EQ(listed.code, 0) << listed.text;
  const json plan = json::parse(listed.text);
  const json& mid = plan["candidates"][plan["candidates"].size() / 3];
  std::string cut_flag;
  for (const std::string t : mid["tensors"]) cut_flag += (cut_flag.empty() ? "" : ",") + t;
  ASSERT_EQ(Cli(Split("run_cut", "--link 10,20 --cut " + cut_flag), "/dev/null").code, 0);
  const std::string input = std::string(SUPERNOVA_TEST_DATA_DIR) + "/models/ppocr_cls/input_0.pb";
  const std::string run = "run --providers cpu_reference --threads 1 ";
  ASSERT_EQ(Cli(run + kClsModel + " -i x=" + input + " -o " + Path("run_whole")).code, 0);
  ASSERT_EQ(
      Cli(run + Path("run_cut/head.onnx") + " -i x=" + input + " -o " + Path("run_head")).code, 0);
  std::string feeds;
  int i = 0;
  for (const std::string name : mid["head_outputs"])
    feeds += " -i " + name + "=" + Path("run_head/output_" + std::to_string(i++) + ".pb");
  auto tail = Cli(run + Path("run_cut/tail.onnx") + feeds + " -o " + Path("run_tail"));
  ASSERT_EQ(tail.code, 0) << tail.text;
  const std::string whole = FileBytes(Path("run_whole/output_0.pb"));
  ASSERT_FALSE(whole.empty());
  EXPECT_EQ(FileBytes(Path("run_tail/output_0.pb")), whole);  // the same tensor, bit for bit
}

TEST_F(CliSplit, ErrorsAreOneLineAndWriteNothing) {
  // A profile of another model.
  supernova::testing::GraphBuilder b;
  b.Output(b.Op("Relu", {b.Input("x", {1, 4})}));
  ASSERT_TRUE(ir::ExportOnnxFile(b.model(), Path("relu.onnx")).ok());
  ASSERT_EQ(Cli("profile " + Path("relu.onnx") + " --iterations 1 -o " + Path("relu.json")).code,
            0);
  auto listed = Cli(Split("ok", "--link 10,20 --json"), "/dev/null");
  ASSERT_EQ(listed.code, 0);
  const json listed_plan = json::parse(listed.text);
  const json two = [&] {
    for (const json& c : listed_plan["candidates"])
      if (c["tensors"].size() == 2) return c["tensors"];
    return json::array();
  }();
  ASSERT_EQ(two.size(), 2u) << "no cut of two tensors in the model";
  const std::string later = two[1];  // the skip branch alone does not separate

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--link 10,20 --cut nope", "'nope' is not a tensor of the model"},
      {"--link 10,20 --cut " + later, "does not separate the inputs from the outputs"},
      {"--link 0,20", "bandwidth must be above 0"},
      {"--link 10", "expected BW_MBIT,RTT_MS"},
      {"--link 10,20 --cut-codec int4", "unknown cut codec 'int4'"},
      {"--link 10,20 --cut-codec int8", "opset 11"},
      {"--link 10,20 --objective speed", "unknown objective"},
  };
  for (const auto& [flags, message] : cases) {
    SCOPED_TRACE(flags);
    auto out = Cli(Split("bad", flags), "&1 >/dev/null");
    EXPECT_EQ(out.code, 1);
    EXPECT_THAT(out.text, ::testing::HasSubstr(message));
    EXPECT_EQ(std::count(out.text.begin(), out.text.end(), '\n'), 1) << out.text;
    EXPECT_FALSE(fs::exists(Path("bad")));
    EXPECT_FALSE(fs::exists(Path("bad.tmp")));
  }
  auto other =
      Cli("split " + kClsModel + " -o " + Path("bad") + " --edge-profile " + Path("edge.json") +
              " --cloud-profile " + Path("relu.json") + " --link 10,20",
          "&1 >/dev/null");
  EXPECT_EQ(other.code, 1);
  EXPECT_THAT(other.text, ::testing::HasSubstr("cloud profile " + Path("relu.json") +
                                               " was measured on another model"));
  EXPECT_FALSE(fs::exists(Path("bad")));
  // A directory that is not a split directory is never replaced.
  fs::create_directories(Path("keep"));
  std::ofstream(Path("keep/mine.txt")) << "mine";
  auto kept = Cli(Split("keep", "--link 10,20"), "&1 >/dev/null");
  EXPECT_EQ(kept.code, 1);
  EXPECT_THAT(kept.text, ::testing::HasSubstr("not a split directory"));
  EXPECT_TRUE(fs::exists(Path("keep/mine.txt")));
}

}  // namespace
}  // namespace supernova::collab

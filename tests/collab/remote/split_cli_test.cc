// `supernova run --split DIR --remote HOST:PORT` as a user runs it: `supernova` hands it to
// supernova-collab, which writes the same output files as `supernova run` of the whole model.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "collab/remote/split_fixture.h"
#include "ir/tensor_proto.h"
#include "ir/value_proto.h"
#include "server/serve_process.h"
#include "test_util.h"
#include "tools/cli_util.h"

namespace supernova::collab {
namespace {

namespace fs = std::filesystem;
using supernova::testing::Cli;
using supernova::testing::CliOutput;
using namespace supernova::collab::testing;  // NOLINT

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) lines.push_back(j);
  }
  return lines;
}

TEST(SplitCli, RunWithSplitWritesWhatRunOfTheWholeModelWrites) {
  SplitDir d = MakeSplitDir();
  supernova::testing::ServeProcess serve({"--model-repository", d.dir + "/repository"});
  ASSERT_TRUE(serve.WaitReady()) << serve.Log();
  const std::string x = d.dir + "/x.pb";
  ASSERT_TRUE(ir::WriteValueFile(x, Value(d.feeds[0].second), ValueKind::kTensor, "x").ok());

  const CliOutput whole =
      Cli(fmt::format("run {}/whole.onnx -i x={} --threads 1 -o {}/whole_out", d.dir, x, d.dir));
  ASSERT_EQ(whole.code, 0) << whole.text;
  const CliOutput split = Cli(fmt::format("run x={} --split {} --remote 127.0.0.1:{} --cut 2 "
                                          "--threads 1 --requests 3 --timeout-ms 30000 --json "
                                          "-o {}/split_out",
                                          x, d.dir, serve.grpc_port(), d.dir),
                              "/dev/null");
  ASSERT_EQ(split.code, 0) << split.text;
  const auto records = JsonLines(split.text);
  ASSERT_EQ(records.size(), 3u) << split.text;
  for (const auto& r : records) {
    EXPECT_EQ(r["candidate"], kCutP1) << r.dump();
    EXPECT_EQ(r["tail_at"], "remote") << r.dump();
    EXPECT_TRUE(r["fallback"].is_null()) << r.dump();
    EXPECT_EQ(r["sent_bytes"], 32 * 8 * 8 * 4);
  }
  for (const char* out : {"output_0.pb", "output_1.pb"}) {
    const std::string a = ReadText(d.dir + "/whole_out/" + out);
    ASSERT_FALSE(a.empty()) << out;
    EXPECT_EQ(a, ReadText(d.dir + "/split_out/" + out)) << out << " differs";
  }
}

TEST(SplitCli, ABadSplitDirectoryIsOneLineAndExitCodeOne) {
  SplitDir d = MakeSplitDir();
  fs::remove(d.dir + "/plan.json");
  const CliOutput o = Cli(fmt::format("run x=none.pb --split {} --remote 127.0.0.1:1", d.dir));
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_EQ(std::count(o.text.begin(), o.text.end(), '\n'), 1) << o.text;
  EXPECT_NE(o.text.find("no plan.json"), std::string::npos) << o.text;
}

TEST(SplitCli, AnUnreachableRemoteStillAnswersEveryRequest) {
  SplitDir d = MakeSplitDir();
  const std::string x = d.dir + "/x.pb";
  ASSERT_TRUE(ir::WriteValueFile(x, Value(d.feeds[0].second), ValueKind::kTensor, "x").ok());
  const CliOutput o = Cli(fmt::format(
      "run -i x={} --split {} --remote 127.0.0.1:1 --threads 1 --requests 4 --timeout-ms 500", x,
      d.dir));
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("4 requests, 4 ran their tail on the edge"), std::string::npos) << o.text;
}

// The whole chain as a user runs it, on a real model: `supernova profile` on both sides,
// `supernova split` writing the directory, a real `supernova serve` holding its tails, and
// `supernova run --split` through every cut the split wrote out, against the whole model.
TEST(SplitCli, ProfileSplitServeRunOnTheOcrClassifier) {
  const std::string model = SUPERNOVA_ASSETS_DIR "/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx";
  const std::string input = SUPERNOVA_TEST_DATA_DIR "/models/ppocr_cls/input_0.pb";
  ASSERT_TRUE(fs::exists(model)) << model << " is missing: scripts/fetch_models.sh fetches it";
  const fs::path dir = fs::temp_directory_path() / fmt::format("split_e2e_{}", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string d = dir.string();

  for (const char* side : {"edge", "cloud"}) {
    const CliOutput p =
        Cli(fmt::format("profile {} --shape x=1,3,48,192 --threads 1 --iterations 3 -o {}/{}.json",
                        model, d, side));
    ASSERT_EQ(p.code, 0) << p.text;
  }
  const CliOutput whole =
      Cli(fmt::format("run {} -i x={} --threads 1 -o {}/whole", model, input, d));
  ASSERT_EQ(whole.code, 0) << whole.text;
  auto expected = ir::ReadTensorFile(d + "/whole/output_0.pb");
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();

  // A cut from the middle of the model, as a user names it: the plan's candidates list it.
  const CliOutput listed = Cli(fmt::format("split {} -o {}/list --cut auto --edge-profile "
                                           "{}/edge.json --cloud-profile {}/cloud.json "
                                           "--link 100,5 --json",
                                           model, d, d, d),
                               "/dev/null");
  ASSERT_EQ(listed.code, 0) << listed.text;
  const nlohmann::json listing = nlohmann::json::parse(listed.text)["candidates"];
  std::string mid;
  for (const std::string t : listing[listing.size() / 2]["tensors"])
    mid += (mid.empty() ? "" : ",") + t;

  // fp16 halves what crosses the link and costs at most fp16's rounding of the cut tensors.
  for (const std::string codec : {"none", "fp16"}) {
    const std::string split = d + "/split_" + codec;
    const CliOutput s = Cli(fmt::format(
        "split {} -o {} --cut {} --edge-profile {}/edge.json --cloud-profile {}/cloud.json "
        "--link 100,5 --cut-codec {}",
        model, split, mid, d, d, codec));
    ASSERT_EQ(s.code, 0) << s.text;
    std::ifstream plan_file(split + "/plan.json");
    const nlohmann::json plan = nlohmann::json::parse(plan_file);
    std::vector<int> cuts;
    for (const auto& c : plan["candidates"])
      if (c["materialized"].get<bool>()) cuts.push_back(c["id"].get<int>());
    ASSERT_GE(cuts.size(), 3u) << "edge-only, cloud-only and at least one split: " << s.text;

    supernova::testing::ServeProcess serve({"--model-repository", split + "/repository"});
    ASSERT_TRUE(serve.WaitReady()) << serve.Log();
    for (int cut : cuts) {
      const std::string out = fmt::format("{}/out_{}", split, cut);
      const CliOutput r =
          Cli(fmt::format("run -i x={} --split {} --remote 127.0.0.1:{} --cut {} --threads 1 "
                          "--requests 2 --timeout-ms 30000 --json -o {}",
                          input, split, serve.grpc_port(), cut, out),
              "/dev/null");
      ASSERT_EQ(r.code, 0) << codec << " cut " << cut << ": " << r.text;
      for (const auto& record : JsonLines(r.text)) {
        EXPECT_TRUE(record["fallback"].is_null()) << record.dump();
        EXPECT_EQ(record["tail_at"], record["kind"] == "edge_only" ? "edge" : "remote")
            << record.dump();
      }
      auto got = ir::ReadTensorFile(out + "/output_0.pb");
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      // The classifier ends in a softmax: fp16 cut tensors move its probabilities by well
      // under 1e-2; without a codec only the order of float sums may differ (a fusion that
      // the whole model makes across the cut).
      EXPECT_TRUE(
          supernova::testing::TensorsNear(*expected, *got, 0, codec == "none" ? 1e-6 : 1e-2))
          << codec << " cut " << cut;
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace supernova::collab

// `supernova learn` as a user runs it: a real backbone (the face embedding ResNet-29, from
// ../shared/models), classes of pictures the test draws (red discs, blue stripes, green
// checks: nothing the backbone was trained on), the store they go into, the imprinted model
// `export` writes run by ONNX Runtime and by `supernova run`, and the errors a user can cause.
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "ir/tensor_proto.h"
#include "supernova/tensor_io.h"
#include "test_models.h"
#include "tools/cli_util.h"

namespace supernova::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kFace =
    std::string(SUPERNOVA_SHARED_MODELS_DIR) + "/face_recognition_resnet29_128d.onnx";
const std::string kOcrCls =
    std::string(SUPERNOVA_ASSETS_DIR) + "/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx";

// The face model takes [N,3,150,150] RGB 0-255; the pictures are drawn at another size so
// that the resize is exercised.
constexpr int kWidth = 160, kHeight = 120;
const std::vector<std::string> kClasses = {"checks", "discs", "stripes"};  // the store's order
constexpr int kTrain = 3, kHeldOut = 2;

// One picture of `kind` ("discs", "stripes", "checks", or "noise": none of them), drawn with
// its own position, size, phase and shade so that no two are alike.
std::vector<uint8_t> Draw(const std::string& kind, uint32_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  std::vector<uint8_t> px(static_cast<size_t>(kWidth) * kHeight * 3);
  const double cx = uniform(55, 105), cy = uniform(40, 80), radius = uniform(25, 40);
  const double period = uniform(12, 22), phase = uniform(0, period), cell = uniform(10, 18);
  const double shade = uniform(0.8, 1.0);
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x) {
      double r = 0, g = 0, b = 0;
      if (kind == "discs") {
        const bool in = std::hypot(x - cx, y - cy) < radius;
        r = in ? 220 : 245, g = in ? 30 : 245, b = in ? 40 : 240;
      } else if (kind == "stripes") {
        const bool blue = std::fmod(y + phase, period) < period / 2;
        r = blue ? 30 : 240, g = blue ? 60 : 220, b = blue ? 220 : 40;
      } else if (kind == "checks") {
        const bool on = (static_cast<int>((x + phase) / cell) + static_cast<int>(y / cell)) % 2;
        r = on ? 30 : 10, g = on ? 200 : 20, b = on ? 40 : 10;
      } else {  // noise
        r = uniform(0, 255), g = uniform(0, 255), b = uniform(0, 255);
      }
      uint8_t* p = px.data() + (static_cast<size_t>(y) * kWidth + x) * 3;
      p[0] = static_cast<uint8_t>(r * shade), p[1] = static_cast<uint8_t>(g * shade);
      p[2] = static_cast<uint8_t>(b * shade);
    }
  return px;
}

bool WritePicture(const fs::path& path, const std::string& kind, uint32_t seed) {
  fs::create_directories(path.parent_path());
  const std::vector<uint8_t> px = Draw(kind, seed);
  return stbi_write_png(path.c_str(), kWidth, kHeight, 3, px.data(), kWidth * 3) != 0;
}

// Every file under `dir` with its bytes: a store is unchanged when this is.
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); ++it) {
    if (!it->is_regular_file()) continue;
    std::ifstream f(it->path(), std::ios::binary);
    std::stringstream bytes;
    bytes << f.rdbuf();
    files[fs::relative(it->path(), dir).string()] = bytes.str();
  }
  return files;
}

bool Has(const CliOutput& o, const std::string& what) {
  return o.text.find(what) != std::string::npos;
}

class LearnCli : public ::testing::Test {
 protected:
  // The pictures, and a store enrolled from the training ones for the tests that want one, are
  // made once per process (ctest runs each test in its own); a test that changes a store works
  // on its own copy.
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("learn_cli_" + std::to_string(getpid()));
    fs::remove_all(root_);
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  void SetUp() override {
    SUPERNOVA_REQUIRE_MODEL(kFace, ModelRoot::kShared);
    dir_ = root_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
    if (fs::exists(Noise())) return;
    uint32_t seed = 1;
    for (const std::string& c : kClasses) {
      for (int i = 0; i < kTrain; ++i) ASSERT_TRUE(WritePicture(Train(c, i), c, seed++));
      for (int i = 0; i < kHeldOut; ++i) ASSERT_TRUE(WritePicture(HeldOut(c, i), c, seed++));
    }
    ASSERT_TRUE(WritePicture(Noise(), "noise", seed++));
  }

  // Enrols each class from its training pictures into Store(), once.
  static void MakeStore() {
    static bool made = false;
    if (made) return;
    for (const std::string& c : kClasses) {
      std::string images;
      for (int i = 0; i < kTrain; ++i) images += " " + Train(c, i);
      const CliOutput r =
          Learn("add --store " + Store() + " --class " + c + " --meta drawn=" + c + images);
      ASSERT_EQ(r.code, 0) << r.text;
      ASSERT_TRUE(Has(r, c + ": 3 examples (3 added)")) << r.text;
      ASSERT_TRUE(Has(r, "ms per image")) << r.text;
    }
    made = true;
  }

  static std::string Train(const std::string& c, int i) {
    return (root_ / "train" / c / (std::to_string(i) + ".png")).string();
  }
  static std::string HeldOut(const std::string& c, int i) {
    return (root_ / "test" / c / (std::to_string(i) + ".png")).string();
  }
  static std::string Noise() { return (root_ / "noise.png").string(); }
  static std::string Store() { return (root_ / "store").string(); }
  // The held-out pictures, class by class, and their classes.
  static std::vector<std::pair<std::string, std::string>> HeldOutSet() {
    std::vector<std::pair<std::string, std::string>> set;
    for (const std::string& c : kClasses)
      for (int i = 0; i < kHeldOut; ++i) set.emplace_back(HeldOut(c, i), c);
    return set;
  }
  // A copy of the suite's store for a test to change.
  std::string CopyOfStore() const {
    const fs::path copy = dir_ / "store";
    fs::copy(Store(), copy, fs::copy_options::recursive);
    return copy.string();
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // `supernova learn SUB` with the face model and its preprocessing; stderr joins stdout
  // unless `json` (then stdout alone is parsed).
  static CliOutput Learn(const std::string& args, bool json = false) {
    const size_t space = args.find(' ');
    return Cli("learn " + args.substr(0, space) + " --model " + kFace + " --preprocess raw" +
                   args.substr(space),
               json ? "/dev/null" : "&1");
  }

  static fs::path root_;
  fs::path dir_;
};
fs::path LearnCli::root_;

TEST_F(LearnCli, ClassifiesHeldOutPicturesAndRejectsNoise) {
  MakeStore();
  ASSERT_FALSE(HasFatalFailure());
  // Noise first: it resembles none of the classes.
  std::string images = " " + Noise();
  for (const auto& [image, truth] : HeldOutSet()) images += " " + image;
  double noise = 0, lowest = 1;
  for (const std::string method : {"imprint", "prototype"}) {
    SCOPED_TRACE(method);
    const CliOutput r =
        Learn("classify --store " + Store() + " --method " + method + " --json" + images, true);
    ASSERT_EQ(r.code, 0) << r.text;
    const json results = json::parse(r.text);
    ASSERT_EQ(results.size(), 1 + HeldOutSet().size());
    noise = results[0]["score"].get<double>();
    for (size_t i = 1; i < results.size(); ++i) {
      const json& p = results[i];
      EXPECT_EQ(p["image"], HeldOutSet()[i - 1].first);
      EXPECT_EQ(p["label"], HeldOutSet()[i - 1].second) << p.dump();
      EXPECT_TRUE(p["known"].get<bool>()) << p.dump();  // the default threshold rejects little
      EXPECT_GT(p["score"].get<double>(), p["runner_up"]["score"].get<double>()) << p.dump();
      EXPECT_NE(p["runner_up"]["class"], p["class"]);
      EXPECT_LE(p["score"].get<double>(), 1.0 + 1e-5);
      // Noise scores below every picture of a class (how far below depends on the model: this
      // face descriptor scores even unrelated pictures high).
      EXPECT_LT(noise, p["score"].get<double>()) << p.dump();
      lowest = std::min(lowest, p["score"].get<double>());
    }
  }
  // A threshold between them makes noise unknown and leaves every picture known. The text
  // form: one line per picture, its class (or unknown and the nearest class) first.
  const CliOutput r = Learn("classify --store " + Store() + " --threshold " +
                            std::to_string((noise + lowest) / 2) + images);
  ASSERT_EQ(r.code, 0) << r.text;
  std::istringstream lines(r.text);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line)) << r.text;
  EXPECT_EQ(line.rfind(Noise() + ": unknown (nearest ", 0), 0u) << line;
  for (const auto& [image, truth] : HeldOutSet()) {
    ASSERT_TRUE(std::getline(lines, line)) << r.text;
    EXPECT_EQ(line.rfind(image + ": " + truth + " score ", 0), 0u) << line;
    EXPECT_TRUE(line.find("runner-up") != std::string::npos) << line;
  }
  EXPECT_FALSE(std::getline(lines, line)) << line;
}

TEST_F(LearnCli, ListsRenamesResetsAndRemovesClasses) {
  MakeStore();
  ASSERT_FALSE(HasFatalFailure());
  const std::string store = CopyOfStore();
  CliOutput r = Cli("learn list --store " + store + " --json", "/dev/null");
  ASSERT_EQ(r.code, 0) << r.text;
  json list = json::parse(r.text);
  EXPECT_EQ(list["dim"], 128);
  ASSERT_EQ(list["classes"].size(), kClasses.size());
  for (size_t c = 0; c < kClasses.size(); ++c) {
    const json& k = list["classes"][c];
    EXPECT_EQ(k["name"], kClasses[c]);
    EXPECT_EQ(k["examples"], kTrain);
    EXPECT_EQ(k["count"], kTrain);
    EXPECT_EQ(k["refinements"], 0);
    EXPECT_NEAR(k["drift"].get<double>(), 0, 1e-6);
    EXPECT_EQ(k["metadata"]["drawn"], kClasses[c]);
  }

  // More examples for a class: the count goes on.
  r = Learn("add --store " + store + " --class discs " + HeldOut("discs", 0));
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_TRUE(Has(r, "discs: 4 examples (1 added)")) << r.text;

  r = Cli("learn rename --store " + store + " --class discs --to red_discs");
  ASSERT_EQ(r.code, 0) << r.text;
  r = Learn("classify --store " + store + " --json " + HeldOut("discs", 1), true);
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_EQ(json::parse(r.text)[0]["label"], "red_discs");

  // Refinement moves a prototype (logged); reset returns it.
  r = Learn("classify --store " + store + " --refine --min-score 0 --min-margin 0 " +
            HeldOut("stripes", 0) + " " + HeldOut("stripes", 1));
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_TRUE(Has(r, "refine: ")) << r.text;
  EXPECT_TRUE(fs::exists(fs::path(store) / "refine.log"));
  list = json::parse(Cli("learn list --store " + store + " --json", "/dev/null").text);
  const json& stripes = list["classes"][2];
  ASSERT_EQ(stripes["name"], "stripes");
  EXPECT_GT(stripes["refinements"].get<int>(), 0) << r.text;
  EXPECT_GT(stripes["drift"].get<double>(), 0);
  r = Cli("learn reset --store " + store + " --class stripes");
  ASSERT_EQ(r.code, 0) << r.text;
  list = json::parse(Cli("learn list --store " + store + " --json", "/dev/null").text);
  EXPECT_EQ(list["classes"][2]["refinements"], 0);
  EXPECT_NEAR(list["classes"][2]["drift"].get<double>(), 0, 1e-6);

  r = Cli("learn remove --store " + store + " --class checks");
  ASSERT_EQ(r.code, 0) << r.text;
  r = Cli("learn list --store " + store);
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_TRUE(Has(r, "2 classes")) << r.text;
  EXPECT_TRUE(Has(r, "red_discs: 4 examples")) << r.text;
  EXPECT_FALSE(Has(r, "checks")) << r.text;
}

TEST_F(LearnCli, BadInputIsOneLineAndLeavesTheStoreAsItWas) {
  MakeStore();
  ASSERT_FALSE(HasFatalFailure());
  const std::string store = CopyOfStore();
  const auto before = Snapshot(store);
  const std::string good = HeldOut("discs", 0);
  const std::string text = Path("notes.png");
  std::ofstream(text) << "not a picture\n";

  struct Case {
    std::string args;
    std::string says;
    bool model = true;  // the face model and --preprocess raw go with it
  };
  const std::vector<Case> cases = {
      // A file that is not a picture, after a good one: neither goes in.
      {"add --store " + store + " --class discs " + good + " " + text, text},
      {"add --store " + store + " --class ../discs " + good, "../discs"},
      {"add --store " + store + " --class a/b " + good, "a/b"},
      {"add --store " + store + " --class discs --layer no_such_tensor " + good, "no_such_tensor"},
      {"learn add --model " + kFace + " --store " + store + " --class discs " + good,
       "--preprocess", false},
      {"learn add --model " + kOcrCls + " --preprocess raw --store " + store + " --class discs " +
           good,
       store, false},
      {"classify --store " + store + " " + text, text},
      {"export --store " + store + " --output " + kFace, "is the model"},
      {"learn rename --store " + store + " --class discs --to stripes", "stripes", false},
      {"learn rename --store " + store + " --class discs --to a/b", "a/b", false},
      {"learn remove --store " + store + " --class circles", "circles", false},
      {"learn reset --store " + store + " --class circles", "circles", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    const CliOutput r = c.model ? Learn(c.args) : Cli(c.args);
    EXPECT_TRUE(OneErrorLine(r)) << r.text;
    EXPECT_TRUE(Has(r, c.says)) << r.text;
    EXPECT_TRUE(Snapshot(store) == before) << "the store changed";
  }

  // A store that is not there is not made by a failing add, nor by classify or list.
  const std::string none = Path("none");
  for (const std::string& args : {"add --store " + none + " --class discs " + text,
                                  "classify --store " + none + " " + good}) {
    const CliOutput r = Learn(args);
    EXPECT_TRUE(OneErrorLine(r)) << r.text;
  }
  const CliOutput r = Cli("learn list --store " + none);
  EXPECT_TRUE(OneErrorLine(r)) << r.text;
  EXPECT_TRUE(Has(r, "no class store")) << r.text;
  EXPECT_FALSE(fs::exists(none));
}

// The outputs `supernova run` wrote to `dir`, by name.
std::map<std::string, Tensor> RunOutputs(const fs::path& dir) {
  std::map<std::string, Tensor> out;
  for (int i = 0; fs::exists(dir / ("output_" + std::to_string(i) + ".pb")); ++i) {
    std::string name;
    auto t = ir::ReadTensorFile((dir / ("output_" + std::to_string(i) + ".pb")).string(), &name);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (t.ok()) out[name] = *t;
  }
  return out;
}

TEST_F(LearnCli, ExportedModelPicksTheClassesClassifyPicks) {
  MakeStore();
  ASSERT_FALSE(HasFatalFailure());
  const std::string model = Path("imprinted.onnx");
  CliOutput r = Learn("export --store " + Store() + " --output " + model);
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_TRUE(Has(r, "3 classes")) << r.text;

  std::vector<std::string> images = {Noise()};
  for (const auto& [image, truth] : HeldOutSet()) images.push_back(image);
  std::string list;
  for (const std::string& image : images) list += " " + image;
  r = Learn("classify --store " + Store() + " --method imprint --json" + list, true);
  ASSERT_EQ(r.code, 0) << r.text;
  const json want = json::parse(r.text);

  // The pictures as the model's input, read as `learn` and `run` read them: one batch.
  TensorInfo info;
  info.name = "image";  // the face model's input
  info.dtype = DataType::kFloat32;
  info.rank_known = true;
  info.dims = {-1, 3, 150, 150};
  const int64_t each = 3 * 150 * 150;
  Tensor batch(DataType::kFloat32, {static_cast<int64_t>(images.size()), 3, 150, 150});
  for (size_t i = 0; i < images.size(); ++i) {
    auto t = tools::LoadInputFile(images[i], info, {"raw", "", false});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    std::copy(t->data<float>(), t->data<float>() + each, batch.data<float>() + i * each);
  }
  ASSERT_TRUE(tools::WriteNpy(Path("batch.npy"), batch).ok());

  // `supernova run`: the whole batch as a tensor, and one picture as an image.
  r = Cli("run " + model + " --input " + Path("batch.npy") + " -o " + Path("run"));
  ASSERT_EQ(r.code, 0) << r.text;
  auto outputs = RunOutputs(Path("run"));
  ASSERT_TRUE(outputs.count("class_index") && outputs.count("scores")) << r.text;
  const Tensor& index = outputs["class_index"];
  ASSERT_EQ(index.dtype(), DataType::kInt64);
  ASSERT_EQ(index.numel(), static_cast<int64_t>(images.size()));
  ASSERT_EQ(outputs["scores"].shape(), (Shape{static_cast<int64_t>(images.size()), 3}));
  for (size_t i = 0; i < images.size(); ++i) {
    SCOPED_TRACE(images[i]);
    EXPECT_EQ(index.data<int64_t>()[i], want[i]["index"].get<int64_t>());
    EXPECT_NEAR(outputs["scores"].data<float>()[i * 3 + want[i]["index"].get<size_t>()],
                want[i]["score"].get<double>(), 1e-4);
  }
  r = Cli("run " + model + " --input " + images[1] + " --preprocess raw -o " + Path("one"));
  ASSERT_EQ(r.code, 0) << r.text;
  outputs = RunOutputs(Path("one"));
  ASSERT_EQ(outputs["class_index"].numel(), 1);
  EXPECT_EQ(outputs["class_index"].data<int64_t>()[0], want[1]["index"].get<int64_t>());

  if (!fs::exists(kOrtModule)) GTEST_SKIP() << "ONNX Runtime peer not installed at " << kOrtModule;
  std::ofstream(Path("batch.bin"), std::ios::binary)
      .write(static_cast<const char*>(batch.raw_data()),
             static_cast<std::streamsize>(batch.nbytes()));
  std::ofstream(Path("request.json")) << json{
      {"inputs", {{{"name", info.name}, {"dims", batch.shape()}, {"file", Path("batch.bin")}}}},
      {"out_dir", dir_.string()}};
  r = RunOnnxRuntime(model, Path("request.json"));
  ASSERT_EQ(r.code, 0) << "ONNX Runtime rejected the imprinted model: " << r.text;
  std::ifstream meta(Path("outputs.json"));
  const json names = json::parse(meta);
  int at = -1;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i]["name"] == "class_index") at = static_cast<int>(i);
  ASSERT_GE(at, 0) << names.dump();
  ASSERT_EQ(names[static_cast<size_t>(at)]["type"], "int64");
  std::vector<int64_t> ort(images.size());
  std::ifstream(Path("output_" + std::to_string(at) + ".bin"), std::ios::binary)
      .read(reinterpret_cast<char*>(ort.data()), static_cast<std::streamsize>(ort.size() * 8));
  for (size_t i = 0; i < images.size(); ++i)
    EXPECT_EQ(ort[i], want[i]["index"].get<int64_t>()) << images[i];
}

TEST_F(LearnCli, EvalPrintsAccuracyPerShotCount) {
  const std::string args = "eval --train " + (root_ / "train").string() + " --test " +
                           (root_ / "test").string() + " --shots 1,3 --trials 2 --seed 7";
  // --refine with rules that let every answer through: the refiner sees each class's first
  // held-out image, the second is measured.
  CliOutput r = Learn(args + " --json --refine --min-score 0 --min-margin 0", true);
  ASSERT_EQ(r.code, 0) << r.text;
  const json report = json::parse(r.text);
  EXPECT_EQ(report["classes"], 3);
  EXPECT_EQ(report["test_images"], 3 * kHeldOut);
  ASSERT_EQ(report["results"].size(), 4u);  // 2 shot counts x 2 methods
  for (const json& row : report["results"]) {
    SCOPED_TRACE(row.dump());
    const json& a = row["accuracy"];
    EXPECT_GE(a["min"].get<double>(), 0);
    EXPECT_LE(a["max"].get<double>(), 1);
    EXPECT_LE(a["min"].get<double>(), a["mean"].get<double>());
    EXPECT_LE(a["mean"].get<double>(), a["max"].get<double>());
    EXPECT_EQ(a["trials"].size(), 2u);
    // Three shots of pictures this distinct leave no held-out one wrong.
    if (row["shots"] == 3) {
      EXPECT_EQ(a["min"].get<double>(), 1.0);
    }
  }
  EXPECT_GT(report["classify_ms"].get<double>(), 0);
  EXPECT_GT(report["add_class_ms"]["3"].get<double>(), 0);
  ASSERT_EQ(report["refine"].size(), 2u) << report.dump();
  for (const json& row : report["refine"]) {
    SCOPED_TRACE(row.dump());
    EXPECT_EQ(row["adapt_images"], 3);
    EXPECT_EQ(row["measured_images"], 3);
    EXPECT_NEAR(row["offered"].get<double>(), 3, 1e-9);
    EXPECT_LE(row["accepted_right"].get<double>(), row["accepted"].get<double>());
    EXPECT_LE(row["accepted"].get<double>(), 3 + 1e-9);
    if (row["shots"] == 3) {
      // Every answer is right with three shots, so every update is, and none can hurt.
      EXPECT_EQ(row["before"].get<double>(), 1.0);
      EXPECT_EQ(row["after"].get<double>(), 1.0);
      EXPECT_NEAR(row["accepted"].get<double>(), 3, 1e-9);
      EXPECT_NEAR(row["accepted_right"].get<double>(), 3, 1e-9);
    }
  }

  // The same draws give the same accuracies, and the table says so.
  r = Learn(args);
  ASSERT_EQ(r.code, 0) << r.text;
  for (const json& row : report["results"]) {
    char line[96];
    std::snprintf(line, sizeof line, "%5d  %-9s  %8.4f", row["shots"].get<int>(),
                  row["method"].get<std::string>().c_str(), row["accuracy"]["mean"].get<double>());
    EXPECT_TRUE(Has(r, line)) << line << "\n" << r.text;
  }
  EXPECT_TRUE(Has(r, "add a class")) << r.text;
  EXPECT_TRUE(Has(r, "ms per image")) << r.text;

  r = Learn("eval --train " + (root_ / "train").string() + " --test " + (root_ / "test").string() +
            " --shots 5");
  EXPECT_TRUE(OneErrorLine(r)) << r.text;
  EXPECT_TRUE(Has(r, "has 3 images")) << r.text;
}

}  // namespace
}  // namespace supernova::testing

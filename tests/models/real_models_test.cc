// Whole real models against reference outputs made by a second runtime (ONNX Runtime; see
// tools/reference/make_reference.py). Each tests/data/models/<name>/ holds manifest.json,
// input_<k>.pb (one per model input) and output_<i>.pb. The models come from npm packages fetched
// by scripts/fetch_models.sh (SUPERNOVA_ASSETS_DIR), from ../shared/models, and (the small
// transformer encoders of tools/reference/make_transformer_models.py) from the test data itself.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ir/onnx_import.h"
#include "ir/tensor_proto.h"
#include "providers/provider.h"
#include "providers/test_providers.h"
#include "runtime/provider_registry.h"
#include "supernova/session.h"
#include "test_models.h"

namespace fs = std::filesystem;

namespace supernova {
namespace {

struct Paths {
  fs::path data = SUPERNOVA_TEST_DATA_DIR "/models";
  fs::path assets = SUPERNOVA_ASSETS_DIR;
  fs::path shared = SUPERNOVA_SHARED_MODELS_DIR;
};

struct Case {
  std::string name;
  fs::path model;
  fs::path dir;
  testing::ModelRoot root = testing::ModelRoot::kAssets;
  // |a - e| <= absolute * max(1, max|e|) + relative * |e|. The default allows for float32
  // reassociation across ~100 layers; a manifest's "tolerance" tightens it for small models.
  double absolute = 1e-4;
  double relative = 1e-3;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> Cases() {
  Paths p;
  std::vector<Case> cases;
  for (const auto& e : fs::directory_iterator(p.data)) {
    std::ifstream f(e.path() / "manifest.json");
    auto m = nlohmann::json::parse(f);
    const std::string root = m["model_root"];
    const auto [dir, kind] = root == "shared" ? std::pair{p.shared, testing::ModelRoot::kShared}
                             : root == "data" ? std::pair{p.data, testing::ModelRoot::kData}
                                              : std::pair{p.assets, testing::ModelRoot::kAssets};
    Case c{e.path().filename().string(), dir / m["model"].get<std::string>(), e.path(), kind};
    if (m.contains("tolerance")) {
      c.absolute = m["tolerance"]["absolute"];
      c.relative = m["tolerance"]["relative"];
    }
    cases.push_back(c);
  }
  std::sort(cases.begin(), cases.end(),
            [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

// Every test of a model first makes sure that the model is there (test_models.h).
class RealModel : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { SUPERNOVA_REQUIRE_MODEL(GetParam().model.string(), GetParam().root); }
};

// The reference data is checked in: there must be some, and every case needs its outputs.
TEST(RealModelData, EveryCaseHasReferenceOutputs) {
  const std::vector<Case> cases = Cases();
  EXPECT_GE(cases.size(), 6u);
  for (const Case& c : cases) {
    EXPECT_TRUE(fs::exists(c.dir / "input_0.pb")) << c.dir;
    EXPECT_TRUE(fs::exists(c.dir / "output_0.pb")) << c.dir;
  }
}

// Whether the model's graph runs If, Loop or Scan: its bodies are placed and compiled as
// programs of their own, and the placement report covers only the model's graph.
bool HasControlFlow(const ir::Graph& g) {
  for (const auto& n : g.nodes)
    for (const auto& [key, a] : n.attributes)
      if (a.kind == ir::Attribute::Kind::kGraph) return true;
  return false;
}

// Runs the model with one execution provider and returns its outputs (empty after a failure).
std::vector<Tensor> RunWith(const Case& c, const std::vector<std::string>& providers, int threads,
                            OptimizationLevel level = OptimizationLevel::kAll,
                            PlacementReport* placement = nullptr) {
  SessionOptions opts;
  opts.num_threads = threads;
  opts.providers = providers;
  opts.optimization = level;
  auto session = Session::Open(c.model.string(), opts);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (!session.ok()) return {};
  if (placement) *placement = (*session)->placement();
  std::vector<std::pair<std::string, Tensor>> feeds;  // input_<k>.pb, named inside
  for (size_t k = 0;; ++k) {
    const fs::path f = c.dir / ("input_" + std::to_string(k) + ".pb");
    if (k > 0 && !fs::exists(f)) break;
    std::string input_name;
    auto input = ir::ReadTensorFile(f.string(), &input_name);
    EXPECT_TRUE(input.ok()) << input.status().ToString();
    if (!input.ok()) return {};
    feeds.emplace_back(input_name, std::move(input).value());
  }
  std::vector<Tensor> outputs;
  Status s = (*session)->Run(feeds, &outputs);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return outputs;
}

// Runs the model (default providers) and reads the reference outputs into `expected`.
std::vector<Tensor> RunCase(const Case& c, std::vector<Tensor>* expected, int threads = 2) {
  std::vector<Tensor> outputs = RunWith(c, {"cpu"}, threads);
  for (size_t i = 0;; ++i) {
    fs::path f = c.dir / ("output_" + std::to_string(i) + ".pb");
    if (!fs::exists(f)) break;
    auto t = ir::ReadTensorFile(f.string());
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (t.ok()) expected->push_back(std::move(t).value());
  }
  EXPECT_FALSE(expected->empty()) << "no reference outputs in " << c.dir;
  return outputs;
}

// Compares outputs with the case's tolerance, scaled to each output's magnitude.
void ExpectOutputsClose(const Case& c, const std::string& what, const std::vector<Tensor>& expected,
                        const std::vector<Tensor>& outputs) {
  ASSERT_FALSE(expected.empty()) << what << ": nothing to compare with";
  ASSERT_EQ(outputs.size(), expected.size()) << what;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& a = outputs[i];
    const Tensor& e = expected[i];
    ASSERT_EQ(a.dtype(), e.dtype());
    ASSERT_EQ(a.shape(), e.shape())
        << ShapeToString(a.shape()) << " vs " << ShapeToString(e.shape());
    double max_abs = 0, max_ref = 0, worst = 0;
    int64_t bad = 0;
    for (int64_t k = 0; k < e.numel(); ++k)
      max_ref = std::max(max_ref, std::fabs(e.GetAsDouble(k)));
    const double atol = c.absolute * std::max(1.0, max_ref);
    for (int64_t k = 0; k < e.numel(); ++k) {
      const double d = std::fabs(a.GetAsDouble(k) - e.GetAsDouble(k));
      max_abs = std::max(max_abs, d);
      const double allowed = atol + c.relative * std::fabs(e.GetAsDouble(k));
      worst = std::max(worst, d / allowed);
      if (!(d <= allowed)) ++bad;
    }
    std::printf(
        "[model] %s output %zu %s: max abs error %.3g (max |ref| %.3g, %.2f of tolerance)\n",
        what.c_str(), i, ShapeToString(e.shape()).c_str(), max_abs, max_ref, worst);
    EXPECT_EQ(bad, 0) << what << " output " << i << ": " << bad << " elements outside tolerance";
  }
}

TEST_P(RealModel, MatchesReferenceRuntime) {
  const Case& c = GetParam();
  std::vector<Tensor> expected;
  std::vector<Tensor> outputs = RunCase(c, &expected);
  ExpectOutputsClose(c, c.name, expected, outputs);
}

// The oneDNN regions of the cpu provider against Supernova's own reference kernels, on the
// same inputs and with the same tolerance as against the second runtime.
TEST_P(RealModel, RegionsMatchReferenceKernels) {
  const Case& c = GetParam();
  std::vector<Tensor> reference = RunWith(c, {"cpu_reference"}, 2);
  std::vector<Tensor> regions = RunWith(c, {"cpu"}, 2);
  ExpectOutputsClose(c, c.name + " (cpu vs cpu_reference)", reference, regions);
}

// The optimizer must not change what a model computes: the fully optimized graph (folded
// BatchNorms, fused convolutions, ...) against the model as written.
TEST_P(RealModel, OptimizedMatchesUnoptimized) {
  const Case& c = GetParam();
  std::vector<Tensor> plain = RunWith(c, {"cpu"}, 2, OptimizationLevel::kNone);
  std::vector<Tensor> optimized = RunWith(c, {"cpu"}, 2, OptimizationLevel::kAll);
  ExpectOutputsClose(c, c.name + " (optimization all vs none)", plain, optimized);
}

// Heterogeneous execution on a whole model: a device provider that lacks the op type of the
// model's middle node. Everything else runs on the device (tagged device memory: a missing
// copy at a seam fails the run), that op on the cpu, and the outputs must not change.
TEST_P(RealModel, DeviceLackingAMiddleOpFallsBackToCpu) {
  const Case& c = GetParam();
  auto model = ir::ImportOnnxFile(c.model.string());
  ASSERT_TRUE(model.ok());
  const auto& nodes = model->graph.nodes;
  if (HasControlFlow(model->graph))
    GTEST_SKIP() << "control flow: the work is in bodies, whose placement is not reported";
  // The middle node's op, skipping ops the device would leave to the cpu anyway.
  std::string lacking;
  for (size_t k = nodes.size() / 2; k < nodes.size() && lacking.empty(); ++k)
    if (nodes[k].domain.empty() && nodes[k].op_type != "Constant" && nodes[k].op_type != "Shape" &&
        nodes[k].op_type != "Reshape")
      lacking = nodes[k].op_type;
  ASSERT_FALSE(lacking.empty());
  testing::TestProviderConfig config{"test_device", {}};
  for (const auto& n : nodes)
    if (n.op_type != lacking) config.ops.insert(n.op_type);
  auto counters = testing::RegisterTestProvider(config);
  PlacementReport placed;
  std::vector<Tensor> reference = RunWith(c, {"cpu_reference"}, 2);
  std::vector<Tensor> mixed =
      RunWith(c, {"test_device", "cpu"}, 2, OptimizationLevel::kAll, &placed);
  std::printf("[model] %s without %s: %zu pieces, %d seams, %d copies\n", c.name.c_str(),
              lacking.c_str(), placed.pieces.size(), placed.seams, placed.copies);
  int on_cpu = 0;
  for (const auto& n : placed.nodes) {
    if (n.op_type == lacking) {
      EXPECT_EQ(n.provider, "cpu") << n.node;
      EXPECT_EQ(n.reason, "test_device: op " + lacking) << n.node;
    }
    on_cpu += n.provider == "cpu";
  }
  EXPECT_GE(on_cpu, 1);
  EXPECT_GE(placed.pieces.size(), 1u);
  EXPECT_GT(placed.copies, 0);
  EXPECT_EQ(counters->to_device.load() + counters->to_host.load(), placed.copies);
  ExpectOutputsClose(c, c.name + " (test_device + cpu vs cpu_reference)", reference, mixed);
}

// A plugin provider with the cpu taking what it lacks, against the second runtime's reference
// outputs. Skipped where the plugin is not built or cannot run here (cuda without a GPU): the
// session would then run everything on the cpu and prove nothing about the provider.
void ExpectWithCpuFallbackMatchesReference(const Case& c, const std::string& provider) {
  auto made = runtime::CreateProvider(provider, {});
  if (!made.ok()) GTEST_SKIP() << made.status().ToString();
  if (Status s = (*made)->Available(); !s.ok()) GTEST_SKIP() << s.ToString();
  auto model = ir::ImportOnnxFile(c.model.string());
  ASSERT_TRUE(model.ok());
  if (HasControlFlow(model->graph))
    GTEST_SKIP() << "control flow: the work is in bodies, whose placement is not reported";
  std::vector<Tensor> expected;
  RunCase(c, &expected);
  PlacementReport placed;
  // A piece the provider's library refuses goes to the cpu as a Status; the library's own
  // error lines about it (OpenCV's importer logs one per node it cannot take, PP-OCR's
  // squeeze-excite multiplies) must not reach the user, whose model runs.
  ::testing::internal::CaptureStderr();
  std::vector<Tensor> outputs = RunWith(c, {provider, "cpu"}, 2, OptimizationLevel::kAll, &placed);
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(logged.find("ERROR"), std::string::npos) << logged;
  int on_provider = 0;
  for (const auto& n : placed.nodes) on_provider += n.provider == provider;
  std::printf("[model] %s %s,cpu: %d of %zu nodes on %s, %zu pieces, %d copies\n", c.name.c_str(),
              provider.c_str(), on_provider, placed.nodes.size(), provider.c_str(),
              placed.pieces.size(), placed.copies);
  EXPECT_GT(on_provider, 0) << provider << " took no node";
  ExpectOutputsClose(c, c.name + " (" + provider + ",cpu vs reference runtime)", expected, outputs);
}

// OpenCV's DNN module, where built.
TEST_P(RealModel, OpenCvWithCpuFallbackMatchesReference) {
  ExpectWithCpuFallbackMatchesReference(GetParam(), "opencv");
}

// cuDNN, cuBLAS and the cuda provider's own kernels, where built and a GPU is present.
TEST_P(RealModel, CudaWithCpuFallbackMatchesReference) {
  ExpectWithCpuFallbackMatchesReference(GetParam(), "cuda");
}

// The case's model converted to `opset` by tools/reference/upgrade_opset.py (Debian's onnx
// stops at 17), written under the build tree; empty, with `why` set, when python3 or its onnx
// module is missing here, and empty with a test failure when the conversion fails.
fs::path ConvertedModel(const Case& c, int opset, std::string* why) {
  const std::string python = SUPERNOVA_PYTHON3;
  if (python.empty()) {
    *why = "python3 not found: the opset converter needs it (and python3-onnx)";
    return {};
  }
  if (std::system(("'" + python + "' -c 'import onnx' >/dev/null 2>&1").c_str()) != 0) {
    *why = python + " has no onnx module: install Debian's python3-onnx (scripts/setup.sh does)";
    return {};
  }
  const fs::path dir = SUPERNOVA_CONVERTED_DIR;
  fs::create_directories(dir);
  const std::string stem = c.name + "_opset" + std::to_string(opset);
  const fs::path out = dir / (stem + ".onnx");
  const fs::path log = dir / (stem + ".log");
  const std::string cmd = "'" + python + "' '" SUPERNOVA_UPGRADE_OPSET "' '" + c.model.string() +
                          "' '" + out.string() + "' --opset " + std::to_string(opset) + " >'" +
                          log.string() + "' 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream f(log);
    ADD_FAILURE() << "conversion to opset " << opset << " failed: " << cmd << "\n" << f.rdbuf();
    return {};
  }
  return out;
}

// The model at opset `opset` must compute what the original computes: the same reference
// outputs, at the same tolerance.
void ExpectConvertedMatchesReference(const Case& c, int opset) {
  std::string why;
  Case converted = c;
  converted.model = ConvertedModel(c, opset, &why);
  if (!why.empty()) GTEST_SKIP() << why;
  if (converted.model.empty()) return;
  std::vector<Tensor> expected;
  std::vector<Tensor> outputs = RunCase(converted, &expected);
  ExpectOutputsClose(c, c.name + " (opset " + std::to_string(opset) + ")", expected, outputs);
}

TEST_P(RealModel, MatchesReferenceAtOpset21) { ExpectConvertedMatchesReference(GetParam(), 21); }

INSTANTIATE_TEST_SUITE_P(Assets, RealModel, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return param_info.param.name; });

// One model at the first of the newer opsets, where Reduce* take their axes as an input: the
// recognizer, whose layer norms are written with ReduceMean.
TEST(RealModelNewerOpset, RecognizerAtOpset18) {
  Paths p;
  Case c{"ppocr_rec", p.assets / "ocr/ch_PP-OCRv4_rec_infer.onnx", p.data / "ppocr_rec"};
  SUPERNOVA_REQUIRE_MODEL(c.model.string(), c.root);
  ExpectConvertedMatchesReference(c, 18);
}

// The recognizer must read the rendered text line, through greedy CTC decoding.
TEST(RealModelOcr, RecognizerReadsRenderedText) {
  Paths p;
  Case c{"ppocr_rec", p.assets / "ocr/ch_PP-OCRv4_rec_infer.onnx", p.data / "ppocr_rec"};
  SUPERNOVA_REQUIRE_MODEL(c.model.string(), c.root);
  std::vector<Tensor> expected;
  std::vector<Tensor> outputs = RunCase(c, &expected);
  ASSERT_EQ(outputs.size(), 1u);
  std::ifstream keys_file(p.assets / "ocr/ppocr_keys_v1.txt");
  std::vector<std::string> keys;
  for (std::string line; std::getline(keys_file, line);) keys.push_back(line);
  ASSERT_FALSE(keys.empty());
  keys.push_back(" ");  // the class after the dictionary is the space
  const Tensor& probs = outputs[0];
  const int64_t steps = probs.dim(1), classes = probs.dim(2);
  std::string text;
  int64_t prev = 0;
  for (int64_t t = 0; t < steps; ++t) {
    const float* row = probs.data<float>() + t * classes;
    int64_t best = std::max_element(row, row + classes) - row;
    if (best != 0 && best != prev) text += keys[static_cast<size_t>(best - 1)];
    prev = best;
  }
  EXPECT_EQ(text, "Supernova 2026");
}

}  // namespace
}  // namespace supernova

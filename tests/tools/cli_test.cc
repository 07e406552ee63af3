// The `supernova` command line, run as a separate process on real files.
#include <gtest/gtest.h>

#include "tools/cli_util.h"

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ir/onnx_import.h"
#include "ir/tensor_proto.h"
#include "ir/value_proto.h"
#include "supernova/tensor_io.h"
#include "test_models.h"

namespace fs = std::filesystem;

namespace supernova {
namespace {

using Output = testing::CliOutput;
using testing::Cli;
using testing::ModelRoot;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("supernova_cli_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    SUPERNOVA_REQUIRE_MODEL(cls_, ModelRoot::kAssets);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
  const std::string cls_ =
      std::string(SUPERNOVA_ASSETS_DIR) + "/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx";
  const std::string cls_data_ = std::string(SUPERNOVA_TEST_DATA_DIR) + "/models/ppocr_cls";
};

TEST_F(CliTest, InfoPrintsInputsOutputsAndOperators) {
  Output o = Cli("info " + cls_);
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("x: float32[p2o.DynamicDimension.0,3,"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("softmax_0.tmp_0"), std::string::npos);
  EXPECT_NE(o.text.find("Conv"), std::string::npos);
  EXPECT_NE(o.text.find("parameters"), std::string::npos);
}

TEST_F(CliTest, InfoReportsWhatTheOptimizerChanged) {
  Output o = Cli("info " + cls_ + " --optimization all");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("optimized  level all"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("fuse_conv_activation"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("com.supernova.FusedConv"), std::string::npos) << o.text;
  Output plain = Cli("info " + cls_);
  ASSERT_EQ(plain.code, 0) << plain.text;
  EXPECT_EQ(plain.text.find("optimized"), std::string::npos) << plain.text;
}

TEST_F(CliTest, RunMatchesTheReferenceAtEveryOptimizationLevel) {
  auto want = ir::ReadTensorFile(cls_data_ + "/output_0.pb");
  ASSERT_TRUE(want.ok());
  for (const std::string level : {"none", "basic", "all"}) {
    const std::string out = Path("out_" + level);
    Output o = Cli("run " + cls_ + " --optimization " + level + " --input x=" + cls_data_ +
                   "/input_0.pb --output-dir " + out);
    ASSERT_EQ(o.code, 0) << o.text;
    auto got = ir::ReadTensorFile(out + "/output_0.pb");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->shape(), want->shape());
    for (int64_t i = 0; i < want->numel(); ++i)
      EXPECT_NEAR(got->data<float>()[i], want->data<float>()[i], 1e-4) << level;
  }
  Output bad = Cli("run " + cls_ + " --optimization max -i x=" + cls_data_ + "/input_0.pb -o " +
                   Path("out"));
  EXPECT_EQ(bad.code, 1) << bad.text;
  EXPECT_NE(bad.text.find("unknown optimization level 'max'"), std::string::npos) << bad.text;
}

TEST_F(CliTest, RunWritesNamedOutputsMatchingTheReference) {
  Output o =
      Cli("run " + cls_ + " --input x=" + cls_data_ + "/input_0.pb --output-dir " + Path("out"));
  ASSERT_EQ(o.code, 0) << o.text;
  std::string name;
  auto got = ir::ReadTensorFile(Path("out/output_0.pb"), &name);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(name, "softmax_0.tmp_0");
  auto want = ir::ReadTensorFile(cls_data_ + "/output_0.pb");
  ASSERT_TRUE(want.ok());
  ASSERT_EQ(got->shape(), want->shape());
  for (int64_t i = 0; i < want->numel(); ++i)
    EXPECT_NEAR(got->data<float>()[i], want->data<float>()[i], 1e-4);
}

TEST_F(CliTest, RunReadsAndWritesStringTensors) {
  // words string[n] -> LOWER(words) through StringNormalizer, the .pb files in string_data.
  ir::Model m;
  m.graph.name = "lower";
  m.graph.opsets[""] = 10;
  m.graph.inputs = {"words"};
  m.graph.outputs = {"y"};
  m.graph.value_types["words"].dtype = DataType::kString;
  m.graph.value_types["words"].dims = std::vector<ir::Dim>{ir::Dim::Symbol("n")};
  ir::Node& n = m.graph.nodes.emplace_back();
  n.op_type = "StringNormalizer";
  n.inputs = {"words"};
  n.outputs = {"y"};
  n.attributes["case_change_action"].kind = ir::Attribute::Kind::kString;
  n.attributes["case_change_action"].s = "LOWER";
  ASSERT_TRUE(ir::ExportOnnxFile(m, Path("lower.onnx")).ok());
  Tensor words(DataType::kString, {2});
  words.data<std::string>()[0] = "Hello";
  words.data<std::string>()[1] = "WORLD";
  ASSERT_TRUE(ir::WriteTensorFile(Path("words.pb"), words, "words").ok());

  Output o = Cli("run " + Path("lower.onnx") + " --input words=" + Path("words.pb") +
                 " --output-dir " + Path("out"));
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("y string[2] first \"hello\""), std::string::npos) << o.text;
  auto got = ir::ReadTensorFile(Path("out/output_0.pb"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->dtype(), DataType::kString);
  ASSERT_EQ(got->shape(), Shape({2}));
  EXPECT_EQ(got->data<std::string>()[0], "hello");
  EXPECT_EQ(got->data<std::string>()[1], "world");
}

TEST_F(CliTest, NpyInputsAreAccepted) {
  auto input = ir::ReadTensorFile(cls_data_ + "/input_0.pb");
  ASSERT_TRUE(input.ok());
  ASSERT_TRUE(tools::WriteNpy(Path("x.npy"), *input).ok());
  Output o = Cli("run " + cls_ + " --input " + Path("x.npy") + " -o " + Path("out"));
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_TRUE(fs::exists(Path("out/output_0.pb")));
}

TEST_F(CliTest, ImageInputWithPreprocessingIsClassified) {
  Output o = Cli("run " + cls_ + " --input " + std::string(SUPERNOVA_EXAMPLES_DIR) +
                 "/text_line.png --preprocess paddle --size 48x192 -o " + Path("out") +
                 " --decode topk --top 1 --labels " + std::string(SUPERNOVA_EXAMPLES_DIR) +
                 "/orientation_labels.txt");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("0 degrees"), std::string::npos) << o.text;  // upright text
}

// The README's run command reads this image; the recognizer must read it right.
TEST_F(CliTest, RecognizerReadsTheBundledTextLine) {
  const std::string ocr = std::string(SUPERNOVA_ASSETS_DIR) + "/ocr/";
  SUPERNOVA_REQUIRE_MODEL(ocr + "ch_PP-OCRv4_rec_infer.onnx", ModelRoot::kAssets);
  Output o = Cli("run " + ocr + "ch_PP-OCRv4_rec_infer.onnx --input " +
                 std::string(SUPERNOVA_EXAMPLES_DIR) +
                 "/text_line.png --preprocess paddle --size 48x320 -o " + Path("out") +
                 " --decode ctc --labels " + ocr + "ppocr_keys_v1.txt");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("text: \"Hello Edge 2026\""), std::string::npos) << o.text;
}

// Every user error is one line on stderr and exit code 1, never a crash.
TEST_F(CliTest, ErrorsAreOneClearLine) {
  auto expect_error = [](const Output& o, const std::string& needle) {
    EXPECT_EQ(o.code, 1) << o.text;
    EXPECT_NE(o.text.find(needle), std::string::npos) << o.text;
    EXPECT_EQ(std::count(o.text.begin(), o.text.end(), '\n'), 1) << o.text;
  };
  expect_error(Cli("info " + Path("missing.onnx")), "no such file");
  {
    FILE* f = fopen(Path("bad.onnx").c_str(), "wb");
    fputs("definitely not protobuf \xff\xff", f);
    fclose(f);
  }
  expect_error(Cli("run " + Path("bad.onnx") + " -i x.pb -o " + Path("out")),
               "not a valid ONNX model");
  expect_error(Cli("run " + cls_ + " -i x=" + Path("nothing.pb") + " -o " + Path("out")),
               "no such file");
  // Wrong shape: a [1,3,48,192] tensor with 4 channels.
  ASSERT_TRUE(
      ir::WriteTensorFile(Path("wrong.pb"), Tensor(DataType::kFloat32, {1, 4, 48, 192}), "x").ok());
  expect_error(Cli("run " + cls_ + " -i x=" + Path("wrong.pb") + " -o " + Path("out")),
               "expected shape");
  ASSERT_TRUE(
      ir::WriteTensorFile(Path("int.pb"), Tensor(DataType::kInt64, {1, 3, 48, 192}), "x").ok());
  expect_error(Cli("run " + cls_ + " -i x=" + Path("int.pb") + " -o " + Path("out")), "got int64");
  expect_error(Cli("run " + cls_ + " -i nosuch=" + Path("int.pb") + " -o " + Path("out")),
               "no input named 'nosuch'");
  expect_error(Cli("run " + cls_ + " -i " + std::string(SUPERNOVA_EXAMPLES_DIR) +
                   "/text_line.png -o " + Path("out")),
               "--preprocess");
  // An operator no provider has.
  ir::Model m;
  m.graph.opsets[""] = 13;
  m.graph.inputs = {"a"};
  m.graph.outputs = {"b"};
  m.graph.value_types["a"] = ir::ValueType::Static(DataType::kFloat32, {1});
  ir::Node n;
  n.op_type = "FancyNewOp";
  n.inputs = {"a"};
  n.outputs = {"b"};
  m.graph.nodes.push_back(n);
  ASSERT_TRUE(ir::ExportOnnxFile(m, Path("fancy.onnx")).ok());
  ASSERT_TRUE(ir::WriteTensorFile(Path("a.pb"), Tensor::FromVector<float>({1}, {1}), "a").ok());
  expect_error(Cli("run " + Path("fancy.onnx") + " -i a=" + Path("a.pb") + " -o " + Path("out")),
               "unsupported operator: FancyNewOp");
}

// A model with no inputs (a Constant) runs without --input; one with inputs says which lacks a
// value.
TEST_F(CliTest, ModelWithoutInputsRunsWithoutInputFlags) {
  ir::Model m;
  m.graph.opsets[""] = 17;
  m.graph.outputs = {"y"};
  ir::Node n;
  n.op_type = "Constant";
  n.outputs = {"y"};
  n.attributes["value"].kind = ir::Attribute::Kind::kTensor;
  n.attributes["value"].t = Tensor::FromVector<float>({1.5f, -2.f}, {2});
  m.graph.nodes.push_back(n);
  ASSERT_TRUE(ir::ExportOnnxFile(m, Path("const.onnx")).ok());
  Output o = Cli("run " + Path("const.onnx") + " -o " + Path("out"));
  ASSERT_EQ(o.code, 0) << o.text;
  auto y = ir::ReadTensorFile(Path("out") + "/output_0.pb");
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->shape(), (Shape{2}));
  EXPECT_EQ(y->data<float>()[0], 1.5f);
  EXPECT_EQ(y->data<float>()[1], -2.f);

  Output missing = Cli("run " + cls_ + " -o " + Path("out"));
  EXPECT_EQ(missing.code, 1) << missing.text;
  EXPECT_NE(missing.text.find("input 'x' has no value"), std::string::npos) << missing.text;
}

// `supernova bench` prints one JSON object whose keys bench/run.sh and docs/benchmark.md rely
// on; the values must describe the run that was asked for.
TEST_F(CliTest, BenchPrintsOneJsonObjectWithTheContractKeys) {
  Output o =
      Cli("bench " + cls_ + " --threads 1 --batch 2 --shape x=Nx3x48x192 --iterations 3 --warmup 1",
          "/dev/null");
  ASSERT_EQ(o.code, 0) << o.text;
  ASSERT_EQ(std::count(o.text.begin(), o.text.end(), '\n'), 1) << o.text;
  const nlohmann::json j = nlohmann::json::parse(o.text, nullptr, false);
  ASSERT_TRUE(j.is_object()) << o.text;
  for (const char* key : {"model", "threads", "batch", "shapes", "iterations", "median_ms",
                          "p90_ms", "mean_ms", "min_ms", "throughput_per_s", "peak_rss_mb",
                          "load_ms", "arena_peak_mb", "weights_mb", "gflop", "gflops_achieved"})
    EXPECT_TRUE(j.contains(key)) << key << " missing: " << o.text;
  EXPECT_EQ(j["model"], cls_);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["batch"], 2);
  EXPECT_EQ(j["iterations"], 3);
  EXPECT_EQ(j["shapes"]["x"], (std::vector<int64_t>{2, 3, 48, 192}));
  const double median = j["median_ms"], p90 = j["p90_ms"], mean = j["mean_ms"], min = j["min_ms"];
  EXPECT_GT(min, 0);
  EXPECT_LE(min, median);
  EXPECT_LE(median, p90);
  EXPECT_LE(min, mean);
  EXPECT_NEAR(j["throughput_per_s"].get<double>(), 2 * 1000.0 / median, 1e-6 * 2000 / median);
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 1);
  EXPECT_GE(j["load_ms"].get<double>(), 0);
  EXPECT_GT(j["arena_peak_mb"].get<double>(), 0);
  // Counted from the model file itself, not from this program: its 250 Constant nodes hold
  // 534,660 bytes (dims x element size from `protoc --decode=onnx.ModelProto`); walking the
  // shapes from 1x3x48x192 through its 53 Conv (weight dims, strides, pads) and one [200,2]
  // MatMul gives 16,315,376 MACs per image, so 2 FLOP x 2 images x that at batch 2.
  EXPECT_NEAR(j["weights_mb"].get<double>(), 534660.0 / (1 << 20), 1e-9);
  const double gflop = j["gflop"];
  EXPECT_NEAR(gflop, 2 * 2 * 16315376 / 1e9, 1e-9);
  EXPECT_NEAR(j["gflops_achieved"].get<double>(), gflop / (median / 1000), 1e-6);
}

// A model whose batch is fixed cannot run at another: exit 2 ("not applicable"), one line.
TEST_F(CliTest, BenchRefusesAFixedBatchWithExitCode2) {
  ir::Model m;
  m.graph.opsets[""] = 13;
  m.graph.inputs = {"a"};
  m.graph.outputs = {"b"};
  m.graph.value_types["a"] = ir::ValueType::Static(DataType::kFloat32, {1, 4});
  ir::Node n;
  n.op_type = "Relu";
  n.inputs = {"a"};
  n.outputs = {"b"};
  m.graph.nodes.push_back(n);
  ASSERT_TRUE(ir::ExportOnnxFile(m, Path("fixed.onnx")).ok());
  Output ok = Cli("bench " + Path("fixed.onnx") + " --batch 1 --iterations 3", "/dev/null");
  EXPECT_EQ(ok.code, 0) << ok.text;
  Output o = Cli("bench " + Path("fixed.onnx") + " --batch 8 --iterations 3");
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("fixed batch 1"), std::string::npos) << o.text;
  EXPECT_EQ(std::count(o.text.begin(), o.text.end(), '\n'), 1) << o.text;
  Output bad = Cli("bench " + cls_ + " --shape y=Nx3x48x192 --iterations 3");
  EXPECT_EQ(bad.code, 1) << bad.text;
  EXPECT_NE(bad.text.find("no input named 'y'"), std::string::npos) << bad.text;
}

// A model that takes a sequence and returns one: the input is read from a SequenceProto, the
// output written as one, and the summary line names the elements' shapes.
TEST_F(CliTest, RunReadsAndWritesSequences) {
  ir::Model m;
  m.graph.opsets[""] = 13;
  m.graph.inputs = {"s", "x"};
  m.graph.outputs = {"out"};
  ir::ValueType seq;
  seq.kind = ValueKind::kSequence;
  seq.dtype = DataType::kFloat32;
  m.graph.value_types["s"] = seq;
  m.graph.value_types["out"] = seq;
  m.graph.value_types["x"] = ir::ValueType::Static(DataType::kFloat32, {2});
  ir::Node n;
  n.op_type = "SequenceInsert";
  n.inputs = {"s", "x"};
  n.outputs = {"out"};
  m.graph.nodes.push_back(n);
  ASSERT_TRUE(ir::ExportOnnxFile(m, Path("seq.onnx")).ok());
  const Value s = Value::Sequence(DataType::kFloat32, {Tensor::FromVector<float>({1}, {1})});
  ASSERT_TRUE(ir::WriteValueFile(Path("s.pb"), s, ValueKind::kSequence, "s").ok());
  ASSERT_TRUE(ir::WriteTensorFile(Path("x.pb"), Tensor::FromVector<float>({2, 3}, {2}), "x").ok());
  Output o = Cli("run " + Path("seq.onnx") + " -i s=" + Path("s.pb") + " -i x=" + Path("x.pb") +
                 " -o " + Path("out"));
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("out sequence(float32, 2 elements): [1] [2] ->"), std::string::npos)
      << o.text;
  auto got =
      ir::ReadValueFile(Path("out") + "/output_0.pb", ValueKind::kSequence, DataType::kFloat32);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->sequence().size(), 2u);
  EXPECT_EQ(got->sequence()[1].data<float>()[1], 3.0f);
  // Only a .pb file can hold a sequence: the error says which proto the model wants.
  Output bad = Cli("run " + Path("seq.onnx") + " -i s=" + Path("s.npy") + " -i x=" + Path("x.pb") +
                   " -o " + Path("out"));
  EXPECT_EQ(bad.code, 1) << bad.text;
  EXPECT_NE(bad.text.find("input 's' is a sequence: give a .pb file (SequenceProto)"),
            std::string::npos)
      << bad.text;
}

}  // namespace
}  // namespace supernova

// `supernova check --target NAME MODEL` on the real models, run as a user would. The expected
// verdicts come from facts about the vendors' tables written out below, not from the profile
// files, so a profile that drifts from its source fails here.
#include <gtest/gtest.h>

#include "tools/cli_util.h"

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "test_models.h"

namespace fs = std::filesystem;

namespace supernova {
namespace {

using Output = testing::CliOutput;
using testing::Cli;

nlohmann::json RunJson(const std::string& args) {
  Output o = Cli("check --json " + args);
  EXPECT_EQ(o.code, 0) << o.text;
  nlohmann::json j = nlohmann::json::parse(o.text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << o.text;
  return j;
}

struct Model {
  std::string key;
  std::string path;
  std::string shape;                   // --shape for inputs with dynamic spatial dims
  std::set<std::string> must_contain;  // ops ../shared/ASSETS.md lists for it
  testing::ModelRoot root = testing::ModelRoot::kAssets;
};

void PrintTo(const Model& m, std::ostream* os) { *os << m.key; }

std::vector<Model> Models() {
  const std::string ocr = std::string(SUPERNOVA_ASSETS_DIR) + "/ocr/";
  const std::string shared = SUPERNOVA_SHARED_MODELS_DIR;
  return {
      {"det",
       ocr + "ch_PP-OCRv4_det_infer.onnx",
       "--shape x=1x3x640x640",
       {"Conv", "ConvTranspose", "Resize", "HardSigmoid"}},
      {"rec",
       ocr + "ch_PP-OCRv4_rec_infer.onnx",
       "--shape x=1x3x48x320",
       {"Conv", "MatMul", "Softmax", "ReduceMean", "Pow", "Sqrt"}},
      {"cls",
       ocr + "ch_ppocr_mobile_v2.0_cls_infer.onnx",
       "--shape x=1x3x48x192",
       {"Conv", "HardSigmoid", "GlobalAveragePool", "MatMul"}},
      {"blazeface",
       std::string(SUPERNOVA_ASSETS_DIR) + "/blazeface/face_detection_front_128x128_barracuda.onnx",
       "",
       {"Conv", "MaxPool", "Concat"}},
      {"centernet",
       shared + "/centernet_mbv3_coco_512.onnx",
       "",
       {"Conv", "Resize"},
       testing::ModelRoot::kShared},
      {"face_embedding",
       shared + "/face_recognition_resnet29_128d.onnx",
       "",
       {"Conv", "MatMul"},
       testing::ModelRoot::kShared},
  };
}

// Facts from the sources, per target: the ops (among those these models contain) that the
// table does not support.
//  - TensorRT 10.15 (onnx-tensorrt operators.md) marks every op of these models 'Y', with
//    restrictions none of them hit (2D pooling, Resize nearest/linear).
//  - SNPE's 'Supported ONNX Ops' lists every op of these models.
//  - OpenVINO's Supported Layers: HardSigmoid is 'Not Supported' in the VPU column; Conv, Add,
//    Mul, Div, Clip, Pooling, Interp/Resample, MatMul (Gemm), Softmax, Reduce{Mean}, Pow, Sqrt
//    (Power), Transpose (Permute), Reshape, Slice, Squeeze, Concat, Pad are 'Supported'.
//  - Coral's table has no DIV, POW, SQRT, HARD_SWISH/HardSigmoid, standalone BatchNorm
//    (converters fold it into the conv), CAST, SHAPE.
const std::map<std::string, std::set<std::string>>& Unsupported() {
  static const std::map<std::string, std::set<std::string>> k = {
      {"tensorrt", {}},
      {"snpe", {}},
      {"openvino_vpu", {"HardSigmoid"}},
      {"edgetpu", {"Div", "Pow", "Sqrt", "HardSigmoid", "BatchNormalization", "Cast", "Shape"}},
  };
  return k;
}

std::set<std::string> OpTypes(const nlohmann::json& report, const char* device) {
  std::set<std::string> ops;
  for (const auto& n : report["placement"])
    if (!device || n["device"] == device) ops.insert(n["op_type"].get<std::string>());
  return ops;
}

bool IsMacOp(const std::string& op) {
  return op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul";
}

// Each real model: present where the README's test command puts it (or skipped, for the
// shared models outside the repository).
class CheckCliModel : public ::testing::TestWithParam<Model> {
 protected:
  void SetUp() override { SUPERNOVA_REQUIRE_MODEL(GetParam().path, GetParam().root); }
};

INSTANTIATE_TEST_SUITE_P(Models, CheckCliModel, ::testing::ValuesIn(Models()),
                         [](const auto& param_info) { return param_info.param.key; });

// Targets that place nodes one by one: each node falls back exactly when the table lacks its op.
TEST_P(CheckCliModel, AnyPartitionTargetsFallBackExactlyWhereTheTablesSay) {
  const Model& m = GetParam();
  for (const std::string target : {"tensorrt", "snpe", "openvino_vpu"}) {
    SCOPED_TRACE(m.key + " on " + target);
    nlohmann::json r = RunJson("--target " + target + " " + m.path + " " + m.shape);
    const std::set<std::string> ops = OpTypes(r, nullptr);
    for (const std::string& op : m.must_contain) EXPECT_TRUE(ops.count(op)) << op;
    const std::set<std::string>& missing = Unsupported().at(target);
    std::set<std::string> want_cpu;
    for (const std::string& op : ops)
      if (missing.count(op)) want_cpu.insert(op);
    EXPECT_EQ(OpTypes(r, "cpu"), want_cpu);
    for (const auto& n : r["placement"])
      EXPECT_EQ(n["device"] == "cpu", missing.count(n["op_type"].get<std::string>()) == 1)
          << n.dump();
    EXPECT_TRUE(r["macs"]["unresolved"].empty()) << r["macs"].dump();
    // HardSigmoid carries no MACs: whenever no Conv/Gemm/MatMul falls back, all MACs stay.
    if (std::none_of(want_cpu.begin(), want_cpu.end(), IsMacOp)) {
      EXPECT_DOUBLE_EQ(r["macs"]["accelerator_fraction"].get<double>(), 1.0);
    }
    const size_t cpu = r["nodes"]["cpu"];
    EXPECT_EQ(cpu == 0, r["fallback_reasons"].empty());
    if (cpu == 0) {
      EXPECT_EQ(r["segments"], 1);
    }
  }
}

// The Edge TPU compiler maps one prefix: from the first unsupported op on, all runs on the CPU.
TEST_P(CheckCliModel, EdgeTpuPrefixRuleAndAssumeInt8) {
  const Model& m = GetParam();
  nlohmann::json r = RunJson("--target edgetpu --assume-int8 " + m.path + " " + m.shape);
  const auto& nodes = r["placement"];
  const std::set<std::string>& missing = Unsupported().at("edgetpu");
  size_t first_missing = nodes.size();
  for (size_t i = 0; i < nodes.size() && first_missing == nodes.size(); ++i)
    if (missing.count(nodes[i]["op_type"].get<std::string>())) first_missing = i;
  size_t first_cpu = nodes.size();
  for (size_t i = 0; i < nodes.size() && first_cpu == nodes.size(); ++i)
    if (nodes[i]["device"] == "cpu") first_cpu = i;
  // These models break the prefix exactly at their first op the table lacks.
  EXPECT_EQ(first_cpu, first_missing);
  for (size_t i = first_cpu; i < nodes.size(); ++i) {
    EXPECT_EQ(nodes[i]["device"], "cpu") << nodes[i].dump();
    if (i > first_cpu && !missing.count(nodes[i]["op_type"].get<std::string>()) &&
        m.key != "rec") {  // rec's transformer also breaks rank limits on its own
      EXPECT_EQ(nodes[i]["reason"], "after first unsupported op (prefix rule)");
    }
  }
  EXPECT_LE(r["segments"].get<int>(), 1);
  if (first_cpu == nodes.size()) {
    EXPECT_DOUBLE_EQ(r["macs"]["accelerator_fraction"].get<double>(), 1.0);
  } else {
    EXPECT_GT(r["nodes"]["accelerator"].get<int>(), 0);  // the stem before the first Div
    EXPECT_LT(r["macs"]["accelerator_fraction"].get<double>(), 0.1);
  }

  // As float32 the int8-only target takes nothing, and says how to ask the real question.
  nlohmann::json f = RunJson("--target edgetpu " + m.path + " " + m.shape);
  EXPECT_EQ(f["nodes"]["accelerator"], 0);
  EXPECT_EQ(f["nodes"]["cpu"], r["nodes"]["total"]);
  Output text = Cli("check --target edgetpu " + m.path + " " + m.shape);
  EXPECT_NE(text.text.find("--assume-int8"), std::string::npos) << text.text;
}

// The verdict changes where it matters: BlazeFace is all Edge TPU once quantized.
TEST(CheckCli, BlazeFaceIsAllEdgeTpuOnceQuantized) {
  const Model blaze = Models()[3];
  SUPERNOVA_REQUIRE_MODEL(blaze.path, blaze.root);
  EXPECT_EQ(RunJson("--target edgetpu --assume-int8 " + blaze.path)["nodes"]["cpu"], 0);
  EXPECT_EQ(RunJson("--target edgetpu " + blaze.path)["nodes"]["accelerator"], 0);
}

TEST(CheckCli, TextReportGroupsFallbacksByReason) {
  const Model cls = Models()[2];
  SUPERNOVA_REQUIRE_MODEL(cls.path, cls.root);
  Output o = Cli("check --target openvino_vpu " + cls.path + " " + cls.shape);
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("target     openvino_vpu"), std::string::npos) << o.text;
  // HardSigmoid, the only op the VPU lacks here, does no multiply-accumulates.
  EXPECT_NE(o.text.find("on the accelerator (100.0%)"), std::string::npos) << o.text;
  // The model file has 9 HardSigmoid nodes (`protoc --decode=onnx.ModelProto` on it, counted
  // by op_type), all in one reason group.
  EXPECT_NE(o.text.find("op HardSigmoid not supported [9]"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("HardSigmoid x9"), std::string::npos) << o.text;
}

TEST(CheckCli, ListsTargets) {
  Output list = Cli("check --list-targets");
  ASSERT_EQ(list.code, 0) << list.text;
  for (const char* name : {"edgetpu", "tensorrt", "snpe", "openvino_vpu"})
    EXPECT_NE(list.text.find(name), std::string::npos) << list.text;
}

TEST(CheckCli, LoadsAProfileFile) {
  const Model face = Models()[5];
  SUPERNOVA_REQUIRE_MODEL(face.path, face.root);
  const fs::path file = fs::temp_directory_path() / "supernova_check_convonly.json";
  std::ofstream(file) << R"({"format": "supernova-capability-profile/1", "name": "convonly",
      "title": "Conv only", "source": {"document": "test", "url": "-", "version": "1"},
      "dtypes": ["float32"], "partition": "any", "ops": {"Conv": {"supported": true}}})";
  nlohmann::json r = RunJson("--target " + file.string() + " " + face.path);
  EXPECT_EQ(OpTypes(r, "accelerator"), std::set<std::string>{"Conv"});
  // 29 Conv nodes in the model file (`protoc --decode=onnx.ModelProto`, counted by op_type).
  EXPECT_EQ(r["nodes"]["accelerator"], 29);
  // Every Conv runs there, the one MatMul does not: most but not all MACs stay.
  const double f = r["macs"]["accelerator_fraction"];
  EXPECT_GT(f, 0.9);
  EXPECT_LT(f, 1.0);
  fs::remove(file);
}

TEST(CheckCli, BadInputIsOneClearErrorAndNonZeroExit) {
  const Model cls = Models()[2];
  SUPERNOVA_REQUIRE_MODEL(cls.path, cls.root);
  Output unknown = Cli("check --target tpu9000 " + cls.path);
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.text.find("unknown target 'tpu9000'"), std::string::npos) << unknown.text;
  EXPECT_NE(unknown.text.find("edgetpu"), std::string::npos) << unknown.text;

  const fs::path bad = fs::temp_directory_path() / "supernova_check_bad.json";
  std::ofstream(bad) << R"({"format": "supernova-capability-profile/1", "name": "b", "title": "B",
      "source": {"document": "d", "url": "u", "version": "v"}, "dtypes": ["float32"],
      "partition": "any", "ops": {"Conv": {"supported": true, "constraints": [{"kind": "nope"}]}}})";
  Output malformed = Cli("check --target " + bad.string() + " " + cls.path);
  EXPECT_EQ(malformed.code, 1);
  EXPECT_NE(malformed.text.find("ops.Conv.constraints[0].kind: unknown kind 'nope'"),
            std::string::npos)
      << malformed.text;
  fs::remove(bad);

  Output missing_profile = Cli("check --target /nonexistent/p.json " + cls.path);
  EXPECT_EQ(missing_profile.code, 1);
  EXPECT_NE(missing_profile.text.find("cannot read profile file"), std::string::npos);

  Output missing_model = Cli("check --target edgetpu /nonexistent/model.onnx");
  EXPECT_EQ(missing_model.code, 1);
  EXPECT_NE(missing_model.text.find("/nonexistent/model.onnx"), std::string::npos)
      << missing_model.text;

  Output bad_shape = Cli("check --target edgetpu " + cls.path + " --shape y=1x3x48x192");
  EXPECT_EQ(bad_shape.code, 1);
  EXPECT_NE(bad_shape.text.find("no input named 'y'"), std::string::npos) << bad_shape.text;
  Output no_target = Cli("check " + cls.path);
  EXPECT_EQ(no_target.code, 1);
  EXPECT_NE(no_target.text.find("--target is required"), std::string::npos) << no_target.text;
}

}  // namespace
}  // namespace supernova

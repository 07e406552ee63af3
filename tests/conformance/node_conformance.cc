// Runs ONNX's own backend node tests (Debian libonnx-testdata) through Session and compares
// every output with the expected one, as ONNX's backend test runner does
// (|actual - expected| <= atol + rtol * |expected|, rtol 1e-3, atol 1e-7; NaN equals NaN).
//
// A test is *skipped* when its model uses an operator that has no kernel; every other
// outcome is a pass or a failure. The summary line is "N passed, N failed, N skipped", over
// the whole suite and over the tests whose operators are all in the runtime's committed
// scope (kScopeOps); with --min-pass-rate the exit code enforces the rate on that subset.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/onnx_import.h"
#include "ir/tensor_proto.h"
#include "supernova/session.h"

namespace fs = std::filesystem;
using namespace supernova;  // NOLINT

namespace {

// The operators the runtime commits to (the common vision set of opsets 7-17).
const std::set<std::string> kScopeOps = {"Conv",
                                         "ConvTranspose",
                                         "Gemm",
                                         "MatMul",
                                         "BatchNormalization",
                                         "Relu",
                                         "LeakyRelu",
                                         "Sigmoid",
                                         "Tanh",
                                         "HardSigmoid",
                                         "HardSwish",
                                         "Clip",
                                         "Softmax",
                                         "Add",
                                         "Sub",
                                         "Mul",
                                         "Div",
                                         "Mod",
                                         "And",
                                         "Or",
                                         "Xor",
                                         "Not",
                                         "Equal",
                                         "Greater",
                                         "Less",
                                         "GreaterOrEqual",
                                         "LessOrEqual",
                                         "Max",
                                         "Min",
                                         "Sum",
                                         "Mean",
                                         "MaxPool",
                                         "AveragePool",
                                         "GlobalAveragePool",
                                         "GlobalMaxPool",
                                         "Concat",
                                         "Split",
                                         "Slice",
                                         "Reshape",
                                         "Flatten",
                                         "Transpose",
                                         "Squeeze",
                                         "Unsqueeze",
                                         "Gather",
                                         "Shape",
                                         "Constant",
                                         "ConstantOfShape",
                                         "Cast",
                                         "Pad",
                                         "Resize",
                                         "Upsample",
                                         "ReduceMean",
                                         "ReduceMax",
                                         "ReduceSum",
                                         "Expand",
                                         "Where",
                                         "Range",
                                         "TopK",
                                         "NonMaxSuppression",
                                         "Identity",
                                         "Dropout",
                                         "InstanceNormalization",
                                         "LRN",
                                         "Erf",
                                         "Pow",
                                         "Sqrt",
                                         "Exp",
                                         "Log",
                                         "Neg",
                                         "Abs",
                                         "Floor",
                                         "Ceil"};

struct Options {
  std::string data_dir = "/usr/share/libonnx-testdata/data/node";
  std::string filter;
  bool verbose = false;
  double min_pass_rate = -1;
  int threads = 1;
};

enum class Outcome { kPass, kFail, kSkip };

struct TestResult {
  std::string name;
  Outcome outcome = Outcome::kFail;
  std::string detail;
  std::set<std::string> ops;
  bool in_scope = false;
};

std::string Compare(const Tensor& expected, const Tensor& actual) {
  if (expected.dtype() != actual.dtype())
    return "dtype " + DataTypeName(actual.dtype()) + ", expected " + DataTypeName(expected.dtype());
  if (expected.shape() != actual.shape())
    return "shape " + ShapeToString(actual.shape()) + ", expected " +
           ShapeToString(expected.shape());
  const int64_t n = expected.numel();
  const DataType dt = expected.dtype();
  const bool is_float = dt == DataType::kFloat32 || dt == DataType::kFloat64 ||
                        dt == DataType::kFloat16 || dt == DataType::kBFloat16;
  for (int64_t i = 0; i < n; ++i) {
    if (is_float) {
      double e = expected.GetAsDouble(i), a = actual.GetAsDouble(i);
      if (std::isnan(e) && std::isnan(a)) continue;
      if (std::isinf(e) && a == e) continue;
      double tol = 1e-7 + 1e-3 * std::fabs(e);
      if (!(std::fabs(a - e) <= tol))
        return "element " + std::to_string(i) + ": " + std::to_string(a) + ", expected " +
               std::to_string(e);
    } else if (expected.GetAsInt64(i) != actual.GetAsInt64(i) ||
               (dt == DataType::kUint64 &&
                expected.data<uint64_t>()[i] != actual.data<uint64_t>()[i])) {
      return "element " + std::to_string(i) + ": " + std::to_string(actual.GetAsInt64(i)) +
             ", expected " + std::to_string(expected.GetAsInt64(i));
    }
  }
  return "";
}

// ONNX 1.12's test data stores bfloat16 tensors with data_type UINT16; read them as the
// bfloat16 the model declares (same bits).
Tensor AsBFloat16(const Tensor& t) {
  std::shared_ptr<void> keep(static_cast<void*>(nullptr), [t](void*) {});
  return Tensor::Wrap(DataType::kBFloat16, t.shape(), const_cast<void*>(t.raw_data()), keep);
}

std::vector<std::string> SortedFiles(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && e.path().extension() == ".pb") files.push_back(name);
  }
  // input_10.pb sorts after input_9.pb
  std::sort(files.begin(), files.end(), [&](const std::string& a, const std::string& b) {
    return std::stoi(a.substr(prefix.size())) < std::stoi(b.substr(prefix.size()));
  });
  return files;
}

TestResult RunOne(const fs::path& dir, const Options& opt) {
  TestResult r;
  r.name = dir.filename().string();
  const std::string model_path = (dir / "model.onnx").string();
  auto model = ir::ImportOnnxFile(model_path);
  if (model.ok())
    for (const auto& n : model->graph.nodes) r.ops.insert(n.op_type);
  r.in_scope = model.ok() && std::all_of(r.ops.begin(), r.ops.end(), [](const std::string& op) {
                 return kScopeOps.count(op) != 0;
               });
  SessionOptions so;
  so.num_threads = opt.threads;
  auto session = Session::Open(model_path, so);
  if (!session.ok()) {
    const bool missing_op =
        session.status().code() == Status::Code::kUnimplemented &&
        session.status().message().find("unsupported operator") != std::string::npos;
    r.outcome = missing_op ? Outcome::kSkip : Outcome::kFail;
    r.detail = session.status().ToString();
    return r;
  }
  const auto& ins = (*session)->inputs();
  int datasets = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_directory() || e.path().filename().string().rfind("test_data_set_", 0) != 0) continue;
    ++datasets;
    std::vector<std::pair<std::string, Tensor>> feeds;
    auto in_files = SortedFiles(e.path(), "input_");
    for (size_t i = 0; i < in_files.size(); ++i) {
      std::string name;
      auto t = ir::ReadTensorFile((e.path() / in_files[i]).string(), &name);
      if (!t.ok()) {
        r.detail = "cannot read " + in_files[i] + ": " + t.status().ToString();
        return r;
      }
      if (i < ins.size()) {
        name = ins[i].name;
        if (ins[i].dtype == DataType::kBFloat16 && t->dtype() == DataType::kUint16)
          t = AsBFloat16(*t);
      }
      feeds.emplace_back(name, std::move(t).value());
    }
    std::vector<Tensor> outs;
    Status s = (*session)->Run(feeds, &outs);
    if (!s.ok()) {
      r.detail = s.ToString();
      return r;
    }
    auto out_files = SortedFiles(e.path(), "output_");
    if (out_files.size() != outs.size()) {
      r.detail =
          std::to_string(outs.size()) + " outputs, expected " + std::to_string(out_files.size());
      return r;
    }
    for (size_t i = 0; i < out_files.size(); ++i) {
      auto expected = ir::ReadTensorFile((e.path() / out_files[i]).string());
      if (!expected.ok()) {
        r.detail = "cannot read " + out_files[i] + ": " + expected.status().ToString();
        return r;
      }
      if (expected->dtype() == DataType::kUint16 && outs[i].dtype() == DataType::kBFloat16)
        expected = AsBFloat16(*expected);
      std::string diff = Compare(*expected, outs[i]);
      if (!diff.empty()) {
        r.detail = "output " + std::to_string(i) + ": " + diff;
        return r;
      }
    }
  }
  if (datasets == 0) {
    r.detail = "no test_data_set_*";
    return r;
  }
  r.outcome = Outcome::kPass;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data")
      opt.data_dir = next();
    else if (a == "--filter")
      opt.filter = next();
    else if (a == "--verbose" || a == "-v")
      opt.verbose = true;
    else if (a == "--min-pass-rate")
      opt.min_pass_rate = std::stod(next());
    else if (a == "--threads")
      opt.threads = std::stoi(next());
    else {
      std::fprintf(stderr,
                   "usage: %s [--data DIR] [--filter SUBSTRING] [--verbose] "
                   "[--min-pass-rate R] [--threads N]\n",
                   argv[0]);
      return 2;
    }
  }
  std::error_code ec;
  if (!fs::is_directory(opt.data_dir, ec)) {
    std::fprintf(stderr, "conformance data not found at %s (install libonnx-testdata)\n",
                 opt.data_dir.c_str());
    return 2;
  }
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(opt.data_dir))
    if (e.is_directory() && e.path().filename().string().find(opt.filter) != std::string::npos)
      dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());

  int pass = 0, fail = 0, skip = 0, scope_pass = 0, scope_fail = 0, scope_skip = 0;
  std::map<std::string, int> skipped_ops;
  for (const auto& d : dirs) {
    TestResult r = RunOne(d, opt);
    int& counter = r.outcome == Outcome::kPass ? pass : r.outcome == Outcome::kFail ? fail : skip;
    ++counter;
    if (r.in_scope) {
      int& sc = r.outcome == Outcome::kPass   ? scope_pass
                : r.outcome == Outcome::kFail ? scope_fail
                                              : scope_skip;
      ++sc;
    }
    if (r.outcome == Outcome::kSkip) {
      const std::string& m = r.detail;
      // Count the missing operators named in the message.
      for (const auto& op : r.ops)
        if (m.find(" " + op + " (") != std::string::npos) ++skipped_ops[op];
    }
    if (r.outcome == Outcome::kFail || (opt.verbose && r.outcome == Outcome::kSkip))
      std::printf("%s %s%s: %s\n", r.outcome == Outcome::kFail ? "FAIL" : "SKIP", r.name.c_str(),
                  r.in_scope ? " [scope]" : "", r.detail.c_str());
    else if (opt.verbose)
      std::printf("PASS %s\n", r.name.c_str());
  }
  std::printf("\nskipped operators (no kernel), with the number of tests each:\n");
  for (const auto& [op, n] : skipped_ops) std::printf("  %s %d\n", op.c_str(), n);
  const int scope_total = scope_pass + scope_fail + scope_skip;
  const double rate = scope_total ? static_cast<double>(scope_pass) / scope_total : 0.0;
  std::printf("in-scope operators: %d of %d tests pass (%.1f%%), %d failed, %d skipped\n",
              scope_pass, scope_total, 100.0 * rate, scope_fail, scope_skip);
  std::printf("conformance: %d passed, %d failed, %d skipped\n", pass, fail, skip);
  if (opt.min_pass_rate >= 0 && rate < opt.min_pass_rate) {
    std::printf("in-scope pass rate %.3f is below the required %.3f\n", rate, opt.min_pass_rate);
    return 1;
  }
  return 0;
}

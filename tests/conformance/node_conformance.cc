// Runs ONNX's own backend node tests (Debian libonnx-testdata) through Session and compares
// every output with the expected one, as ONNX's backend test runner does
// (|actual - expected| <= atol + rtol * |expected|, rtol 1e-3, atol 1e-7; NaN equals NaN).
//
// Every test that does not pass (wrong output, an error at open or at run, an operator with
// no kernel) must be in the known-failures list with its reason, and every test in the list
// must fail: the exit code is 0 only when exactly the listed tests fail (known_failures.h).
//
//   node_conformance --known-failures tests/conformance/known_failures.txt
//   node_conformance --filter resize --verbose     # one family, every outcome printed
//   node_conformance --print-failures              # the list this run would need
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/known_failures.h"
#include "ir/tensor_proto.h"
#include "ir/value_proto.h"
#include "supernova/session.h"

namespace fs = std::filesystem;
using namespace supernova;  // NOLINT
using conformance::Outcome;

namespace {

struct Options {
  std::string data_dir = "/usr/share/libonnx-testdata/data/node";
  std::string known_failures;  // empty: every test must pass
  std::string filter;
  bool verbose = false;
  bool print_failures = false;
  int threads = 1;
};

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Empty when the outputs agree; otherwise what differs, with the size of the error, so that
// the known-failures list can say how far off an output is.
std::string CompareOutput(const Tensor& expected, const Tensor& actual) {
  if (expected.dtype() != actual.dtype())
    return "dtype " + DataTypeName(actual.dtype()) + ", expected " + DataTypeName(expected.dtype());
  if (expected.shape() != actual.shape())
    return "shape " + ShapeToString(actual.shape()) + ", expected " +
           ShapeToString(expected.shape());
  const int64_t n = expected.numel();
  const DataType dt = expected.dtype();
  if (dt == DataType::kString) {
    const std::string* e = expected.data<std::string>();
    const std::string* a = actual.data<std::string>();
    const auto differ = std::mismatch(e, e + n, a);
    if (differ.first == e + n) return "";
    return "element " + std::to_string(differ.first - e) + ": '" + *differ.second +
           "', expected '" + *differ.first + "'";
  }
  const bool is_float = dt == DataType::kFloat32 || dt == DataType::kFloat64 ||
                        dt == DataType::kFloat16 || dt == DataType::kBFloat16;
  int64_t bad = 0, first = -1;
  double max_err = 0;
  for (int64_t i = 0; i < n; ++i) {
    bool same;
    if (is_float) {
      const double e = expected.GetAsDouble(i), a = actual.GetAsDouble(i);
      same = (std::isnan(e) && std::isnan(a)) || (std::isinf(e) && a == e) ||
             std::fabs(a - e) <= 1e-7 + 1e-3 * std::fabs(e);
      if (!same) max_err = std::max(max_err, std::isnan(a - e) ? INFINITY : std::fabs(a - e));
    } else {
      same =
          expected.GetAsInt64(i) == actual.GetAsInt64(i) &&
          (dt != DataType::kUint64 || expected.data<uint64_t>()[i] == actual.data<uint64_t>()[i]);
    }
    if (same) continue;
    ++bad;
    if (first < 0) first = i;
  }
  if (bad == 0) return "";
  std::string d =
      std::to_string(bad) + " of " + std::to_string(n) + " " + conformance::kValueMismatch;
  if (is_float) d += ", max abs error " + Num(max_err);
  const auto value = [&](const Tensor& t) {
    return is_float ? Num(t.GetAsDouble(first)) : std::to_string(t.GetAsInt64(first));
  };
  return d + " (element " + std::to_string(first) + ": " + value(actual) + ", expected " +
         value(expected) + ")";
}

// The same for values: a sequence element by element, None against None.
std::string CompareValue(const Value& expected, const Value& actual) {
  if (expected.holds() != actual.holds())
    return "a " + actual.Describe() + ", expected " + expected.Describe();
  if (expected.is_tensor()) return CompareOutput(expected.tensor(), actual.tensor());
  const auto& e = expected.sequence();
  const auto& a = actual.sequence();
  if (e.size() != a.size())
    return std::to_string(a.size()) + " elements, expected " + std::to_string(e.size());
  for (size_t k = 0; k < e.size(); ++k)
    if (std::string d = CompareOutput(e[k], a[k]); !d.empty())
      return "element " + std::to_string(k) + ": " + d;
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

// The operators an "unsupported operator(s): A (first at ...), B (first at ...)" error names.
std::set<std::string> MissingOps(const Status& s) {
  std::set<std::string> ops;
  // The message may start with the model's path.
  if (s.code() != Status::Code::kUnimplemented ||
      s.message().find("unsupported operator") == std::string::npos)
    return ops;
  static const std::regex op(R"(([A-Za-z0-9_.]+) \(first at )");
  const std::string& m = s.message();
  for (auto it = std::sregex_iterator(m.begin(), m.end(), op); it != std::sregex_iterator(); ++it)
    ops.insert((*it)[1]);
  return ops;
}

// `s` with the test's directory left out of the file names it quotes.
std::string Relative(const Status& s, const fs::path& dir) {
  std::string m = s.ToString();
  const std::string prefix = dir.string() + "/";
  for (size_t at; (at = m.find(prefix)) != std::string::npos;) m.erase(at, prefix.size());
  return m;
}

Outcome RunOne(const fs::path& dir, const Options& opt) {
  Outcome r;
  r.name = dir.filename().string();
  SessionOptions so;
  so.num_threads = opt.threads;
  auto session = Session::Open((dir / "model.onnx").string(), so);
  if (!session.ok()) {
    r.missing_ops = MissingOps(session.status());
    r.detail = "open: " + Relative(session.status(), dir);
    return r;
  }
  const auto& ins = (*session)->inputs();
  std::vector<fs::path> datasets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
      datasets.push_back(e.path());
  std::sort(datasets.begin(), datasets.end());
  if (datasets.empty()) {
    r.detail = "no test_data_set_*";
    return r;
  }
  for (const fs::path& set : datasets) {
    const std::string where = datasets.size() > 1 ? set.filename().string() + " " : "";
    std::vector<std::pair<std::string, Value>> feeds;
    auto in_files = SortedFiles(set, "input_");
    for (size_t i = 0; i < in_files.size(); ++i) {
      std::string name;
      // The model's declared kind says which proto the file holds.
      const ValueKind kind = i < ins.size() ? ins[i].kind : ValueKind::kTensor;
      const DataType elem = i < ins.size() ? ins[i].dtype : DataType::kUndefined;
      auto v = ir::ReadValueFile((set / in_files[i]).string(), kind, elem, &name);
      if (!v.ok()) {
        r.detail = "cannot read " + in_files[i] + ": " + Relative(v.status(), dir);
        return r;
      }
      if (i < ins.size()) {
        name = ins[i].name;
        if (ins[i].dtype == DataType::kBFloat16 && v->is_tensor() &&
            v->tensor().dtype() == DataType::kUint16)
          v = Value(AsBFloat16(v->tensor()));
      }
      feeds.emplace_back(name, std::move(v).value());
    }
    std::vector<Value> outs;
    Status s = (*session)->Run(feeds, &outs);
    if (!s.ok()) {
      r.detail = where + "run: " + Relative(s, dir);
      return r;
    }
    auto out_files = SortedFiles(set, "output_");
    if (out_files.size() != outs.size()) {
      r.detail = where + std::to_string(outs.size()) + " outputs, expected " +
                 std::to_string(out_files.size());
      return r;
    }
    const auto& declared = (*session)->outputs();
    for (size_t i = 0; i < out_files.size(); ++i) {
      auto expected =
          ir::ReadValueFile((set / out_files[i]).string(), declared[i].kind, declared[i].dtype);
      if (!expected.ok()) {
        r.detail = "cannot read " + out_files[i] + ": " + Relative(expected.status(), dir);
        return r;
      }
      if (expected->is_tensor() && expected->tensor().dtype() == DataType::kUint16 &&
          outs[i].dtype() == DataType::kBFloat16)
        expected = Value(AsBFloat16(expected->tensor()));
      std::string diff = CompareValue(*expected, outs[i]);
      if (!diff.empty()) {
        r.detail = where + "output " + std::to_string(i) + ": " + diff;
        return r;
      }
    }
  }
  r.passed = true;
  return r;
}

Options ParseArgs(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data") {
      opt.data_dir = next();
    } else if (a == "--known-failures") {
      opt.known_failures = next();
    } else if (a == "--filter") {
      opt.filter = next();
    } else if (a == "--verbose" || a == "-v") {
      opt.verbose = true;
    } else if (a == "--print-failures") {
      opt.print_failures = true;
    } else if (a == "--threads") {
      opt.threads = std::stoi(next());
    } else {
      std::fprintf(stderr,
                   "usage: %s [--data DIR] [--known-failures FILE] [--filter SUBSTRING] "
                   "[--verbose] [--print-failures] [--threads N]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  return opt;
}

void PrintList(const char* title, const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  std::printf("\n%s (%zu):\n", title, lines.size());
  for (const std::string& l : lines) std::printf("  %s\n", l.c_str());
}

// The known failures grouped by reason, largest group first; the "op X not implemented"
// groups are folded into one line that names every missing operator.
void PrintReasons(const conformance::Verdict& v) {
  std::vector<std::pair<int, std::string>> groups;
  int op_tests = 0;
  std::vector<std::string> ops;  // "LSTM 4", "Loop+SequenceEmpty 6"
  for (const auto& [reason, n] : v.known_by_reason) {
    const std::set<std::string> named = conformance::OpsNamedByReason(reason);
    if (named.empty()) {
      groups.emplace_back(n, reason);
      continue;
    }
    op_tests += n;
    std::string together;
    for (const std::string& op : named) together += (together.empty() ? "" : "+") + op;
    ops.push_back(together + " " + std::to_string(n));
  }
  std::sort(groups.begin(), groups.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::printf("known failures by reason:\n");
  if (op_tests) {
    std::printf("  %4d  operators not implemented:", op_tests);
    size_t column = 100;  // wrapped at 100 columns, continued under the first name
    for (size_t i = 0; i < ops.size(); ++i) {
      const std::string item = ops[i] + (i + 1 < ops.size() ? "," : "");
      if (column + 1 + item.size() > 100) {
        std::printf("\n       ");
        column = 7;
      }
      std::printf(" %s", item.c_str());
      column += 1 + item.size();
    }
    std::printf("\n");
  }
  for (const auto& [n, reason] : groups) std::printf("  %4d  %s\n", n, reason.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = ParseArgs(argc, argv);
  std::error_code ec;
  if (!fs::is_directory(opt.data_dir, ec)) {
    std::fprintf(stderr, "conformance data not found at %s (install libonnx-testdata)\n",
                 opt.data_dir.c_str());
    return 2;
  }
  std::map<std::string, conformance::KnownFailure> known;
  if (!opt.known_failures.empty()) {
    std::ifstream f(opt.known_failures);
    if (!f) {
      std::fprintf(stderr, "cannot read %s\n", opt.known_failures.c_str());
      return 2;
    }
    std::stringstream text;
    text << f.rdbuf();
    auto parsed = conformance::ParseKnownFailures(text.str(), opt.known_failures);
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", parsed.status().message().c_str());
      return 2;
    }
    known = std::move(parsed).value();
  }
  const auto selected = [&](const std::string& name) {
    return name.find(opt.filter) != std::string::npos;
  };
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(opt.data_dir))
    if (e.is_directory() && selected(e.path().filename().string())) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  if (dirs.empty()) {
    std::fprintf(stderr, "no tests under %s match '%s'\n", opt.data_dir.c_str(),
                 opt.filter.c_str());
    return 2;
  }

  const auto start = std::chrono::steady_clock::now();
  std::vector<Outcome> outcomes;
  for (const auto& d : dirs) {
    outcomes.push_back(RunOne(d, opt));
    const Outcome& r = outcomes.back();
    if (opt.verbose)
      std::printf("%s %s%s%s\n", r.passed ? "PASS" : "FAIL", r.name.c_str(), r.passed ? "" : ": ",
                  r.detail.c_str());
    if (opt.print_failures && !r.passed)
      std::printf("%s %s\n", r.name.c_str(),
                  r.missing_ops.empty() ? r.detail.c_str()
                                        : conformance::MissingOpsReason(r.missing_ops).c_str());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const conformance::Verdict v = conformance::Compare(outcomes, known, selected);
  PrintList("new failures: add each to the known-failures list with its reason, or fix it",
            v.new_failures);
  PrintList("fixed", v.fixed);
  PrintList("listed with a reason that no longer holds", v.wrong_reasons);
  PrintList("listed but not in the suite", v.not_in_suite);
  std::printf("\n");
  PrintReasons(v);
  std::printf(
      "conformance: %zu tests in %.1f s: %d passed, %d known failures, %zu new failures, "
      "%zu fixed, %zu wrong reasons, %zu listed but not in the suite\n",
      outcomes.size(), seconds, v.passed, v.known, v.new_failures.size(), v.fixed.size(),
      v.wrong_reasons.size(), v.not_in_suite.size());
  return v.ok() ? 0 : 1;
}

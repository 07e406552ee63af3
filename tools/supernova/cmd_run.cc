// supernova run MODEL --input NAME=FILE ... --output-dir DIR
//
// Inputs are ONNX TensorProto (.pb), NumPy (.npy) or, with --preprocess, images; an input the
// model declares a sequence or optional is a SequenceProto or OptionalProto (.pb). Outputs are
// written as DIR/output_<i>.pb in the model's output order with the value's name set, the
// layout of ONNX's test data sets: TensorProto, or SequenceProto / OptionalProto for outputs
// declared so.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "ir/tensor_proto.h"
#include "ir/value_proto.h"
#include "optimizer/optimizer.h"
#include "supernova/bench_util.h"
#include "supernova/commands.h"
#include "supernova/session.h"
#include "supernova/tensor_io.h"

namespace supernova::tools {
namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  InputOptions input;  // --preprocess, --size, --bgr
  int threads = 0;
  std::vector<std::string> providers = {"cpu"};
  std::string optimization = "all";
  std::string precision = "model";
  int repeat = 1;
  bool profile = false;
  std::string decode;
  std::string labels;
  int top = 5;
};

Result<std::vector<std::string>> ReadLabels(const std::string& path) {
  std::vector<std::string> labels;
  if (path.empty()) return labels;
  SN_ASSIGN_OR_RETURN(std::string text, ir::ReadFileBytes(path));
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
    start = end + 1;
  }
  return labels;
}

// Prints a readable reading of output 0: the top classes of its last axis (topk), or the
// greedy CTC decoding of a [N, T, C] sequence with class 0 as blank and class i naming
// labels[i-1]; classes past the labels read as a space (PaddleOCR's convention).
Status PrintDecoded(const Tensor& out, const RunArgs& args) {
  SN_ASSIGN_OR_RETURN(std::vector<std::string> labels, ReadLabels(args.labels));
  if (out.dtype() != DataType::kFloat32 || out.rank() < 1)
    return Status::InvalidArgument("--decode needs a float32 output");
  const int64_t classes = out.shape().back();
  auto label = [&](int64_t c) {
    return c < static_cast<int64_t>(labels.size()) ? labels[c] : "class " + std::to_string(c);
  };
  if (args.decode == "topk") {
    const float* row = out.data<float>();
    std::vector<int64_t> idx(classes);
    for (int64_t i = 0; i < classes; ++i) idx[i] = i;
    const int64_t k = std::min<int64_t>(std::max(1, args.top), classes);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](int64_t a, int64_t b) { return row[a] > row[b]; });
    fmt::print("top {}:\n", k);
    for (int64_t i = 0; i < k; ++i) fmt::print("  {:<20} {:.4f}\n", label(idx[i]), row[idx[i]]);
    return Status::Ok();
  }
  if (args.decode == "ctc") {
    if (out.rank() != 3) return Status::InvalidArgument("--decode ctc needs a [N,T,C] output");
    for (int64_t n = 0; n < out.dim(0); ++n) {
      std::string text;
      int64_t prev = 0;
      double conf = 0;
      int count = 0;
      for (int64_t t = 0; t < out.dim(1); ++t) {
        const float* row = out.data<float>() + (n * out.dim(1) + t) * classes;
        const int64_t best = std::max_element(row, row + classes) - row;
        if (best != 0 && best != prev) {
          text += best - 1 < static_cast<int64_t>(labels.size()) ? labels[best - 1] : " ";
          conf += row[best];
          ++count;
        }
        prev = best;
      }
      fmt::print("text: \"{}\" (mean confidence {:.3f})\n", text, count ? conf / count : 0.0);
    }
    return Status::Ok();
  }
  return Status::InvalidArgument("unknown --decode '" + args.decode + "' (topk, ctc)");
}

// A sequence or optional the model declares can only come from a .pb file of its proto.
Result<Value> LoadInput(const std::string& file, const TensorInfo& info, const RunArgs& args) {
  if (info.kind == ValueKind::kTensor) {
    SN_ASSIGN_OR_RETURN(Tensor t, LoadInputFile(file, info, args.input));
    return Value(std::move(t));
  }
  if (std::filesystem::path(file).extension() != ".pb")
    return Status::InvalidArgument(
        "input '" + info.name + "' is a " + ValueKindName(info.kind) + ": give a .pb file (" +
        (info.kind == ValueKind::kSequence ? "SequenceProto" : "OptionalProto") + ")");
  return ir::ReadValueFile(file, info.kind, info.dtype);
}

// "float32[1,3] min 0 max 2 mean 1" for a tensor; a sequence lists its elements' shapes.
std::string Summary(const Value& v) {
  if (v.is_sequence()) {
    std::string shapes;
    for (const Tensor& t : v.sequence()) shapes += " " + ShapeToString(t.shape());
    return v.Describe() + (shapes.empty() ? "" : ":" + shapes);
  }
  if (!v.is_tensor()) return v.Describe();
  const Tensor& t = v.tensor();
  if (t.dtype() == DataType::kString)  // no min, max or mean of text: the first element
    return fmt::format("{}{} first \"{}\"", DataTypeName(t.dtype()), ShapeToString(t.shape()),
                       t.numel() ? t.data<std::string>()[0] : "");
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  for (int64_t k = 0; k < t.numel(); ++k) {
    double x = t.GetAsDouble(k);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    sum += x;
  }
  return fmt::format("{}{} min {:.4g} max {:.4g} mean {:.4g}", DataTypeName(t.dtype()),
                     ShapeToString(t.shape()), lo, hi,
                     t.numel() ? sum / static_cast<double>(t.numel()) : 0.0);
}

int RunModel(const RunArgs& args) {
  if (!args.decode.empty() && args.decode != "topk" && args.decode != "ctc")
    return Fail("unknown --decode '" + args.decode + "' (topk, ctc)");
  SessionOptions opts;
  opts.num_threads = args.threads;
  opts.providers = args.providers;
  auto level = optimizer::ParseOptimizationLevel(args.optimization);
  if (!level.ok()) return Fail(level.status().message());
  opts.optimization = *level;
  auto precision = bench::ParsePrecision(args.precision);
  if (!precision.ok()) return Fail(precision.status().message());
  opts.precision = *precision;
  opts.profiling = args.profile;
  auto t_open = std::chrono::steady_clock::now();
  auto session = Session::Open(args.model, opts);
  if (!session.ok()) return Fail(session.status().ToString());
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_open).count();
  const auto& infos = (*session)->inputs();
  const PlacementReport& placed = (*session)->placement();
  for (const std::string& note : placed.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  std::map<std::string, int> per;
  for (const auto& n : placed.nodes) ++per[n.provider];
  if (per.size() > 1) {  // a word on placement only where more than one provider runs nodes
    std::string counts;
    for (const auto& p : placed.providers)
      counts += (counts.empty() ? "" : ", ") + p + " " + std::to_string(per[p]);
    std::fprintf(stderr, "placement: %s nodes; %zu pieces, %d seams, %d copies per run\n",
                 counts.c_str(), placed.pieces.size(), placed.seams, placed.copies);
  }

  auto specs = MatchInputSpecs(args.inputs, infos);
  if (!specs.ok()) return Fail(specs.status().message());
  std::vector<std::pair<std::string, Value>> feeds;
  for (const InputSpec& spec : *specs) {
    auto t = LoadInput(spec.file, *spec.info, args);
    if (!t.ok()) return Fail(t.status().ToString());
    feeds.emplace_back(spec.info->name, std::move(t).value());
  }

  std::vector<Value> outputs;
  RunStats stats;
  std::vector<double> times;
  for (int r = 0; r < std::max(1, args.repeat); ++r) {
    auto t0 = std::chrono::steady_clock::now();
    Status s = (*session)->Run(feeds, &outputs, &stats);
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!s.ok()) return Fail(s.ToString());
  }
  std::sort(times.begin(), times.end());

  std::error_code ec;
  std::filesystem::create_directories(args.output_dir, ec);
  if (ec) return Fail("cannot create " + args.output_dir + ": " + ec.message());
  fmt::print("{}: {} in {:.2f} ms{} (load {:.1f} ms), peak intermediate memory {:.1f} MiB\n",
             std::filesystem::path(args.model).filename().string(),
             times.size() > 1 ? "median run" : "ran", times[times.size() / 2],
             times.size() > 1 ? fmt::format(" over {} runs", times.size()) : "", load_ms,
             static_cast<double>(stats.peak_bytes) / (1 << 20));
  const auto& out_infos = (*session)->outputs();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string path =
        (std::filesystem::path(args.output_dir) / fmt::format("output_{}.pb", i)).string();
    Status s = ir::WriteValueFile(path, outputs[i], out_infos[i].kind, out_infos[i].name);
    if (!s.ok()) return Fail(s.ToString());
    fmt::print("  {} {} -> {}\n", out_infos[i].name, Summary(outputs[i]), path);
  }
  if (!args.decode.empty() && !outputs.empty()) {
    if (!outputs[0].is_tensor())
      return Fail("--decode needs a tensor output 0, got a " + outputs[0].Describe());
    Status s = PrintDecoded(outputs[0].tensor(), args);
    if (!s.ok()) return Fail(s.ToString());
  }
  if (args.profile) {
    std::map<std::string, double> by_op;
    for (const auto& p : (*session)->LastProfile()) by_op[p.op_type] += p.ms;
    std::vector<std::pair<std::string, double>> sorted(by_op.begin(), by_op.end());
    std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.second > b.second; });
    fmt::print("time by operator (last run)\n");
    for (const auto& [op, ms] : sorted) fmt::print("  {:<24} {:8.2f} ms\n", op, ms);
  }
  return 0;
}

}  // namespace

void AddRunCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run a model on input files and write its outputs (with --split DIR --remote "
      "HOST:PORT: a split model, head here and tail remote)");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--input,-i", args->inputs,
                  "NAME=FILE (.pb TensorProto, .npy, or an image with --preprocess; "
                  "SequenceProto or OptionalProto .pb for a sequence or optional input); "
                  "FILE alone for a single-input model; none for a model without inputs");
  cmd->add_option("--output-dir,-o", args->output_dir, "where output_<i>.pb are written")
      ->required();
  AddImageFlags(cmd, &args->input.preprocess, &args->input.size, &args->input.bgr);
  cmd->add_option("--threads", args->threads, "kernel threads (0: one per core)");
  cmd->add_option("--providers", args->providers,
                  "execution providers in order of preference, e.g. cuda,cpu: cuda and opencv "
                  "(where built), cpu (oneDNN regions with reference fallback; takes what the "
                  "others leave), cpu_reference (reference kernels only)")
      ->delimiter(',');
  cmd->add_option("--optimization", args->optimization,
                  "graph optimization before running: none, basic or all (default)");
  cmd->add_option("--precision", args->precision, bench::kPrecisionHelp);
  cmd->add_option("--repeat", args->repeat, "run this many times and report the median");
  cmd->add_flag("--profile", args->profile, "print time per operator type");
  cmd->add_option("--decode", args->decode,
                  "print a reading of output 0: topk (classes of the last axis) or ctc "
                  "(greedy CTC over [N,T,C], class 0 blank)");
  cmd->add_option("--labels", args->labels, "one label per line, for --decode");
  cmd->add_option("--top", args->top, "how many classes --decode topk prints");
  cmd->final_callback([args, exit_code] { *exit_code = RunModel(*args); });
}

}  // namespace supernova::tools

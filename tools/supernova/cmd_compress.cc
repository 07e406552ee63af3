// supernova compress MODEL -o OUT.onnx [--input-size HxW] [--int8 --calib DIR ...]
//                    [--dynamic-int8] [--bf16]
//                    [--prune-channels RATIO] [--fold] [--eval DIR] [--json]
//
// Rewrites a model into a smaller or faster one and says what it cost: file size, parameters,
// MACs and latency before and after (the same inputs, the same threads, interleaved runs), and
// how closely the outputs agree with the original's on real inputs (--eval, by default the
// calibration inputs held out from calibration). The output is written atomically (a
// temporary file beside it, renamed); the input is never touched.
//
// Calibration and evaluation folders hold one sample per file (an image, .pb or .npy) for a
// single-input model, or one sample per subfolder (input_<i>.pb / .npy in input order, the
// layout of ONNX's test data sets).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "compress/agreement.h"
#include "compress/bf16.h"
#include "compress/calibration.h"
#include "compress/compact.h"
#include "compress/dynamic_int8.h"
#include "compress/fold.h"
#include "compress/probe.h"
#include "compress/prune.h"
#include "compress/qdq.h"
#include "compress/resize_input.h"
#include "compress_int8.h"
#include "ir/onnx_import.h"
#include "optimizer/optimizer.h"
#include "supernova/bench_util.h"
#include "supernova/commands.h"
#include "supernova/flops.h"
#include "supernova/output_file.h"
#include "supernova/session.h"
#include "supernova/tensor_io.h"

namespace supernova::tools {
namespace {

namespace fs = std::filesystem;
using compress::Feeds;

struct CompressArgs {
  std::string model;
  std::string output;
  std::string input_size;  // HxW: run the model at another input size
  bool int8 = false;
  bool dynamic_int8 = false;
  bool bf16 = false;
  std::string calib;
  std::string calib_method = "minmax";
  double percentile = 99.99;
  bool per_channel = false;
  bool bias_correction = true;
  std::string sensitive = "auto";
  double target_agreement = 0;  // 0: none
  std::vector<std::string> exclude;
  bool fold = false;
  bool prune = false;  // --prune-channels given
  double prune_ratio = 0;
  std::string prune_criterion = "l1";
  bool prune_coupled = true;
  InputOptions input;
  std::string eval;
  std::string task = "auto";
  bool json = false;
  int threads = 0;
  int runs = 20;
};

using Clock = std::chrono::steady_clock;

bool IsSampleFile(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".pb" || ext == ".npy" || LooksLikeImage(p.string());
}

// The samples of a calibration or evaluation folder, in name order.
Result<std::vector<Feeds>> ReadSamples(const std::string& dir, const char* what,
                                       const std::vector<TensorInfo>& inputs,
                                       const InputOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::InvalidArgument(std::string(what) + " folder " + dir + " does not exist");
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string()[0] != '.') entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  std::vector<Feeds> samples;
  auto load = [&](const fs::path& file, const TensorInfo& info) -> Result<Tensor> {
    Result<Tensor> t = LoadInputFile(file.string(), info, options);
    if (!t.ok()) return Status::InvalidArgument(file.string() + ": " + t.status().message());
    // A known dim that differs would fail deep inside the run: say it here.
    bool fits = t->rank() == info.dims.size() || !info.rank_known;
    for (size_t d = 0; fits && info.rank_known && d < info.dims.size(); ++d)
      fits = info.dims[d] < 0 || info.dims[d] == t->dim(d);
    if (!fits || t->dtype() != info.dtype)
      return Status::InvalidArgument(file.string() + " is " + DataTypeName(t->dtype()) +
                                     ShapeToString(t->shape()) + ", the model's input is " +
                                     info.ToString());
    return t;
  };
  for (const fs::path& p : entries) {
    if (fs::is_directory(p, ec)) {
      Feeds feeds;
      for (size_t i = 0; i < inputs.size(); ++i) {
        fs::path file = p / fmt::format("input_{}.pb", i);
        if (!fs::exists(file, ec)) file = p / fmt::format("input_{}.npy", i);
        if (!fs::exists(file, ec))
          return Status::InvalidArgument(fmt::format("{}: no input_{}.pb or .npy for input '{}'",
                                                     p.string(), i, inputs[i].name));
        SN_ASSIGN_OR_RETURN(Tensor t, load(file, inputs[i]));
        feeds.emplace_back(inputs[i].name, std::move(t));
      }
      samples.push_back(std::move(feeds));
    } else if (IsSampleFile(p)) {
      if (inputs.size() != 1)
        return Status::InvalidArgument(fmt::format(
            "{} folder {}: the model has {} inputs: give one subfolder per sample holding "
            "input_<i>.pb files",
            what, dir, inputs.size()));
      SN_ASSIGN_OR_RETURN(Tensor t, load(p, inputs[0]));
      samples.push_back({{inputs[0].name, std::move(t)}});
    }
  }
  if (samples.empty())
    return Status::InvalidArgument(std::string(what) + " folder " + dir +
                                   " holds no inputs (images, .pb or .npy files, or sample "
                                   "subfolders)");
  return samples;
}

// Random inputs with the benchmark's seed, where no folder gives real ones.
Result<std::vector<Feeds>> RandomSamples(const std::vector<TensorInfo>& inputs) {
  SN_ASSIGN_OR_RETURN(std::vector<Shape> shapes, bench::ResolveInputShapes(inputs, 1, {}));
  std::mt19937 rng(bench::kInputSeed);
  Feeds feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    SN_ASSIGN_OR_RETURN(Tensor t, bench::RandomInput(inputs[i].dtype, shapes[i], rng));
    feeds.emplace_back(inputs[i].name, std::move(t));
  }
  return std::vector<Feeds>{std::move(feeds)};
}

// MACs at the shapes of `sample`: static shapes, and where those leave an operand unknown,
// shapes measured by running the model once (0 where even that fails).
double Macs(const ir::Model& m, const Feeds& sample, const SessionOptions& options) {
  std::vector<Shape> shapes;
  for (const std::string& in : m.graph.inputs) {
    if (m.graph.IsInitializer(in)) continue;
    const auto f =
        std::find_if(sample.begin(), sample.end(), [&](const auto& kv) { return kv.first == in; });
    if (f == sample.end()) return 0;
    shapes.push_back(f->second.shape());
  }
  Result<FlopResult> r = CountModelFlops(m, shapes, sample, options);
  return r.ok() && r->count.unresolved.empty() ? r->count.flops / 2 : 0;
}

struct Measured {
  double before_ms = 0, after_ms = 0;
};

// Median latency of both models on one sample: runs interleaved so that both see the same
// machine, after two warm-up runs each.
// `sample_after` is `sample` at the compressed model's input size (the same where it kept it).
Result<Measured> Latency(const Session& before, const Session& after, const Feeds& sample,
                         const Feeds& sample_after, int runs) {
  std::vector<Tensor> out;
  for (int i = 0; i < 2; ++i) {
    SN_RETURN_IF_ERROR(before.Run(sample, &out));
    SN_RETURN_IF_ERROR(after.Run(sample_after, &out));
  }
  std::vector<double> a, b;
  for (int i = 0; i < runs; ++i) {
    for (int k = 0; k < 2; ++k) {
      const Session& s = (i + k) % 2 ? after : before;  // alternate which goes first
      const auto t0 = Clock::now();
      SN_RETURN_IF_ERROR(s.Run(&s == &before ? sample : sample_after, &out));
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      (&s == &before ? a : b).push_back(ms);
    }
  }
  return Measured{bench::Summarize(a).median_ms, bench::Summarize(b).median_ms};
}

std::string Si(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::string Ratio(double after, double before) {
  return before > 0 ? fmt::format("{:.2f}x", after / before) : "-";
}

struct Samples {
  std::vector<Feeds> calib, eval;
  std::string eval_source;
};

// The calibration and evaluation inputs, read at the input shapes `inputs`.
Result<Samples> LoadSamples(const CompressArgs& args, const std::vector<TensorInfo>& inputs) {
  Samples s;
  if (!args.calib.empty()) {
    SN_ASSIGN_OR_RETURN(s.calib, ReadSamples(args.calib, "calibration", inputs, args.input));
  }
  if (!args.eval.empty()) {
    SN_ASSIGN_OR_RETURN(s.eval, ReadSamples(args.eval, "evaluation", inputs, args.input));
    s.eval_source = fmt::format("{} inputs of {}", s.eval.size(), args.eval);
  } else if (s.calib.size() >= 5) {
    // Hold out every fifth calibration input: agreement is measured on inputs the ranges
    // were not fitted to.
    std::vector<Feeds> fit;
    for (size_t i = 0; i < s.calib.size(); ++i) (i % 5 == 4 ? s.eval : fit).push_back(s.calib[i]);
    s.calib = std::move(fit);
    s.eval_source = fmt::format("{} held-out calibration inputs", s.eval.size());
  } else if (!s.calib.empty()) {
    s.eval = s.calib;
    s.eval_source =
        fmt::format("the {} calibration inputs (too few to hold some out)", s.eval.size());
  } else {
    Result<std::vector<Feeds>> random = RandomSamples(inputs);
    if (!random.ok())
      return Status::InvalidArgument("no inputs to measure on: give --eval DIR (" +
                                     random.status().message() + ")");
    s.eval = std::move(*random);
    s.eval_source = "1 random input (give --eval DIR for real ones)";
  }
  return s;
}

// --input-size: first of the steps, so that calibration and pruning's recovery run the model at
// the size it will run at.
Status ResizeInputStep(const CompressArgs& args, ir::Model& out, std::vector<TensorInfo>& inputs,
                       nlohmann::json& steps, std::vector<std::string>& text_steps) {
  SN_ASSIGN_OR_RETURN(compress::InputSize size, compress::ParseInputSize(args.input_size));
  SN_ASSIGN_OR_RETURN(compress::InputResizeReport r,
                      compress::ResizeInput(out, size, args.threads));
  for (TensorInfo& info : inputs) {
    if (info.name != r.input) continue;
    info.rank_known = true;
    info.dims = r.after;
    info.symbols.assign(r.after.size(), "");
  }
  steps.push_back({{"step", "input_size"},
                   {"input", r.input},
                   {"before", r.before},
                   {"after", r.after},
                   {"resize_sizes_to_scales", r.resizes}});
  text_steps.push_back(fmt::format("input size: '{}' {} -> {}; {} Resize sizes made scales",
                                   r.input, ShapeToString(r.before), ShapeToString(r.after),
                                   r.resizes));
  return Status::Ok();
}

// --prune-channels: structured pruning, then recovery on the calibration inputs where there are
// some. Before the standard rewrites, so that BatchNorm statistics can be measured afresh.
Status Prune(const CompressArgs& args, const std::vector<Feeds>& calib, ir::Model& out,
             nlohmann::json& steps, std::vector<std::string>& text_steps,
             std::vector<std::string>& kept_channels) {
  SN_ASSIGN_OR_RETURN(compress::PruneCriterion criterion,
                      compress::ParsePruneCriterion(args.prune_criterion));
  const ir::Model before = out;
  compress::PruneOptions po{args.prune_ratio, criterion};
  po.coupled = args.prune_coupled;
  SN_ASSIGN_OR_RETURN(compress::PruneReport r, compress::PruneChannels(out.graph, po));
  kept_channels = r.skipped;
  std::string recovery = "none (no --calib inputs)";
  compress::RecoveryReport done;
  if (!calib.empty()) {
    SN_ASSIGN_OR_RETURN(done, compress::RecoverAfterPruning(out, before, r, calib, args.threads));
    recovery = fmt::format("{} biases corrected, {} BatchNorm statistics measured on {} inputs",
                           done.bias_corrected, done.batch_norms, calib.size());
  }
  int64_t removed = 0;
  for (const auto& g : r.groups) removed += g.removed;
  steps.push_back({{"step", "prune"},
                   {"ratio", args.prune_ratio},
                   {"coupled", args.prune_coupled},
                   {"criterion", compress::PruneCriterionName(criterion)},
                   {"groups", r.groups.size()},
                   {"channels", {{"before", r.channels_before}, {"after", r.channels_after}}},
                   {"channels_kept_whole", r.skipped.size()},
                   {"bias_corrected", done.bias_corrected},
                   {"batch_norms_measured", done.batch_norms},
                   {"recovery_inputs", calib.size()}});
  text_steps.push_back(fmt::format(
      "prune: {} of {} channels removed ({} {:.0f}% of each of {} groups); recovery: {}", removed,
      r.channels_before, compress::PruneCriterionName(criterion), args.prune_ratio * 100,
      r.groups.size(), recovery));
  return Status::Ok();
}

// --fold: layer folding beyond the standard rewrites.
Status FoldLayersStep(ir::Model& out, nlohmann::json& steps, std::vector<std::string>& text_steps) {
  SN_ASSIGN_OR_RETURN(compress::FoldReport f, compress::FoldLayers(out.graph));
  steps.push_back({{"step", "fold_layers"},
                   {"affine_into_conv", f.affine},
                   {"pointwise_conv_chains", f.conv_chains},
                   {"matmul_chains", f.matmul_chains},
                   {"input_scales", f.input_scales},
                   {"nodes", {{"before", f.nodes_before}, {"after", f.nodes_after}}}});
  text_steps.push_back(fmt::format(
      "fold layers: {} Mul/Add into convs, {} 1x1 convs into the conv before, {} MatMul/Gemm "
      "chains, {} input scales; {} -> {} nodes",
      f.affine, f.conv_chains, f.matmul_chains, f.input_scales, f.nodes_before, f.nodes_after));
  return Status::Ok();
}

// --bf16: weights stored as bfloat16; the runtime computes in bf16 where the CPU has it.
Status Bf16Step(const CompressArgs& args, ir::Model& out, nlohmann::json& steps,
                std::vector<std::string>& text_steps) {
  SN_ASSIGN_OR_RETURN(compress::Bf16Stats b, compress::StoreWeightsBf16(out));
  if (b.weights == 0)
    return Status::InvalidArgument("--bf16: " + args.model +
                                   " has no float Conv, ConvTranspose, Gemm or MatMul weight");
  const Bf16Support here = CpuBf16Support();
  const bool native = here.native;
  const std::string& isa = here.isa;
  steps.push_back({{"step", "bf16"},
                   {"nodes", b.nodes},
                   {"weights", b.weights},
                   {"weight_bytes", {{"before", b.bytes_before}, {"after", b.bytes_after}}},
                   {"compute", native ? "bf16" : "fp32"},
                   {"cpu_isa", isa}});
  text_steps.push_back(
      fmt::format("bf16: {} weights of {} nodes stored as bfloat16 ({} -> {}B); compute here: {}",
                  b.weights, b.nodes, Si(static_cast<double>(b.bytes_before)) + "B",
                  Si(static_cast<double>(b.bytes_after)),
                  native ? "bf16 (" + isa + ")" : "float (" + isa + " has no native bf16)"));
  return Status::Ok();
}

// --dynamic-int8: int8 weights, activations quantized per call; no calibration.
Status DynamicInt8Step(const CompressArgs& args, ir::Model& out, nlohmann::json& steps,
                       std::vector<std::string>& text_steps,
                       std::vector<compress::NodeDecision>& float_nodes) {
  compress::QuantizeOptions q;
  q.per_channel = args.per_channel;
  q.exclude = {args.exclude.begin(), args.exclude.end()};
  Result<compress::DynamicInt8Report> r = compress::QuantizeDynamic(out.graph, q);
  if (!r.ok())
    return Status::InvalidArgument("--dynamic-int8 cannot quantize " + args.model + ": " +
                                   r.status().message());
  for (const auto& d : r->decisions)
    if (!d.quantized) float_nodes.push_back(d);
  steps.push_back({{"step", "dynamic_int8"},
                   {"per_channel", args.per_channel},
                   {"quantized_nodes", r->quantized},
                   {"float_nodes", float_nodes.size()},
                   {"opset", {{"before", r->opset.before}, {"after", r->opset.after}}},
                   {"opset_rewritten_nodes", r->opset.rewritten}});
  text_steps.push_back(fmt::format(
      "dynamic int8: {} of {} MatMul/Gemm quantized (int8 {} weights, uint8 activations "
      "quantized per call){}",
      r->quantized, r->decisions.size(), args.per_channel ? "per-column" : "per-tensor",
      r->opset.after != r->opset.before
          ? fmt::format("; opset {} -> {} ({} nodes rewritten)", r->opset.before, r->opset.after,
                        r->opset.rewritten)
          : ""));
  return Status::Ok();
}

Status Compress(const CompressArgs& args) {
  if (!args.int8 && !args.dynamic_int8 && !args.bf16 && !args.fold && !args.prune &&
      args.input_size.empty())
    return Status::InvalidArgument(
        "nothing to do: give --input-size, --int8, --dynamic-int8, --bf16, --prune-channels or "
        "--fold");
  if (!args.input_size.empty())  // before anything slow: a typo
    SN_RETURN_IF_ERROR(compress::ParseInputSize(args.input_size).status());
  if (args.int8 + args.dynamic_int8 + args.bf16 > 1)
    return Status::InvalidArgument(
        "--int8, --dynamic-int8 and --bf16 exclude each other: give one");
  if (args.int8 && args.calib.empty())
    return Status::InvalidArgument("--int8 needs --calib DIR (a folder of real inputs)");
  if (SameFile(args.model, args.output))
    return Status::InvalidArgument("-o " + args.output +
                                   " is the input model: write the result to another file");
  SN_ASSIGN_OR_RETURN(compress::CalibMethod method, compress::ParseCalibMethod(args.calib_method));
  if (args.prune) {  // before anything slow: a bad ratio or criterion is a typo
    SN_RETURN_IF_ERROR(compress::ParsePruneCriterion(args.prune_criterion).status());
    if (!(args.prune_ratio >= 0 && args.prune_ratio < 1))
      return Status::InvalidArgument(
          fmt::format("--prune-channels {} is outside [0, 1)", args.prune_ratio));
  }
  SN_ASSIGN_OR_RETURN(compress::Task task, compress::ParseTask(args.task));
  if (!(args.percentile > 50 && args.percentile <= 100))
    return Status::InvalidArgument("--percentile must be in (50, 100]");

  SN_ASSIGN_OR_RETURN(ir::Model model, ir::ImportOnnxFile(args.model));
  SessionOptions options;
  options.num_threads = args.threads;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> original, Session::Open(args.model, options));
  const std::vector<TensorInfo>& inputs = original->inputs();

  ir::Model out = model;
  nlohmann::json steps = nlohmann::json::array();
  std::vector<std::string> text_steps;
  std::vector<std::string> kept_channels;
  std::vector<TensorInfo> out_inputs = inputs;
  if (!args.input_size.empty())
    SN_RETURN_IF_ERROR(ResizeInputStep(args, out, out_inputs, steps, text_steps));
  SN_ASSIGN_OR_RETURN(Samples samples, LoadSamples(args, out_inputs));
  std::vector<Feeds>& calib = samples.calib;
  const std::vector<Feeds>& eval = samples.eval;
  const std::string& eval_source = samples.eval_source;
  // The original reads the same inputs at its own size.
  std::vector<Feeds> eval_before = eval;
  if (!args.input_size.empty()) {
    SN_ASSIGN_OR_RETURN(Samples at_original, LoadSamples(args, inputs));
    eval_before = std::move(at_original.eval);
  }
  if (args.prune) SN_RETURN_IF_ERROR(Prune(args, calib, out, steps, text_steps, kept_channels));
  // Standard rewrites first: constant folding, redundant and dead nodes, BatchNorm folded into
  // the convolution before it. Quantization needs them (a BatchNorm between a convolution and
  // its activation would break the int8 chain), and they keep the model standard ONNX.
  std::vector<optimizer::PassStats> passes;
  SN_RETURN_IF_ERROR(optimizer::Optimize(out.graph, OptimizationLevel::kAll, &passes,
                                         optimizer::PassSet::kPortable));
  {
    int changes = 0;
    std::string detail;
    for (const auto& p : passes) {
      changes += p.changes;
      if (p.changes)
        detail += fmt::format("{}{} {}", detail.empty() ? "" : ", ", p.name, p.changes);
    }
    steps.push_back({{"step", "fold"}, {"changes", changes}, {"passes", detail}});
    text_steps.push_back(fmt::format("fold: {} rewrites ({})", changes,
                                     detail.empty() ? "nothing to fold" : detail));
  }
  if (args.fold) SN_RETURN_IF_ERROR(FoldLayersStep(out, steps, text_steps));
  if (args.bf16) SN_RETURN_IF_ERROR(Bf16Step(args, out, steps, text_steps));

  std::vector<compress::NodeDecision> float_nodes;
  if (args.dynamic_int8)
    SN_RETURN_IF_ERROR(DynamicInt8Step(args, out, steps, text_steps, float_nodes));
  if (args.int8) {
    Int8StepOptions o;
    o.model = args.model;
    o.method = method;
    o.percentile = args.percentile;
    o.per_channel = args.per_channel;
    o.bias_correction = args.bias_correction;
    o.sensitive = args.sensitive;
    o.target_agreement = args.target_agreement;
    o.exclude = args.exclude;
    o.task = task;
    o.threads = args.threads;
    SN_RETURN_IF_ERROR(Int8Step(o, calib, out, steps, text_steps, float_nodes));
  }

  const int compacted = compress::CompactConstants(out.graph);
  if (compacted)
    text_steps.push_back(fmt::format(
        "export: {} constants of one repeated value written as ConstantOfShape", compacted));
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(out));
  // Open what was written before it replaces anything: a model this runtime cannot load is
  // never left at the output path.
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> compressed, Session::OpenBytes(bytes, options));
  SN_RETURN_IF_ERROR(WriteFileAtomically(args.output, bytes));

  compress::Agreement agreement(task, inputs, original->outputs(), out_inputs);
  for (size_t i = 0; i < eval.size(); ++i) {
    std::vector<Tensor> a, b;
    SN_RETURN_IF_ERROR(original->Run(eval_before[i], &a));
    SN_RETURN_IF_ERROR(compressed->Run(eval[i], &b));
    SN_RETURN_IF_ERROR(agreement.Add(a, b));
  }
  const compress::AgreementSummary agree = agreement.Summary();
  SN_ASSIGN_OR_RETURN(Measured ms,
                      Latency(*original, *compressed, eval_before[0], eval[0], args.runs));

  std::error_code ec;
  const double size_before = static_cast<double>(fs::file_size(args.model, ec));
  const double size_after = static_cast<double>(bytes.size());
  const double params_before = static_cast<double>(bench::ModelParameterCount(model.graph));
  const double params_after = static_cast<double>(bench::ModelParameterCount(out.graph));
  const double macs_before = Macs(model, eval_before[0], options);
  const double macs_after = Macs(out, eval[0], options);
  const int threads =
      args.threads > 0 ? args.threads : static_cast<int>(std::thread::hardware_concurrency());

  if (args.json) {
    nlohmann::json j;
    j["model"] = args.model;
    j["output"] = args.output;
    j["steps"] = steps;
    j["file_bytes"] = {{"before", size_before}, {"after", size_after}};
    j["parameters"] = {{"before", params_before}, {"after", params_after}};
    j["macs"] = {{"before", macs_before}, {"after", macs_after}};
    j["latency_ms"] = {{"before", ms.before_ms},
                       {"after", ms.after_ms},
                       {"threads", threads},
                       {"runs", args.runs}};
    j["agreement"] = {{"task", compress::TaskName(agree.task)},
                      {"inputs", eval_source},
                      {"samples", agree.samples},
                      {"measure", agree.measure},
                      {"value", agree.value},
                      {"max_abs_error", agree.max_abs},
                      {"mean_abs_error", agree.mean_abs}};
    if (agree.task == compress::Task::kClassify) j["agreement"]["top1"] = agree.top1;
    if (agree.task == compress::Task::kEmbed) {
      j["agreement"]["cosine_mean"] = agree.cosine_mean;
      j["agreement"]["cosine_min"] = agree.cosine_min;
    }
    if (agree.task == compress::Task::kDetect) {
      j["agreement"]["box_match"] = agree.box_match;
      j["agreement"]["reference_boxes"] = agree.reference_boxes;
      j["agreement"]["compressed_boxes"] = agree.candidate_boxes;
      j["agreement"]["unmatched_boxes"] = agree.unmatched_boxes;
      j["agreement"]["unmatched_weak_boxes"] = agree.unmatched_weak;
      j["agreement"]["weak_score"] = compress::kWeakScore;
    }
    nlohmann::json fl = nlohmann::json::array();
    for (const auto& d : float_nodes) fl.push_back({{"node", d.node}, {"reason", d.reason}});
    j["float_nodes"] = fl;
    j["channels_kept_whole"] = kept_channels;
    fmt::print("{}\n", j.dump(2));
    return Status::Ok();
  }
  fmt::print("{} -> {}\n", args.model, args.output);
  for (const std::string& s : text_steps) fmt::print("  {}\n", s);
  fmt::print("  {:<28} {:>12} {:>12} {:>8}\n", "", "original", "compressed", "ratio");
  fmt::print("  {:<28} {:>12} {:>12} {:>8}\n", "file size", Si(size_before) + "B",
             Si(size_after) + "B", Ratio(size_after, size_before));
  fmt::print("  {:<28} {:>12} {:>12} {:>8}\n", "parameters", Si(params_before), Si(params_after),
             Ratio(params_after, params_before));
  fmt::print("  {:<28} {:>12} {:>12} {:>8}\n", "MACs", Si(macs_before), Si(macs_after),
             Ratio(macs_after, macs_before));
  fmt::print("  {:<28} {:>12} {:>12} {:>8}\n", fmt::format("latency ms ({} thr, median)", threads),
             fmt::format("{:.2f}", ms.before_ms), fmt::format("{:.2f}", ms.after_ms),
             Ratio(ms.after_ms, ms.before_ms));
  std::string detail;
  if (agree.task == compress::Task::kDetect)
    detail = fmt::format(
        " ({} boxes in the original, {} after; {} unmatched, {} of them weak: score below {:.2f})",
        agree.reference_boxes, agree.candidate_boxes, agree.unmatched_boxes, agree.unmatched_weak,
        compress::kWeakScore);
  if (agree.task == compress::Task::kEmbed) detail = fmt::format(" (min {:.4f})", agree.cosine_min);
  const std::string errors =
      agree.elementwise
          ? fmt::format("max abs error {:.4g}, mean {:.4g}", agree.max_abs, agree.mean_abs)
          : std::string("no element-wise error (the output shapes differ)");
  fmt::print("  agreement on {}: {} {:.4f}{}; {}\n", eval_source, agree.measure, agree.value,
             detail, errors);
  if (!kept_channels.empty()) {
    fmt::print("  channels not pruned ({}):\n", kept_channels.size());
    for (const auto& k : kept_channels) fmt::print("    {}\n", k);
  }
  if (!float_nodes.empty()) {
    fmt::print("  stay float ({}):\n", float_nodes.size());
    for (const auto& d : float_nodes) fmt::print("    {}: {}\n", d.node, d.reason);
  }
  return Status::Ok();
}

}  // namespace

void AddCompressCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<CompressArgs>();
  auto* cmd = app.add_subcommand("compress",
                                 "Quantize (int8 QDQ, bf16), prune or fold a model, with the size, "
                                 "speed and accuracy it costs");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("-o,--output", args->output, "where to write the compressed model")->required();
  cmd->add_option("--input-size", args->input_size,
                  "HxW: run a fully convolutional model at another input size (constant Resize "
                  "sizes become scales); calibration and agreement inputs are read at it");
  cmd->add_flag("--int8", args->int8, "static int8 quantization (QDQ) calibrated on --calib");
  cmd->add_flag("--dynamic-int8", args->dynamic_int8,
                "int8 MatMul/Gemm weights, activations quantized per call (no --calib; for "
                "MatMul-heavy models such as text recognisers)");
  cmd->add_flag("--bf16", args->bf16,
                "store Conv/Gemm/MatMul weights as bfloat16 (half the bytes) and compute them in "
                "bf16 where the CPU has native bf16 (float elsewhere)");
  cmd->add_option("--calib", args->calib,
                  "folder of real inputs: images, .pb or .npy files, or sample subfolders");
  cmd->add_option("--calib-method", args->calib_method, "minmax (default), percentile, entropy");
  cmd->add_option("--percentile", args->percentile,
                  "share of values the percentile range keeps (default 99.99)");
  cmd->add_flag("--per-channel", args->per_channel,
                "one weight scale per output channel, and one activation scale per channel for "
                "the inputs of depthwise convolutions");
  cmd->add_option("--target-agreement", args->target_agreement,
                  "with --int8: keep float the next most sensitive node until the agreement "
                  "with the float model on the calibration inputs (box match, top-1 or cosine) "
                  "reaches this, e.g. 0.97")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--keep-sensitive", args->sensitive,
                  "nodes that stay float because int8 hurts them most: auto (those that alone "
                  "move the outputs 5x more than the median node; default), none, or a count")
      ->check([](const std::string& v) {
        return v == "auto" || v == "none" ||
                       (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos)
                   ? std::string()
                   : std::string("auto, none or a count");
      });
  cmd->add_flag("!--no-bias-correction", args->bias_correction,
                "keep the biases as they are (by default each absorbs the mean shift its "
                "node's rounded weights cause on the calibration inputs)");
  cmd->add_option("--exclude", args->exclude, "nodes that stay float (names, comma-separated)")
      ->delimiter(',');
  cmd->add_flag("--fold", args->fold,
                "fold BatchNorm, constant Mul/Add, 1x1 convs and MatMul chains into the layers "
                "before them (int8 folds BatchNorm and constants too)");
  CLI::Option* prune =
      cmd->add_option("--prune-channels", args->prune_ratio,
                      "remove this share (0 to 1) of each conv's output channels, lowest norm "
                      "first, with the input channels that read them; --calib inputs recover "
                      "the accuracy (BatchNorm statistics, bias correction)");
  cmd->add_option("--prune-criterion", args->prune_criterion,
                  "filter norm that ranks channels: l1 (default), l2");
  cmd->add_flag("!--no-prune-coupled", args->prune_coupled,
                "leave whole the channels that residual Adds couple across several convs: "
                "fewer MACs saved, less accuracy lost");
  AddImageFlags(cmd, &args->input.preprocess, &args->input.size, &args->input.bgr);
  cmd->add_option("--eval", args->eval,
                  "folder of inputs to measure agreement on (default: held-out calibration "
                  "inputs)");
  cmd->add_option("--task", args->task,
                  "agreement measure: auto (default), classify, detect, embed, raw");
  cmd->add_option("--threads", args->threads, "kernel threads (0: one per core)");
  cmd->add_option("--runs", args->runs, "timed runs of each model for the latency (default 20)");
  cmd->add_flag("--json", args->json, "print the report as JSON");
  cmd->final_callback([args, exit_code, prune] {
    args->prune = prune->count() > 0;
    const Status s = Compress(*args);
    *exit_code = s.ok() ? 0 : Fail(s.message());
  });
}

}  // namespace supernova::tools

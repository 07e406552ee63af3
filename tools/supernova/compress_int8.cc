// The int8 step of `supernova compress` (cmd_compress.cc): the QDQ plan, calibration on the
// --calib inputs, the sensitivity pass, --keep-sensitive and --target-agreement, and the
// rewrite, with what each did for the report.
#include "compress_int8.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <optional>

#include "compress/calibration.h"
#include "compress/probe.h"
#include "compress/qdq.h"
#include "compress/sensitivity.h"
#include "supernova/session.h"

namespace supernova::tools {
namespace {

using compress::Feeds;

// --keep-sensitive auto: a node whose int8 error alone is this many times the median node's.
constexpr double kSensitiveFactor = 5;

// --target-agreement: while the quantized model agrees with the float one on the calibration
// inputs less than asked, the most sensitive node still quantized (by `node_error`, each
// node's error quantized alone) stays float: the accuracy-aware loop of post-training
// quantization. It is measured on the calibration inputs; the evaluation inputs stay a test
// the choice never saw.
struct TargetOutcome {
  std::string measure;  // "box match", ...
  double before = 0, after = 0;
  int kept = 0;  // nodes it kept float
};
Result<TargetOutcome> TargetAgreement(const Int8StepOptions& o, const ir::Model& model,
                                      const std::vector<Feeds>& calib, compress::Task task,
                                      const std::map<size_t, double>& node_error,
                                      const std::map<std::string, compress::Range>& ranges,
                                      const std::map<std::string, std::vector<double>>& means,
                                      const compress::QuantizeOptions& q,
                                      compress::QuantizePlan* plan) {
  SessionOptions options;
  options.num_threads = o.threads;
  SN_ASSIGN_OR_RETURN(std::string float_bytes, ir::ExportOnnxBytes(model));
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> reference, Session::OpenBytes(float_bytes, options));
  std::vector<std::vector<Tensor>> expected(calib.size());
  for (size_t i = 0; i < calib.size(); ++i)
    SN_RETURN_IF_ERROR(reference->Run(calib[i], &expected[i]));
  auto agreement = [&]() -> Result<compress::AgreementSummary> {
    ir::Model trial = model;
    SN_RETURN_IF_ERROR(compress::ApplyQuantization(trial.graph, *plan, ranges, means, q));
    SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(trial));
    SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::OpenBytes(bytes, options));
    compress::Agreement a(task, reference->inputs(), reference->outputs());
    for (size_t i = 0; i < calib.size(); ++i) {
      std::vector<Tensor> got;
      SN_RETURN_IF_ERROR(session->Run(calib[i], &got));
      SN_RETURN_IF_ERROR(a.Add(expected[i], got));
    }
    return a.Summary();
  };
  SN_ASSIGN_OR_RETURN(compress::AgreementSummary now, agreement());
  if (now.task == compress::Task::kRaw)
    return Status::InvalidArgument(
        "--target-agreement needs an agreement measure (top-1, box match or cosine), and this "
        "model's outputs give errors only: pass --task classify, detect or embed");
  TargetOutcome outcome;
  outcome.measure = now.measure;
  outcome.before = now.value;
  std::vector<std::pair<double, size_t>> order;  // most sensitive first
  for (const auto& [node, error] : node_error) order.push_back({error, node});
  std::sort(order.rbegin(), order.rend());
  for (size_t next = 0; now.value < o.target_agreement && next < order.size(); ++next) {
    const size_t node = order[next].second;
    const auto site = std::find_if(plan->sites.begin(), plan->sites.end(),
                                   [&](const auto& s) { return s.node == node; });
    // A node already float, or the last one quantized (a model with none is no int8 model).
    if (site == plan->sites.end() || plan->sites.size() == 1) continue;
    compress::KeepFloat(model.graph, plan, static_cast<size_t>(site - plan->sites.begin()),
                        fmt::format("kept float for --target-agreement {}: {} on the calibration "
                                    "inputs {:.4f} with it quantized",
                                    o.target_agreement, now.measure, now.value));
    ++outcome.kept;
    SN_ASSIGN_OR_RETURN(now, agreement());
  }
  outcome.after = now.value;
  return outcome;
}

}  // namespace

Status Int8Step(const Int8StepOptions& o, const std::vector<Feeds>& calib, ir::Model& out,
                nlohmann::json& steps, std::vector<std::string>& text_steps,
                std::vector<compress::NodeDecision>& float_nodes) {
  compress::QuantizeOptions q;
  q.per_channel = o.per_channel;
  q.exclude = {o.exclude.begin(), o.exclude.end()};
  SN_ASSIGN_OR_RETURN(compress::QuantizePlan plan, compress::PlanQuantization(out.graph, q));
  int quantized = 0;
  // How many nodes are quantized, and which stay float (with why), as the plan stands.
  auto tally = [&] {
    quantized = 0;
    float_nodes.clear();
    for (const auto& d : plan.decisions) {
      if (d.quantized)
        ++quantized;
      else
        float_nodes.push_back(d);
    }
  };
  tally();
  if (quantized == 0) {
    std::string why = plan.decisions.empty()
                          ? "it has no Conv, ConvTranspose, Gemm or MatMul"
                          : plan.decisions[0].node + ": " + plan.decisions[0].reason;
    return Status::InvalidArgument("cannot quantize " + o.model + ": " + why);
  }
  SN_ASSIGN_OR_RETURN(compress::Probe probe,
                      compress::Probe::Open(out, plan.activations, o.threads));
  std::vector<compress::RangeStats> stats(plan.activations.size());
  std::vector<compress::ChannelMeans> means(plan.activations.size());
  std::vector<compress::ChannelExtremes> extremes(plan.activations.size());
  const int passes_needed = compress::NeedsHistogram(o.method) ? 2 : 1;
  for (int pass = 0; pass < passes_needed; ++pass) {
    for (size_t s = 0; s < calib.size(); ++s) {
      Result<std::vector<Tensor>> values = probe.Run(calib[s]);
      if (!values.ok())
        return Status::InvalidArgument(
            fmt::format("calibration input {}: {}", s + 1, values.status().message()));
      for (size_t i = 0; i < stats.size(); ++i) {
        const Tensor& v = (*values)[i];
        if (pass == 1) {
          SN_RETURN_IF_ERROR(stats[i].AddHistogram(v));
          continue;
        }
        SN_RETURN_IF_ERROR(stats[i].AddRange(v));
        if (plan.channelwise.count(plan.activations[i])) SN_RETURN_IF_ERROR(extremes[i].Add(v));
        if (o.bias_correction) SN_RETURN_IF_ERROR(means[i].Add(v, plan.activation_axes[i]));
      }
    }
  }
  std::map<std::string, compress::Range> ranges;
  std::map<std::string, std::vector<double>> channel_means;
  for (size_t i = 0; i < stats.size(); ++i) {
    compress::Range& r = ranges[plan.activations[i]];
    r = stats[i].Compute(o.method, o.percentile);
    if (plan.channelwise.count(plan.activations[i]))
      r.channel_max_abs = extremes[i].MaxAbs(std::max(std::fabs(r.min), std::fabs(r.max)));
    if (o.bias_correction) channel_means[plan.activations[i]] = means[i].means();
  }
  int kept_sensitive = 0;
  // Each site's error quantized alone, by node index (the sites move as nodes leave).
  std::map<size_t, double> node_error;
  std::vector<double> errors;
  if (o.sensitive != "none" || o.target_agreement > 0) {
    // Measured on a few calibration inputs: each node is a session of its own.
    const std::vector<Feeds> few(calib.begin(), calib.begin() + std::min<size_t>(calib.size(), 4));
    SN_ASSIGN_OR_RETURN(
        errors, compress::MeasureSensitivity(out, plan, ranges, channel_means, q, few, o.threads));
    for (size_t i = 0; i < plan.sites.size(); ++i) node_error[plan.sites[i].node] = errors[i];
  }
  if (o.sensitive != "none") {
    std::vector<size_t> keep = compress::Outliers(errors, kSensitiveFactor);
    if (o.sensitive != "auto") {
      std::vector<size_t> order(errors.size());
      std::iota(order.begin(), order.end(), size_t{0});
      std::sort(order.begin(), order.end(),
                [&](size_t a, size_t b) { return errors[a] > errors[b]; });
      order.resize(std::min(order.size(), static_cast<size_t>(std::stoul(o.sensitive))));
      keep = order;
    }
    std::vector<double> sorted = errors;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted.empty() ? 0 : sorted[sorted.size() / 2];
    // Highest index first, so that the indices still to take out stay valid.
    std::sort(keep.begin(), keep.end(), std::greater<>());
    for (size_t k : keep)
      compress::KeepFloat(out.graph, &plan, k,
                          fmt::format("sensitive: quantized alone it moves the outputs by {:.3g} "
                                      "(relative; the median node {:.3g})",
                                      errors[k], median));
    kept_sensitive = static_cast<int>(keep.size());
  }
  std::optional<TargetOutcome> target;
  if (o.target_agreement > 0) {
    SN_ASSIGN_OR_RETURN(target, TargetAgreement(o, out, calib, o.task, node_error, ranges,
                                                channel_means, q, &plan));
  }
  tally();
  SN_RETURN_IF_ERROR(compress::ApplyQuantization(out.graph, plan, ranges, channel_means, q));
  nlohmann::json target_json = nullptr;
  if (target)
    target_json = {{"measure", target->measure},
                   {"target", o.target_agreement},
                   {"before", target->before},
                   {"after", target->after},
                   {"kept_float", target->kept}};
  steps.push_back({{"step", "int8"},
                   {"target_agreement", target_json},
                   {"method", compress::CalibMethodName(o.method)},
                   {"per_channel", o.per_channel},
                   {"bias_correction", o.bias_correction},
                   {"sensitive_float_nodes", kept_sensitive},
                   {"calibration_inputs", calib.size()},
                   {"quantized_nodes", quantized},
                   {"float_nodes", float_nodes.size()}});
  text_steps.push_back(fmt::format(
      "int8: {} of {} nodes quantized (QDQ; {} ranges on {} inputs; {} weights{}{})", quantized,
      plan.decisions.size(), compress::CalibMethodName(o.method), calib.size(),
      o.per_channel ? "per-channel" : "per-tensor", o.bias_correction ? ", bias-corrected" : "",
      kept_sensitive ? fmt::format("; {} sensitive nodes kept float", kept_sensitive) : ""));
  if (target)
    text_steps.push_back(
        fmt::format("int8: {} on the calibration inputs {:.4f} (target {:.4f}){}", target->measure,
                    target->after, o.target_agreement,
                    target->kept ? fmt::format("; {:.4f} before {} more nodes were kept float",
                                               target->before, target->kept)
                                 : ""));
  return Status::Ok();
}

}  // namespace supernova::tools

#include "compress/sensitivity.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace supernova::compress {

Result<std::vector<double>> MeasureSensitivity(
    const ir::Model& model, const QuantizePlan& plan, const std::map<std::string, Range>& ranges,
    const std::map<std::string, std::vector<double>>& means, const QuantizeOptions& options,
    const std::vector<Feeds>& samples, int threads) {
  SessionOptions session_options;
  session_options.num_threads = threads;
  SN_ASSIGN_OR_RETURN(std::string float_bytes, ir::ExportOnnxBytes(model));
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> reference,
                      Session::OpenBytes(float_bytes, session_options));
  std::vector<std::vector<Tensor>> expected(samples.size());
  for (size_t i = 0; i < samples.size(); ++i)
    SN_RETURN_IF_ERROR(reference->Run(samples[i], &expected[i]));

  std::vector<double> errors;
  errors.reserve(plan.sites.size());
  for (const QuantizePlan::Site& site : plan.sites) {
    QuantizePlan one;
    one.sites = {site};
    const std::string& x =
        model.graph.nodes[site.node].inputs[static_cast<size_t>(site.activation)];
    one.activations = {x};
    const auto at = std::find(plan.activations.begin(), plan.activations.end(), x);
    one.activation_axes = {
        plan.activation_axes[static_cast<size_t>(at - plan.activations.begin())]};
    if (plan.channelwise.count(x)) one.channelwise = {x};
    ir::Model quantized = model;
    SN_RETURN_IF_ERROR(ApplyQuantization(quantized.graph, one, ranges, means, options));
    SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(quantized));
    SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                        Session::OpenBytes(bytes, session_options));
    // Each output's own relative error, the worst of them: a detector's box sizes (pixels) must
    // not drown its class scores (probabilities).
    std::vector<double> diff(expected.empty() ? 0 : expected[0].size()), norm(diff.size());
    for (size_t i = 0; i < samples.size(); ++i) {
      std::vector<Tensor> got;
      SN_RETURN_IF_ERROR(session->Run(samples[i], &got));
      for (size_t o = 0; o < got.size() && o < diff.size(); ++o) {
        if (got[o].dtype() != DataType::kFloat32) continue;
        const float* a = expected[i][o].data<float>();
        const float* b = got[o].data<float>();
        for (int64_t k = 0; k < got[o].numel(); ++k) {
          const double d = static_cast<double>(b[k]) - a[k];
          diff[o] += d * d;
          norm[o] += static_cast<double>(a[k]) * a[k];
        }
      }
    }
    double worst = 0;
    for (size_t o = 0; o < diff.size(); ++o)
      worst = std::max(worst, norm[o] > 0 ? std::sqrt(diff[o] / norm[o]) : std::sqrt(diff[o]));
    errors.push_back(worst);
  }
  return errors;
}

std::vector<size_t> Outliers(const std::vector<double>& errors, double factor) {
  if (errors.empty()) return {};
  std::vector<double> sorted = errors;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2),
                   sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::vector<size_t> out;
  for (size_t i = 0; i < errors.size(); ++i)
    if (errors[i] >= factor * median && errors[i] > 0) out.push_back(i);
  std::sort(out.begin(), out.end(), [&](size_t a, size_t b) { return errors[a] > errors[b]; });
  return out;
}

}  // namespace supernova::compress

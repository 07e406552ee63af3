#include "server/metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>

namespace supernova::server {
namespace {

constexpr std::array<const char*, 5> kReasonNames = {"REJECTED", "CANCELED", "TIMEOUT", "INVALID",
                                                     "BACKEND"};

uint64_t Micros(double seconds) {
  return seconds <= 0 ? 0 : static_cast<uint64_t>(std::llround(seconds * 1e6));
}

std::string LabelValue(const std::string& v) {  // escapes \ " and newline
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Bound(double b) { return fmt::format("{}", b); }

}  // namespace

template <size_t N>
void ModelMetrics::Histogram::Observe(const std::array<double, N>& bounds, double v) {
  static_assert(N < 13);
  size_t i = 0;
  while (i < N && v > bounds[i]) ++i;
  counts[i].fetch_add(1, std::memory_order_relaxed);
  count.fetch_add(1, std::memory_order_relaxed);
  sum_micro.fetch_add(Micros(v), std::memory_order_relaxed);
}

void ModelMetrics::RequestSucceeded(double request_s, double queue_s, double compute_s) {
  success_.fetch_add(1, std::memory_order_relaxed);
  request_us_.fetch_add(Micros(request_s), std::memory_order_relaxed);
  queue_us_.fetch_add(Micros(queue_s), std::memory_order_relaxed);
  compute_us_.fetch_add(Micros(compute_s), std::memory_order_relaxed);
  request_seconds_.Observe(kLatencyBuckets, request_s);
  queue_seconds_.Observe(kLatencyBuckets, queue_s);
}

void ModelMetrics::RequestFailed(FailureReason reason) {
  failure_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void ModelMetrics::BatchExecuted(int64_t rows, int /*requests*/, double /*compute_s*/) {
  exec_count_.fetch_add(1, std::memory_order_relaxed);
  inference_count_.fetch_add(static_cast<uint64_t>(rows), std::memory_order_relaxed);
  batch_size_.Observe(kBatchBuckets, static_cast<double>(rows));
}

ModelMetrics::HistogramCounts ModelMetrics::ReadHistogram(const Histogram& h) {
  HistogramCounts c;
  for (size_t i = 0; i < c.counts.size(); ++i)
    c.counts[i] = h.counts[i].load(std::memory_order_relaxed);
  c.count = h.count.load(std::memory_order_relaxed);
  c.sum = static_cast<double>(h.sum_micro.load(std::memory_order_relaxed)) * 1e-6;
  return c;
}

ModelMetrics::Histograms ModelMetrics::ReadHistograms() const {
  Histograms h;
  h.request_seconds = ReadHistogram(request_seconds_);
  h.queue_seconds = ReadHistogram(queue_seconds_);
  h.batch_size = ReadHistogram(batch_size_);
  h.pending = pending_.load(std::memory_order_relaxed);
  return h;
}

std::shared_ptr<ModelMetrics> Metrics::ForModel(const std::string& model,
                                                const std::string& version) {
  std::lock_guard lock(mu_);
  auto& slot = models_[{model, version}];
  if (!slot) slot = std::make_shared<ModelMetrics>();
  return slot;
}

void Metrics::RequestRejected(const std::string& protocol, int code) {
  std::lock_guard lock(mu_);
  ++rejected_[{protocol, code}];
}

std::string Metrics::Text() const {
  std::lock_guard lock(mu_);
  std::string out;
  using Getter = std::function<uint64_t(const ModelMetrics&)>;
  auto family = [&](const char* name, const char* type, const char* help, const Getter& get) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& [key, m] : models_)
      out += fmt::format("{}{{model=\"{}\",version=\"{}\"}} {}\n", name, LabelValue(key.first),
                         LabelValue(key.second), get(*m));
  };
  auto relaxed = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };

  family("nv_inference_request_success", "counter", "Requests answered with outputs",
         [&](const ModelMetrics& m) { return relaxed(m.success_); });
  out +=
      "# HELP nv_inference_request_failure Requests that failed, by reason\n"
      "# TYPE nv_inference_request_failure counter\n";
  for (const auto& [key, m] : models_)
    for (size_t r = 0; r < kReasonNames.size(); ++r)
      out += fmt::format(
          "nv_inference_request_failure{{model=\"{}\",version=\"{}\",reason=\"{}\"}} "
          "{}\n",
          LabelValue(key.first), LabelValue(key.second), kReasonNames[r], relaxed(m->failure_[r]));
  family("nv_inference_count", "counter", "Inferences performed (a batch of N counts N)",
         [&](const ModelMetrics& m) { return relaxed(m.inference_count_); });
  family("nv_inference_exec_count", "counter", "Model executions (batches)",
         [&](const ModelMetrics& m) { return relaxed(m.exec_count_); });
  family("nv_inference_request_duration_us", "counter",
         "Cumulative time from receipt to response, microseconds",
         [&](const ModelMetrics& m) { return relaxed(m.request_us_); });
  family("nv_inference_queue_duration_us", "counter",
         "Cumulative time requests waited in the queue, microseconds",
         [&](const ModelMetrics& m) { return relaxed(m.queue_us_); });
  family("nv_inference_compute_infer_duration_us", "counter",
         "Cumulative time of the model executions the requests were part of, microseconds",
         [&](const ModelMetrics& m) { return relaxed(m.compute_us_); });
  out +=
      "# HELP nv_inference_pending_request_count Requests waiting in the queue\n"
      "# TYPE nv_inference_pending_request_count gauge\n";
  for (const auto& [key, m] : models_)
    out += fmt::format("nv_inference_pending_request_count{{model=\"{}\",version=\"{}\"}} {}\n",
                       LabelValue(key.first), LabelValue(key.second),
                       m->pending_.load(std::memory_order_relaxed));

  auto histogram = [&](const char* name, const char* help, auto bounds, auto member) {
    out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    for (const auto& [key, m] : models_) {
      const ModelMetrics::HistogramCounts h = ModelMetrics::ReadHistogram((*m).*member);
      const std::string labels =
          fmt::format("model=\"{}\",version=\"{}\"", LabelValue(key.first), LabelValue(key.second));
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += h.counts[i];
        out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels,
                           i < bounds.size() ? Bound(bounds[i]) : "+Inf", cumulative);
      }
      out += fmt::format("{}_sum{{{}}} {}\n", name, labels, h.sum);
      out += fmt::format("{}_count{{{}}} {}\n", name, labels, h.count);
    }
  };
  histogram("supernova_batch_size", "Inferences per model execution", ModelMetrics::kBatchBuckets,
            &ModelMetrics::batch_size_);
  histogram("supernova_request_duration_seconds", "Time from receipt to response",
            ModelMetrics::kLatencyBuckets, &ModelMetrics::request_seconds_);
  histogram("supernova_queue_duration_seconds", "Time waiting in the queue",
            ModelMetrics::kLatencyBuckets, &ModelMetrics::queue_seconds_);

  out +=
      "# HELP supernova_requests_rejected_total Requests refused before reaching a model, by "
      "protocol and status code\n# TYPE supernova_requests_rejected_total counter\n";
  for (const auto& [key, n] : rejected_)
    out += fmt::format("supernova_requests_rejected_total{{protocol=\"{}\",code=\"{}\"}} {}\n",
                       key.first, key.second, n);
  return out;
}

}  // namespace supernova::server

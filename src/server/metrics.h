// Per model-version counters and histograms, written out in Prometheus' text format on the
// metrics port. The counter names are Triton's (nv_inference_*), so dashboards built for
// Triton read them unchanged; the histograms (batch size, request and queue latency) are
// ours, under supernova_*.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace supernova::server {

// Why a request failed, the `reason` label of nv_inference_request_failure.
enum class FailureReason { kRejected, kCanceled, kTimeout, kInvalid, kBackend };

class ModelMetrics {
 public:
  // Upper bounds of the histograms' buckets (+Inf is implied).
  static constexpr std::array<double, 8> kBatchBuckets = {1, 2, 4, 8, 16, 32, 64, 128};
  static constexpr std::array<double, 12> kLatencyBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

  // One request answered with its outputs.
  void RequestSucceeded(double request_s, double queue_s, double compute_s);
  void RequestFailed(FailureReason reason);
  // One execution of the model on a batch of `rows` inferences merged from `requests`.
  void BatchExecuted(int64_t rows, int requests, double compute_s);
  void SetPending(int64_t n) { pending_.store(n, std::memory_order_relaxed); }

  // The cumulative counters, each read atomically (not all at one instant): what the gRPC
  // ModelStatistics extension reports.
  struct Counters {
    uint64_t success = 0;
    uint64_t failure = 0;  // all reasons
    uint64_t inference_count = 0;
    uint64_t exec_count = 0;
    uint64_t request_us = 0;
    uint64_t queue_us = 0;
    uint64_t compute_us = 0;
  };
  Counters Read() const {
    auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    Counters c;
    c.success = get(success_);
    for (const auto& f : failure_) c.failure += get(f);
    c.inference_count = get(inference_count_);
    c.exec_count = get(exec_count_);
    c.request_us = get(request_us_);
    c.queue_us = get(queue_us_);
    c.compute_us = get(compute_us_);
    return c;
  }

  // The histograms bucket by bucket, for views that take differences over a window (the
  // console's rates and percentiles): counts[i] is the observations in (bounds[i-1],
  // bounds[i]], the one after the last bound those above it; not cumulative, unlike the
  // Prometheus text.
  struct HistogramCounts {
    std::array<uint64_t, 13> counts{};
    uint64_t count = 0;
    double sum = 0;  // in the histogram's unit
  };
  struct Histograms {
    HistogramCounts request_seconds, queue_seconds, batch_size;
    int64_t pending = 0;  // requests in the queue now
  };
  Histograms ReadHistograms() const;

 private:
  friend class Metrics;
  struct Histogram {
    template <size_t N>
    void Observe(const std::array<double, N>& bounds, double v);
    std::array<std::atomic<uint64_t>, 13> counts{};  // one per bound, then +Inf
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_micro{0};  // sum in millionths of the unit
  };
  static HistogramCounts ReadHistogram(const Histogram& h);
  std::atomic<uint64_t> success_{0};
  std::array<std::atomic<uint64_t>, 5> failure_{};
  std::atomic<uint64_t> inference_count_{0};
  std::atomic<uint64_t> exec_count_{0};
  std::atomic<uint64_t> request_us_{0};
  std::atomic<uint64_t> queue_us_{0};
  std::atomic<uint64_t> compute_us_{0};
  std::atomic<int64_t> pending_{0};
  Histogram batch_size_;
  Histogram request_seconds_;
  Histogram queue_seconds_;
};

class Metrics {
 public:
  // The metrics of one model version, created on first use; they outlive unloads so that
  // counters never go backwards.
  std::shared_ptr<ModelMetrics> ForModel(const std::string& model, const std::string& version);
  // Requests refused before reaching a model (unknown model, unauthorized) by front end.
  void RequestRejected(const std::string& protocol, int code);
  // Prometheus text exposition format 0.0.4.
  std::string Text() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<ModelMetrics>> models_;
  std::map<std::pair<std::string, int>, uint64_t> rejected_;
};

}  // namespace supernova::server

// The console's view of the models over time: every `interval` it reads each ready model's
// counters and histograms (the very ones the Prometheus endpoint exposes, server/metrics.h)
// and keeps the last `keep` of them, so that a page opened now still shows the last minutes:
// request rate, latency and queue percentiles, queue depth and batch size.
//
//   ModelHistory history(core, {});           // samples on a thread of its own until destroyed
//   auto w = history.Stats("simple", 60);     // the last minute, or nullopt before 2 samples
//   auto points = history.Series("simple");   // one point per interval, oldest first
//
// Percentiles come from the histograms' buckets (linear within a bucket, as Prometheus's
// histogram_quantile does), so they are as coarse as the buckets: 0.1, 0.25, 0.5, 1, 2.5 ... ms.
// Thread-safe.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "server/inference_server.h"
#include "server/metrics.h"

namespace supernova::console {

// Seconds since the Unix epoch: the time of every point the console serves.
double UnixSeconds();

// The q-quantile (0..1) of the observations a histogram's per-bucket counts hold (the last
// bucket above every bound), interpolated linearly within its bucket from 0 for the first; the
// last bound for the open bucket. nullopt for an empty histogram.
std::optional<double> HistogramQuantile(std::span<const double> bounds,
                                        const std::array<uint64_t, 13>& counts, double q);

struct ModelHistoryOptions {
  double interval_s = 1;
  double keep_s = 600;
};

// Over a span of time: what happened between two samples.
struct ModelWindow {
  double t = 0;        // the newer sample, seconds since the Unix epoch
  double seconds = 0;  // the span
  double requests_per_s = 0;
  double failures_per_s = 0;
  std::optional<double> latency_p50_ms, latency_p99_ms, queue_p50_ms;  // no request: nullopt
  std::optional<double> mean_batch;                                    // no batch: nullopt
  int64_t queue_depth = 0;                                             // at the newer sample
  uint64_t success = 0, failure = 0;  // cumulative, at the newer sample
};

class ModelHistory {
 public:
  ModelHistory(const server::InferenceServer* core, ModelHistoryOptions options);
  ~ModelHistory();  // stops sampling
  ModelHistory(const ModelHistory&) = delete;
  ModelHistory& operator=(const ModelHistory&) = delete;

  // The span from the newest sample back `window_s` (or to the oldest sample of the same
  // version); nullopt with fewer than two samples.
  std::optional<ModelWindow> Stats(const std::string& model, double window_s) const;
  // One window per interval, oldest first (a reload to another version starts afresh).
  std::vector<ModelWindow> Series(const std::string& model) const;
  // Takes a sample now (the thread does this every interval).
  void SampleNow();

  const ModelHistoryOptions& options() const { return options_; }

 private:
  struct Sample {
    double t = 0;
    std::string version;
    server::ModelMetrics::Counters counters;
    server::ModelMetrics::Histograms histograms;
  };
  static ModelWindow Between(const Sample& older, const Sample& newer);
  void Loop();

  const server::InferenceServer* const core_;
  const ModelHistoryOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Sample>> samples_;  // by model; guarded by mu_
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace supernova::console

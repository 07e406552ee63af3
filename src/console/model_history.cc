#include "console/model_history.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

namespace supernova::console {
namespace {

std::array<uint64_t, 13> Delta(const std::array<uint64_t, 13>& newer,
                               const std::array<uint64_t, 13>& older) {
  std::array<uint64_t, 13> d{};
  for (size_t i = 0; i < d.size(); ++i) d[i] = newer[i] >= older[i] ? newer[i] - older[i] : 0;
  return d;
}

std::optional<double> Ms(std::optional<double> seconds) {
  if (!seconds) return std::nullopt;
  return *seconds * 1e3;
}

}  // namespace

double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<double> HistogramQuantile(std::span<const double> bounds,
                                        const std::array<uint64_t, 13>& counts, double q) {
  const size_t buckets = std::min(bounds.size() + 1, counts.size());
  uint64_t total = 0;
  for (size_t i = 0; i < buckets; ++i) total += counts[i];
  if (total == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * static_cast<double>(total);
  uint64_t below = 0;
  for (size_t i = 0; i < buckets; ++i) {
    const uint64_t here = counts[i];
    if (here > 0 && static_cast<double>(below + here) >= rank) {
      if (i >= bounds.size()) return bounds.back();  // the open bucket: its lower edge
      const double lo = i == 0 ? 0.0 : bounds[i - 1];
      const double hi = bounds[i];
      const double within = (rank - static_cast<double>(below)) / static_cast<double>(here);
      return lo + (hi - lo) * std::clamp(within, 0.0, 1.0);
    }
    below += here;
  }
  return bounds.back();
}

ModelHistory::ModelHistory(const server::InferenceServer* core, ModelHistoryOptions options)
    : core_(core), options_(options) {
  SampleNow();
  thread_ = std::thread([this] { Loop(); });
}

ModelHistory::~ModelHistory() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ModelHistory::Loop() {
  const auto interval = std::chrono::duration<double>(std::max(options_.interval_s, 0.01));
  auto next = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (true) {
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    if (cv_.wait_until(lock, next, [&] { return stop_; })) return;
    lock.unlock();
    SampleNow();
    lock.lock();
  }
}

void ModelHistory::SampleNow() {
  const double t = UnixSeconds();
  std::map<std::string, Sample> taken;
  std::set<std::string> known;
  for (const server::RepositoryEntry& e : core_->RepositoryIndex(/*ready_only=*/false)) {
    known.insert(e.name);
    if (e.state != "READY" || taken.count(e.name)) continue;
    auto m = core_->GetModelMetrics(e.name, "");
    if (!m.ok()) continue;  // unloaded in between
    Sample s;
    s.t = t;
    s.version = m->first;
    s.counters = m->second->Read();
    s.histograms = m->second->ReadHistograms();
    taken.emplace(e.name, std::move(s));
  }
  const size_t keep =
      static_cast<size_t>(std::ceil(options_.keep_s / std::max(options_.interval_s, 0.01))) + 1;
  std::lock_guard lock(mu_);
  for (auto it = samples_.begin(); it != samples_.end();)  // models gone from the repository
    it = known.count(it->first) ? std::next(it) : samples_.erase(it);
  for (auto& [name, s] : taken) {
    std::deque<Sample>& q = samples_[name];
    q.push_back(std::move(s));
    while (q.size() > keep) q.pop_front();
  }
}

ModelWindow ModelHistory::Between(const Sample& older, const Sample& newer) {
  using server::ModelMetrics;
  ModelWindow w;
  w.t = newer.t;
  w.seconds = newer.t - older.t;
  const double span = std::max(w.seconds, 1e-6);
  const auto& a = older.counters;
  const auto& b = newer.counters;
  w.success = b.success;
  w.failure = b.failure;
  w.requests_per_s = static_cast<double>(b.success - std::min(a.success, b.success)) / span;
  w.failures_per_s = static_cast<double>(b.failure - std::min(a.failure, b.failure)) / span;
  const auto& ha = older.histograms;
  const auto& hb = newer.histograms;
  const auto latency = Delta(hb.request_seconds.counts, ha.request_seconds.counts);
  w.latency_p50_ms = Ms(HistogramQuantile(ModelMetrics::kLatencyBuckets, latency, 0.5));
  w.latency_p99_ms = Ms(HistogramQuantile(ModelMetrics::kLatencyBuckets, latency, 0.99));
  w.queue_p50_ms = Ms(HistogramQuantile(
      ModelMetrics::kLatencyBuckets, Delta(hb.queue_seconds.counts, ha.queue_seconds.counts), 0.5));
  if (hb.batch_size.count > ha.batch_size.count)
    w.mean_batch = (hb.batch_size.sum - ha.batch_size.sum) /
                   static_cast<double>(hb.batch_size.count - ha.batch_size.count);
  w.queue_depth = hb.pending;
  return w;
}

std::optional<ModelWindow> ModelHistory::Stats(const std::string& model, double window_s) const {
  std::lock_guard lock(mu_);
  auto it = samples_.find(model);
  if (it == samples_.end() || it->second.size() < 2) return std::nullopt;
  const std::deque<Sample>& q = it->second;
  const Sample& newest = q.back();
  const Sample* older = nullptr;
  for (auto s = q.rbegin() + 1; s != q.rend(); ++s) {
    if (s->version != newest.version) break;
    older = &*s;
    if (newest.t - s->t >= window_s) break;
  }
  if (older == nullptr) return std::nullopt;
  return Between(*older, newest);
}

std::vector<ModelWindow> ModelHistory::Series(const std::string& model) const {
  std::vector<ModelWindow> out;
  std::lock_guard lock(mu_);
  auto it = samples_.find(model);
  if (it == samples_.end()) return out;
  const std::deque<Sample>& q = it->second;
  for (size_t i = 1; i < q.size(); ++i) {
    if (q[i].version != q[i - 1].version) {
      out.clear();
      continue;
    }
    out.push_back(Between(q[i - 1], q[i]));
  }
  return out;
}

}  // namespace supernova::console

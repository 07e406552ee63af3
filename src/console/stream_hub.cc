#include "console/stream_hub.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <optional>

#include "console/model_history.h"
#include "stream/jpeg_encode.h"
#include "stream/labels.h"
#include "stream/samples.h"

namespace supernova::console {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

json Ms(const std::optional<double>& seconds) {
  return seconds ? json(std::round(*seconds * 1e4) / 10) : json(nullptr);
}

}  // namespace

// One stream as the console sees it. The pipeline's worker writes the newest frame and this
// second's counts; the sampler turns them into a history point each interval.
struct StreamHub::Entry {
  std::string name, source;  // source as its opener says it (no credentials)
  int width = 0, height = 0;
  std::atomic<bool> removed{false};

  struct Point {
    double t = 0;
    double input_fps = 0, inferred_fps = 0, skipped_fps = 0;
    std::optional<double> lag_p50_s, lag_p99_s;
    size_t tracks = 0;
  };

  mutable std::mutex mu;
  stream::FramePtr frame;                       // the newest; guarded by mu
  std::vector<stream::Track> tracks;            // its tracks; guarded by mu
  int64_t inferred = 0, skipped = 0;            // since the last point; guarded by mu
  std::vector<double> lags;                     // since the last point, seconds; guarded by mu
  std::deque<char> decisions;                   // 'I' inferred, 'S' skipped; guarded by mu
  std::deque<Point> points;                     // guarded by mu
  int64_t frames_at_last_point = 0;             // the source's count; guarded by mu
  Clock::time_point last_point = Clock::now();  // guarded by mu
  // The newest frame as the page gets it, made on demand once per frame and at most every
  // jpeg_min_interval_s; guarded by mu.
  mutable int64_t jpeg_index = -1;
  mutable std::string jpeg;
  mutable Clock::time_point jpeg_made;
  mutable bool jpeg_making = false;  // a request is drawing and encoding one now
};

Result<std::unique_ptr<StreamHub>> StreamHub::Open(const std::string& model,
                                                   const stream::DetectorOptions& detector,
                                                   stream::PipelineOptions pipeline,
                                                   StreamHubOptions options,
                                                   std::unique_ptr<stream::CloudDetector> cloud) {
  SN_ASSIGN_OR_RETURN(std::unique_ptr<stream::Detector> d, stream::Detector::Open(model, detector));
  std::unique_ptr<StreamHub> hub(new StreamHub(model, std::move(d), std::move(options)));
  StreamHub* self = hub.get();
  hub->cloud_ = std::move(cloud);
  pipeline.cloud = hub->cloud_.get();
  hub->pipeline_ = std::make_unique<stream::Pipeline>(
      hub->detector_.get(), std::move(pipeline),
      [self](const stream::FrameResult& r) { self->OnResult(r); });
  hub->pipeline_->Start();
  hub->sampler_ = std::thread([self] { self->Loop(); });
  return hub;
}

StreamHub::StreamHub(std::string model, std::unique_ptr<stream::Detector> detector,
                     StreamHubOptions options)
    : model_(std::move(model)), options_(std::move(options)), detector_(std::move(detector)) {}

StreamHub::~StreamHub() {
  Stop();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (sampler_.joinable()) sampler_.join();
}

void StreamHub::Stop() {
  pipeline_->Stop();
  pipeline_->Wait();
}

std::shared_ptr<StreamHub::Entry> StreamHub::Find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = live_.find(name);
  return it == live_.end() ? nullptr : it->second;
}

Status StreamHub::Add(const std::string& name, const std::string& source) {
  {
    std::lock_guard lock(mu_);
    if (live_.count(name))
      return Status::AlreadyExists(fmt::format("stream '{}' runs already", name));
  }
  // A stream of that name that was removed must have finished its frames: the results carry
  // the name alone.
  for (const stream::StreamMetrics& m : pipeline_->Metrics())
    if (m.name == name && !m.ended)
      return Status::Unavailable(fmt::format("stream '{}' is still stopping; try again", name));
  if (!options_.open_source) return Status::FailedPrecondition("this hub cannot open sources");
  // Opened outside the lock: a network source may take its read timeout to answer.
  SN_ASSIGN_OR_RETURN(stream::OpenedSource opened, options_.open_source(source));
  auto e = std::make_shared<Entry>();
  e->name = name;
  e->source = opened.url;
  e->width = opened.width;
  e->height = opened.height;
  std::lock_guard lock(mu_);
  if (stop_) return Status::Unavailable("the server is stopping");
  if (live_.count(name))
    return Status::AlreadyExists(fmt::format("stream '{}' runs already", name));
  live_[name] = e;
  entries_.push_back(e);  // the pipeline's order: added under the same lock
  pipeline_->AddStream(name, std::move(opened.source));
  return Status::Ok();
}

Status StreamHub::Remove(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = live_.find(name);
  if (it == live_.end()) return Status::NotFound(fmt::format("no stream '{}'", name));
  it->second->removed = true;
  live_.erase(it);
  pipeline_->CloseStream(name);
  return Status::Ok();
}

void StreamHub::OnResult(const stream::FrameResult& r) {
  std::shared_ptr<Entry> e = Find(r.stream);
  if (!e) return;  // removed: its last frames are not shown
  std::lock_guard lock(e->mu);
  e->frame = r.frame;
  e->tracks = r.tracks;
  (r.inferred ? e->inferred : e->skipped) += 1;
  e->lags.push_back(r.lag_s);
  e->decisions.push_back(r.inferred ? 'I' : 'S');
  while (e->decisions.size() > options_.decisions) e->decisions.pop_front();
}

void StreamHub::Loop() {
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(options_.interval_s, 0.01)));
  auto next = Clock::now();
  std::unique_lock lock(mu_);
  while (true) {
    next += interval;
    if (cv_.wait_until(lock, next, [&] { return stop_; })) return;
    lock.unlock();
    SampleNow();
    lock.lock();
  }
}

void StreamHub::SampleNow() {
  std::vector<std::shared_ptr<Entry>> entries;
  std::vector<stream::StreamMetrics> metrics;
  {
    std::lock_guard lock(mu_);
    // Streams removed earlier whose threads have ended are freed (their decoders, their last
    // frame), from the pipeline and from entries_ alike, so that the two stay in one order.
    const std::vector<size_t> gone = pipeline_->RemoveClosed();
    for (auto it = gone.rbegin(); it != gone.rend(); ++it)
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(*it));
    entries = entries_;
    metrics = pipeline_->Metrics();
  }
  const size_t keep =
      static_cast<size_t>(std::ceil(options_.keep_s / std::max(options_.interval_s, 0.01)));
  const double t = UnixSeconds();
  const auto now = Clock::now();
  for (size_t i = 0; i < entries.size() && i < metrics.size(); ++i) {
    Entry& e = *entries[i];
    if (e.removed) continue;
    std::lock_guard lock(e.mu);
    const double dt = std::max(std::chrono::duration<double>(now - e.last_point).count(), 1e-3);
    Entry::Point p;
    p.t = t;
    p.input_fps = static_cast<double>(metrics[i].frames - e.frames_at_last_point) / dt;
    p.inferred_fps = static_cast<double>(e.inferred) / dt;
    p.skipped_fps = static_cast<double>(e.skipped) / dt;
    p.lag_p50_s = stream::Quantile(e.lags, 0.5);
    p.lag_p99_s = stream::Quantile(e.lags, 0.99);
    p.tracks = e.tracks.size();
    e.points.push_back(p);
    while (e.points.size() > keep) e.points.pop_front();
    e.frames_at_last_point = metrics[i].frames;
    e.last_point = now;
    e.inferred = e.skipped = 0;
    e.lags.clear();
  }
}

std::string StreamHub::ListJson() const {
  std::vector<std::shared_ptr<Entry>> entries;
  std::vector<stream::StreamMetrics> metrics;
  {
    std::lock_guard lock(mu_);  // one snapshot of both lists: SampleNow drops from each
    entries = entries_;
    metrics = pipeline_->Metrics();
  }
  json streams = json::array();
  for (size_t i = 0; i < entries.size() && i < metrics.size(); ++i) {
    const Entry& e = *entries[i];
    if (e.removed) continue;
    const stream::StreamMetrics& m = metrics[i];
    json s = {{"name", e.name},
              {"source", e.source},
              {"state", m.ended ? "ended" : "running"},
              {"error", m.error},
              {"width", e.width},
              {"height", e.height},
              {"frames", m.frames},
              {"inferred", m.inferred},
              {"skipped", m.skipped},
              {"dropped", m.dropped},
              {"reconnects", m.reconnects},
              {"lag_p50_ms", Ms(m.lag_p50_s)},
              {"lag_p99_ms", Ms(m.lag_p99_s)},
              {"mean_batch", m.mean_batch},
              {"inference_ms", m.inference_s * 1e3},
              {"cloud", nullptr},
              {"learn", nullptr}};
    {
      std::lock_guard lock(e.mu);
      s["tracks"] = e.tracks.size();
      // The rates of the last interval: what the stream does now, not its average so far.
      const bool any = !e.points.empty();
      s["input_fps"] = any ? e.points.back().input_fps : m.input_fps;
      s["inferred_fps"] = any ? e.points.back().inferred_fps : m.inferred_fps;
    }
    if (m.cloud)
      s["cloud"] = {{"sent_fraction", m.cloud_sent_fraction},
                    {"bytes_per_s", m.cloud_bytes_per_s},
                    {"rtt_p50_ms", m.cloud_rtt_p50_ms},
                    {"answered", m.cloud_answered},
                    {"failed", m.cloud_failed},
                    {"edge_f1", m.cloud_edge_f1 < 0 ? json(nullptr) : json(m.cloud_edge_f1)},
                    {"error", m.cloud_error}};
    if (m.learn)
      s["learn"] = {{"classified", m.learn_classified},
                    {"failed", m.learn_failed},
                    {"ms_p50", m.learn_ms_p50},
                    {"error", m.learn_error}};
    streams.push_back(std::move(s));
  }
  return json{{"streams", streams}}.dump();
}

Result<std::string> StreamHub::HistoryJson(const std::string& name) const {
  std::shared_ptr<Entry> e = Find(name);
  if (!e) return Status::NotFound(fmt::format("no stream '{}'", name));
  std::lock_guard lock(e->mu);
  json points = json::array();
  for (const Entry::Point& p : e->points)
    points.push_back({{"t", p.t},
                      {"input_fps", p.input_fps},
                      {"inferred_fps", p.inferred_fps},
                      {"skipped_fps", p.skipped_fps},
                      {"lag_p50_ms", Ms(p.lag_p50_s)},
                      {"lag_p99_ms", Ms(p.lag_p99_s)},
                      {"tracks", p.tracks}});
  return json{{"interval_s", options_.interval_s},
              {"points", points},
              {"decisions", std::string(e->decisions.begin(), e->decisions.end())}}
      .dump();
}

Result<std::string> StreamHub::FrameJpeg(const std::string& name) const {
  std::shared_ptr<Entry> e = Find(name);
  if (!e) return Status::NotFound(fmt::format("no stream '{}'", name));
  stream::FramePtr frame;
  std::vector<stream::Track> tracks;
  {
    std::lock_guard lock(e->mu);
    if (!e->frame) return Status::NotFound(fmt::format("stream '{}' has no frame yet", name));
    if (e->jpeg_index == e->frame->index) return e->jpeg;
    const auto min_interval = std::chrono::duration<double>(options_.jpeg_min_interval_s);
    if (e->jpeg_index >= 0 && (e->jpeg_making || Clock::now() - e->jpeg_made < min_interval))
      return e->jpeg;
    e->jpeg_making = true;
    frame = e->frame;
    tracks = e->tracks;
  }
  struct Done {  // on every way out, including an encoder's error
    const Entry& e;
    ~Done() {
      std::lock_guard lock(e.mu);
      e.jpeg_making = false;
    }
  } done{*e};
  // Drawn and encoded outside the lock: the worker must not wait for the page.
  auto canvas = std::make_shared<stream::Frame>(*frame);
  const stream::BgrView view{canvas->bgr.data(), canvas->width, canvas->height, canvas->width * 3};
  stream::BoxStyle style;
  style.thickness = std::max(2, canvas->width / 320);
  style.text_scale = std::max(1, canvas->width / 480);
  stream::DrawTracks(view, tracks, options_.labels, style);
  SN_ASSIGN_OR_RETURN(stream::EncodedImage jpeg,
                      stream::EncodeJpeg(*canvas, options_.jpeg_quality, options_.jpeg_max_side));
  std::lock_guard lock(e->mu);
  e->jpeg_index = frame->index;
  e->jpeg = jpeg.bytes;
  e->jpeg_made = Clock::now();
  return std::move(jpeg.bytes);
}

}  // namespace supernova::console

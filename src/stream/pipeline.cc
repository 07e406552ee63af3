#include "stream/pipeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace supernova::stream {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A coarse grey thumbnail for the frame difference: point samples on a 64 x 36 grid.
constexpr int kGridW = 64, kGridH = 36;
std::vector<uint8_t> Thumbnail(const Frame& f) {
  std::vector<uint8_t> g(kGridW * kGridH);
  if (f.width <= 0 || f.height <= 0 || f.bgr.size() < static_cast<size_t>(f.width) * f.height * 3)
    return g;
  for (int y = 0; y < kGridH; ++y)
    for (int x = 0; x < kGridW; ++x) {
      const size_t sx = (static_cast<size_t>(x) * 2 + 1) * f.width / (2 * kGridW);
      const size_t sy = (static_cast<size_t>(y) * 2 + 1) * f.height / (2 * kGridH);
      const uint8_t* p = &f.bgr[(sy * f.width + sx) * 3];
      g[y * kGridW + x] = static_cast<uint8_t>((p[0] + 2 * p[1] + p[2]) / 4);
    }
  return g;
}

// Mean absolute difference of two thumbnails, 0..1; 1 when there is nothing to compare.
double Motion(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size() || a.empty()) return 1.0;
  int64_t sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(int{a[i]} - int{b[i]});
  return static_cast<double>(sum) / (255.0 * static_cast<double>(a.size()));
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

// Runs the frames that the streams' workers submit, several streams' frames in one model run
// when the detector takes a batch: a run starts when every running stream has a frame
// waiting, when max_batch frames wait, or batch_wait_s after the first one came.
class Pipeline::Batcher {
 public:
  struct Outcome {
    Result<std::vector<Detection>> detections = std::vector<Detection>{};
    DetectTimes times;
  };

  Batcher(const Detector* detector, int max_batch, double wait_s)
      : detector_(detector),
        max_batch_(std::max(1, std::min(max_batch, detector->max_batch()))),
        wait_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait_s))),
        thread_([this] { Loop(); }) {}

  ~Batcher() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void SetActiveStreams(int n) {
    {
      std::lock_guard lock(mu_);
      active_ = n;
    }
    cv_.notify_all();
  }
  // A stream ended: batches stop waiting for its frames.
  void StreamEnded() {
    {
      std::lock_guard lock(mu_);
      active_ = std::max(1, active_ - 1);
    }
    cv_.notify_all();
  }

  Outcome Detect(FramePtr frame) {
    std::promise<Outcome> promise;
    std::future<Outcome> done = promise.get_future();
    {
      std::lock_guard lock(mu_);
      queue_.push_back({std::move(frame), std::move(promise), Clock::now()});
    }
    cv_.notify_all();
    return done.get();
  }

 private:
  struct Request {
    FramePtr frame;
    std::promise<Outcome> promise;
    Clock::time_point arrived;
  };

  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      const auto until = queue_.front().arrived + wait_;
      cv_.wait_until(lock, until, [&] {
        return stop_ || static_cast<int>(queue_.size()) >= std::min(max_batch_, active_);
      });
      std::vector<Request> batch;
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      lock.unlock();
      std::vector<FramePtr> frames;
      for (const Request& r : batch) frames.push_back(r.frame);
      DetectTimes times;
      auto found = detector_->Detect(frames, &times);
      for (size_t i = 0; i < batch.size(); ++i) {
        Outcome o;
        o.times = times;
        if (found.ok()) {
          o.detections = std::move((*found)[i]);
        } else if (batch.size() == 1) {
          o.detections = found.status();
        } else {  // an error belongs to the frame that caused it: run each on its own
          auto one = detector_->Detect({frames[i]}, &o.times);
          if (one.ok())
            o.detections = std::move((*one)[0]);
          else
            o.detections = one.status();
        }
        batch[i].promise.set_value(std::move(o));
      }
      lock.lock();
    }
  }

  const Detector* detector_;
  const int max_batch_;
  const Clock::duration wait_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;  // guarded by mu_
  int active_ = 1;             // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  std::thread thread_;
};

struct Pipeline::Stream {
  std::string name;
  std::unique_ptr<FrameSource> source;
  FrameSkipController controller;
  Tracker tracker;
  std::thread decoder, worker;
  Clock::time_point started;
  Clock::time_point decode_ended, work_ended;  // guarded by mu; set when each thread ends

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<FramePtr> pending;  // decoded, not yet decided; guarded by mu
  bool source_ended = false;     // guarded by mu
  bool ended = false;            // guarded by mu
  std::string error;             // guarded by mu
  int64_t frames = 0, dropped = 0, inferred = 0, skipped = 0;  // guarded by mu
  std::vector<double> lags, result_lags;                       // guarded by mu
  double preprocess = 0, inference = 0, postprocess = 0, track = 0, output = 0;
  int64_t batch_frames = 0;  // guarded by mu

  Stream(std::string n, std::unique_ptr<FrameSource> s, const PipelineOptions& o)
      : name(std::move(n)), source(std::move(s)), controller(o.skip), tracker(o.tracker) {}
};

Pipeline::Pipeline(const Detector* detector, PipelineOptions options, ResultCallback on_result)
    : detector_(detector),
      options_(std::move(options)),
      on_result_(std::move(on_result)),
      batcher_(std::make_unique<Batcher>(detector, options_.max_batch, options_.batch_wait_s)) {}

Pipeline::~Pipeline() {
  Stop();
  Wait();
}

void Pipeline::AddStream(std::string name, std::unique_ptr<FrameSource> source) {
  streams_.push_back(std::make_unique<Stream>(std::move(name), std::move(source), options_));
}

void Pipeline::Start() {
  if (started_) return;
  started_ = true;
  batcher_->SetActiveStreams(static_cast<int>(streams_.size()));
  for (auto& s : streams_) {
    s->started = Clock::now();
    s->decoder = std::thread([this, st = s.get()] { Decode(*st); });
    s->worker = std::thread([this, st = s.get()] { Work(*st); });
  }
}

void Pipeline::Stop() {
  stopping_ = true;
  for (auto& s : streams_) s->source->Close();
}

void Pipeline::Wait() {
  for (auto& s : streams_) {
    if (s->decoder.joinable()) s->decoder.join();
    if (s->worker.joinable()) s->worker.join();
  }
}

void Pipeline::Decode(Stream& s) {
  const bool live = s.source->live();
  while (true) {
    Result<FramePtr> frame = s.source->Read();
    std::unique_lock lock(s.mu);
    if (!frame.ok()) {
      if (frame.status().code() != Status::Code::kOutOfRange && !stopping_)
        s.error = frame.status().ToString();
      s.source_ended = true;
      s.decode_ended = Clock::now();
      s.cv.notify_all();
      return;
    }
    ++s.frames;
    if (live) {
      if (s.pending.size() >= options_.max_pending) {
        s.pending.pop_front();
        ++s.dropped;
      }
    } else {
      s.cv.wait(lock, [&] { return s.pending.size() < options_.max_pending || s.ended; });
      if (s.ended) return;
    }
    s.pending.push_back(std::move(*frame));
    s.cv.notify_all();
  }
}

void Pipeline::Work(Stream& s) {
  std::vector<uint8_t> last_inferred;
  while (true) {
    FramePtr frame;
    int newer = 0;
    {
      std::unique_lock lock(s.mu);
      s.cv.wait(lock, [&] { return !s.pending.empty() || s.source_ended; });
      if (s.pending.empty()) break;
      frame = std::move(s.pending.front());
      s.pending.pop_front();
      newer = static_cast<int>(s.pending.size());
    }
    s.cv.notify_all();  // room for a held-back decoder
    FrameResult r;
    r.stream = s.name;
    r.frame = frame;
    // The frame difference matters to the adaptive controller only.
    const bool adaptive = options_.skip.mode == SkipMode::kAdaptive;
    std::vector<uint8_t> thumb = adaptive ? Thumbnail(*frame) : std::vector<uint8_t>{};
    const double age = Seconds(Clock::now() - frame->captured);
    const bool infer =
        s.controller.ShouldInfer(age, newer, adaptive ? Motion(thumb, last_inferred) : 0.0);
    DetectTimes times;
    double track_s = 0;
    if (infer) {
      const auto submitted = Clock::now();
      Batcher::Outcome o = batcher_->Detect(frame);
      s.controller.InferenceFinished(Seconds(Clock::now() - submitted));
      times = o.times;
      if (!o.detections.ok()) {
        std::lock_guard lock(s.mu);
        s.error = o.detections.status().ToString();
        break;
      }
      const auto t = Clock::now();
      r.detections = std::move(*o.detections);
      r.tracks = s.tracker.Update(r.detections);
      track_s = Seconds(Clock::now() - t);
      last_inferred = std::move(thumb);
    } else {
      const auto t = Clock::now();
      r.tracks = s.tracker.Predict();
      track_s = Seconds(Clock::now() - t);
    }
    r.inferred = infer;
    r.lag_s = Seconds(Clock::now() - frame->captured);
    r.timestamp_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const auto out_start = Clock::now();
    if (on_result_) on_result_(r);
    const double output_s = Seconds(Clock::now() - out_start);
    std::lock_guard lock(s.mu);
    // Percentiles over the most recent 64k samples: a ring once full.
    auto sample = [](std::vector<double>& ring, int64_t count, double v) {
      constexpr size_t kMaxSamples = 1 << 16;
      if (ring.size() < kMaxSamples)
        ring.push_back(v);
      else
        ring[static_cast<size_t>(count) % kMaxSamples] = v;
    };
    sample(s.result_lags, s.inferred + s.skipped, r.lag_s);
    s.track += track_s;
    s.output += output_s;
    if (infer) {
      sample(s.lags, s.inferred, r.lag_s);
      ++s.inferred;
      s.preprocess += times.preprocess / std::max(times.batch, 1);
      s.inference += times.inference;
      s.postprocess += times.postprocess / std::max(times.batch, 1);
      s.batch_frames += times.batch;
    } else {
      ++s.skipped;
    }
  }
  {
    std::lock_guard lock(s.mu);
    s.ended = true;
    s.work_ended = Clock::now();
  }
  s.cv.notify_all();
  batcher_->StreamEnded();
  s.source->Close();  // a decoder still reading (after an error here) stops
}

std::vector<StreamMetrics> Pipeline::Metrics() const {
  std::vector<StreamMetrics> out;
  for (const auto& s : streams_) {
    StreamMetrics m;
    m.name = s->name;
    m.reconnects = s->source->reconnects();
    std::lock_guard lock(s->mu);
    m.frames = s->frames;
    m.inferred = s->inferred;
    m.skipped = s->skipped;
    m.dropped = s->dropped;
    // Rates over the time each thread ran: after the source ends the worker may still be
    // catching up, which must not dilute the input rate.
    const auto now = Clock::now();
    m.seconds = started_ ? Seconds(now - s->started) : 0;
    const double decoding = Seconds((s->source_ended ? s->decode_ended : now) - s->started);
    const double working = Seconds((s->ended ? s->work_ended : now) - s->started);
    if (started_ && decoding > 0) m.input_fps = static_cast<double>(m.frames) / decoding;
    if (started_ && working > 0) m.inferred_fps = static_cast<double>(m.inferred) / working;
    m.lag_p50_s = Percentile(s->lags, 0.5);
    m.lag_p99_s = Percentile(s->lags, 0.99);
    m.lag_max_s = s->lags.empty() ? 0 : *std::max_element(s->lags.begin(), s->lags.end());
    m.result_lag_p50_s = Percentile(s->result_lags, 0.5);
    m.result_lag_p99_s = Percentile(s->result_lags, 0.99);
    const double n = static_cast<double>(std::max<int64_t>(s->inferred, 1));
    m.preprocess_s = s->preprocess / n;
    m.inference_s = s->inference / n;
    m.postprocess_s = s->postprocess / n;
    const double all = static_cast<double>(std::max<int64_t>(s->inferred + s->skipped, 1));
    m.track_s = s->track / all;
    m.output_s = s->output / all;
    m.mean_batch = static_cast<double>(s->batch_frames) / n;
    m.ended = s->ended;
    m.error = s->error;
    out.push_back(std::move(m));
  }
  return out;
}

std::string StreamMetrics::ToJson() const {
  auto escape = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
    return out;
  };
  return fmt::format(
      R"({{"stream":"{}","frames":{},"inferred":{},"skipped":{},"dropped":{},"reconnects":{},)"
      R"("seconds":{:.3f},"input_fps":{:.2f},"inferred_fps":{:.2f},"lag_p50_ms":{:.1f},)"
      R"("lag_p99_ms":{:.1f},"lag_max_ms":{:.1f},"result_lag_p50_ms":{:.1f},)"
      R"("result_lag_p99_ms":{:.1f},"preprocess_ms":{:.2f},"inference_ms":{:.2f},)"
      R"("postprocess_ms":{:.2f},"track_ms":{:.3f},"output_ms":{:.3f},"mean_batch":{:.2f},)"
      R"("ended":{},"error":"{}"}})",
      escape(name), frames, inferred, skipped, dropped, reconnects, seconds, input_fps,
      inferred_fps, lag_p50_s * 1e3, lag_p99_s * 1e3, lag_max_s * 1e3, result_lag_p50_s * 1e3,
      result_lag_p99_s * 1e3, preprocess_s * 1e3, inference_s * 1e3, postprocess_s * 1e3,
      track_s * 1e3, output_s * 1e3, mean_batch, ended ? "true" : "false", escape(error));
}

}  // namespace supernova::stream

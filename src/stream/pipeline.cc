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

#include "stream/samples.h"
#include "stream/thumbnail.h"

namespace supernova::stream {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Metrics report 0 where a series has no sample yet.
double Percentile(const std::vector<double>& v, double p) { return Quantile(v, p).value_or(0); }

}  // namespace

// Runs the frames that the streams' workers submit, several streams' frames in one model run
// when the detector takes a batch: a run starts when every running stream has a frame
// waiting, when max_batch frames wait, or batch_wait_s after the first one came.
class Pipeline::Batcher {
 public:
  struct Outcome {
    Result<std::vector<Detection>> detections = std::vector<Detection>{};
    DetectTimes times;
    FrameFeatures features;  // with `features`: the detector's feature outputs for the frame
  };

  Batcher(const Detector* detector, int max_batch, double wait_s, bool features)
      : detector_(detector),
        features_(features),
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

  // A stream started or ended: batches wait for the frames of the running streams only.
  void StreamStarted() {
    {
      std::lock_guard lock(mu_);
      ++active_;
    }
    cv_.notify_all();
  }
  void StreamEnded() {
    {
      std::lock_guard lock(mu_);
      active_ = std::max(0, active_ - 1);
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
        return stop_ ||
               static_cast<int>(queue_.size()) >= std::min(max_batch_, std::max(active_, 1));
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
      std::vector<FrameFeatures> features;
      auto found = detector_->Detect(frames, &times, features_ ? &features : nullptr);
      for (size_t i = 0; i < batch.size(); ++i) {
        Outcome o;
        o.times = times;
        if (found.ok()) {
          o.detections = std::move((*found)[i]);
          if (features_) o.features = std::move(features[i]);
        } else if (batch.size() == 1) {
          o.detections = found.status();
        } else {  // an error belongs to the frame that caused it: run each on its own
          std::vector<FrameFeatures> own;
          auto one = detector_->Detect({frames[i]}, &o.times, features_ ? &own : nullptr);
          if (one.ok()) {
            o.detections = std::move((*one)[0]);
            if (features_) o.features = std::move(own[0]);
          } else {
            o.detections = one.status();
          }
        }
        batch[i].promise.set_value(std::move(o));
      }
      lock.lock();
    }
  }

  const Detector* detector_;
  const bool features_;
  const int max_batch_;
  const Clock::duration wait_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;  // guarded by mu_
  int active_ = 0;             // running streams; guarded by mu_
  bool stop_ = false;          // guarded by mu_
  std::thread thread_;
};

// A stream's answers from the cloud, from the CloudDetector's thread to the worker. Shared
// with the callbacks in flight, so that an answer coming after the pipeline is gone lands
// here harmlessly.
struct Pipeline::CloudInbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int64_t, Result<CloudAnswer>>> answers;  // guarded by mu
};

struct Pipeline::Stream {
  std::string name;
  std::unique_ptr<FrameSource> source;
  FrameSkipController controller;
  Tracker tracker;
  // Joint inference, the worker's own: the escalator, the fusion, the calls in flight.
  Escalator escalator;
  Fusion fusion;
  int cloud_in_flight = 0;
  std::shared_ptr<CloudInbox> inbox = std::make_shared<CloudInbox>();
  std::thread decoder, worker;
  std::atomic<bool> closed{false};       // by CloseStream
  std::atomic<int> threads_returned{0};  // decoder and worker: 2 once both have returned
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
  // Joint inference counts, guarded by mu (StreamMetrics says what each means).
  int64_t cloud_sent = 0, cloud_refused = 0, cloud_answered = 0, cloud_failed = 0;
  int64_t cloud_late = 0, cloud_corrected = 0, cloud_born = 0, cloud_dropped = 0;
  int64_t cloud_bytes_sent = 0, cloud_bytes_received = 0;
  int64_t cloud_tp = 0, cloud_fp = 0, cloud_fn = 0;
  std::vector<double> cloud_rtts, cloud_frames_late;
  std::string cloud_error;
  // Learned labels, guarded by mu (StreamMetrics says what each means).
  int64_t learn_classified = 0, learn_offered = 0, learn_failed = 0, learn_calls = 0;
  std::vector<double> learn_ms;
  std::string learn_error;

  Stream(std::string n, std::unique_ptr<FrameSource> s, const PipelineOptions& o)
      : name(std::move(n)),
        source(std::move(s)),
        controller(o.skip),
        tracker(o.tracker),
        escalator(o.escalation),
        fusion(o.fusion) {}
};

Pipeline::Pipeline(const Detector* detector, PipelineOptions options, ResultCallback on_result)
    : detector_(detector),
      options_(std::move(options)),
      on_result_(std::move(on_result)),
      batcher_(std::make_unique<Batcher>(detector, options_.max_batch, options_.batch_wait_s,
                                         options_.cloud && options_.cloud->sends_features())) {}

Pipeline::~Pipeline() {
  Stop();
  Wait();
}

void Pipeline::AddStream(std::string name, std::unique_ptr<FrameSource> source) {
  std::lock_guard lock(streams_mu_);
  streams_.push_back(std::make_unique<Stream>(std::move(name), std::move(source), options_));
  if (stopping_) streams_.back()->source->Close();  // ends at once, as the others do
  if (started_) Launch(*streams_.back());
}

void Pipeline::Launch(Stream& s) {
  batcher_->StreamStarted();
  s.started = Clock::now();
  s.decoder = std::thread([this, st = &s] {
    Decode(*st);
    ++st->threads_returned;
  });
  s.worker = std::thread([this, st = &s] {
    Work(*st);
    ++st->threads_returned;
  });
}

void Pipeline::Start() {
  std::lock_guard lock(streams_mu_);
  if (started_) return;
  started_ = true;
  for (auto& s : streams_) Launch(*s);
}

void Pipeline::Stop() {
  std::lock_guard lock(streams_mu_);
  stopping_ = true;
  for (auto& s : streams_) s->source->Close();
}

bool Pipeline::CloseStream(const std::string& name) {
  std::lock_guard lock(streams_mu_);
  bool found = false;
  for (auto& s : streams_) {
    if (s->name != name) continue;
    s->closed = true;  // its source's failure is the close, not an error
    s->source->Close();
    found = true;
  }
  return found;
}

void Pipeline::Wait() {
  // Streams added while this waits are waited for too. Threads are made under streams_mu_
  // and joined under join_mu_, which also keeps RemoveClosed from erasing `s` meanwhile.
  while (true) {
    std::lock_guard join(join_mu_);
    Stream* s = nullptr;
    {
      std::lock_guard lock(streams_mu_);
      for (auto& st : streams_)
        if (st->decoder.joinable() || st->worker.joinable()) {
          s = st.get();
          break;
        }
    }
    if (!s) return;
    if (s->decoder.joinable()) s->decoder.join();
    if (s->worker.joinable()) s->worker.join();
  }
}

std::vector<size_t> Pipeline::RemoveClosed() {
  // While Wait joins (the pipeline is stopping) nothing is removed: waiting for it here could
  // hold up a caller that a worker's result callback needs.
  std::unique_lock join(join_mu_, std::try_to_lock);
  if (!join.owns_lock()) return {};
  std::lock_guard lock(streams_mu_);
  std::vector<size_t> removed;
  std::vector<std::unique_ptr<Stream>> kept;
  for (size_t i = 0; i < streams_.size(); ++i) {
    Stream& s = *streams_[i];
    const bool launched = s.decoder.joinable() || s.worker.joinable();
    if (s.closed && (!launched || s.threads_returned == 2)) {
      // Both thread functions have returned: the joins wait for no work.
      if (s.decoder.joinable()) s.decoder.join();
      if (s.worker.joinable()) s.worker.join();
      removed.push_back(i);
    } else {
      kept.push_back(std::move(streams_[i]));
    }
  }
  streams_ = std::move(kept);
  return removed;
}

void Pipeline::Decode(Stream& s) {
  const bool live = s.source->live();
  while (true) {
    Result<FramePtr> frame = s.source->Read();
    std::unique_lock lock(s.mu);
    if (!frame.ok()) {
      if (frame.status().code() != Status::Code::kOutOfRange && !stopping_ && !s.closed)
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
    const bool infer = s.controller.ShouldInfer(
        age, newer, adaptive ? MeanAbsDifference(thumb, last_inferred) / 255.0 : 0.0);
    DetectTimes times;
    double track_s = 0;
    if (infer) {
      const auto submitted = Clock::now();
      Batcher::Outcome o = batcher_->Detect(frame);
      const double detect_s = Seconds(Clock::now() - submitted);
      times = o.times;
      if (!o.detections.ok()) {
        s.controller.InferenceFinished(detect_s);
        std::lock_guard lock(s.mu);
        s.error = o.detections.status().ToString();
        break;
      }
      const auto t = Clock::now();
      if (options_.cloud) FuseAnswers(s);
      r.detections = std::move(*o.detections);
      r.tracks = s.tracker.Update(r.detections);
      if (options_.cloud) Escalate(s, frame, r.detections, std::move(o.features), &r);
      track_s = Seconds(Clock::now() - t);
      // The controller keeps the lag bound by what an inferred frame costs the worker: the
      // labeller's looks too, or a burst of new tracks would push results past it.
      const double label_s = options_.labeller ? LabelTracks(s, *frame, &r.tracks) : 0.0;
      s.controller.InferenceFinished(detect_s + label_s);
      last_inferred = std::move(thumb);
    } else {
      const auto t = Clock::now();
      if (options_.cloud) FuseAnswers(s);
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
    Sample(s.result_lags, s.inferred + s.skipped, r.lag_s);
    s.track += track_s;
    s.output += output_s;
    if (infer) {
      Sample(s.lags, s.inferred, r.lag_s);
      ++s.inferred;
      s.preprocess += times.preprocess / std::max(times.batch, 1);
      s.inference += times.inference;
      s.postprocess += times.postprocess / std::max(times.batch, 1);
      s.batch_frames += times.batch;
    } else {
      ++s.skipped;
    }
  }
  if (options_.cloud) AwaitAnswers(s);
  {
    std::lock_guard lock(s.mu);
    s.ended = true;
    s.work_ended = Clock::now();
  }
  s.cv.notify_all();
  batcher_->StreamEnded();
  s.source->Close();  // a decoder still reading (after an error here) stops
}

void Pipeline::Escalate(Stream& s, const FramePtr& frame, const std::vector<Detection>& detections,
                        FrameFeatures features, FrameResult* r) {
  if (s.escalator.Decide(*frame, detections) == 0) return;
  const int64_t index = frame->index;
  const bool queued = options_.cloud->Submit(
      s.name, frame, std::move(features), [inbox = s.inbox, index](Result<CloudAnswer> answer) {
        {
          std::lock_guard lock(inbox->mu);
          inbox->answers.emplace_back(index, std::move(answer));
        }
        inbox->cv.notify_all();
      });
  if (queued) {
    s.escalator.Sent();
    s.fusion.Record(index, s.tracker, detections);
    ++s.cloud_in_flight;
    r->cloud_sent = true;
  }
  std::lock_guard lock(s.mu);
  ++(queued ? s.cloud_sent : s.cloud_refused);
}

void Pipeline::FuseAnswers(Stream& s) {
  std::deque<std::pair<int64_t, Result<CloudAnswer>>> answers;
  {
    std::lock_guard lock(s.inbox->mu);
    answers.swap(s.inbox->answers);
  }
  for (auto& [index, answer] : answers) {
    --s.cloud_in_flight;
    if (!answer.ok()) {
      s.fusion.Forget(index);
      std::lock_guard lock(s.mu);
      ++s.cloud_failed;
      s.cloud_error = answer.status().ToString();
      continue;
    }
    answer->frame_index = index;  // the frame this call was for, whatever the detector says
    const FusionOutcome o = s.fusion.Apply(*answer, s.tracker);
    std::lock_guard lock(s.mu);
    Sample(s.cloud_rtts, s.cloud_answered, answer->round_trip_ms);
    ++s.cloud_answered;
    s.cloud_bytes_sent += static_cast<int64_t>(answer->sent_bytes);
    s.cloud_bytes_received += static_cast<int64_t>(answer->received_bytes);
    if (!o.applied) {
      ++s.cloud_late;
      continue;
    }
    Sample(s.cloud_frames_late, s.cloud_answered - s.cloud_late - 1,
           static_cast<double>(o.frames_late));
    s.cloud_corrected += o.corrected;
    s.cloud_born += o.born;
    s.cloud_dropped += o.dropped;
    s.cloud_tp += o.true_positives;
    s.cloud_fp += o.false_positives;
    s.cloud_fn += o.false_negatives;
  }
}

void Pipeline::AwaitAnswers(Stream& s) {
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options_.cloud_end_wait_s));
  FuseAnswers(s);
  while (s.cloud_in_flight > 0) {
    {
      std::unique_lock lock(s.inbox->mu);
      if (!s.inbox->cv.wait_until(lock, deadline, [&] { return !s.inbox->answers.empty(); }))
        return;
    }
    FuseAnswers(s);
  }
}

double Pipeline::LabelTracks(Stream& s, const Frame& frame, std::vector<Track>* tracks) {
  const auto start = Clock::now();
  Result<LabelStats> stats = options_.labeller->Label(s.name, frame, tracks);
  const double seconds = Seconds(Clock::now() - start);
  if (stats.ok()) {
    for (const Track& t : *tracks) s.tracker.SetLearned(t.id, t.learned);
  }
  std::lock_guard lock(s.mu);
  if (!stats.ok()) {
    ++s.learn_failed;
    s.learn_error = stats.status().ToString();
    return seconds;
  }
  // Only calls that classified: the frames where every track was recent cost next to nothing
  // and would hide the real cost in the median.
  if (stats->classified > 0) Sample(s.learn_ms, s.learn_calls++, seconds * 1e3);
  s.learn_classified += stats->classified;
  s.learn_offered += stats->offered;
  return seconds;
}

std::vector<StreamMetrics> Pipeline::Metrics() const {
  std::vector<StreamMetrics> out;
  std::lock_guard streams_lock(streams_mu_);
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
    m.cloud = options_.cloud != nullptr;
    m.cloud_sent = s->cloud_sent;
    m.cloud_refused = s->cloud_refused;
    m.cloud_answered = s->cloud_answered;
    m.cloud_failed = s->cloud_failed;
    m.cloud_late = s->cloud_late;
    m.cloud_corrected = s->cloud_corrected;
    m.cloud_born = s->cloud_born;
    m.cloud_dropped = s->cloud_dropped;
    m.cloud_bytes_sent = s->cloud_bytes_sent;
    m.cloud_bytes_received = s->cloud_bytes_received;
    if (m.frames > 0)
      m.cloud_sent_fraction = static_cast<double>(m.cloud_sent) / static_cast<double>(m.frames);
    if (working > 0) m.cloud_bytes_per_s = static_cast<double>(m.cloud_bytes_sent) / working;
    m.cloud_rtt_p50_ms = Percentile(s->cloud_rtts, 0.5);
    m.cloud_rtt_p99_ms = Percentile(s->cloud_rtts, 0.99);
    m.cloud_frames_late_p50 = Percentile(s->cloud_frames_late, 0.5);
    // Both models finding nothing on every answered frame is full agreement.
    const int64_t f1_den = 2 * s->cloud_tp + s->cloud_fp + s->cloud_fn;
    if (s->cloud_answered > s->cloud_late)
      m.cloud_edge_f1 =
          f1_den > 0 ? 2.0 * static_cast<double>(s->cloud_tp) / static_cast<double>(f1_den) : 1.0;
    m.cloud_error = s->cloud_error;
    m.learn = options_.labeller != nullptr;
    m.learn_classified = s->learn_classified;
    m.learn_offered = s->learn_offered;
    m.learn_failed = s->learn_failed;
    m.learn_ms_p50 = Percentile(s->learn_ms, 0.5);
    m.learn_error = s->learn_error;
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
  // The joint-inference keys only where there is a cloud: zeros elsewhere would say nothing.
  const std::string joint =
      !cloud ? std::string()
             : fmt::format(
                   R"("cloud_sent":{},"cloud_refused":{},"cloud_answered":{},"cloud_failed":{},)"
                   R"("cloud_late":{},"cloud_corrected":{},"cloud_born":{},"cloud_dropped":{},)"
                   R"("cloud_bytes_sent":{},"cloud_bytes_received":{},)"
                   R"("cloud_sent_fraction":{:.4f},"cloud_bytes_per_s":{:.0f},)"
                   R"("cloud_rtt_p50_ms":{:.1f},"cloud_rtt_p99_ms":{:.1f},)"
                   R"("cloud_frames_late_p50":{:.1f},"cloud_edge_f1":{},"cloud_error":"{}",)",
                   cloud_sent, cloud_refused, cloud_answered, cloud_failed, cloud_late,
                   cloud_corrected, cloud_born, cloud_dropped, cloud_bytes_sent,
                   cloud_bytes_received, cloud_sent_fraction, cloud_bytes_per_s, cloud_rtt_p50_ms,
                   cloud_rtt_p99_ms, cloud_frames_late_p50,
                   cloud_edge_f1 < 0 ? std::string("null") : fmt::format("{:.4f}", cloud_edge_f1),
                   escape(cloud_error));
  const std::string learned =
      !learn ? std::string()
             : fmt::format(R"("learn_classified":{},"learn_offered":{},"learn_failed":{},)"
                           R"("learn_ms_p50":{:.2f},"learn_error":"{}",)",
                           learn_classified, learn_offered, learn_failed, learn_ms_p50,
                           escape(learn_error));
  return fmt::format(
      R"({{"stream":"{}","frames":{},"inferred":{},"skipped":{},"dropped":{},"reconnects":{},)"
      R"("seconds":{:.3f},"input_fps":{:.2f},"inferred_fps":{:.2f},"lag_p50_ms":{:.1f},)"
      R"("lag_p99_ms":{:.1f},"lag_max_ms":{:.1f},"result_lag_p50_ms":{:.1f},)"
      R"("result_lag_p99_ms":{:.1f},"preprocess_ms":{:.2f},"inference_ms":{:.2f},)"
      R"("postprocess_ms":{:.2f},"track_ms":{:.3f},"output_ms":{:.3f},"mean_batch":{:.2f},)"
      R"({}{}"ended":{},"error":"{}"}})",
      escape(name), frames, inferred, skipped, dropped, reconnects, seconds, input_fps,
      inferred_fps, lag_p50_s * 1e3, lag_p99_s * 1e3, lag_max_s * 1e3, result_lag_p50_s * 1e3,
      result_lag_p99_s * 1e3, preprocess_s * 1e3, inference_s * 1e3, postprocess_s * 1e3,
      track_s * 1e3, output_s * 1e3, mean_batch, joint, learned, ended ? "true" : "false",
      escape(error));
}

}  // namespace supernova::stream

// The live-video pipeline: per stream, a decode thread that always reads the newest frames
// and a worker that decides frame by frame (FrameSkipController) whether to run the model,
// runs it through a batcher shared by all streams (cross-stream batching), tracks objects
// through inferred and skipped frames alike, and hands every frame's result to a callback.
//
//   Pipeline pipeline(detector.get(), PipelineOptions{}, [&](const FrameResult& r) {
//     sink->Write(r);                       // called on the stream's worker thread
//   });
//   pipeline.AddStream("cam1", std::move(source));
//   pipeline.Start();
//   pipeline.Wait();                        // until the sources end, or Stop() from elsewhere
//   for (const StreamMetrics& m : pipeline.Metrics()) ...
//
// Threads: every member may be called from any thread. AddStream before Start adds a stream
// that starts with the others; after Start (a server's console adding a camera), one that
// starts at once. CloseStream ends one stream as its source's end would. The callback runs on the
// stream's worker thread, in frame order per stream; streams call it concurrently.
//
// Joint inference (docs/joint.md): with `PipelineOptions::cloud` set, the worker asks the
// stream's Escalator about each inferred frame once it is tracked, and Submits the frames it
// picks; the answers, which come on the CloudDetector's thread, wait in a per-stream queue
// until the worker fuses them into the tracks (stream/fusion.h) before it tracks its next
// frame. No result ever waits for the cloud.
//
// Learned labels (docs/stream.md): with `PipelineOptions::labeller` set, the worker hands it
// each inferred frame's tracks once they are tracked, and gives the labels it sets back to the
// tracker, which carries them through the frames after.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "stream/cloud.h"
#include "stream/detector.h"
#include "stream/escalation.h"
#include "stream/frame.h"
#include "stream/frame_skip.h"
#include "stream/frame_source.h"
#include "stream/fusion.h"
#include "stream/labeller.h"
#include "stream/tracker.h"
#include "supernova/status.h"

namespace supernova::stream {

struct PipelineOptions {
  SkipOptions skip;
  TrackerOptions tracker;
  int max_batch = 8;            // frames of different streams run together, at most
  double batch_wait_s = 0.004;  // how long a batch waits for other streams' frames
  size_t max_pending = 256;     // frames decoded and not yet decided, per stream
  // Joint inference: the bigger detector elsewhere, shared by the streams; not owned, and it
  // must outlive the pipeline (its answers may come after a stream ended: they are ignored).
  CloudDetector* cloud = nullptr;
  EscalationOptions escalation{.key_interval = 10};  // which frames go to `cloud`
  FusionOptions fusion;
  // At a stream's end, how long its answers still in flight are waited for (for the metrics
  // only: every frame's result is out by then).
  double cloud_end_wait_s = 1.0;
  // On-device learning's classes on the tracks (stream/labeller.h); shared by the streams, not
  // owned, and it must outlive the pipeline.
  TrackLabeller* labeller = nullptr;
};

struct StreamMetrics {
  std::string name;
  int64_t frames = 0;    // delivered by the source
  int64_t inferred = 0;  // the model ran on them
  int64_t skipped = 0;   // decided not to run (tracks predicted)
  int64_t dropped = 0;   // a live source outran the bound on pending frames
  int64_t reconnects = 0;
  double seconds = 0;  // since the stream started
  // Frames delivered per second while the source ran, and inferred per second while the
  // worker ran (it may run on after the source ends, catching up).
  double input_fps = 0, inferred_fps = 0;
  // Lag behind live of the inferred frames' results (capture to detections tracked), and
  // of every result, seconds.
  double lag_p50_s = 0, lag_p99_s = 0, lag_max_s = 0;
  double result_lag_p50_s = 0, result_lag_p99_s = 0;
  // Mean time per inferred frame in each stage, seconds (inference: the batch's run).
  double preprocess_s = 0, inference_s = 0, postprocess_s = 0, track_s = 0, output_s = 0;
  double mean_batch = 0;  // frames per model run this stream's frames were part of
  // Joint inference (`cloud`: the pipeline has one; ToJson writes these keys only then). Sent:
  // Submit took the frame; refused: the escalator picked it and the cloud had no room; answered and
  // failed: calls that ended (sent minus both is still in flight, or was not waited for at the
  // end); late: answers whose frame had left the fusion's history, not applied.
  bool cloud = false;
  int64_t cloud_sent = 0, cloud_refused = 0, cloud_answered = 0, cloud_failed = 0;
  int64_t cloud_late = 0;
  int64_t cloud_corrected = 0, cloud_born = 0, cloud_dropped = 0;  // fusion's track changes
  int64_t cloud_bytes_sent = 0, cloud_bytes_received = 0;          // of the answered calls
  double cloud_sent_fraction = 0;  // cloud_sent over frames delivered
  double cloud_bytes_per_s = 0;    // bytes sent over the stream's seconds
  double cloud_rtt_p50_ms = 0, cloud_rtt_p99_ms = 0;
  double cloud_frames_late_p50 = 0;  // frames tracked between a sent frame and its answer
  // The accuracy proxy: F1 (IoU 0.5, same class) of the edge's detections against the
  // cloud's, over the answered frames; negative while none was answered.
  double cloud_edge_f1 = -1;
  std::string cloud_error;  // the last failed call's reason
  // Learned labels (`labeller`: the pipeline has one; ToJson writes these keys only then):
  // tracks classified, classifications handed to online refinement, labeller calls that failed
  // (the last one's reason), and the median time of a call that classified something, ms
  // (crops, embedding, classification and refinement of one frame's tracks).
  bool learn = false;
  int64_t learn_classified = 0, learn_offered = 0, learn_failed = 0;
  double learn_ms_p50 = 0;
  std::string learn_error;
  bool ended = false;
  std::string error;  // why the stream ended, if not at the end of its source
  std::string ToJson() const;
};

class Pipeline {
 public:
  using ResultCallback = std::function<void(const FrameResult&)>;
  Pipeline(const Detector* detector, PipelineOptions options, ResultCallback on_result);
  ~Pipeline();  // stops and joins
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void AddStream(std::string name, std::unique_ptr<FrameSource> source);
  void Start();
  // Closes every source; workers finish the frames in hand and end.
  void Stop();
  // Closes the source of the stream(s) called `name`; false when there is none. The stream
  // ends with the frames in hand and stays in Metrics(), ended, until RemoveClosed.
  bool CloseStream(const std::string& name);
  // Drops the streams CloseStream closed whose threads have both returned (or that never
  // started): their sources (decoders, sockets) and state are freed and they leave Metrics().
  // Returns the positions they had in Metrics(), ascending, so that a caller keeping a list in
  // the same order can drop the same entries. A server whose streams come and go calls it
  // now and then. Removes nothing while Wait runs.
  std::vector<size_t> RemoveClosed();
  // Until every stream has ended.
  void Wait();
  std::vector<StreamMetrics> Metrics() const;

 private:
  struct Stream;
  struct CloudInbox;
  class Batcher;
  void Launch(Stream& s);  // its threads; streams_mu_ held
  void Decode(Stream& s);
  void Work(Stream& s);
  // Joint inference, on the worker: send the frame if the escalator says so; fuse the
  // answers that came; at the end, wait (bounded) for those still in flight.
  void Escalate(Stream& s, const FramePtr& frame, const std::vector<Detection>& detections,
                FrameFeatures features, FrameResult* r);
  void FuseAnswers(Stream& s);
  void AwaitAnswers(Stream& s);
  // Learned labels, on the worker: the labeller's look at the frame's tracks, kept by the
  // tracker. Returns the seconds it took.
  double LabelTracks(Stream& s, const Frame& frame, std::vector<Track>* tracks);

  const Detector* detector_;
  const PipelineOptions options_;
  const ResultCallback on_result_;
  std::unique_ptr<Batcher> batcher_;
  mutable std::mutex streams_mu_;
  std::vector<std::unique_ptr<Stream>> streams_;  // guarded by streams_mu_ (the vector)
  bool started_ = false;                          // guarded by streams_mu_
  std::mutex join_mu_;  // one Wait or RemoveClosed joins (and RemoveClosed erases) at a time
  std::atomic<bool> stopping_{false};
};

}  // namespace supernova::stream

// The streams `supernova serve --stream-model` runs inside the server, for its console
// (console/stream_view.h): one detector and one pipeline shared by every stream (cross-stream
// batching, stream/pipeline.h), streams added and stopped while it runs, and what the console
// shows of each: the newest frame with its tracks drawn, and per second the input and inferred
// frame rates, the lag behind live and the frame-skip controller's decisions.
//
//   auto hub = StreamHub::Open("det.onnx", detector_options, pipeline_options, {});
//   (*hub)->Add("door", "rtsp://cam/1");
//   Console console(core, {.streams = hub->get()});
//
// Thread-safe. The destructor stops every stream and joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "console/stream_view.h"
#include "stream/cloud.h"
#include "stream/detector.h"
#include "stream/frame_source.h"
#include "stream/pipeline.h"

namespace supernova::console {

struct StreamHubOptions {
  // How a stream's source is opened from what the user gave (the video plugin's opener in
  // supernova serve, stream/video_plugin.h).
  stream::SourceOpener open_source;
  std::vector<std::string> labels;  // class names drawn on the frames
  double interval_s = 1;            // one history point per interval
  double keep_s = 600;              // of history
  size_t decisions = 300;           // the frame-skip decisions kept, per stream
  int jpeg_quality = 80;
  int jpeg_max_side = 960;  // frames are shrunk to this for the page
  // A stream's picture is drawn and encoded at most this often, however many pages ask (each
  // polls about 4 times a second): within it, or while another request is making it, a page
  // gets the last one made. It bounds the work the pages put on the HTTP threads.
  double jpeg_min_interval_s = 0.15;
};

class StreamHub final : public StreamView {
 public:
  // Opens the detector; the pipeline starts with no stream.
  // With `cloud`, the streams do joint inference (docs/joint.md): pipeline.escalation says
  // which frames go to it; the hub owns it.
  static Result<std::unique_ptr<StreamHub>> Open(
      const std::string& model, const stream::DetectorOptions& detector,
      stream::PipelineOptions pipeline, StreamHubOptions options,
      std::unique_ptr<stream::CloudDetector> cloud = nullptr);
  ~StreamHub() override;

  std::string model() const override { return model_; }
  std::string ListJson() const override;
  Result<std::string> HistoryJson(const std::string& name) const override;
  Result<std::string> FrameJpeg(const std::string& name) const override;
  Status Add(const std::string& name, const std::string& source) override;
  Status Remove(const std::string& name) override;

  // Stops every stream (their frames in hand are finished) and waits for them.
  void Stop();
  // What the pipeline measured of each stream so far (ended ones too), for the logs.
  std::vector<stream::StreamMetrics> Metrics() const { return pipeline_->Metrics(); }

 private:
  struct Entry;
  StreamHub(std::string model, std::unique_ptr<stream::Detector> detector,
            StreamHubOptions options);
  void OnResult(const stream::FrameResult& r);
  void Loop();
  void SampleNow();
  std::shared_ptr<Entry> Find(const std::string& name) const;

  const std::string model_;
  const StreamHubOptions options_;
  std::unique_ptr<stream::Detector> detector_;
  std::unique_ptr<stream::CloudDetector> cloud_;  // outlives the pipeline, which uses it
  std::unique_ptr<stream::Pipeline> pipeline_;

  mutable std::mutex mu_;
  // In the pipeline's order (Pipeline::Metrics), removed ones too until the pipeline drops
  // them (SampleNow); guarded by mu_.
  std::vector<std::shared_ptr<Entry>> entries_;
  std::map<std::string, std::shared_ptr<Entry>> live_;  // by name, not removed; guarded by mu_
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread sampler_;
};

}  // namespace supernova::console

// Joint inference with a bigger detector elsewhere (docs/joint.md): the pipeline hands the
// frames it chose to a CloudDetector and goes on with the next frame; the answer comes back
// later, on another thread, and is fused into the stream's tracks (stream/joint.h).
//
//   std::unique_ptr<CloudDetector> cloud = ...;   // KServe v2 gRPC to a remote supernova serve
//   bool queued = cloud->Submit("cam1", frame, {}, [](Result<CloudAnswer> answer) {
//     // later, on the detector's thread: detections of answer->frame_index, or why not
//   });
//   if (!queued) { /* too many calls in flight: this frame is not sent */ }
//
// The remote being slow or away never blocks Submit: a call past its deadline or to an
// unreachable remote ends with an error in the callback, and the stream goes on on the edge.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "stream/frame.h"
#include "stream/tracker.h"
#include "supernova/status.h"

namespace supernova::stream {

// What the remote detector said about one frame.
struct CloudAnswer {
  int64_t frame_index = 0;            // the frame it answers (Frame::index)
  std::vector<Detection> detections;  // in that frame's pixels, the remote model's classes
  double round_trip_ms = 0;           // from Submit to the answer
  // Payload each way as it went on the wire (the encoded image; the detections), for the
  // bandwidth metrics.
  size_t sent_bytes = 0, received_bytes = 0;
};

class CloudDetector {
 public:
  using Callback = std::function<void(Result<CloudAnswer>)>;
  virtual ~CloudDetector() = default;  // waits for the calls in flight (each has a deadline)

  // Queues `frame` of `stream` for the remote detector and returns at once. `done` runs exactly
  // once, later and never inside Submit, on a thread of the detector's: with the answer, or
  // with why there is none (remote unreachable, deadline passed, request refused). Returns
  // false, without calling `done`, when the detector has no room for another call; the frame is
  // then not sent. `features` are what the edge's detector computed for the frame beyond its
  // boxes (DetectorOptions::feature_outputs): a detector that sends features instead of
  // pixels sends those.
  virtual bool Submit(const std::string& stream, FramePtr frame, FrameFeatures features,
                      Callback done) = 0;
  // Whether Submit sends `features` rather than the frame's pixels.
  virtual bool sends_features() const { return false; }
  // Calls submitted and not yet answered.
  virtual int in_flight() const = 0;
  // "grpc 10.0.0.5:8001 model centernet, jpeg q75"
  virtual std::string Describe() const = 0;
};

}  // namespace supernova::stream

// The CloudDetector (stream/cloud.h) of a remote `supernova serve`: each frame goes as a JPEG
// in a KServe v2 gRPC ModelInfer call to a model of platform supernova_detector, input `IMAGE`
// (BYTES [1]), output `DETECTIONS` (FP32 [N,6]: x1, y1, x2, y2, score, class in the image's
// pixels), scaled back to the frame's pixels. Or, feature-level, the edge model's coded cut
// tensors go to a split's tail there, and the edge decodes what it returns.
//
//   KServeCloudOptions o;
//   o.target = "10.0.0.5:8001";
//   o.model = "centernet";
//   auto cloud = KServeCloudDetector::Create(o);
//
// One worker thread per call in flight, each with its own client: Submit queues the frame for
// an idle worker, or refuses when all are busy; the worker encodes, calls and answers. Each
// call's deadline runs from Submit, so the encoding counts against it. An emulated link
// (kserve/emulated_link.h) between each worker and the wire delays, drops or cuts calls as a
// slow link would, deterministic from its seed and the calls' numbers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kserve/transport.h"
#include "stream/cloud.h"

namespace supernova::stream {

struct KServeCloudOptions {
  std::string target;        // HOST:PORT of the remote's gRPC endpoint
  std::string model;         // a supernova_detector model there
  double timeout_ms = 1000;  // per call, from Submit to the answer
  int jpeg_quality = 75;     // 1..100
  int max_side = 0;          // > 0: downscale until the longer side fits (boxes scaled back)
  int max_in_flight = 2;     // calls at once; Submit refuses beyond
  // `supernova run --emulate-link`'s BW_MBIT,RTT_MS[,LOSS] or `--link-schedule`'s
  // REQ:BW,RTT[,LOSS];REQ:off;... with REQ counting the frames sent; empty: the real wire.
  std::string link;
  uint64_t link_seed = 1;
  // gzip on the channel: off by default, as a JPEG does not shrink and the CPU is the edge's.
  bool gzip = false;
  // Feature-level joint inference (docs/joint.md): with `decode` set, each call sends the
  // frame's features (the edge model's coded cut tensors) to `model`, a split's tail at that
  // cut. A tail served as a supernova_detector (input features) answers DETECTIONS in the
  // model input's pixels, which `to_frame` maps to the frame's; a tail served as a plain model
  // answers the source model's outputs, which `decode` (the edge detector's decoder) reads.
  // Without `decode`, the frame goes as a JPEG.
  std::function<Result<std::vector<Detection>>(const FrameFeatures& outputs, const Frame& frame)>
      decode;
  std::function<std::vector<Detection>(std::vector<Detection> boxes, const Frame& frame)> to_frame;
  std::string features_label;  // for Describe(): "T1,T2 (int8)"
};

class KServeCloudDetector : public CloudDetector {
 public:
  // One KServe client per worker (connecting lazily: an unreachable remote shows up as the
  // first call's failure), each behind the emulated link if options.link says one.
  static Result<std::unique_ptr<KServeCloudDetector>> Create(const KServeCloudOptions& options);
  // With the workers' transports given (tests): transports.size() calls in flight at most.
  KServeCloudDetector(const KServeCloudOptions& options,
                      std::vector<std::unique_ptr<kserve::Transport>> transports);
  ~KServeCloudDetector() override;

  bool Submit(const std::string& stream, FramePtr frame, FrameFeatures features,
              Callback done) override;
  bool sends_features() const override { return static_cast<bool>(options_.decode); }
  int in_flight() const override;
  std::string Describe() const override;

 private:
  struct Call {
    std::string stream;
    FramePtr frame;
    FrameFeatures features;
    Callback done;
    int64_t number = 0;  // the emulated link's request number
    std::chrono::steady_clock::time_point submitted;
  };
  void Work(kserve::Transport* transport);
  Result<CloudAnswer> Run(kserve::Transport* transport, const Call& call) const;
  Result<CloudAnswer> RunFeatures(kserve::Transport* transport, const Call& call) const;
  // What is left of the call's deadline, or DeadlineExceeded: it passed before `what`.
  Result<double> TimeLeftMs(const Call& call, const char* what) const;

  KServeCloudOptions options_;
  std::vector<std::unique_ptr<kserve::Transport>> transports_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Call> queue_;
  int in_flight_ = 0;
  int64_t submitted_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace supernova::stream

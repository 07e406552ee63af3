// The frame-skip controller of a live stream: decides, frame by frame, which frames to run
// the model on, so that results never lag behind live by more than a bound whatever the
// model's speed.
//
// The decoder hands frames over in capture order; for each, the controller answers whether
// to infer it. kAdaptive (the default):
//   - a frame with newer frames already waiting behind it is skipped: the newest frame is
//     always the one worth inferring (frames piling up means skipping more);
//   - a frame that could not be finished within the lag bound (its age plus the measured
//     inference time) is skipped while a fresher one can still make it;
//   - in a still scene (small frame difference) the interval between inferred frames grows,
//     up to max_still_interval, saving compute; as soon as the scene moves, it drops back to
//     every frame the model can keep up with.
// kFixed infers every fixed_interval-th frame and kNone every frame: the baselines the
// benchmark compares against. Not thread-safe: one controller per stream.
#pragma once

#include <cstdint>

namespace supernova::stream {

enum class SkipMode { kAdaptive, kFixed, kNone };

struct SkipOptions {
  SkipMode mode = SkipMode::kAdaptive;
  double max_lag_s = 0.2;       // bound on a result's lag behind the frame's capture
  int fixed_interval = 2;       // kFixed: infer one frame in this many
  double still_motion = 0.01;   // frame difference (0..1) below which the scene is still
  double moving_motion = 0.05;  // above which it moves
  int max_still_interval = 8;   // at most this many frames apart in a still scene
  double smoothing = 0.3;       // weight of a new inference time in the running estimate
};

class FrameSkipController {
 public:
  explicit FrameSkipController(SkipOptions options = {});

  // `age_s`: how long ago the frame was captured; `newer_waiting`: frames decoded after it
  // and not yet decided; `motion`: its mean absolute difference from the last inferred frame
  // (0..1). Returns true to infer it; every other frame is skipped.
  bool ShouldInfer(double age_s, int newer_waiting, double motion);
  // The model finished a frame in `seconds`.
  void InferenceFinished(double seconds);

  double inference_estimate_s() const { return inference_s_; }
  int still_interval() const { return interval_; }
  int64_t inferred() const { return inferred_; }
  int64_t skipped() const { return skipped_; }

 private:
  bool Decide(double age_s, int newer_waiting, double motion);

  SkipOptions options_;
  double inference_s_ = 0;  // running estimate; 0 until the first inference
  int interval_ = 1;        // frames between inferences in a still scene
  int since_inferred_ = 0;  // frames decided since the last inferred one
  int64_t frame_ = 0;
  int64_t inferred_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace supernova::stream

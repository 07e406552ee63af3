#include "stream/frame_skip.h"

#include <algorithm>

namespace supernova::stream {

FrameSkipController::FrameSkipController(SkipOptions options) : options_(options) {}

void FrameSkipController::InferenceFinished(double seconds) {
  inference_s_ = inference_s_ == 0
                     ? seconds
                     : options_.smoothing * seconds + (1 - options_.smoothing) * inference_s_;
}

bool FrameSkipController::ShouldInfer(double age_s, int newer_waiting, double motion) {
  const bool infer = Decide(age_s, newer_waiting, motion);
  ++frame_;
  if (infer) {
    ++inferred_;
    since_inferred_ = 0;
  } else {
    ++skipped_;
    ++since_inferred_;
  }
  return infer;
}

bool FrameSkipController::Decide(double age_s, int newer_waiting, double motion) {
  switch (options_.mode) {
    case SkipMode::kNone:
      return true;
    case SkipMode::kFixed:
      return frame_ % std::max(1, options_.fixed_interval) == 0;
    case SkipMode::kAdaptive:
      break;
  }
  // Newer frames are waiting: this one is stale already.
  if (newer_waiting > 0) return false;
  // It would finish too late, and a fresher frame could still be in time (when the model
  // alone takes longer than the bound, nothing can: infer the newest anyway).
  if (inference_s_ > 0 && inference_s_ < options_.max_lag_s &&
      age_s + inference_s_ > options_.max_lag_s)
    return false;
  // The scene: moving → every frame the model keeps up with; still → each inferred frame
  // doubles the interval to the next one, up to max_still_interval.
  if (motion >= options_.moving_motion) interval_ = 1;
  const bool due = since_inferred_ + 1 >= interval_;
  if (due && motion < options_.still_motion)
    interval_ = std::min(options_.max_still_interval, interval_ * 2);
  return due;
}

}  // namespace supernova::stream

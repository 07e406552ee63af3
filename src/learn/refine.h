// Online refinement (docs/learn.md): a confident prediction moves its class's prototype toward
// the new embedding by a running mean, so a class enrolled from a few examples adapts to the
// site. Guards against drifting onto another object:
//   - only predictions with score >= min_score (and margin over the runner-up >= min_margin)
//     update; a caller may demand more (the stream asks the tracker for `confirm_frames` frames
//     of the same track with the same label first);
//   - the running mean weighs the prototype as `count + refinements` examples, so one sample
//     moves it by 1/(n+1);
//   - the result may not leave a cone of max_drift (cosine distance, 1 - cos) around the
//     enrolled anchor: an update that would is clipped to the cone's edge, and refused when the
//     embedding itself is farther than 2 * max_drift from the anchor;
//   - `learn reset` (ClassStore::Reset) returns to the anchor.
// Every decision, taken or refused, is appended to DIR/refine.log as one JSON line (time,
// class, score, drift before and after, accepted, why, source).
#pragma once

#include <string>
#include <vector>

#include "learn/class_store.h"
#include "learn/classifier.h"
#include "supernova/status.h"

namespace supernova::learn {

struct RefineOptions {
  float min_score = 0.8f;
  float min_margin = 0.05f;
  float max_drift = 0.15f;
};

struct RefineResult {
  bool accepted = false;
  // "updated", "clipped to max_drift" (accepted); "no prediction", "below min_score", "margin",
  // "too far from the anchor", "class not in the store" (refused).
  std::string why;
  float drift_before = 0, drift_after = 0;  // 1 - cos(prototype, anchor)
};

class Refiner {
 public:
  Refiner(ClassStore* store, RefineOptions options);
  // Considers one embedding the classifier labelled `prediction`; updates the class in the
  // store when the rules allow. `source` goes into the log ("image a.jpg", "stream cam1 track 7
  // frame 120"). Errors are the store's (I/O), never a refusal.
  Result<RefineResult> Offer(const std::vector<float>& embedding, const Prediction& prediction,
                             const std::string& source);

 private:
  ClassStore* store_;
  RefineOptions options_;
};

}  // namespace supernova::learn

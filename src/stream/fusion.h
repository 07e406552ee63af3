// Fusion of the cloud's late answers into a stream's tracks (docs/joint.md).
//
//   Fusion fusion;
//   tracks = tracker.Update(edge_detections);              // frame t
//   if (sent) fusion.Record(frame->index, tracker, edge_detections);
//   ...                                                    // frames t+1, t+2, ... tracked
//   FusionOutcome o = fusion.Apply(answer, tracker);       // the cloud's answer for t
//
// Record keeps where every track was when a frame went to the cloud. Apply matches the
// cloud's boxes to the tracks as they were then (Hungarian on IoU, whatever the class: the
// label comes from the better model) and:
//   - a matched track takes the cloud's class and score, and its box the correction that
//     confidence-weighted fusion of the edge's and the cloud's box made at t, carried to now;
//   - a cloud box no track matched is born as a confirmed track (an object the edge missed);
//   - a track the cloud did not see counts a miss; `max_misses` answers in a row without it
//     and it is dropped (the edge's false positive).
// Not thread-safe: the stream's worker owns the tracker and its fusion.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "stream/cloud.h"
#include "stream/tracker.h"

namespace supernova::stream {

struct FusionOptions {
  float iou_threshold = 0.3f;  // a cloud box matches a track at t only above this IoU
  int max_misses = 2;          // answers in a row that did not see a track, before it is dropped
  int history = 64;            // tracker frames a sent frame's tracks are kept for its answer
};

// What one answer did.
struct FusionOutcome {
  bool applied = false;     // false: the frame was never recorded or left the history (late)
  int64_t frames_late = 0;  // tracker frames between the answered frame and now
  int corrected = 0, born = 0, dropped = 0;
  // The edge's detections of the frame against the cloud's (IoU 0.5, same class): the
  // accuracy proxy of the edge's model.
  int true_positives = 0, false_positives = 0, false_negatives = 0;
};

// Matches `found` against `reference` (Hungarian on IoU, same class only, IoU >= min_iou) and
// adds to the outcome's true/false positives and false negatives.
void CountMatches(const std::vector<Detection>& found, const std::vector<Detection>& reference,
                  float min_iou, FusionOutcome* outcome);

// The confidence-weighted mean of two boxes, corner by corner.
Box FuseBoxes(const Box& a, float score_a, const Box& b, float score_b);

class Fusion {
 public:
  explicit Fusion(FusionOptions options = {});

  // Frame `frame_index` was just tracked and went to the cloud; `detections` are the edge's.
  void Record(int64_t frame_index, const Tracker& tracker,
              const std::vector<Detection>& detections);
  // The cloud's answer for a recorded frame, into `tracker` (see above). An answer whose frame
  // is not (or no longer) recorded changes nothing: outcome.applied is false.
  FusionOutcome Apply(const CloudAnswer& answer, Tracker& tracker);
  // No answer will come for this frame (the call failed).
  void Forget(int64_t frame_index);
  size_t recorded() const { return history_.size(); }

 private:
  struct Snapshot {
    int64_t frame_index = 0;
    int64_t tracker_frame = 0;  // Tracker::frames() just after the frame was tracked
    std::vector<Track> tracks;  // every live track then, confirmed or not
    std::vector<Detection> detections;
  };
  void Evict(int64_t tracker_frame);

  FusionOptions options_;
  std::deque<Snapshot> history_;   // in frame order
  std::map<int64_t, int> misses_;  // track id -> answers in a row that did not see it
  int64_t last_applied_ = -1;      // frame index of the newest answer applied
};

}  // namespace supernova::stream

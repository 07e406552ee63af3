// Which inferred frames go to the cloud's bigger detector, and why (docs/joint.md).
//
//   auto options = ParseEscalation("key=10,scene=12,score=0.5,min-gap=2");   // --escalate
//   Escalator escalator(*options);
//   unsigned why = escalator.Decide(*frame, edge_detections);  // 0: keep it on the edge
//   if (why != 0 && cloud->Submit(name, frame, {}, done)) escalator.Sent();
//
// Policies, each off unless set: key frames (the first, then one at least every N inferred
// frames), scene change (the picture moved away from the last frame sent), and the three
// hard-example filters of KubeEdge Sedna on the edge's box scores (mean score, mean binary
// entropy, IBT). `min_gap` holds back any send until enough frames passed since the last.
// Not thread-safe: one escalator per stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stream/frame.h"
#include "stream/tracker.h"
#include "supernova/status.h"

namespace supernova::stream {

// Why a frame is sent: a set of these bits.
enum EscalationReason : unsigned {
  kEscalateEvery = 1u << 0,    // `every`: each inferred frame
  kEscalateKey = 1u << 1,      // key frame
  kEscalateScene = 1u << 2,    // scene change
  kEscalateScore = 1u << 3,    // mean score low
  kEscalateEntropy = 1u << 4,  // mean binary entropy high
  kEscalateIbt = 1u << 5,      // many low-score boxes
};
// "key+score": the reasons' names as --escalate spells them, '+' between; "" for none.
std::string EscalationReasonNames(unsigned reasons);

struct EscalationOptions {
  bool every = false;    // every inferred frame (cloud-only)
  int key_interval = 0;  // > 0: key frames this many inferred frames apart
  double scene = 0;      // > 0: mean absolute luma difference (0..255) that is a change
  double score = 0;      // > 0: hard when the boxes' mean score is below it
  double entropy = 0;    // > 0: hard when their mean binary entropy (bits) is above it
  double ibt_image = 0;  // > 0 with ibt_box: hard when the share of boxes scoring
  double ibt_box = 0;    //   below ibt_box is above ibt_image
  int min_gap = 0;       // inferred frames not sent between two sends, at least
  bool sends() const {
    return every || key_interval > 0 || scene > 0 || score > 0 || entropy > 0 || ibt_box > 0;
  }
};

// --escalate: comma-separated `key=N`, `scene=T`, `score=T`, `entropy=T`, `ibt=IMAGE:BOX`,
// `min-gap=N`, `every`; or `none` alone (nothing is sent). Errors name the part at fault.
Result<EscalationOptions> ParseEscalation(std::string_view spec);

// The hard-example filters' measures on a frame's boxes (no box: 0 each; see Decide).
double MeanScore(const std::vector<Detection>& boxes);
double MeanBinaryEntropy(const std::vector<Detection>& boxes);  // bits, 0..1
double LowScoreShare(const std::vector<Detection>& boxes, double box_threshold);

class Escalator {
 public:
  explicit Escalator(EscalationOptions options);

  // One inferred frame and the edge's detections on it, in frame order. Returns why it
  // should be sent, or 0. A frame without boxes is never hard (there is no score to doubt;
  // key frames and scene changes are what find objects the edge missed altogether).
  unsigned Decide(const Frame& frame, const std::vector<Detection>& detections);
  // The frame last decided was queued for the cloud: the gap and the scene are counted
  // from it. Not called when the cloud had no room: the next frame is asked again.
  void Sent();

  const EscalationOptions& options() const { return options_; }

 private:
  EscalationOptions options_;
  int64_t since_sent_ = 0;  // inferred frames decided since the last one sent
  bool sent_any_ = false;
  std::vector<uint8_t> last_sent_;  // thumbnail of the last frame sent (scene policy only)
  std::vector<uint8_t> current_;    // of the frame last decided
};

}  // namespace supernova::stream

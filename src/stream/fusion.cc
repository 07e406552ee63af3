#include "stream/fusion.h"

#include <algorithm>

namespace supernova::stream {
namespace {

std::vector<Box> Boxes(const std::vector<Detection>& detections) {
  std::vector<Box> out;
  for (const Detection& d : detections) out.push_back(d.box);
  return out;
}

}  // namespace

void CountMatches(const std::vector<Detection>& found, const std::vector<Detection>& reference,
                  float min_iou, FusionOutcome* outcome) {
  const std::vector<int> match =
      MatchByIoU(Boxes(found), Boxes(reference), min_iou,
                 [&](int f, int r) { return found[f].class_id == reference[r].class_id; });
  const int matched =
      static_cast<int>(std::count_if(match.begin(), match.end(), [](int m) { return m >= 0; }));
  outcome->true_positives += matched;
  outcome->false_positives += static_cast<int>(found.size()) - matched;
  outcome->false_negatives += static_cast<int>(reference.size()) - matched;
}

Box FuseBoxes(const Box& a, float score_a, const Box& b, float score_b) {
  const float wa = std::max(score_a, 0.0f), wb = std::max(score_b, 0.0f);
  if (wa + wb <= 0) return b;
  auto mix = [&](float x, float y) { return (wa * x + wb * y) / (wa + wb); };
  return {mix(a.x1, b.x1), mix(a.y1, b.y1), mix(a.x2, b.x2), mix(a.y2, b.y2)};
}

Fusion::Fusion(FusionOptions options) : options_(options) {}

void Fusion::Evict(int64_t tracker_frame) {
  while (!history_.empty() && tracker_frame - history_.front().tracker_frame > options_.history)
    history_.pop_front();
}

void Fusion::Record(int64_t frame_index, const Tracker& tracker,
                    const std::vector<Detection>& detections) {
  Evict(tracker.frames());
  history_.push_back({frame_index, tracker.frames(), tracker.tracks(), detections});
}

void Fusion::Forget(int64_t frame_index) {
  for (auto it = history_.begin(); it != history_.end(); ++it)
    if (it->frame_index == frame_index) {
      history_.erase(it);
      return;
    }
}

FusionOutcome Fusion::Apply(const CloudAnswer& answer, Tracker& tracker) {
  FusionOutcome out;
  Evict(tracker.frames());
  auto at = std::find_if(history_.begin(), history_.end(),
                         [&](const Snapshot& s) { return s.frame_index == answer.frame_index; });
  if (at == history_.end()) return out;
  const Snapshot snap = std::move(*at);
  history_.erase(at);
  out.applied = true;
  out.frames_late = tracker.frames() - snap.tracker_frame;
  const int late = static_cast<int>(std::min<int64_t>(out.frames_late, 1 << 20));
  CountMatches(snap.detections, answer.detections, 0.5f, &out);
  // An answer older than one already applied saw less recent a scene: it may correct what it
  // matches, but neither gives birth nor takes life against the newer view.
  const bool newest = answer.frame_index > last_applied_;
  last_applied_ = std::max(last_applied_, answer.frame_index);

  // Candidates: the tracks of the snapshot still alive, at their boxes then; and the tracks
  // born since, at their boxes now (the best there is for them).
  struct Candidate {
    int64_t id;
    Box then;
    float score;
    bool in_snapshot;
  };
  std::vector<Candidate> candidates;
  for (const Track& t : snap.tracks)
    if (tracker.Find(t.id) != nullptr) candidates.push_back({t.id, t.box, t.score, true});
  for (const Track& t : tracker.tracks()) {
    const bool known = std::any_of(snap.tracks.begin(), snap.tracks.end(),
                                   [&](const Track& s) { return s.id == t.id; });
    if (!known) candidates.push_back({t.id, t.box, t.score, false});
  }
  std::vector<Box> then;
  for (const Candidate& c : candidates) then.push_back(c.then);
  const std::vector<int> match = MatchByIoU(then, Boxes(answer.detections), options_.iou_threshold);

  std::vector<char> cloud_used(answer.detections.size(), 0);
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (match[i] < 0) {
      if (!c.in_snapshot || !newest) continue;
      if (++misses_[c.id] >= options_.max_misses && tracker.Drop(c.id)) {
        misses_.erase(c.id);
        ++out.dropped;
        continue;
      }
      // The better model does not see it: carrying it on where the edge does not detect it
      // either would report a box the cloud just said is not there.
      tracker.Doubt(c.id);
      continue;
    }
    const Detection& d = answer.detections[match[i]];
    cloud_used[match[i]] = 1;
    misses_.erase(c.id);
    Box now = tracker.Find(c.id)->box;
    if (c.in_snapshot) {  // the correction made at t, carried to the box now
      const Box fused = FuseBoxes(c.then, c.score, d.box, d.score);
      now = {now.x1 + fused.x1 - c.then.x1, now.y1 + fused.y1 - c.then.y1,
             now.x2 + fused.x2 - c.then.x2, now.y2 + fused.y2 - c.then.y2};
    }
    if (tracker.Correct(c.id, now, d.class_id, d.score, late)) ++out.corrected;
  }
  // A birth too late to outlive the tracker's age limit would die at once: not worth one.
  if (newest && late < tracker.options().max_age) {
    for (size_t k = 0; k < answer.detections.size(); ++k) {
      if (cloud_used[k]) continue;
      tracker.Adopt(answer.detections[k], late);
      ++out.born;
    }
  }
  for (auto it = misses_.begin(); it != misses_.end();)
    it = tracker.Find(it->first) == nullptr ? misses_.erase(it) : std::next(it);
  return out;
}

}  // namespace supernova::stream

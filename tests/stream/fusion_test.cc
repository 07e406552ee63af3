// Fusion of scripted cloud answers into the tracker: a late answer lands on the track that
// was there at its frame (not on the one there now), a cloud-only object is born and carried
// with its label, a track the cloud keeps contradicting is dropped, and an answer older than
// the history changes nothing.
#include "stream/fusion.h"

#include <gtest/gtest.h>

namespace supernova::stream {
namespace {

struct Slider {
  float cx, cy, side, vx;
  Box At(int f) const {
    const float x = cx + vx * static_cast<float>(f);
    return {x - side / 2, cy - side / 2, x + side / 2, cy + side / 2};
  }
};

Box Shift(const Box& b, float dx) { return {b.x1 + dx, b.y1, b.x2 + dx, b.y2}; }

// The live track over `box` (best IoU), or null.
const Track* Over(const Tracker& tracker, const Box& box) {
  const Track* best = nullptr;
  for (const Track& t : tracker.tracks())
    if (IoU(t.box, box) > 0.5f && (!best || IoU(t.box, box) > IoU(best->box, box))) best = &t;
  return best;
}

CloudAnswer Answer(int64_t frame, std::vector<Detection> detections) {
  CloudAnswer a;
  a.frame_index = frame;
  a.detections = std::move(detections);
  return a;
}

TEST(Fusion, FuseBoxesAndCountMatchesOnKnownValues) {
  const Box f = FuseBoxes({0, 0, 10, 10}, 1, {10, 10, 20, 20}, 3);
  EXPECT_FLOAT_EQ(f.x1, 7.5f);
  EXPECT_FLOAT_EQ(f.y2, 17.5f);
  FusionOutcome o;
  // One hit; one of the right place and wrong class; one the reference does not have; one
  // the edge missed.
  CountMatches({{{0, 0, 10, 10}, 0.9f, 0}, {{50, 0, 60, 10}, 0.9f, 0}, {{90, 0, 99, 9}, 1, 1}},
               {{{1, 0, 11, 10}, 0.9f, 0}, {{50, 0, 60, 10}, 0.9f, 1}, {{0, 50, 9, 59}, 1, 0}},
               0.5f, &o);
  EXPECT_EQ(o.true_positives, 1);
  EXPECT_EQ(o.false_positives, 2);
  EXPECT_EQ(o.false_negatives, 2);
}

// Two squares one behind the other, 4 px a frame: ten frames after frame 5, the front one is
// exactly where the rear one was then. Matched on the boxes of now, the answer would give the
// rear one's label to the front one.
TEST(Fusion, ALateAnswerLandsOnTheTrackThatWasThere) {
  const Slider front{70, 100, 40, 4}, rear{110, 100, 40, 4};
  Tracker tracker;
  Fusion fusion;
  auto edge = [&](int f) {
    return std::vector<Detection>{{front.At(f), 0.6f, 0}, {rear.At(f), 0.6f, 0}};
  };
  for (int f = 0; f <= 5; ++f) tracker.Update(edge(f));
  fusion.Record(5, tracker, edge(5));
  const Track at5_front = *Over(tracker, front.At(5)), at5_rear = *Over(tracker, rear.At(5));
  for (int f = 6; f <= 15; ++f) tracker.Update(edge(f));
  const Track now_front = *Over(tracker, front.At(15)), now_rear = *Over(tracker, rear.At(15));
  ASSERT_EQ(now_front.id, at5_front.id);
  ASSERT_GT(IoU(now_front.box, rear.At(5)), 0.9f);  // the trap is set

  // The cloud's view of frame 5: the front square 2 px further right than the edge put it.
  const FusionOutcome o =
      fusion.Apply(Answer(5, {{Shift(front.At(5), 2), 0.6f, 2}, {rear.At(5), 0.6f, 3}}), tracker);
  EXPECT_TRUE(o.applied);
  EXPECT_EQ(o.frames_late, 10);
  EXPECT_EQ(o.corrected, 2);
  EXPECT_EQ(o.born, 0);
  EXPECT_EQ(o.dropped, 0);
  // Edge class 0 against cloud classes 2 and 3: the class-aware proxy finds no agreement.
  EXPECT_EQ(o.true_positives, 0);
  EXPECT_EQ(o.false_negatives, 2);

  const Track* f = tracker.Find(now_front.id);
  const Track* r = tracker.Find(now_rear.id);
  ASSERT_TRUE(f && r);
  EXPECT_EQ(f->class_id, 2);
  EXPECT_EQ(r->class_id, 3);
  EXPECT_TRUE(f->cloud && r->cloud);
  // Equal scores: the fused box is halfway between edge and cloud at frame 5, and the track
  // now moved by that same correction.
  const Box cloud_front = Shift(front.At(5), 2);
  EXPECT_NEAR(f->box.x1, now_front.box.x1 + (cloud_front.x1 - at5_front.box.x1) / 2, 1e-2);
  EXPECT_NEAR(f->box.x2, now_front.box.x2 + (cloud_front.x2 - at5_front.box.x2) / 2, 1e-2);
  EXPECT_NEAR(r->box.y1, now_rear.box.y1 + (rear.At(5).y1 - at5_rear.box.y1) / 2, 1e-2);
  EXPECT_EQ(fusion.recorded(), 0u);
}

TEST(Fusion, ACloudOnlyObjectIsBornAndCarriedWithItsLabel) {
  const Slider seen{60, 60, 30, 2};
  const Box hidden{200, 150, 240, 190};  // the edge never finds it
  Tracker tracker;
  Fusion fusion;
  for (int f = 0; f <= 3; ++f) tracker.Update({{seen.At(f), 0.7f, 0}});
  fusion.Record(3, tracker, {{seen.At(3), 0.7f, 0}});
  for (int f = 4; f <= 6; ++f) tracker.Update({{seen.At(f), 0.7f, 0}});
  const FusionOutcome o =
      fusion.Apply(Answer(3, {{seen.At(3), 0.9f, 0}, {hidden, 0.9f, 5}}), tracker);
  EXPECT_EQ(o.corrected, 1);
  EXPECT_EQ(o.born, 1);
  EXPECT_EQ(o.true_positives, 1);
  EXPECT_EQ(o.false_negatives, 1);
  const Track* born = Over(tracker, hidden);
  ASSERT_NE(born, nullptr);
  const int64_t id = born->id;
  EXPECT_TRUE(born->cloud && born->confirmed);
  EXPECT_EQ(born->class_id, 5);
  EXPECT_EQ(born->frames_since_detection, 3);
  // Inferred and skipped frames alike carry it, though the edge does not see it.
  for (int f = 7; f <= 12; ++f) {
    const std::vector<Track> tracks =
        f % 2 == 0 ? tracker.Update({{seen.At(f), 0.7f, 0}}) : tracker.Predict();
    const auto it =
        std::find_if(tracks.begin(), tracks.end(), [&](const Track& t) { return t.id == id; });
    ASSERT_NE(it, tracks.end()) << "frame " << f;
    EXPECT_EQ(it->class_id, 5);
    EXPECT_GT(IoU(it->box, hidden), 0.9f);
  }
  // The edge finds it at last, as its own class 1 with a low score: the same track, and the
  // cloud's label and score stay until the cloud says otherwise.
  const std::vector<Track> tracks =
      tracker.Update({{seen.At(13), 0.7f, 0}, {Shift(hidden, 1), 0.35f, 1}});
  ASSERT_EQ(tracks.size(), 2u);
  const Track* t = tracker.Find(id);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->class_id, 5);
  EXPECT_FLOAT_EQ(t->score, 0.9f);
  EXPECT_EQ(t->frames_since_detection, 0);
}

TEST(Fusion, ATrackTheCloudKeepsContradictingIsDropped) {
  const Slider real{60, 60, 30, 2};
  const Box ghost{200, 150, 240, 190};  // the edge's false positive
  Tracker tracker;
  Fusion fusion;  // max_misses 2
  auto edge = [&](int f) {
    return std::vector<Detection>{{real.At(f), 0.8f, 0}, {ghost, 0.4f, 0}};
  };
  for (int f = 0; f <= 2; ++f) tracker.Update(edge(f));
  const int64_t ghost_id = Over(tracker, ghost)->id;
  fusion.Record(2, tracker, edge(2));
  tracker.Update(edge(3));
  fusion.Record(3, tracker, edge(3));
  tracker.Update(edge(4));
  FusionOutcome o = fusion.Apply(Answer(2, {{real.At(2), 0.9f, 0}}), tracker);
  EXPECT_EQ(o.dropped, 0);
  EXPECT_NE(tracker.Find(ghost_id), nullptr);  // one miss: doubt, not yet death
  EXPECT_EQ(o.false_positives, 1);
  o = fusion.Apply(Answer(3, {{real.At(3), 0.9f, 0}}), tracker);
  EXPECT_EQ(o.dropped, 1);
  EXPECT_EQ(tracker.Find(ghost_id), nullptr);
  // The edge keeps seeing it: a new, unconfirmed track, not reported while it proves itself.
  const std::vector<Track> tracks = tracker.Update(edge(5));
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_GT(IoU(tracks[0].box, real.At(5)), 0.5f);
}

TEST(Fusion, AnAnswerPastTheHistoryChangesNothing) {
  FusionOptions options;
  options.history = 5;
  Tracker tracker;
  Fusion fusion(options);
  const Slider m{60, 60, 30, 1};
  tracker.Update({{m.At(0), 0.8f, 0}});
  fusion.Record(0, tracker, {{m.At(0), 0.8f, 0}});
  for (int f = 1; f <= 6; ++f) tracker.Update({{m.At(f), 0.8f, 0}});
  const FusionOutcome late = fusion.Apply(Answer(0, {{m.At(0), 0.9f, 4}}), tracker);
  EXPECT_FALSE(late.applied);
  EXPECT_EQ(tracker.tracks()[0].class_id, 0);
  EXPECT_FALSE(tracker.tracks()[0].cloud);
  EXPECT_FALSE(fusion.Apply(Answer(99, {{m.At(0), 0.9f, 4}}), tracker).applied);  // never sent
  fusion.Record(7, tracker, {});
  fusion.Forget(7);  // its call failed
  EXPECT_FALSE(fusion.Apply(Answer(7, {}), tracker).applied);
  // Within the history it applies.
  tracker.Update({{m.At(7), 0.8f, 0}});
  fusion.Record(8, tracker, {{m.At(7), 0.8f, 0}});
  for (int f = 8; f <= 12; ++f) tracker.Update({{m.At(f), 0.8f, 0}});
  EXPECT_TRUE(fusion.Apply(Answer(8, {{m.At(7), 0.9f, 4}}), tracker).applied);
  EXPECT_EQ(tracker.tracks()[0].class_id, 4);
}

}  // namespace
}  // namespace supernova::stream

#include "stream/tracker.h"

#include <gtest/gtest.h>

#include <map>

namespace supernova::stream {
namespace {

// An object moving at constant velocity: its true box at frame f.
struct Mover {
  float x, y, w, h, vx, vy;
  int class_id = 0;
  Box At(int f) const {
    const float cx = x + vx * f, cy = y + vy * f;
    return {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
  }
};

TEST(IoU, KnownValues) {
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0f);
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {5, 0, 15, 10}), 50.0f / 150.0f);
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {20, 20, 30, 30}), 0.0f);
}

TEST(Tracker, PredictionFollowsConstantVelocityThroughSkippedFrames) {
  Tracker tracker;
  const Mover m{100, 80, 40, 60, 4, -2};
  for (int f = 0; f < 10; ++f) tracker.Update({{m.At(f)}});
  // Ten frames with no detection: the box moves on its learnt velocity.
  for (int f = 10; f < 20; ++f) {
    const std::vector<Track> tracks = tracker.Predict();
    ASSERT_EQ(tracks.size(), 1u);
    EXPECT_GT(IoU(tracks[0].box, m.At(f)), 0.9f) << "frame " << f;
    EXPECT_EQ(tracks[0].frames_since_detection, f - 9);
  }
}

TEST(Tracker, IdsStayWithTheirObjectsWhenOnlyEveryThirdFrameIsDetected) {
  TrackerOptions options;
  options.min_hits = 2;
  Tracker tracker(options);
  // Two objects that cross: one moves right, one left, on overlapping rows. They move 9 px
  // between detections, a quarter of their size: at birth the filter knows no velocity, and
  // a much faster object would leave its box before the next detection (what adaptive frame
  // skipping is there to prevent).
  const std::vector<Mover> movers = {{50, 100, 40, 40, 3, 0}, {250, 130, 40, 40, -3, 0}};
  std::map<int, int64_t> id_of;  // mover -> track id
  for (int f = 0; f < 60; ++f) {
    std::vector<Track> tracks;
    if (f % 3 == 0) {
      std::vector<Detection> dets;
      for (const Mover& m : movers) dets.push_back({m.At(f), 0.9f, m.class_id});
      tracks = tracker.Update(dets);
    } else {
      tracks = tracker.Predict();
    }
    if (f < 6) continue;  // confirmation
    ASSERT_EQ(tracks.size(), 2u) << "frame " << f;
    for (size_t k = 0; k < movers.size(); ++k) {
      // The track over this mover, by best IoU with the truth.
      const Track* best = nullptr;
      for (const Track& t : tracks)
        if (!best || IoU(t.box, movers[k].At(f)) > IoU(best->box, movers[k].At(f))) best = &t;
      EXPECT_GT(IoU(best->box, movers[k].At(f)), 0.5f) << "frame " << f;
      if (!id_of.count(static_cast<int>(k))) id_of[static_cast<int>(k)] = best->id;
      EXPECT_EQ(best->id, id_of[static_cast<int>(k)]) << "mover " << k << " frame " << f;
    }
  }
  EXPECT_NE(id_of[0], id_of[1]);
}

TEST(Tracker, BirthConfirmationAndDeath) {
  TrackerOptions options;
  options.min_hits = 3;
  options.max_age = 5;
  Tracker tracker(options);
  const Mover a{100, 100, 20, 20, 1, 0};
  for (int f = 0; f < 5; ++f) tracker.Update({{a.At(f)}});
  // A newcomer after the first frames is reported only once it has min_hits matches.
  const Mover b{300, 300, 20, 20, 0, 1};
  std::vector<Track> tracks = tracker.Update({{a.At(5)}, {b.At(5)}});
  EXPECT_EQ(tracks.size(), 1u);
  tracker.Update({{a.At(6)}, {b.At(6)}});
  tracks = tracker.Update({{a.At(7)}, {b.At(7)}});
  ASSERT_EQ(tracks.size(), 2u);
  const int64_t id_b = tracks[0].id == 1 ? tracks[1].id : tracks[0].id;
  EXPECT_EQ(id_b, 2);
  // b leaves; it survives max_age frames without a detection, then is gone.
  for (int f = 8; f < 8 + options.max_age; ++f) tracker.Update({{a.At(f)}});
  EXPECT_EQ(tracker.tracks().size(), 2u);
  tracker.Update({{a.At(13)}});
  ASSERT_EQ(tracker.tracks().size(), 1u);
  EXPECT_EQ(tracker.tracks()[0].id, 1);
  // An object at b's place later is a new object with a new id.
  tracker.Update({{a.At(14)}, {b.At(14)}});
  EXPECT_EQ(tracker.tracks().back().id, 3);
}

TEST(Tracker, ClassesNeverSwapAndFarDetectionsDoNotMatch) {
  Tracker tracker;
  const Box box{10, 10, 50, 50};
  tracker.Update({{box, 1, /*class_id=*/0}});
  std::vector<Track> tracks = tracker.Update({{box, 1, /*class_id=*/7}});
  ASSERT_EQ(tracker.tracks().size(), 2u);  // same place, other class: a second track
  EXPECT_EQ(tracker.tracks()[1].class_id, 7);
  tracker.Update({{{400, 400, 440, 440}, 1, 0}});
  EXPECT_EQ(tracker.tracks().size(), 3u);  // no overlap with anything: a new track
}

}  // namespace
}  // namespace supernova::stream

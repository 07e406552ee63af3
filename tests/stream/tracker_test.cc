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

// What fusion uses: a correction keeps the track's velocity; a cloud track keeps its class and
// score when the edge's detection of another class matches it.
TEST(Tracker, CorrectMovesATrackAndKeepsItsVelocity) {
  Tracker tracker;
  const Mover m{100, 80, 40, 40, 4, 0};
  for (int f = 0; f < 10; ++f) tracker.Update({{m.At(f), 0.6f, 0}});
  const int64_t id = tracker.tracks()[0].id;
  const Box shifted{m.At(9).x1 + 6, m.At(9).y1, m.At(9).x2 + 6, m.At(9).y2};
  ASSERT_TRUE(tracker.Correct(id, shifted, 3, 0.95f, 2));
  const Track* t = tracker.Find(id);
  ASSERT_NE(t, nullptr);
  EXPECT_NEAR(t->box.x1, shifted.x1, 1e-3);
  EXPECT_NEAR(t->box.y2, shifted.y2, 1e-3);
  EXPECT_EQ(t->class_id, 3);
  EXPECT_TRUE(t->cloud);
  // Still 4 px a frame to the right, from the corrected place.
  const std::vector<Track> next = tracker.Predict();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_NEAR(next[0].box.x1, shifted.x1 + 4, 1.0);
  // The edge's next detection, of its own class 0, still lands on the cloud track.
  const std::vector<Track> updated = tracker.Update({{m.At(11), 0.55f, 0}});
  ASSERT_EQ(tracker.tracks().size(), 1u);
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_EQ(updated[0].id, id);
  EXPECT_EQ(updated[0].class_id, 3);
  EXPECT_FLOAT_EQ(updated[0].score, 0.95f);
  EXPECT_FALSE(tracker.Correct(999, shifted, 1, 1, 0));
}

TEST(Tracker, AdoptedTracksAreConfirmedAndReportedUntilTheyAgeOut) {
  TrackerOptions options;
  options.max_age = 6;
  Tracker tracker(options);
  for (int f = 0; f < 5; ++f) tracker.Update({});
  const int64_t id = tracker.Adopt({{200, 100, 240, 140}, 0.8f, 5}, /*frames_ago=*/2);
  const Track* t = tracker.Find(id);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->confirmed && t->cloud);
  EXPECT_EQ(t->frames_since_detection, 2);
  EXPECT_NEAR(t->box.x1, 200, 1e-3);  // no velocity known: it stays where the cloud saw it
  // The edge never sees it, yet inferred and skipped frames both report it...
  for (int f = 0; f < 4; ++f) {
    const std::vector<Track> tracks = f % 2 == 0 ? tracker.Update({}) : tracker.Predict();
    ASSERT_EQ(tracks.size(), 1u) << f;
    EXPECT_EQ(tracks[0].class_id, 5);
  }
  // ...until max_age frames passed without anyone seeing it.
  EXPECT_TRUE(tracker.Update({}).empty());
  EXPECT_EQ(tracker.Find(id), nullptr);
}

// Where the edge does not detect a cloud track, it is reported for cloud_carry frames after
// anyone saw it, then lives on unreported (to be matched again) until max_age.
TEST(Tracker, CloudTracksAreReportedForCloudCarryFramesThenLiveOnUnreported) {
  TrackerOptions options;
  options.cloud_carry = 3;
  options.cloud_carry_seen = 3;
  Tracker tracker(options);
  const int64_t id = tracker.Adopt({{200, 100, 240, 140}, 0.8f, 5}, /*frames_ago=*/1);
  EXPECT_EQ(tracker.Update({}).size(), 1u);  // seen 2 frames ago
  EXPECT_EQ(tracker.Update({}).size(), 1u);  // 3
  EXPECT_TRUE(tracker.Update({}).empty());   // 4: no longer reported...
  ASSERT_NE(tracker.Find(id), nullptr);      // ...but alive
  // The next answer sees it again: reported again.
  ASSERT_TRUE(tracker.Correct(id, {202, 100, 242, 140}, 5, 0.8f, 1));
  const std::vector<Track> tracks = tracker.Update({});
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].id, id);
}

// What the edge detected and no longer does has likely left or is hidden: a cloud track the
// edge has detected is carried for cloud_carry_seen frames, one only the cloud has seen for
// cloud_carry.
TEST(Tracker, ACloudTrackTheEdgeLostIsCarriedForCloudCarrySeenFrames) {
  TrackerOptions options;
  options.cloud_carry = 5;
  options.cloud_carry_seen = 2;
  Tracker tracker(options);
  const Detection edge{{100, 100, 160, 200}, 0.6f, 0};
  for (int f = 0; f < 4; ++f) tracker.Update({edge});
  ASSERT_EQ(tracker.tracks().size(), 1u);
  const int64_t seen = tracker.tracks()[0].id;
  EXPECT_TRUE(tracker.tracks()[0].edge_seen);
  ASSERT_TRUE(tracker.Correct(seen, edge.box, 7, 0.9f, 0));
  const int64_t only_cloud = tracker.Adopt({{300, 100, 340, 140}, 0.8f, 5}, /*frames_ago=*/0);
  EXPECT_FALSE(tracker.Find(only_cloud)->edge_seen);
  auto ids = [](const std::vector<Track>& tracks) {
    std::vector<int64_t> out;
    for (const Track& t : tracks) out.push_back(t.id);
    return out;
  };
  const std::vector<int64_t> both = {seen, only_cloud};
  EXPECT_EQ(ids(tracker.Update({})), both);  // 1 frame without the edge
  EXPECT_EQ(ids(tracker.Update({})), both);  // 2
  for (int f = 3; f <= 5; ++f)
    EXPECT_EQ(ids(tracker.Update({})), std::vector<int64_t>{only_cloud}) << f;
  EXPECT_TRUE(tracker.Update({}).empty());  // 6
  // The edge detecting the cloud-only object makes it one the edge has seen.
  EXPECT_EQ(ids(tracker.Update({{{300, 100, 340, 140}, 0.5f, 5}})),
            std::vector<int64_t>{only_cloud});
  EXPECT_TRUE(tracker.Find(only_cloud)->edge_seen);
}

// A cloud track born beside the edge's own track of the same object: the edge's detection
// goes to one of them, and the output holds one box, with the cloud's label.
TEST(Tracker, ACloudTrackBesideTheDetectedOneIsMergedIntoIt) {
  Tracker tracker;
  const Detection edge{{100, 100, 160, 200}, 0.6f, 0};
  for (int f = 0; f < 4; ++f) tracker.Update({edge});
  tracker.Adopt({{108, 104, 168, 204}, 0.9f, 7}, /*frames_ago=*/0);
  for (int f = 0; f < 3; ++f) {
    const std::vector<Track> tracks = tracker.Update({edge});
    ASSERT_EQ(tracks.size(), 1u) << "frame " << f;
    EXPECT_EQ(tracks[0].class_id, 7);
    EXPECT_TRUE(tracks[0].cloud);
  }
}

TEST(Tracker, DropEndsATrack) {
  Tracker tracker;
  tracker.Update({{{10, 10, 50, 50}, 0.9f, 0}, {{100, 10, 140, 50}, 0.9f, 0}});
  const int64_t first = tracker.tracks()[0].id, second = tracker.tracks()[1].id;
  EXPECT_TRUE(tracker.Drop(first));
  EXPECT_FALSE(tracker.Drop(first));
  ASSERT_EQ(tracker.tracks().size(), 1u);
  EXPECT_EQ(tracker.tracks()[0].id, second);
  // The filters stayed paired with their tracks: the survivor still follows its own box.
  const std::vector<Track> tracks = tracker.Update({{{102, 10, 142, 50}, 0.9f, 0}});
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].id, second);
  EXPECT_GT(tracks[0].box.x1, 99);
}

TEST(Tracker, ALearnedLabelStaysWithItsTrackUntilTheNextOne) {
  Tracker tracker;
  const Mover a{30, 30, 20, 20, 2, 0}, b{120, 30, 20, 20, -2, 0};
  tracker.Update({{a.At(0)}, {b.At(0)}});
  const int64_t id_a = tracker.tracks()[0].id, id_b = tracker.tracks()[1].id;
  EXPECT_TRUE(tracker.SetLearned(id_a, {.label = "alice", .score = 0.9f, .frame = 0, .streak = 1}));
  EXPECT_FALSE(tracker.SetLearned(999, {.label = "nobody"}));
  // Through detected and predicted frames alike, on its own track only.
  for (int f = 1; f < 6; ++f) {
    const std::vector<Track> tracks =
        f % 2 ? tracker.Update({{a.At(f)}, {b.At(f)}}) : tracker.Predict();
    ASSERT_EQ(tracks.size(), 2u) << "frame " << f;
    for (const Track& t : tracks) {
      EXPECT_EQ(t.learned.label, t.id == id_a ? "alice" : "") << "frame " << f;
      EXPECT_EQ(t.learned.frame, t.id == id_a ? 0 : -1);
    }
  }
  EXPECT_TRUE(tracker.SetLearned(id_a, {.label = "", .score = 0.2f, .frame = 6}));
  EXPECT_EQ(tracker.Find(id_a)->learned.label, "");
  EXPECT_EQ(tracker.Find(id_a)->learned.frame, 6);
  EXPECT_EQ(tracker.Find(id_b)->learned.frame, -1);
}

}  // namespace
}  // namespace supernova::stream

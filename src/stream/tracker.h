// A SORT-style multi-object tracker: a constant-velocity Kalman filter per object over the
// box's centre, area and aspect ratio; detections matched to tracks by IoU with the
// Hungarian method (class-aware); tracks born from unmatched detections and dropped after
// `max_age` frames without one. Ids are stable and never reused.
//
//   Tracker tracker;
//   tracks = tracker.Update(detections);   // a frame the detector ran on
//   tracks = tracker.Predict();            // a frame it skipped: boxes move on their velocity
//
// Predict() is what carries objects through frames that adaptive frame skipping did not
// infer. A bigger detector's answers, which come frames late, go in through Correct, Adopt
// and Drop (stream/fusion.h): a track so touched is a cloud track, whose class and score are
// the cloud's until its next answer, matched to the edge's detections whatever their class,
// and reported while it lives even on frames the edge missed it. Not thread-safe: one
// tracker per stream.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace supernova::stream {

struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // corners, x2 > x1 and y2 > y1
  float width() const { return x2 - x1; }
  float height() const { return y2 - y1; }
};

float IoU(const Box& a, const Box& b);

// Rows matched to columns by the least-cost assignment on 1 - IoU (stream/assignment.h): for
// each row its column, or -1 where it got none, got one below `min_iou`, or got one
// `allowed(row, col)` forbids (a forbidden pair costs more than any allowed one).
std::vector<int> MatchByIoU(const std::vector<Box>& rows, const std::vector<Box>& cols,
                            float min_iou, const std::function<bool(int, int)>& allowed = nullptr);

struct Detection {
  Box box;
  float score = 1;
  int class_id = 0;
};

// What on-device learning (a TrackLabeller, stream/labeller.h) last said of a track. The
// tracker keeps it with the track, so every frame reports it until the next classification.
struct LearnedLabel {
  std::string label;   // the learned class; "" where it was not recognised (or never looked at)
  float score = 0;     // cosine similarity to the nearest class
  int64_t frame = -1;  // frame index of the last classification; -1: never classified
  // Classifications in a row, up to the last, that gave `label` confidently: the evidence a
  // labeller asks for before it lets the track refine its class.
  int streak = 0;
};

struct Track {
  int64_t id = 0;
  Box box;  // the filter's estimate for the current frame
  int class_id = 0;
  float score = 0;  // of the last matched detection
  int hits = 0;     // frames with a matched detection
  int frames_since_detection = 0;
  bool confirmed = false;  // min_hits reached (or the tracker's first frames)
  bool cloud = false;      // class and score came from the cloud's detector
  bool edge_seen = false;  // the edge has detected it (born of, or matched to, a detection)
  LearnedLabel learned;
};

struct TrackerOptions {
  float iou_threshold = 0.3f;  // a detection matches a track only above this IoU
  int max_age = 30;            // frames (inferred or predicted) a track lives unmatched
  int min_hits = 3;            // matched frames before a track is confirmed
  bool class_aware = true;     // never match a detection to a track of another class
  // Joint inference: a cloud track the edge does not detect is reported for this many frames
  // after the edge or the cloud last saw it (it lives on to max_age, to be matched again).
  // Longer carries an object only the cloud sees from one answer to the next; shorter stops
  // reporting a box the object has left.
  int cloud_carry = 10;
  // The same for a cloud track the edge has detected before: the edge no longer detecting
  // what it did is news (the object left, or is hidden), where for an object only the cloud
  // sees it is none.
  int cloud_carry_seen = 3;
  // A cloud track the edge did not detect this frame, overlapping a track it did above this
  // IoU, is the same object twice: it is merged into that track, which takes its label.
  float cloud_merge_iou = 0.5f;
};

class Tracker {
 public:
  explicit Tracker(TrackerOptions options = {});

  // One frame with detections: predicts every track, matches, updates, births and deaths.
  // Returns the confirmed tracks matched in this frame (with their filtered boxes), and the
  // cloud tracks seen within `cloud_carry` frames, matched or not.
  std::vector<Track> Update(const std::vector<Detection>& detections);
  // One frame without detections: every track moves on its velocity. Returns the confirmed
  // tracks still alive, at their predicted boxes.
  std::vector<Track> Predict();

  // The cloud saw track `id` at `box` (already moved to the current frame), `frames_ago`
  // frames back: the track jumps there keeping its velocity, takes the class and score, and
  // becomes a confirmed cloud track. False if no such track lives.
  bool Correct(int64_t id, const Box& box, int class_id, float score, int frames_ago);
  // An object only the cloud saw, `frames_ago` frames back at `detection.box`: a confirmed
  // cloud track from now on (its velocity unknown, so it stays put until measured). Returns
  // its id.
  int64_t Adopt(const Detection& detection, int frames_ago);
  // Ends track `id` now (the cloud contradicted it). False if no such track lives.
  bool Drop(int64_t id);
  // The cloud's newest answer did not see track `id`: it is no longer carried where the edge
  // does not detect it (until the edge or the cloud sees it again). False if no such track.
  bool Doubt(int64_t id);
  // A labeller classified track `id`: its label from now on. False if no such track lives.
  bool SetLearned(int64_t id, const LearnedLabel& learned);

  // Every live track, confirmed or not.
  const std::vector<Track>& tracks() const { return tracks_; }
  const Track* Find(int64_t id) const;
  int64_t frames() const { return frame_; }  // Update and Predict calls so far
  const TrackerOptions& options() const { return options_; }

 private:
  struct Filter {  // state: cx, cy, area, aspect, vx, vy, v_area
    std::array<double, 7> x{};
    std::array<double, 49> P{};
  };
  static Filter Init(const Box& box);
  static void KalmanPredict(Filter& f);
  static void KalmanUpdate(Filter& f, const Box& box);
  static Box ToBox(const Filter& f);
  void PredictAll();
  void DropStale();
  void MergeCloudDuplicates();
  int IndexOf(int64_t id) const;
  int CloudCarry(const Track& t) const;  // cloud_carry or cloud_carry_seen

  TrackerOptions options_;
  std::vector<Track> tracks_;
  std::vector<Filter> filters_;  // parallel to tracks_
  int64_t next_id_ = 1;
  int64_t frame_ = 0;
};

}  // namespace supernova::stream

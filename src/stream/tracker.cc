#include "stream/tracker.h"

#include <algorithm>
#include <cmath>

#include "stream/assignment.h"

namespace supernova::stream {
namespace {

constexpr int kN = 7;  // state size
constexpr int kM = 4;  // measurement size: cx, cy, area, aspect

// Noise, as the SORT paper sets it: measurements of area and aspect are less certain than
// of the centre; velocities start very uncertain (nothing is known of them at birth).
constexpr std::array<double, kM> kMeasurementNoise = {1, 1, 10, 10};
constexpr std::array<double, kN> kProcessNoise = {1, 1, 1, 1, 0.01, 0.01, 0.0001};
constexpr std::array<double, kN> kInitialVariance = {10, 10, 10, 10, 10000, 10000, 10000};

std::array<double, kM> Measure(const Box& b) {
  const double w = b.width(), h = b.height();
  return {b.x1 + w / 2, b.y1 + h / 2, w * h, h > 0 ? w / h : 1};
}

// Inverts a symmetric positive-definite 4x4 matrix by Gauss–Jordan elimination with pivoting.
std::array<double, kM * kM> Inverse4(std::array<double, kM * kM> a) {
  std::array<double, kM * kM> inv{};
  for (int i = 0; i < kM; ++i) inv[i * kM + i] = 1;
  for (int c = 0; c < kM; ++c) {
    int pivot = c;
    for (int r = c + 1; r < kM; ++r)
      if (std::abs(a[r * kM + c]) > std::abs(a[pivot * kM + c])) pivot = r;
    for (int k = 0; k < kM; ++k) {
      std::swap(a[c * kM + k], a[pivot * kM + k]);
      std::swap(inv[c * kM + k], inv[pivot * kM + k]);
    }
    const double d = a[c * kM + c];
    for (int k = 0; k < kM; ++k) {
      a[c * kM + k] /= d;
      inv[c * kM + k] /= d;
    }
    for (int r = 0; r < kM; ++r) {
      if (r == c) continue;
      const double f = a[r * kM + c];
      for (int k = 0; k < kM; ++k) {
        a[r * kM + k] -= f * a[c * kM + k];
        inv[r * kM + k] -= f * inv[c * kM + k];
      }
    }
  }
  return inv;
}

}  // namespace

float IoU(const Box& a, const Box& b) {
  const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const float inter = iw * ih;
  const float uni = a.width() * a.height() + b.width() * b.height() - inter;
  return uni > 0 ? inter / uni : 0;
}

std::vector<int> MatchByIoU(const std::vector<Box>& rows, const std::vector<Box>& cols,
                            float min_iou, const std::function<bool(int, int)>& allowed) {
  const int nr = static_cast<int>(rows.size()), nc = static_cast<int>(cols.size());
  std::vector<double> cost(static_cast<size_t>(nr) * nc);
  for (int r = 0; r < nr; ++r)
    for (int c = 0; c < nc; ++c)
      cost[r * nc + c] = allowed && !allowed(r, c) ? 2.0 : 1.0 - IoU(rows[r], cols[c]);
  std::vector<int> match = MinCostAssignment(cost, nr, nc);
  for (int r = 0; r < nr; ++r)
    if (match[r] >= 0 && cost[r * nc + match[r]] > 1.0 - min_iou) match[r] = -1;
  return match;
}

Tracker::Tracker(TrackerOptions options) : options_(options) {}

Tracker::Filter Tracker::Init(const Box& box) {
  Filter f;
  const auto z = Measure(box);
  for (int i = 0; i < kM; ++i) f.x[i] = z[i];
  for (int i = 0; i < kN; ++i) f.P[i * kN + i] = kInitialVariance[i];
  return f;
}

// x = F x, P = F P Fᵀ + Q, where F adds each velocity to its quantity.
void Tracker::KalmanPredict(Filter& f) {
  if (f.x[2] + f.x[6] <= 0) f.x[6] = 0;  // the area cannot turn negative
  for (int i = 0; i < 3; ++i) f.x[i] += f.x[i + 4];
  std::array<double, 49> fp = f.P;  // F P: row i (< 3) gains row i+4
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < kN; ++k) fp[i * kN + k] += f.P[(i + 4) * kN + k];
  std::array<double, 49> fpf = fp;  // (F P) Fᵀ: column j (< 3) gains column j+4
  for (int r = 0; r < kN; ++r)
    for (int j = 0; j < 3; ++j) fpf[r * kN + j] += fp[r * kN + j + 4];
  for (int i = 0; i < kN; ++i) fpf[i * kN + i] += kProcessNoise[i];
  f.P = fpf;
}

// H selects the first four state entries, so H P Hᵀ is P's top-left 4x4 block and P Hᵀ its
// first four columns.
void Tracker::KalmanUpdate(Filter& f, const Box& box) {
  const auto z = Measure(box);
  std::array<double, kM * kM> s{};
  for (int i = 0; i < kM; ++i)
    for (int j = 0; j < kM; ++j)
      s[i * kM + j] = f.P[i * kN + j] + (i == j ? kMeasurementNoise[i] : 0);
  const auto s_inv = Inverse4(s);
  std::array<double, kN * kM> k{};  // K = P Hᵀ S⁻¹
  for (int r = 0; r < kN; ++r)
    for (int c = 0; c < kM; ++c) {
      double acc = 0;
      for (int t = 0; t < kM; ++t) acc += f.P[r * kN + t] * s_inv[t * kM + c];
      k[r * kM + c] = acc;
    }
  std::array<double, kM> y{};
  for (int i = 0; i < kM; ++i) y[i] = z[i] - f.x[i];
  for (int r = 0; r < kN; ++r)
    for (int c = 0; c < kM; ++c) f.x[r] += k[r * kM + c] * y[c];
  std::array<double, 49> p = f.P;  // P = (I - K H) P = P - K (H P)
  for (int r = 0; r < kN; ++r)
    for (int c = 0; c < kN; ++c) {
      double acc = 0;
      for (int t = 0; t < kM; ++t) acc += k[r * kM + t] * f.P[t * kN + c];
      p[r * kN + c] -= acc;
    }
  f.P = p;
}

Box Tracker::ToBox(const Filter& f) {
  const double area = std::max(f.x[2], 0.0);
  const double aspect = std::max(f.x[3], 1e-6);
  const double w = std::sqrt(area * aspect);
  const double h = w > 0 ? area / w : 0;
  return {static_cast<float>(f.x[0] - w / 2), static_cast<float>(f.x[1] - h / 2),
          static_cast<float>(f.x[0] + w / 2), static_cast<float>(f.x[1] + h / 2)};
}

void Tracker::PredictAll() {
  ++frame_;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    KalmanPredict(filters_[i]);
    tracks_[i].box = ToBox(filters_[i]);
    ++tracks_[i].frames_since_detection;
  }
}

void Tracker::DropStale() {
  size_t w = 0;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    if (tracks_[i].frames_since_detection > options_.max_age) continue;
    tracks_[w] = tracks_[i];
    filters_[w] = filters_[i];
    ++w;
  }
  tracks_.resize(w);
  filters_.resize(w);
}

std::vector<Track> Tracker::Update(const std::vector<Detection>& detections) {
  PredictAll();
  const int nt = static_cast<int>(tracks_.size());
  const int nd = static_cast<int>(detections.size());
  std::vector<Box> track_boxes, detection_boxes;
  for (const Track& t : tracks_) track_boxes.push_back(t.box);
  for (const Detection& d : detections) detection_boxes.push_back(d.box);
  // A cloud track's class is the better model's: the edge's own may differ.
  auto same_class = [&](int t, int d) {
    return tracks_[t].cloud || tracks_[t].class_id == detections[d].class_id;
  };
  const std::vector<int> match =
      MatchByIoU(track_boxes, detection_boxes, options_.iou_threshold,
                 options_.class_aware ? std::function<bool(int, int)>(same_class) : nullptr);
  std::vector<char> detection_used(nd, 0);
  for (int t = 0; t < nt; ++t) {
    const int d = match[t];
    if (d < 0) continue;
    detection_used[d] = 1;
    KalmanUpdate(filters_[t], detections[d].box);
    Track& track = tracks_[t];
    track.box = ToBox(filters_[t]);
    if (!track.cloud) track.score = detections[d].score;
    track.frames_since_detection = 0;
    track.edge_seen = true;
    ++track.hits;
    if (track.hits >= options_.min_hits) track.confirmed = true;
  }
  for (int d = 0; d < nd; ++d) {
    if (detection_used[d]) continue;
    Track track;
    track.id = next_id_++;
    track.box = detections[d].box;
    track.class_id = detections[d].class_id;
    track.score = detections[d].score;
    track.hits = 1;
    track.edge_seen = true;
    // In the first frames of a stream nothing could have min_hits yet: report at once.
    track.confirmed = frame_ <= options_.min_hits || options_.min_hits <= 1;
    tracks_.push_back(track);
    filters_.push_back(Init(detections[d].box));
  }
  MergeCloudDuplicates();
  DropStale();
  std::vector<Track> out;
  for (const Track& t : tracks_)
    if (t.confirmed &&
        (t.frames_since_detection == 0 || (t.cloud && t.frames_since_detection <= CloudCarry(t))))
      out.push_back(t);
  return out;
}

// A cloud track born beside an edge track of the same object (the edge's box was too far off
// at the answered frame to match), or an edge track born beside a cloud track (the edge's
// detection went to the other one): the edge detects one of them, the other would be
// reported beside it as a second box until it aged out. The one the edge detected stays, with
// the cloud's label.
void Tracker::MergeCloudDuplicates() {
  std::vector<char> drop(tracks_.size(), 0);
  for (size_t i = 0; i < tracks_.size(); ++i) {
    Track& ghost = tracks_[i];
    if (!ghost.cloud || ghost.frames_since_detection == 0) continue;
    for (size_t j = 0; j < tracks_.size(); ++j) {
      Track& seen = tracks_[j];
      if (j == i || drop[j] || seen.frames_since_detection != 0 ||
          IoU(ghost.box, seen.box) <= options_.cloud_merge_iou)
        continue;
      if (!seen.cloud) {
        seen.class_id = ghost.class_id;
        seen.score = ghost.score;
        seen.cloud = true;
        seen.confirmed = true;
      }
      drop[i] = 1;
      break;
    }
  }
  size_t w = 0;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    if (drop[i]) continue;
    tracks_[w] = tracks_[i];
    filters_[w] = filters_[i];
    ++w;
  }
  tracks_.resize(w);
  filters_.resize(w);
}

std::vector<Track> Tracker::Predict() {
  PredictAll();
  DropStale();
  std::vector<Track> out;
  for (const Track& t : tracks_)
    if (t.confirmed) out.push_back(t);
  return out;
}

int Tracker::CloudCarry(const Track& t) const {
  return t.edge_seen ? options_.cloud_carry_seen : options_.cloud_carry;
}

int Tracker::IndexOf(int64_t id) const {
  for (size_t i = 0; i < tracks_.size(); ++i)
    if (tracks_[i].id == id) return static_cast<int>(i);
  return -1;
}

const Track* Tracker::Find(int64_t id) const {
  const int i = IndexOf(id);
  return i < 0 ? nullptr : &tracks_[i];
}

bool Tracker::Correct(int64_t id, const Box& box, int class_id, float score, int frames_ago) {
  const int i = IndexOf(id);
  if (i < 0 || box.width() <= 0 || box.height() <= 0) return false;
  // The position, not a measurement update: the fused box already weighs edge against cloud,
  // and blending it with the filter again would undo part of the correction.
  const auto z = Measure(box);
  for (int k = 0; k < kM; ++k) filters_[i].x[k] = z[k];
  Track& t = tracks_[i];
  t.box = ToBox(filters_[i]);
  t.class_id = class_id;
  t.score = score;
  t.cloud = true;
  t.confirmed = true;
  t.frames_since_detection = std::min(t.frames_since_detection, std::max(frames_ago, 0));
  return true;
}

int64_t Tracker::Adopt(const Detection& detection, int frames_ago) {
  Track t;
  t.id = next_id_++;
  t.class_id = detection.class_id;
  t.score = detection.score;
  t.hits = 1;
  t.confirmed = true;
  t.cloud = true;
  t.frames_since_detection = std::max(frames_ago, 0);
  Filter f = Init(detection.box);
  // Uncertainty grows with the frames it was not seen, so the edge's next detection of it
  // pulls the box readily.
  for (int k = 0; k < frames_ago; ++k) KalmanPredict(f);
  t.box = ToBox(f);
  tracks_.push_back(t);
  filters_.push_back(f);
  return t.id;
}

bool Tracker::Drop(int64_t id) {
  const int i = IndexOf(id);
  if (i < 0) return false;
  tracks_.erase(tracks_.begin() + i);
  filters_.erase(filters_.begin() + i);
  return true;
}

bool Tracker::Doubt(int64_t id) {
  const int i = IndexOf(id);
  if (i < 0) return false;
  Track& t = tracks_[i];
  t.frames_since_detection = std::max(
      t.frames_since_detection, std::max(options_.cloud_carry, options_.cloud_carry_seen) + 1);
  return true;
}

bool Tracker::SetLearned(int64_t id, const LearnedLabel& learned) {
  const int i = IndexOf(id);
  if (i < 0) return false;
  tracks_[i].learned = learned;
  return true;
}

}  // namespace supernova::stream

// What the sink tests share: frames and results with known content, a scratch directory,
// and polling for a condition another thread makes true.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "stream/draw.h"
#include "stream/frame.h"
#include "stream/sinks.h"

namespace supernova::testing {

// A w x h frame filled with `bgr`.
inline stream::FramePtr MakeFrame(int w, int h, int64_t index, stream::Color bgr = {}) {
  auto f = std::make_shared<stream::Frame>();
  f->width = w;
  f->height = h;
  f->index = index;
  f->pts_s = static_cast<double>(index) / 25.0;
  f->bgr.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < f->bgr.size(); i += 3) {
    f->bgr[i] = bgr.b;
    f->bgr[i + 1] = bgr.g;
    f->bgr[i + 2] = bgr.r;
  }
  return f;
}

inline stream::Track MakeTrack(int64_t id, int class_id, stream::Box box, float score = 0.9f) {
  stream::Track t;
  t.id = id;
  t.class_id = class_id;
  t.box = box;
  t.score = score;
  t.hits = 5;
  t.confirmed = true;
  return t;
}

// Frame `index` of a test stream: two tracks moving right one pixel a frame.
inline stream::FrameResult MakeResult(int64_t index, stream::FramePtr frame = nullptr) {
  stream::FrameResult r;
  r.stream = "cam1";
  r.frame = frame ? std::move(frame) : MakeFrame(64, 48, index);
  r.inferred = index % 2 == 0;
  const float dx = static_cast<float>(index);
  r.tracks = {MakeTrack(7, 0, {10.25f + dx, 20.5f, 30.75f + dx, 40.0f}, 0.875f),
              MakeTrack(12, 5, {1.0f, 2.0f, 3.5f + dx, 4.5f}, 0.5f)};
  r.tracks[1].cloud = index % 2 == 1;  // its label came from the cloud's answer
  // On-device learning recognised track 7 from frame 2 on; track 12 it never did.
  if (index >= 2)
    r.tracks[0].learned = {.label = "alice", .score = 0.91234f, .frame = 2, .streak = 1};
  if (r.inferred) r.detections = {{{10.0f + dx, 20.0f, 31.0f + dx, 40.0f}, 0.875f, 0}};
  r.cloud_sent = index % 4 == 0;
  r.lag_s = 0.0125;
  r.timestamp_ns = 1700000000000000000LL + index * 40000000LL;
  return r;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sn_sinks_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `done` every 10 ms until it holds or `timeout` passes; returns its last value.
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace supernova::testing

// What the stream pipeline passes between its stages: decoded frames (source -> pipeline)
// and per-frame results (pipeline -> sinks).
//
//   FramePtr frame = ...;              // from a VideoSource, packed BGR
//   FrameResult r{.stream = "cam1", .frame = frame, .inferred = true, ...};
//   sink->Write(r);                    // MQTT / JSON lines / annotated video
//
// Frames are immutable once made and shared by pointer: the decoder, the pipeline and every
// sink may hold the same frame at once without copies.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "stream/tracker.h"
#include "supernova/tensor.h"

namespace supernova::stream {

struct Frame {
  int width = 0, height = 0;
  std::vector<uint8_t> bgr;  // width * height * 3 bytes, packed B,G,R, rows without padding
  int64_t index = 0;         // decode order in the source from 0, counting every frame decoded
  double pts_s = 0;          // presentation time in the stream, seconds from its first frame
  // When the frame became available live: for a camera or a network stream the moment it was
  // decoded; for a file played in real time, the moment its presentation time came. Lag
  // behind live is measured from here.
  std::chrono::steady_clock::time_point captured;
};
using FramePtr = std::shared_ptr<const Frame>;

// Named tensors computed for one frame beyond its detections: the coded cut tensors that
// feature-level joint inference sends the cloud instead of the frame (docs/joint.md).
using FrameFeatures = std::vector<std::pair<std::string, Tensor>>;

// One frame's outcome. Every frame the source delivered gets one, inferred or not, so that
// sinks see a continuous stream of tracks.
struct FrameResult {
  std::string stream;  // the stream's name (from the command line, or the source URL)
  FramePtr frame;
  bool inferred = false;              // the model ran on this frame
  std::vector<Detection> detections;  // the model's detections in frame pixels (inferred only)
  std::vector<Track> tracks;          // confirmed tracks in frame pixels (predicted if skipped)
  bool cloud_sent = false;            // went to the cloud's detector (its answer comes later)
  double lag_s = 0;                   // from frame->captured to this result
  int64_t timestamp_ns = 0;           // wall clock (system_clock, Unix epoch) of the result
};

}  // namespace supernova::stream

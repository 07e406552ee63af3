// Test material for the stream pipeline: frames with white squares moving on black at known
// positions, a live (or as-fast-as-possible) source of them, and a real detector model for
// them, built in code. Shared by the tests and the benchmark (bench/stream/).
//
//   SquaresScene scene{.width = 320, .height = 240, .side = 32, .squares = {{40, 60, 4, 0}}};
//   Status s = WriteSquaresModel(dir + "/squares.onnx", 320, 240, 32, /*depth=*/0);
//   Status e = WriteCellsEmbeddingModel(dir + "/cells.onnx", 32);   // tells the kinds apart
//   auto source = std::make_unique<SquaresSource>(scene, /*frames=*/50, /*fps=*/25, true);
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "stream/pipeline.h"

namespace supernova::testing {

struct Square {
  float x0 = 0, y0 = 0;  // centre at frame 0, pixels
  float vx = 0, vy = 0;  // pixels per frame
  // An orbit on top, x += ax sin(2 pi frame / period), y += ay cos(...) (none where period is
  // 0): motion a constant-velocity filter does not foresee, and that stays in the frame.
  float ax = 0, ay = 0, period = 0;
  // An outline side/4 wide instead of a filled square: the squares model still finds it (its
  // heatmap peaks at 0.75), and an embedding of the crops tells the two kinds apart.
  bool hollow = false;
};

struct SquaresScene {
  int width = 320, height = 240;
  int side = 32;
  std::vector<Square> squares;
  // Ground truth: square i's box in frame `index`.
  stream::Box Truth(size_t i, int64_t index) const;
  // The frame: white squares (filled or hollow) on black.
  stream::FramePtr Draw(int64_t index, std::chrono::steady_clock::time_point captured) const;
};

// `frames` frames at `fps`. Live: each is delivered when its time comes (captured = that
// time) and never waits for the reader. Not live: as fast as the reader takes them.
class SquaresSource : public stream::FrameSource {
 public:
  SquaresSource(SquaresScene scene, int frames, double fps, bool live);
  Result<stream::FramePtr> Read() override;
  void Close() override { closed_ = true; }
  bool live() const override { return live_; }

 private:
  SquaresScene scene_;
  int frames_;
  double fps_;
  bool live_;
  int next_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::atomic<bool> closed_{false};
};

// A CenterNet-style detector of the scene's squares, exact by construction: input "images"
// float32 [N, 3, height, width] (pixels / 255); the heatmap is the mean over channels
// averaged over side x side windows at stride 4 (1 where a square is centred on the cell),
// the extents side/2 everywhere. `depth` identity MatMuls over the whole input first make it
// as slow as a test needs without changing a value (3 * width * height must then be a
// multiple of 1024).
Status WriteSquaresModel(const std::string& path, int width, int height, int side, int depth);

// An embedding model for crops of the scene, exact by construction: input "crops" float32
// [N, 3, size, size] (pixels / 255), output "cells" float32 [N, 16], the mean brightness of each
// cell of a 4 x 4 grid over the crop (size a multiple of 4). A filled square lights every cell
// of its crop, a hollow one leaves the four in the middle dark.
Status WriteCellsEmbeddingModel(const std::string& path, int size);

}  // namespace supernova::testing

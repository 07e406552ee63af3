// One live stream and a model slower than the frame rate: adaptive frame skipping against
// fixed-interval skipping at the same compute (the interval that infers as many frames as
// adaptive did) and against inferring every frame. Frames are moving squares with exact
// ground truth (tests/stream/squares.h), the model a real one that finds them, made slow on
// purpose (identity MatMuls) to --model-ms.
//
// Per mode: frames inferred, lag behind live of the detections (p50/p99) and of every
// result, and tracked-box accuracy as mean IoU with the ground truth of the frame the result
// belongs to ("IoU frame") and with where the squares are when the result comes out ("IoU
// live": what a consumer acting on the result sees).
//
//   skip_bench --model-ms 120 --fps 25 --seconds 12 [--json out.json]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "stream/detector.h"
#include "stream/pipeline.h"
#include "stream/squares.h"

namespace {

using namespace supernova;          // NOLINT
using namespace supernova::stream;  // NOLINT
using supernova::testing::SquaresScene;
using supernova::testing::SquaresSource;
using Clock = std::chrono::steady_clock;

struct ModeResult {
  std::string mode;
  StreamMetrics metrics;
  double iou_frame = 0, iou_live = 0;
};

// Mean over frames and squares of the best IoU any track has with the square.
double MeanIoU(const SquaresScene& scene, const std::vector<FrameResult>& results, double fps,
               bool live) {
  double sum = 0;
  int64_t n = 0;
  for (const FrameResult& r : results) {
    const int64_t at =
        r.frame->index + (live ? static_cast<int64_t>(std::lround(r.lag_s * fps)) : 0);
    for (size_t i = 0; i < scene.squares.size(); ++i) {
      float best = 0;
      for (const Track& t : r.tracks) best = std::max(best, IoU(t.box, scene.Truth(i, at)));
      sum += best;
      ++n;
    }
  }
  return n ? sum / static_cast<double>(n) : 0;
}

ModeResult Run(const Detector& det, const SquaresScene& scene, const char* name, SkipOptions skip,
               int frames, double fps) {
  std::mutex mu;
  std::vector<FrameResult> results;
  PipelineOptions opts;
  opts.skip = skip;
  Pipeline p(&det, opts, [&](const FrameResult& r) {
    std::lock_guard lock(mu);
    results.push_back(r);
  });
  p.AddStream(name, std::make_unique<SquaresSource>(scene, frames, fps, /*live=*/true));
  p.Start();
  p.Wait();
  ModeResult out{name, p.Metrics()[0]};
  out.iou_frame = MeanIoU(scene, results, fps, false);
  out.iou_live = MeanIoU(scene, results, fps, true);
  return out;
}

double ModelMs(const Detector& det, const SquaresScene& scene) {
  std::vector<double> t;
  for (int i = 0; i < 7; ++i) {
    DetectTimes times;
    if (!det.Detect({scene.Draw(i, Clock::now())}, &times).ok()) return -1;
    t.push_back((times.preprocess + times.inference + times.postprocess) * 1e3);
  }
  std::sort(t.begin(), t.end());
  return t[3];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Adaptive vs fixed-interval vs no frame skipping on a live stream");
  double model_ms = 120, fps = 25, seconds = 12, max_lag_ms = 200;
  int threads = 2;
  std::string json_path;
  app.add_option("--model-ms", model_ms, "Make the model this slow")->capture_default_str();
  app.add_option("--fps", fps, "Frame rate of the stream")->capture_default_str();
  app.add_option("--seconds", seconds, "Length of the stream")->capture_default_str();
  app.add_option("--max-lag-ms", max_lag_ms, "Adaptive mode's lag bound")->capture_default_str();
  app.add_option("--threads", threads, "Kernel threads")->capture_default_str();
  app.add_option("--json", json_path, "Also write the results here");
  CLI11_PARSE(app, argc, argv);

  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "skip-bench-XXXXXX").string();
  if (!mkdtemp(dir.data())) return 1;
  const std::string model = dir + "/squares.onnx";
  SquaresScene scene;  // three squares on orbits of 4, 6 and 10 seconds at 25 fps
  scene.squares = {
      {80, 80, 0, 0, 50, 40, 100}, {230, 150, 0, 0, -60, 50, 150}, {160, 120, 0, 0, 110, -70, 250}};
  DetectorOptions dopts;
  dopts.score_threshold = 0.5f;
  dopts.scale = 1.0f / 255;
  dopts.session.num_threads = threads;

  // Calibrate the depth of the slow part to the wanted model time.
  auto open = [&](int depth) -> std::unique_ptr<Detector> {
    Status s = supernova::testing::WriteSquaresModel(model, 320, 240, 32, depth);
    if (!s.ok()) return nullptr;
    auto d = Detector::Open(model, dopts);
    return d.ok() ? std::move(*d) : nullptr;
  };
  // The model's time is a fixed part (pre/post-processing, pooling) plus one MatMul per
  // layer: two depths give both, a third run checks and corrects once.
  auto time_at = [&](int depth) {
    auto d = open(depth);
    return d ? ModelMs(*d, scene) : -1.0;
  };
  const double t8 = time_at(8), t24 = time_at(24);
  if (t8 <= 0 || t24 <= 0) return 1;
  double per_layer = std::max((t24 - t8) / 16, 0.05);
  int depth = std::max(1, static_cast<int>(std::lround(8 + (model_ms - t8) / per_layer)));
  const double first = time_at(depth);
  depth = std::max(1, static_cast<int>(std::lround(depth + (model_ms - first) / per_layer)));
  auto det = open(depth);
  if (!det) return 1;
  const double measured = ModelMs(*det, scene);
  const int frames = static_cast<int>(seconds * fps);
  std::cout << fmt::format(
      "model: squares detector + {} identity MatMuls = {:.1f} ms per frame ({:.1f} frame "
      "intervals at {} fps); {} frames\n",
      depth, measured, measured / (1e3 / fps), fps, frames);

  SkipOptions adaptive;
  adaptive.max_lag_s = max_lag_ms / 1e3;
  std::vector<ModeResult> rows;
  rows.push_back(Run(*det, scene, "adaptive", adaptive, frames, fps));
  SkipOptions fixed;
  fixed.mode = SkipMode::kFixed;
  fixed.fixed_interval = std::max<int>(
      1, static_cast<int>(std::lround(static_cast<double>(frames) /
                                      std::max<int64_t>(rows[0].metrics.inferred, 1))));
  rows.push_back(Run(*det, scene, "fixed", fixed, frames, fps));
  rows.back().mode = fmt::format("fixed 1/{}", fixed.fixed_interval);
  SkipOptions none;
  none.mode = SkipMode::kNone;
  rows.push_back(Run(*det, scene, "none", none, frames, fps));

  std::cout << fmt::format("{:<12} {:>8} {:>8} {:>9} {:>11} {:>11} {:>14} {:>10} {:>9}\n", "mode",
                           "inferred", "dropped", "model ms", "lag p50 ms", "lag p99 ms",
                           "result p99 ms", "IoU frame", "IoU live");
  nlohmann::json out = nlohmann::json::array();
  for (const ModeResult& r : rows) {
    const StreamMetrics& m = r.metrics;
    std::cout << fmt::format(
        "{:<12} {:>8} {:>8} {:>9.1f} {:>11.1f} {:>11.1f} {:>14.1f} {:>10.3f} {:>9.3f}\n", r.mode,
        m.inferred, m.dropped, m.inference_s * 1e3, m.lag_p50_s * 1e3, m.lag_p99_s * 1e3,
        m.result_lag_p99_s * 1e3, r.iou_frame, r.iou_live);
    out.push_back({{"mode", r.mode},
                   {"model_ms", measured},
                   {"fps", fps},
                   {"frames", m.frames},
                   {"inferred", m.inferred},
                   {"model_ms_in_run", m.inference_s * 1e3},
                   {"dropped", m.dropped},
                   {"lag_p50_ms", m.lag_p50_s * 1e3},
                   {"lag_p99_ms", m.lag_p99_s * 1e3},
                   {"result_lag_p99_ms", m.result_lag_p99_s * 1e3},
                   {"iou_frame", r.iou_frame},
                   {"iou_live", r.iou_live}});
  }
  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (f) {
      std::fputs(out.dump(1).c_str(), f);
      std::fclose(f);
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}

#include "stream/frame_skip.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

namespace supernova::stream {
namespace {

struct Outcome {
  std::vector<double> lags;  // per inferred frame: result time minus capture time
  int inferred = 0;
  double max_lag() const { return lags.empty() ? 0 : *std::max_element(lags.begin(), lags.end()); }
};

// A live stream on a simulated clock: frames captured at `fps` for `seconds`, decoded at
// once; one inference worker taking `infer_s` per frame. When the worker is free it goes
// through the frames that have arrived and are not decided, oldest first, asking the
// controller; it runs the first one the controller takes.
Outcome Simulate(
    const SkipOptions& options, double fps, double infer_s, double seconds,
    const std::function<double(int)>& motion = [](int) { return 0.1; }) {
  FrameSkipController controller(options);
  const int frames = static_cast<int>(fps * seconds);
  auto captured = [&](int i) { return i / fps; };
  Outcome out;
  double now = 0;
  int next = 0;  // first undecided frame
  while (next < frames) {
    if (captured(next) > now) now = captured(next);  // wait for a frame
    int arrived = next;
    while (arrived < frames && captured(arrived) <= now) ++arrived;
    bool ran = false;
    for (int i = next; i < arrived && !ran; ++i) {
      next = i + 1;
      if (!controller.ShouldInfer(now - captured(i), arrived - 1 - i, motion(i))) continue;
      now += infer_s;
      out.lags.push_back(now - captured(i));
      ++out.inferred;
      controller.InferenceFinished(infer_s);
      ran = true;
    }
  }
  return out;
}

TEST(FrameSkip, AdaptiveKeepsLagUnderTheBoundWithAModelSlowerThanTheFrameRate) {
  SkipOptions options;
  options.max_lag_s = 0.2;
  // 30 fps, 120 ms per inference: the model manages one frame in four.
  const Outcome adaptive = Simulate(options, 30, 0.12, 20);
  EXPECT_LE(adaptive.max_lag(), 0.2);
  EXPECT_GE(adaptive.inferred, 20 / 0.12 * 0.9);  // and it stays busy: ~166 in 20 s

  options.mode = SkipMode::kNone;
  const Outcome none = Simulate(options, 30, 0.12, 20);
  EXPECT_GT(none.max_lag(), 10);  // the backlog grows without end

  options.mode = SkipMode::kFixed;
  options.fixed_interval = 2;  // still faster than the model can go
  const Outcome fixed2 = Simulate(options, 30, 0.12, 20);
  EXPECT_GT(fixed2.max_lag(), 5);
  options.fixed_interval = 4;  // 133 ms apart: the model keeps up
  const Outcome fixed4 = Simulate(options, 30, 0.12, 20);
  EXPECT_LE(fixed4.max_lag(), 0.2);
}

TEST(FrameSkip, StillScenesAreInferredLessOftenAndMotionBringsEveryFrameBack) {
  SkipOptions options;
  options.max_still_interval = 8;
  // A fast model (10 ms at 30 fps) could run every frame.
  const Outcome moving = Simulate(options, 30, 0.01, 10, [](int) { return 0.2; });
  const Outcome still = Simulate(options, 30, 0.01, 10, [](int) { return 0.0; });
  EXPECT_EQ(moving.inferred, 300);
  EXPECT_LE(still.inferred, 300 / 8 + 4);
  // Still for 5 s, then moving: after the change every frame is inferred again.
  const Outcome mixed = Simulate(options, 30, 0.01, 10, [](int i) { return i < 150 ? 0.0 : 0.2; });
  EXPECT_GE(mixed.inferred, 150);
  EXPECT_LE(mixed.inferred, 150 + 150 / 8 + 4);
}

TEST(FrameSkip, AFrameTooOldToFinishInTimeIsSkippedWhileFresherOnesCanBe) {
  FrameSkipController c;
  c.InferenceFinished(0.12);
  EXPECT_FALSE(c.ShouldInfer(0.15, 0, 0.2));  // 0.15 + 0.12 > 0.2
  EXPECT_TRUE(c.ShouldInfer(0.05, 0, 0.2));
  EXPECT_FALSE(c.ShouldInfer(0.0, 1, 0.2));  // a newer frame is waiting
  // A model slower than the bound itself: nothing can be in time, so the newest is inferred.
  FrameSkipController slow;
  slow.InferenceFinished(0.5);
  EXPECT_TRUE(slow.ShouldInfer(0.1, 0, 0.2));
  EXPECT_EQ(slow.inferred(), 1);
  EXPECT_EQ(c.skipped(), 2);
}

}  // namespace
}  // namespace supernova::stream

// The escalation policies on constructed frames and detections: each filter on either side of
// its threshold, key frames and the gap counted from the frames actually sent, scene change
// from the last frame sent, and --escalate's syntax and errors.
#include "stream/escalation.h"

#include <gtest/gtest.h>

#include <memory>

#include "stream/thumbnail.h"

namespace supernova::stream {
namespace {

// A w x h frame of one grey level.
FramePtr Grey(uint8_t level, int64_t index = 0) {
  auto f = std::make_shared<Frame>();
  f->width = 64;
  f->height = 48;
  f->index = index;
  f->bgr.assign(64 * 48 * 3, level);
  return f;
}

std::vector<Detection> Scores(std::initializer_list<float> scores) {
  std::vector<Detection> out;
  float x = 0;
  for (float s : scores) {
    out.push_back({{x, 0, x + 10, 10}, s, 0});
    x += 20;
  }
  return out;
}

EscalationOptions Parse(std::string_view spec) {
  auto o = ParseEscalation(spec);
  EXPECT_TRUE(o.ok()) << spec << ": " << o.status().ToString();
  return o.ok() ? *o : EscalationOptions{};
}

// Decides one frame after a first one sent: the filters alone then speak (no key, no gap).
unsigned SecondFrame(std::string_view spec, const std::vector<Detection>& boxes) {
  Escalator e(Parse(std::string("key=1000,") + std::string(spec)));
  EXPECT_EQ(e.Decide(*Grey(0), {}), kEscalateKey);
  e.Sent();
  return e.Decide(*Grey(0, 1), boxes);
}

TEST(Escalation, MeasuresOnKnownScores) {
  EXPECT_DOUBLE_EQ(MeanScore(Scores({0.25f, 0.75f})), 0.5);
  // H(p) = -p log2 p - (1-p) log2 (1-p): 1 bit at 0.5, 0 at certainty, ~0.469 at 0.9.
  EXPECT_NEAR(MeanBinaryEntropy(Scores({0.5f})), 1.0, 1e-9);
  EXPECT_NEAR(MeanBinaryEntropy(Scores({0.9f})), 0.4689955935892812, 1e-6);
  EXPECT_NEAR(MeanBinaryEntropy(Scores({0.5f, 1.0f})), 0.5, 1e-9);
  EXPECT_DOUBLE_EQ(LowScoreShare(Scores({0.2f, 0.2f, 0.6f, 0.9f}), 0.3), 0.5);
  EXPECT_DOUBLE_EQ(LowScoreShare(Scores({0.2f, 0.2f, 0.6f, 0.9f}), 0.2), 0.0);  // strictly below
  EXPECT_EQ(MeanScore({}), 0);
}

TEST(Escalation, ScoreFilterIsHardStrictlyBelowItsThreshold) {
  const auto boxes = Scores({0.25f, 0.75f});  // mean 0.5
  EXPECT_EQ(SecondFrame("score=0.5", boxes), 0u);
  EXPECT_EQ(SecondFrame("score=0.501", boxes), kEscalateScore);
}

TEST(Escalation, EntropyFilterIsHardStrictlyAboveItsThreshold) {
  const auto boxes = Scores({0.9f});  // 0.46900 bits
  EXPECT_EQ(SecondFrame("entropy=0.4689", boxes), kEscalateEntropy);
  EXPECT_EQ(SecondFrame("entropy=0.4691", boxes), 0u);
  EXPECT_EQ(SecondFrame("entropy=0.9", Scores({0.999f, 0.001f})), 0u);  // confident both ways
}

TEST(Escalation, IbtFilterIsHardWhenTheLowScoreShareIsAboveTheImageThreshold) {
  const auto boxes = Scores({0.2f, 0.2f, 0.6f, 0.9f});  // half of them under 0.3
  EXPECT_EQ(SecondFrame("ibt=0.5:0.3", boxes), 0u);
  EXPECT_EQ(SecondFrame("ibt=0.49:0.3", boxes), kEscalateIbt);
  EXPECT_EQ(SecondFrame("ibt=0.2:0.2", boxes), 0u);             // none strictly under 0.2
  EXPECT_EQ(SecondFrame("ibt=0.2:0.61", boxes), kEscalateIbt);  // three of four
}

TEST(Escalation, AFrameWithoutBoxesIsNeverHard) {
  EXPECT_EQ(SecondFrame("score=1,entropy=0.01,ibt=0.01:1", {}), 0u);
  // ...while the same filters call a frame of uncertain boxes hard on every count.
  EXPECT_EQ(SecondFrame("score=1,entropy=0.01,ibt=0.01:1", Scores({0.5f})),
            kEscalateScore | kEscalateEntropy | kEscalateIbt);
}

TEST(Escalation, KeyFramesCountFromTheLastFrameSent) {
  Escalator e(Parse("key=3"));
  std::vector<int> sent;
  for (int f = 0; f < 12; ++f) {
    const unsigned why = e.Decide(*Grey(0, f), {});
    if (why == 0) continue;
    EXPECT_EQ(why, kEscalateKey);
    // The cloud has no room for frame 3: the key stays due, and frame 4 goes instead.
    if (f == 3) continue;
    e.Sent();
    sent.push_back(f);
  }
  EXPECT_EQ(sent, (std::vector<int>{0, 4, 7, 10}));
}

TEST(Escalation, MinGapHoldsBackEveryPolicy) {
  Escalator e(Parse("every,score=0.9,min-gap=2"));
  std::vector<int> sent;
  for (int f = 0; f < 10; ++f) {
    if (e.Decide(*Grey(0, f), Scores({0.1f})) == 0) continue;
    e.Sent();
    sent.push_back(f);
  }
  EXPECT_EQ(sent, (std::vector<int>{0, 3, 6, 9}));
}

TEST(Escalation, SceneChangeIsMeasuredFromTheLastFrameSent) {
  // Uniform frames: the thumbnails differ by exactly the grey levels' difference.
  EXPECT_DOUBLE_EQ(MeanAbsDifference(Thumbnail(*Grey(100)), Thumbnail(*Grey(120))), 20.0);
  Escalator e(Parse("scene=20"));
  std::vector<int> sent;
  // A slow drift, 5 levels a frame: no two neighbours differ by much, but the picture moves
  // away from the one the cloud last saw. 100 -> 120 is exactly 20: not above the threshold.
  const uint8_t levels[] = {100, 105, 110, 115, 120, 121, 125, 130, 141, 142};
  for (int f = 0; f < 10; ++f) {
    const unsigned why = e.Decide(*Grey(levels[f], f), {});
    if (why == 0) continue;
    EXPECT_EQ(why, kEscalateScene);
    e.Sent();
    sent.push_back(f);
  }
  // Frame 0: nothing sent before, the most change there can be.
  EXPECT_EQ(sent, (std::vector<int>{0, 5, 9}));
}

TEST(Escalation, NoneAndEmptyAndEveryAndReasons) {
  Escalator none(Parse("none"));
  for (int f = 0; f < 5; ++f) EXPECT_EQ(none.Decide(*Grey(0, f), Scores({0.1f})), 0u);
  Escalator every(Parse("every"));
  for (int f = 0; f < 3; ++f) {
    EXPECT_EQ(every.Decide(*Grey(0, f), {}), kEscalateEvery);
    every.Sent();
  }
  EXPECT_EQ(EscalationReasonNames(kEscalateKey | kEscalateIbt), "key+ibt");
  EXPECT_EQ(EscalationReasonNames(0), "");
}

TEST(Escalation, ParsesTheAgreedSyntax) {
  const EscalationOptions o = Parse("key=10,scene=12,score=0.5,entropy=0.6,ibt=0.5:0.3,min-gap=2");
  EXPECT_EQ(o.key_interval, 10);
  EXPECT_DOUBLE_EQ(o.scene, 12);
  EXPECT_DOUBLE_EQ(o.score, 0.5);
  EXPECT_DOUBLE_EQ(o.entropy, 0.6);
  EXPECT_DOUBLE_EQ(o.ibt_image, 0.5);
  EXPECT_DOUBLE_EQ(o.ibt_box, 0.3);
  EXPECT_EQ(o.min_gap, 2);
  EXPECT_FALSE(o.every);
  EXPECT_TRUE(Parse("every").every);
  EXPECT_FALSE(Parse("none").sends());
}

TEST(Escalation, BadSpecsAreClearErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"key=10,", "empty policy"},
      {"keys=10", "unknown policy"},
      {"key=10,key=5", "given twice"},
      {"key", "wants a value"},
      {"every=1", "takes no value"},
      {"key=0", "whole number"},
      {"key=2.5", "whole number"},
      {"min-gap=-1", "whole number"},
      {"scene=300", "at most 255"},
      {"score=0", "above 0"},
      {"score=abc", "above 0"},
      {"entropy=1.5", "at most 1"},
      {"ibt=0.5", "IMAGE:BOX"},
      {"ibt=1:0.3", "under 1"},
      {"none,key=10", "takes no other"},
      {"min-gap=3", "sends nothing"},
  };
  for (const auto& [spec, want] : cases) {
    auto o = ParseEscalation(spec);
    ASSERT_FALSE(o.ok()) << "'" << spec << "' was accepted";
    EXPECT_NE(o.status().message().find(want), std::string::npos)
        << "'" << spec << "': " << o.status().message();
  }
}

}  // namespace
}  // namespace supernova::stream

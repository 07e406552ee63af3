// The cut chooser: predicted totals worked by hand, the best cut per link, and hysteresis
// that switches only after a cut has won by the margin on `patience` requests in a row.
#include "collab/remote/cut_chooser.h"

#include <gtest/gtest.h>

namespace supernova::collab {
namespace {

PlanCandidate Candidate(int id, CutKind kind, double edge_ms, double cloud_ms, size_t sent,
                        size_t result) {
  PlanCandidate c;
  c.id = id;
  c.kind = kind;
  c.edge_ms = edge_ms;
  c.cloud_ms = cloud_ms;
  c.sent_bytes = sent;
  c.result_bytes = result;
  c.materialized = true;
  return c;
}

// Edge-only 80 ms; cloud-only sends 1,000,000 bytes; a split sends 50,000 after 10 ms here.
std::vector<PlanCandidate> Three() {
  return {Candidate(0, CutKind::kEdgeOnly, 80, 0, 0, 0),
          Candidate(1, CutKind::kCloudOnly, 0, 5, 1000000, 1000),
          Candidate(2, CutKind::kSplit, 10, 4, 50000, 1000)};
}

TEST(CutChooser, PredictsEdgePlusTransferPlusCloud) {
  CutChooser chooser(Three(), 0);
  const Link link{100, 10, 0};  // 100,000 bits per ms
  // Edge-only: its compute alone, scaled by the edge factor; nothing crosses the link.
  EXPECT_DOUBLE_EQ(chooser.Predict(0, link, 1), 80);
  EXPECT_DOUBLE_EQ(chooser.Predict(0, link, 0.5), 40);
  // Cloud-only: 10 + 1,001,000 x 8 / 100,000 = 90.08, plus 5.
  EXPECT_NEAR(chooser.Predict(1, link, 1), 10 + 80.08 + 5, 1e-9);
  // The split: 10 x 2 here, 10 + 51,000 x 8 / 100,000 = 14.08 on the link, 4 there.
  EXPECT_NEAR(chooser.Predict(2, link, 2), 20 + 14.08 + 4, 1e-9);
}

TEST(CutChooser, TheBestCutFollowsTheLink) {
  CutChooser chooser(Three(), 0);
  EXPECT_EQ(chooser.Best(Link{1000, 1, 0}, 1), 1u);  // fast: everything to the cloud
  EXPECT_EQ(chooser.Best(Link{20, 10, 0}, 1), 2u);   // 400 ms for the input: split
  EXPECT_EQ(chooser.Best(Link{1, 100, 0}, 1), 0u);   // slow: stay on the edge
  // At 100 Mbit/s the split's 28 ms beat cloud-only's 95; an edge 10 times slower makes
  // the split's head cost 100 ms and sends everything away.
  EXPECT_EQ(chooser.Best(Link{100, 10, 0}, 1), 2u);
  EXPECT_EQ(chooser.Best(Link{100, 10, 0}, 10), 1u);
}

TEST(CutChooser, SwitchesAfterPatienceAndNotOnNoise) {
  CutChooser chooser(Three(), 0, Hysteresis{0.2, 3});
  const Link fast{1000, 1, 0};
  // Cloud-only (15 ms) beats edge-only (80 ms) by far: the third request switches.
  EXPECT_EQ(chooser.Choose(fast, 1), 0u);
  EXPECT_EQ(chooser.Choose(fast, 1), 0u);
  EXPECT_EQ(chooser.Choose(fast, 1), 1u);
  // A single bad estimate does not move it, nor does an interrupted streak.
  const Link slow{1, 100, 0};
  EXPECT_EQ(chooser.Choose(slow, 1), 1u);
  EXPECT_EQ(chooser.Choose(slow, 1), 1u);
  EXPECT_EQ(chooser.Choose(fast, 1), 1u);
  EXPECT_EQ(chooser.Choose(slow, 1), 1u);
  EXPECT_EQ(chooser.Choose(slow, 1), 1u);
  EXPECT_EQ(chooser.Choose(slow, 1), 0u);
}

TEST(CutChooser, ACutBetterByLessThanTheMarginNeverWins) {
  // Two cuts whose totals cross back and forth by about 10% on a noisy link.
  std::vector<PlanCandidate> two = {Candidate(0, CutKind::kEdgeOnly, 50, 0, 0, 0),
                                    Candidate(1, CutKind::kCloudOnly, 0, 0, 500000, 0)};
  CutChooser chooser(two, 0, Hysteresis{0.2, 3});
  // Cloud-only takes 1 + 4,000,000 / (bw x 1000) ms: 45 ms at ~90.9 Mbit/s, 55 at ~74.1.
  for (int i = 0; i < 40; ++i) {
    const double bw = i % 2 ? 4000.0 / 44 : 4000.0 / 54;
    EXPECT_EQ(chooser.Choose(Link{bw, 1, 0}, 1), 0u) << "request " << i;
  }
  // 30% better for three requests in a row is enough.
  for (int i = 0; i < 2; ++i) EXPECT_EQ(chooser.Choose(Link{4000.0 / 34, 1, 0}, 1), 0u);
  EXPECT_EQ(chooser.Choose(Link{4000.0 / 34, 1, 0}, 1), 1u);
}

}  // namespace
}  // namespace supernova::collab

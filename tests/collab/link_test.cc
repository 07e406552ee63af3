// The link model: transfer-time arithmetic, the --link syntax and the moving estimate the edge
// keeps from the requests it sends.
#include "collab/link.h"

#include <gtest/gtest.h>

namespace supernova::collab {
namespace {

TEST(Link, TransferIsRoundTripPlusBothPayloadsAtTheBandwidth) {
  const Link link{10, 20, 0};  // 10 Mbit/s = 10,000 bits per ms
  EXPECT_DOUBLE_EQ(link.TransferMs(0), 20);
  // 125,000 bytes = 1,000,000 bits = 100 ms at 10 Mbit/s.
  EXPECT_DOUBLE_EQ(link.TransferMs(125000), 120);
  EXPECT_DOUBLE_EQ(link.TransferMs(100000, 25000), 120);
  EXPECT_EQ(link.ToString(), "10 Mbit/s, 20 ms RTT");
  EXPECT_EQ((Link{1, 100, 0.01}).ToString(), "1 Mbit/s, 100 ms RTT, 1% loss");
}

TEST(Link, ParsesBandwidthRttAndLoss) {
  auto l = ParseLink("1,100");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->bandwidth_mbit, 1);
  EXPECT_EQ(l->rtt_ms, 100);
  EXPECT_EQ(l->loss, 0);
  l = ParseLink("0.5,20,0.02");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->bandwidth_mbit, 0.5);
  EXPECT_EQ(l->loss, 0.02);
}

TEST(Link, RefusesWhatIsNotALink) {
  for (const char* bad : {"", "10", "10,", "a,20", "10,20,0.1,4", "0,20", "-5,20", "10,-1",
                          "10,20,1", "10,20,-0.1", "10 ,20", "inf,20"}) {
    auto l = ParseLink(bad);
    ASSERT_FALSE(l.ok()) << "'" << bad << "' parsed";
    EXPECT_NE(l.status().message().find("link"), std::string::npos) << bad;
  }
}

TEST(LinkEstimate, RecoversRttAndBandwidthFromRequests) {
  const Link truth{8, 30, 0};
  LinkEstimate est(0.5);
  EXPECT_FALSE(est.known());
  // Large payloads before any RTT sample cannot be split into RTT and serialization.
  est.Observe(500000, 100, truth.TransferMs(500000, 100) + 7, 7);
  EXPECT_FALSE(est.known());
  est.Observe(100, 100, truth.TransferMs(100, 100), 0);  // a probe: the RTT and 1.6 kbit
  for (size_t bytes : {200000, 400000, 800000})
    est.Observe(bytes, 1000, truth.TransferMs(bytes, 1000) + 12, 12);
  ASSERT_TRUE(est.known());
  // The probe's own 1,600 bits (0.2 ms at 8 Mbit/s) count as RTT: within 1%.
  EXPECT_NEAR(est.link().rtt_ms, 30, 0.3);
  EXPECT_NEAR(est.link().bandwidth_mbit, 8, 0.08);
}

TEST(LinkEstimate, FollowsAChangeOfLink) {
  LinkEstimate est(0.3);
  const Link fast{100, 5, 0}, slow{2, 80, 0};
  for (int i = 0; i < 5; ++i) {
    est.Observe(64, 64, fast.TransferMs(64, 64), 0);
    est.Observe(1 << 20, 64, fast.TransferMs(1 << 20, 64), 0);
  }
  EXPECT_NEAR(est.link().bandwidth_mbit, 100, 2);
  for (int i = 0; i < 20; ++i) {
    est.Observe(64, 64, slow.TransferMs(64, 64), 0);
    est.Observe(1 << 20, 64, slow.TransferMs(1 << 20, 64), 0);
  }
  EXPECT_NEAR(est.link().rtt_ms, 80, 1);
  EXPECT_NEAR(est.link().bandwidth_mbit, 2, 0.1);
}

TEST(LinkEstimate, AnExchangeFasterThanTheRttEstimateLowersItAndRaisesTheBandwidth) {
  LinkEstimate est(0.5);
  const Link slow{5, 30, 0}, fast{100, 20, 0};
  est.Observe(64, 64, slow.TransferMs(64, 64), 0);
  est.Observe(200000, 1000, slow.TransferMs(200000, 1000), 0);
  ASSERT_NEAR(est.link().bandwidth_mbit, 5, 0.05);
  // The link gets better: 41 kB now take 23.3 ms, less than the 30 ms RTT the estimate holds.
  est.Observe(40000, 1000, fast.TransferMs(40000, 1000), 0);  // 23.3 ms
  EXPECT_LT(est.link().rtt_ms, 30);
  // At least 328 kbit in 23.3 ms: 14 Mbit/s, blended halfway with 5.
  EXPECT_GT(est.link().bandwidth_mbit, 9);
  for (int i = 0; i < 6; ++i) {
    est.Observe(64, 64, fast.TransferMs(64, 64), 0);
    est.Observe(400000, 1000, fast.TransferMs(400000, 1000), 0);
  }
  EXPECT_NEAR(est.link().rtt_ms, 20, 0.5);
  EXPECT_NEAR(est.link().bandwidth_mbit, 100, 5);
}

}  // namespace
}  // namespace supernova::collab

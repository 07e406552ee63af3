// The emulated link: its schedule syntax, the delays it adds (against collab::Link::TransferMs
// worked by hand), its seeded losses and its deadline, over a wire that answers at once.
#include "kserve/emulated_link.h"

#include <gtest/gtest.h>

#include <numeric>

namespace supernova::kserve {
namespace {

// A remote that answers every call at once with `reply_bytes` of output.
class InstantWire : public Transport {
 public:
  explicit InstantWire(size_t reply_bytes) : reply_bytes_(reply_bytes) {}
  Result<RemoteReply> Infer(const std::string&, const NamedTensors& inputs, double) override {
    ++calls;
    RemoteReply r;
    for (const auto& in : inputs) r.sent_bytes += in.second.nbytes();
    r.outputs.emplace_back("out", Tensor(DataType::kUint8, {static_cast<int64_t>(reply_bytes_)}));
    r.received_bytes = reply_bytes_;
    return r;
  }
  Result<double> Live(double) override {
    ++calls;
    return 0.0;
  }
  int calls = 0;

 private:
  size_t reply_bytes_;
};

struct Emulated {
  InstantWire* wire;
  std::unique_ptr<EmulatedLink> link;
};

// Sleeps for real: the schedule's links here cost microseconds.
Emulated Make(const std::string& schedule) {
  auto s = LinkSchedule::Parse(schedule);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  auto wire = std::make_unique<InstantWire>(0);
  Emulated e;
  e.wire = wire.get();
  e.link = std::make_unique<EmulatedLink>(std::move(wire), *s, 1, nullptr);
  return e;
}

NamedTensors Payload(int64_t bytes) { return {{"in", Tensor(DataType::kUint8, {bytes})}}; }

TEST(LinkSchedule, ParsesPhasesAndFindsThePhaseOfARequest) {
  auto s = LinkSchedule::Parse("0:100,5;20:1,100,0.1;40:off");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->phases().size(), 3u);
  EXPECT_EQ(s->At(0).link.bandwidth_mbit, 100);
  EXPECT_EQ(s->At(19).link.rtt_ms, 5);
  EXPECT_EQ(s->At(20).link.bandwidth_mbit, 1);
  EXPECT_EQ(s->At(39).link.loss, 0.1);
  EXPECT_FALSE(s->At(39).off);
  EXPECT_TRUE(s->At(40).off);
  EXPECT_TRUE(s->At(1000).off);
}

TEST(LinkSchedule, RefusesWhatIsNotASchedule) {
  for (const char* bad : {"", "100,5", "1:100,5", "0:100,5;0:off", "0:100,5;30:off;20:1,1",
                          "x:100,5", "-1:100,5", "0:fast", "0:100", "0:100,5;;"}) {
    auto s = LinkSchedule::Parse(bad);
    EXPECT_FALSE(s.ok()) << "'" << bad << "' parsed";
    if (!s.ok()) {
      EXPECT_NE(s.status().message().find("schedule"), std::string::npos) << bad;
    }
  }
}

TEST(EmulatedLink, DelaysEachWayByHalfTheRttAndThePayloadAtTheBandwidth) {
  // 8 Mbit/s = 8000 bits per ms = 1000 bytes per ms; 20 ms RTT.
  std::vector<double> slept;
  EmulatedLink link(std::make_unique<InstantWire>(3000),
                    LinkSchedule::Constant(collab::Link{8, 20, 0}), 1,
                    [&](double ms) { slept.push_back(ms); });
  auto r = link.Infer("m", Payload(5000), 1000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(slept.size(), 2u);
  EXPECT_DOUBLE_EQ(slept[0], 10 + 5);  // up: RTT/2 + 5000 bytes
  EXPECT_DOUBLE_EQ(slept[1], 10 + 3);  // down: RTT/2 + 3000 bytes
  // The reported wall time is the emulated one (the instant wire adds nothing).
  EXPECT_NEAR(r->wall_ms, (collab::Link{8, 20, 0}.TransferMs(5000, 3000)), 1e-9);
  EXPECT_EQ(r->sent_bytes, 5000u);
  EXPECT_EQ(r->received_bytes, 3000u);

  slept.clear();
  auto live = link.Live(1000);
  ASSERT_TRUE(live.ok());
  EXPECT_DOUBLE_EQ(*live, 20);  // a probe pays the round trip alone
}

TEST(EmulatedLink, ASlowLinkPastTheDeadlineTimesOutAfterWaitingIt) {
  std::vector<double> slept;
  EmulatedLink link(std::make_unique<InstantWire>(0),
                    LinkSchedule::Constant(collab::Link{1, 10, 0}), 1,
                    [&](double ms) { slept.push_back(ms); });
  // 100,000 bytes at 1 Mbit/s take 800 ms one way: past a 300 ms deadline.
  auto r = link.Infer("m", Payload(100000), 300);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kDeadlineExceeded);
  EXPECT_DOUBLE_EQ(std::accumulate(slept.begin(), slept.end(), 0.0), 300);
  // The answer's way back can also miss it: 200,000 bytes down.
  slept.clear();
  EmulatedLink back(std::make_unique<InstantWire>(200000),
                    LinkSchedule::Constant(collab::Link{8, 10, 0}), 1,
                    [&](double ms) { slept.push_back(ms); });
  r = back.Infer("m", Payload(1000), 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kDeadlineExceeded);
  EXPECT_DOUBLE_EQ(std::accumulate(slept.begin(), slept.end(), 0.0), 100);
}

TEST(EmulatedLink, LosesASeededShareOfMessagesAsTimeouts) {
  auto run = [](uint64_t seed) {
    std::vector<bool> lost;
    EmulatedLink link(std::make_unique<InstantWire>(0),
                      LinkSchedule::Constant(collab::Link{100, 0, 0.2}), seed, [](double) {});
    for (int i = 0; i < 1000; ++i) {
      auto r = link.Infer("m", Payload(10), 50);
      lost.push_back(!r.ok());
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), Status::Code::kDeadlineExceeded);
      }
    }
    EXPECT_EQ(link.lost(), std::count(lost.begin(), lost.end(), true));
    return lost;
  };
  const std::vector<bool> a = run(7), b = run(7), c = run(8);
  EXPECT_EQ(a, b);  // the same seed loses the same messages
  EXPECT_NE(a, c);
  const auto n = std::count(a.begin(), a.end(), true);
  EXPECT_GT(n, 150);  // 20% of 1000, binomial sd ~13
  EXPECT_LT(n, 250);
}

TEST(EmulatedLink, ARequestsLossFollowsItsNumberWhicheverLinkCarriesIt) {
  // One link carrying requests 0..99 in order, and two links of the same seed carrying the
  // odd and the even ones backwards, as threads sharing the numbers would: the same requests
  // are lost.
  auto lossy = [] {
    return std::make_unique<EmulatedLink>(std::make_unique<InstantWire>(0),
                                          LinkSchedule::Constant(collab::Link{100, 0, 0.5}), 3,
                                          [](double) {});
  };
  auto one = lossy();
  std::vector<bool> in_order(100), shared(100);
  for (int r = 0; r < 100; ++r) {
    one->BeginRequest(r);
    in_order[r] = !one->Infer("m", Payload(10), 50).ok();
  }
  auto even = lossy(), odd = lossy();
  for (int r = 99; r >= 0; --r) {
    EmulatedLink& link = r % 2 == 0 ? *even : *odd;
    link.BeginRequest(r);
    shared[r] = !link.Infer("m", Payload(10), 50).ok();
  }
  EXPECT_EQ(in_order, shared);
  const auto n = std::count(in_order.begin(), in_order.end(), true);
  EXPECT_GT(n, 30);  // half of 100, binomial sd 5
  EXPECT_LT(n, 70);
}

TEST(EmulatedLink, FollowsTheScheduleByRequestNumberAndOffIsUnreachable) {
  Emulated e = Make("0:1000,0;3:off;5:1000,0");
  for (int64_t req = 0; req < 7; ++req) {
    e.link->BeginRequest(req);
    auto r = e.link->Infer("m", Payload(10), 1000);
    if (req >= 3 && req < 5) {
      ASSERT_FALSE(r.ok()) << req;
      EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
      EXPECT_FALSE(e.link->Live(1000).ok());
    } else {
      EXPECT_TRUE(r.ok()) << req << ": " << r.status().ToString();
    }
  }
  EXPECT_EQ(e.wire->calls, 5);  // nothing reached the wire while off
}

}  // namespace
}  // namespace supernova::kserve

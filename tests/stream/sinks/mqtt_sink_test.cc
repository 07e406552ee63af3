// The MQTT sink against a real mosquitto broker on 127.0.0.1: what arrives, and what happens
// when the broker stops, stalls, comes back, or was never there.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "stream/sinks.h"
#include "stream/sinks/broker.h"
#include "stream/sinks/sink_test_util.h"

namespace supernova::stream {
namespace {

using supernova::testing::Broker;
using supernova::testing::FreePort;
using supernova::testing::MakeResult;
using supernova::testing::Subscriber;
using supernova::testing::WaitFor;
using Clock = std::chrono::steady_clock;

std::string Url(int port) { return "mqtt://127.0.0.1:" + std::to_string(port) + "/supernova/cam1"; }

SinkOptions Options() {
  SinkOptions o;
  o.labels = {"person", "bicycle"};
  o.device_name = "edge-box-3";
  o.mqtt_reconnect_delay_s = 1;
  o.mqtt_reconnect_delay_max_s = 2;
  return o;
}

// Writes frames [first, first + n) and returns how long the longest Write took.
Clock::duration WriteFrames(Sink& sink, int64_t first, int n) {
  Clock::duration longest{};
  for (int64_t i = first; i < first + n; ++i) {
    const auto start = Clock::now();
    EXPECT_TRUE(sink.Write(MakeResult(i)).ok());
    longest = std::max(longest, Clock::now() - start);
  }
  return longest;
}

// xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx in lower-case hex: a random (version 4) UUID.
bool IsUuid4(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i])) || std::isupper(s[i])) {
      return false;
    }
  }
  return s[14] == '4' && std::string_view("89ab").find(s[19]) != std::string_view::npos;
}

std::vector<int64_t> FrameIndices(const std::vector<std::string>& messages) {
  std::vector<int64_t> frames;
  for (const std::string& m : messages)
    frames.push_back(
        nlohmann::json::parse(m)["readings"][0]["objectValue"]["frame"].get<int64_t>());
  return frames;
}

TEST(MqttSink, PublishesOneEdgeXEventPerFrame) {
  Broker broker(FreePort());
  ASSERT_TRUE(broker.Start()) << broker.Log();
  Subscriber sub(broker.port(), "supernova/#");
  ASSERT_TRUE(sub.WaitSubscribed(1));

  auto sink = OpenSink(Url(broker.port()), Options());
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  EXPECT_TRUE((*sink)->stats().connected);
  WriteFrames(**sink, 0, 10);
  ASSERT_TRUE((*sink)->Close().ok());
  ASSERT_TRUE(sub.WaitMessages(10)) << sub.messages().size() << " messages";

  const SinkStats stats = (*sink)->stats();
  EXPECT_EQ(stats.frames, 10);
  EXPECT_EQ(stats.sent, 10);
  EXPECT_EQ(stats.pending, 0);
  EXPECT_EQ(stats.dropped_disconnected + stats.dropped_queue_full + stats.lost_on_disconnect, 0);

  std::set<std::string> ids;
  const std::vector<std::string> messages = sub.messages();
  for (size_t i = 0; i < messages.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i));
    EXPECT_EQ(sub.topics()[i], "supernova/cam1");
    const auto event = nlohmann::json::parse(messages[i]);
    const FrameResult expected = MakeResult(static_cast<int64_t>(i));
    EXPECT_EQ(event["apiVersion"], "v3");
    EXPECT_TRUE(IsUuid4(event["id"])) << event["id"];
    EXPECT_EQ(event["deviceName"], "edge-box-3");
    EXPECT_EQ(event["profileName"], "supernova-detector");
    EXPECT_EQ(event["sourceName"], "detections");
    EXPECT_EQ(event["origin"].get<int64_t>(), expected.timestamp_ns);
    EXPECT_EQ(event["tags"]["stream"], "cam1");
    ASSERT_EQ(event["readings"].size(), 1u);
    const auto& reading = event["readings"][0];
    EXPECT_TRUE(IsUuid4(reading["id"])) << reading["id"];
    EXPECT_TRUE(ids.insert(event["id"]).second && ids.insert(reading["id"]).second);
    EXPECT_EQ(reading["origin"].get<int64_t>(), expected.timestamp_ns);
    EXPECT_EQ(reading["deviceName"], "edge-box-3");
    EXPECT_EQ(reading["profileName"], "supernova-detector");
    EXPECT_EQ(reading["resourceName"], "detections");
    EXPECT_EQ(reading["valueType"], "Object");
    const auto& value = reading["objectValue"];
    EXPECT_EQ(value["stream"], "cam1");
    EXPECT_EQ(value["frame"].get<int64_t>(), static_cast<int64_t>(i));
    EXPECT_NEAR(value["pts"].get<double>(), expected.frame->pts_s, 1e-6);
    EXPECT_EQ(value["inferred"].get<bool>(), expected.inferred);
    EXPECT_NEAR(value["lag_ms"].get<double>(), 12.5, 1e-9);
    ASSERT_EQ(value["objects"].size(), expected.tracks.size());
    for (size_t k = 0; k < expected.tracks.size(); ++k) {
      const Track& t = expected.tracks[k];
      const auto& o = value["objects"][k];
      EXPECT_EQ(o["id"].get<int64_t>(), t.id);
      EXPECT_EQ(o["class_id"].get<int>(), t.class_id);
      EXPECT_EQ(o["label"], t.class_id == 0 ? "person" : "class_5");
      EXPECT_NEAR(o["score"].get<double>(), t.score, 1e-4);
      EXPECT_NEAR(o["box"]["x1"].get<double>(), t.box.x1, 0.005);
      EXPECT_NEAR(o["box"]["y1"].get<double>(), t.box.y1, 0.005);
      EXPECT_NEAR(o["box"]["x2"].get<double>(), t.box.x2, 0.005);
      EXPECT_NEAR(o["box"]["y2"].get<double>(), t.box.y2, 0.005);
      ASSERT_EQ(o.contains("learned"), !t.learned.label.empty());
      if (!t.learned.label.empty()) {
        EXPECT_EQ(o["learned"]["label"], t.learned.label);
        EXPECT_NEAR(o["learned"]["score"].get<double>(), t.learned.score, 1e-4);
      }
    }
  }
}

TEST(MqttSink, SurvivesTheBrokerGoingAwayAndComingBack) {
  Broker broker(FreePort());
  ASSERT_TRUE(broker.Start()) << broker.Log();
  Subscriber sub(broker.port(), "supernova/#");
  ASSERT_TRUE(sub.WaitSubscribed(1));
  SinkOptions options = Options();
  options.mqtt_qos = 1;
  auto opened = OpenSink(Url(broker.port()), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Sink& sink = **opened;

  WriteFrames(sink, 0, 5);
  ASSERT_TRUE(sub.WaitMessages(5));
  // Acknowledged, so that none of them is sent again after the reconnection.
  ASSERT_TRUE(WaitFor([&] { return sink.stats().sent == 5; }));

  broker.Stop();
  ASSERT_TRUE(WaitFor([&] { return !sink.stats().connected; }));
  // The pipeline goes on: every Write succeeds at once, and the frames are counted dropped.
  const Clock::duration longest = WriteFrames(sink, 5, 5);
  EXPECT_LT(longest, std::chrono::seconds(1));
  SinkStats stats = sink.stats();
  EXPECT_EQ(stats.disconnects, 1);
  EXPECT_EQ(stats.dropped_disconnected, 5);

  ASSERT_TRUE(broker.Start()) << broker.Log();
  ASSERT_TRUE(WaitFor([&] { return sink.stats().connected; })) << "the sink did not reconnect";
  ASSERT_TRUE(sub.WaitSubscribed(2)) << "the subscriber did not reconnect";
  WriteFrames(sink, 10, 5);
  ASSERT_TRUE(sub.WaitMessages(10));
  ASSERT_TRUE(sink.Close().ok());

  stats = sink.stats();
  EXPECT_EQ(stats.frames, 15);
  EXPECT_EQ(stats.reconnects, 1);
  EXPECT_EQ(stats.sent, 10);
  EXPECT_EQ(stats.dropped_disconnected, 5);
  EXPECT_EQ(FrameIndices(sub.messages()),
            (std::vector<int64_t>{0, 1, 2, 3, 4, 10, 11, 12, 13, 14}));
}

// The broker restarts five times under a QoS 1 sink: after each return the sink reconnects and
// delivers what it is given, the frames of each outage are counted dropped, and the process's
// open descriptors do not grow with the reconnections.
TEST(MqttSink, SeveralBrokerRestartsReconnectEachTimeWithoutLeakingFds) {
  Broker broker(FreePort());
  ASSERT_TRUE(broker.Start()) << broker.Log();
  Subscriber sub(broker.port(), "supernova/#");
  ASSERT_TRUE(sub.WaitSubscribed(1));
  SinkOptions options = Options();
  options.mqtt_qos = 1;
  auto opened = OpenSink(Url(broker.port()), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Sink& sink = **opened;
  auto open_fds = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                         std::filesystem::directory_iterator{});
  };
  std::vector<int64_t> expected;
  std::ptrdiff_t fds_after_first = 0;
  constexpr int kRestarts = 5;
  for (int round = 0; round <= kRestarts; ++round) {
    const int64_t first = round * 10;
    WriteFrames(sink, first, 5);
    for (int64_t i = first; i < first + 5; ++i) expected.push_back(i);
    ASSERT_TRUE(sub.WaitMessages(expected.size())) << "round " << round;
    ASSERT_TRUE(
        WaitFor([&] { return sink.stats().sent == static_cast<int64_t>(expected.size()); }));
    if (round == 1) fds_after_first = open_fds();
    if (round == kRestarts) break;
    broker.Stop();
    ASSERT_TRUE(WaitFor([&] { return !sink.stats().connected; }));
    WriteFrames(sink, first + 5, 3);  // dropped: nowhere to send them
    ASSERT_TRUE(broker.Start()) << broker.Log();
    ASSERT_TRUE(WaitFor([&] { return sink.stats().connected; })) << "round " << round;
    ASSERT_TRUE(sub.WaitSubscribed(round + 2)) << "the subscriber did not reconnect";
  }
  // One restart's worth of slack: a descriptor per reconnection would add four.
  EXPECT_LE(open_fds(), fds_after_first + 1);
  const SinkStats stats = sink.stats();
  EXPECT_EQ(stats.reconnects, kRestarts);
  EXPECT_EQ(stats.disconnects, kRestarts);
  EXPECT_EQ(stats.dropped_disconnected, 3 * kRestarts);
  EXPECT_EQ(FrameIndices(sub.messages()), expected);
  ASSERT_TRUE(sink.Close().ok());
}

TEST(MqttSink, DropsBeyondTheQueueLimitWhileTheBrokerStalls) {
  Broker broker(FreePort());
  ASSERT_TRUE(broker.Start()) << broker.Log();
  SinkOptions options = Options();
  options.mqtt_qos = 1;  // pending until the broker acknowledges
  options.mqtt_queue_limit = 5;
  options.mqtt_close_timeout_s = 0;
  auto opened = OpenSink(Url(broker.port()), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Sink& sink = **opened;
  WriteFrames(sink, 0, 1);
  ASSERT_TRUE(WaitFor([&] { return sink.stats().sent == 1; }));

  broker.Pause();
  const Clock::duration longest = WriteFrames(sink, 1, 20);
  EXPECT_LT(longest, std::chrono::seconds(1));
  SinkStats stats = sink.stats();
  EXPECT_EQ(stats.pending, 5);
  EXPECT_EQ(stats.dropped_queue_full, 15);
  EXPECT_TRUE(stats.connected);

  broker.Resume();
  ASSERT_TRUE(WaitFor([&] { return sink.stats().pending == 0; }));
  EXPECT_EQ(sink.stats().sent, 6);
  EXPECT_TRUE(sink.Close().ok());
}

TEST(MqttSink, NoBrokerFailsToOpenWithUnavailable) {
  const int port = FreePort();
  SinkOptions options = Options();
  options.mqtt_connect_timeout_s = 1;
  auto sink = OpenSink(Url(port), options);
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(sink.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << sink.status().ToString();
}

TEST(MqttSink, WithoutWaitingItConnectsWhenTheBrokerStarts) {
  const int port = FreePort();
  SinkOptions options = Options();
  options.mqtt_connect_timeout_s = 0;
  auto opened = OpenSink(Url(port), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Sink& sink = **opened;
  EXPECT_FALSE(sink.stats().connected);
  WriteFrames(sink, 0, 3);
  EXPECT_EQ(sink.stats().dropped_disconnected, 3);

  Broker broker(port);
  ASSERT_TRUE(broker.Start()) << broker.Log();
  Subscriber sub(port, "supernova/#");
  ASSERT_TRUE(sub.WaitSubscribed(1));
  ASSERT_TRUE(WaitFor([&] { return sink.stats().connected; }));
  WriteFrames(sink, 3, 2);
  ASSERT_TRUE(sub.WaitMessages(2));
  EXPECT_EQ(FrameIndices(sub.messages()), (std::vector<int64_t>{3, 4}));
  EXPECT_TRUE(sink.Close().ok());
  EXPECT_EQ(sink.stats().reconnects, 0);  // the first connection is not a reconnection
  EXPECT_EQ(sink.stats().disconnects, 0);
}

TEST(MqttSink, CloseWhileDisconnectedReturnsAndLaterWritesFail) {
  SinkOptions options = Options();
  options.mqtt_connect_timeout_s = 0;
  options.mqtt_reconnect_delay_s = 30;  // Close must not wait out the reconnection delay
  options.mqtt_reconnect_delay_max_s = 30;
  auto opened = OpenSink(Url(FreePort()), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const auto start = Clock::now();
  EXPECT_TRUE((*opened)->Close().ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  const Status s = (*opened)->Write(MakeResult(0));
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
}

TEST(MqttSink, MalformedUrlsAndOptionsAreInvalidArguments) {
  for (const std::string url :
       {"mqtt://127.0.0.1:1883", "mqtt://127.0.0.1:1883/", "mqtt://:1883/t",
        "mqtt://127.0.0.1:99999/t", "mqtt://127.0.0.1:port/t", "mqtt://127.0.0.1:1883/a/#",
        "mqtt://127.0.0.1:1883/a/+/b", "mqtt://[::1/t", "mqtt://user@127.0.0.1/t"}) {
    auto sink = OpenSink(url, Options());
    ASSERT_FALSE(sink.ok()) << url;
    EXPECT_EQ(sink.status().code(), Status::Code::kInvalidArgument) << url;
    EXPECT_NE(sink.status().message().find(url), std::string::npos) << sink.status().ToString();
  }
  SinkOptions options = Options();
  options.mqtt_qos = 3;
  auto sink = OpenSink(Url(1883), options);
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(sink.status().message().find("mqtt_qos"), std::string::npos);
}

}  // namespace
}  // namespace supernova::stream

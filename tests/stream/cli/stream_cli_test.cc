// `supernova stream` as a process, end to end: a clip made by the ffmpeg command line (a white
// square moving at a known speed) through the squares detector (tests/stream/squares.h) to a
// real mosquitto broker on 127.0.0.1 and to a JSON-lines file; a live RTSP source whose server
// is killed and restarted mid-stream; bad arguments.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "stream/cli/cli_util.h"
#include "stream/sinks/broker.h"
#include "stream/squares.h"
#include "stream/video/test_media.h"

namespace supernova::stream {
namespace {

using json = nlohmann::json;
using supernova::testing::Broker;
using supernova::testing::Subscriber;
using video_test::ChildProcess;

Box ClipTruth(int64_t n) {
  const float x = static_cast<float>(video_test::SquareX(n));
  const float y = static_cast<float>(video_test::kSquareY), side = video_test::kSquareSize;
  return {x, y, x + side, y + side};
}

// Every frame of the clip gets a result, in order; the square is tracked under one id through
// inferred and skipped frames alike, where it really is; each MQTT message is an EdgeX event
// carrying the same objects as the JSON line of its frame.
TEST(StreamCli, FileToMqttAndJsonLinesTracksTheSquare) {
  const std::string clip = video_test::MovingClip();
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the clip";
  Broker broker(supernova::testing::FreePort());
  ASSERT_TRUE(broker.Start()) << broker.Log();
  Subscriber sub(broker.port(), "supernova/#");
  ASSERT_TRUE(sub.WaitSubscribed(1));
  const std::string jsonl = video_test::TempDir() + "/cli_results.jsonl";
  std::string err;
  const int code = RunCli({"stream", "--model", SquaresModel(), "--source", clip, "--name", "cam1",
                           "--scale", "0.00392157", "--score-threshold", "0.5", "--sink",
                           "mqtt://127.0.0.1:" + std::to_string(broker.port()) + "/supernova/cam1",
                           "--sink", jsonl, "--device-name", "door-camera"},
                          &err);
  ASSERT_EQ(code, 0) << err;
  const json metrics = FinalMetrics(err);
  EXPECT_EQ(metrics["frames"], 50) << err;
  EXPECT_EQ(metrics["error"], "") << err;

  const std::vector<json> lines = ReadJsonLines(jsonl);
  ASSERT_EQ(lines.size(), 50u);
  std::set<int64_t> ids;
  int tracked = 0;
  for (size_t n = 0; n < lines.size(); ++n) {
    const json& r = lines[n];
    EXPECT_EQ(r["frame"], n);
    EXPECT_EQ(r["stream"], "cam1");
    if (r["tracks"].empty()) continue;
    ASSERT_EQ(r["tracks"].size(), 1u) << r.dump();
    const json& t = r["tracks"][0];
    ids.insert(t["id"].get<int64_t>());
    const Box box{t["box"]["x1"], t["box"]["y1"], t["box"]["x2"], t["box"]["y2"]};
    EXPECT_GT(IoU(box, ClipTruth(static_cast<int64_t>(n))), 0.6f) << r.dump();
    ++tracked;
  }
  EXPECT_EQ(ids.size(), 1u) << "the square changed id";
  EXPECT_GE(tracked, 40) << "tracks are confirmed after a few frames and never lost";

  ASSERT_TRUE(sub.WaitMessages(50));
  const std::vector<std::string> messages = sub.messages();
  ASSERT_EQ(messages.size(), 50u);
  std::set<std::string> event_ids;
  for (const std::string& m : messages) {
    const json e = json::parse(m);
    EXPECT_EQ(e["apiVersion"], "v3");
    EXPECT_EQ(e["deviceName"], "door-camera");
    event_ids.insert(e["id"].get<std::string>());
    ASSERT_EQ(e["readings"].size(), 1u);
    const json& reading = e["readings"][0];
    EXPECT_EQ(reading["valueType"], "Object");
    EXPECT_EQ(reading["deviceName"], "door-camera");
    const json& v = reading["objectValue"];
    const json& line = lines.at(v["frame"].get<size_t>());
    ASSERT_EQ(v["objects"].size(), line["tracks"].size()) << m;
    for (size_t i = 0; i < v["objects"].size(); ++i)
      EXPECT_EQ(v["objects"][i]["id"], line["tracks"][i]["id"]) << m;
  }
  EXPECT_EQ(event_ids.size(), 50u) << "event ids are unique";
}

// `supernova stream` on a live source with a 1 s read timeout, to a JSON-lines file, stderr to
// `err_log`. Through a shell for the redirection; exec, so that signals reach the program.
bool StartLiveCli(ChildProcess* cli, const std::string& url, const std::string& jsonl,
                  const std::string& err_log) {
  return cli->Start({"/bin/sh", "-c",
                     "exec " + std::string(SUPERNOVA_CLI) + " stream --model " + SquaresModel() +
                         " --source " + url + " --sink " + jsonl +
                         " --read-timeout-s 1 --reconnect-max-s 0.5 --metrics-interval 0 2>" +
                         err_log});
}

// A live RTSP source whose server dies: the stream goes on when it is back, and the metrics
// count the reconnection.
TEST(StreamCli, RtspServerKilledAndRestartedIsReconnected) {
  const int port = video_test::FreePort();
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(port) + "/test";
  auto server = std::make_unique<ChildProcess>();
  ASSERT_TRUE(server->Start({SUPERNOVA_RTSP_TEST_SERVER, std::to_string(port)}) &&
              server->WaitForLine("READY", 10));
  const std::string jsonl = video_test::TempDir() + "/cli_rtsp.jsonl";
  const std::string err_log = video_test::TempDir() + "/cli_rtsp_stderr.txt";
  ChildProcess cli;
  ASSERT_TRUE(StartLiveCli(&cli, url, jsonl, err_log));
  auto lines = [&] { return ReadJsonLines(jsonl).size(); };
  ASSERT_TRUE(video_test::WaitFor([&] { return lines() >= 10; }, 20));
  server->Stop(SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const size_t before = lines();
  server = std::make_unique<ChildProcess>();
  ASSERT_TRUE(server->Start({SUPERNOVA_RTSP_TEST_SERVER, std::to_string(port)}) &&
              server->WaitForLine("READY", 10));
  EXPECT_TRUE(video_test::WaitFor([&] { return lines() >= before + 10; }, 20))
      << "no frames after the server came back";
  cli.Stop(SIGTERM);  // a graceful stop: the final metrics are written
  std::ifstream in(err_log);
  const std::string err(std::istreambuf_iterator<char>(in), {});
  const json metrics = FinalMetrics(err);
  EXPECT_GE(metrics["reconnects"].get<int>(), 1) << err;
  EXPECT_EQ(metrics["error"], "") << err;
  // Frame numbers go on across the outage.
  const std::vector<json> all = ReadJsonLines(jsonl);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i]["frame"], all[i - 1]["frame"]);
}

// The process's open descriptors and resident memory (KiB), from /proc.
std::pair<long, long> FdsAndRss(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  const long fds = std::distance(std::filesystem::directory_iterator(proc + "/fd"),
                                 std::filesystem::directory_iterator{});
  std::ifstream status(proc + "/status");
  long rss = -1;
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) rss = std::atol(line.c_str() + 6);
  return {fds, rss};
}

// A live source that stalls (its RTSP server stopped with SIGSTOP, the connection open but
// silent) four times: each stall ends in a reconnection once the server goes on, and the
// reconnections leave no descriptors or memory behind (the second stall's figures against
// the last's: the first reconnection sets up what later ones reuse).
TEST(StreamCli, RtspSourceThatStallsRepeatedlyReconnectsWithoutGrowing) {
  const int port = video_test::FreePort();
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(port) + "/test";
  ChildProcess server;
  ASSERT_TRUE(server.Start({SUPERNOVA_RTSP_TEST_SERVER, std::to_string(port)}) &&
              server.WaitForLine("READY", 10));
  const std::string jsonl = video_test::TempDir() + "/cli_stall.jsonl";
  const std::string err_log = video_test::TempDir() + "/cli_stall_stderr.txt";
  ChildProcess cli;
  ASSERT_TRUE(StartLiveCli(&cli, url, jsonl, err_log));
  auto lines = [&] { return ReadJsonLines(jsonl).size(); };
  ASSERT_TRUE(video_test::WaitFor([&] { return lines() >= 10; }, 20));
  std::vector<std::pair<long, long>> after;
  for (int stall = 0; stall < 4; ++stall) {
    server.Signal(SIGSTOP);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // past the 1 s read timeout
    server.Signal(SIGCONT);
    const size_t before = lines();
    ASSERT_TRUE(video_test::WaitFor([&] { return lines() >= before + 10; }, 20))
        << "no frames after stall " << stall;
    after.push_back(FdsAndRss(cli.pid()));
  }
  cli.Stop(SIGTERM);
  std::cout << "after each stall, fds / RSS KiB:";  // the figures docs/stream.md quotes
  for (const auto& [fds, rss] : after) std::cout << " " << fds << " / " << rss << ";";
  std::cout << std::endl;
  std::ifstream in(err_log);
  const std::string err(std::istreambuf_iterator<char>(in), {});
  const json metrics = FinalMetrics(err);
  EXPECT_GE(metrics["reconnects"].get<int>(), 4) << err;
  EXPECT_EQ(metrics["error"], "") << err;
  EXPECT_LE(after.back().first, after[1].first + 2) << "descriptors grew over the stalls";
  EXPECT_LE(after.back().second, after[1].second * 12 / 10 + 4096) << "memory grew over the stalls";
}

// A sink on a full disk: the stream and the other sink go on, the failure is one clear line
// on stderr when it starts (not one per frame), and the exit code says the output is incomplete.
TEST(StreamCli, AFullDiskSinkIsReportedWhileTheOtherSinkGetsEveryFrame) {
  const std::string clip = video_test::MovingClip();
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the clip";
  const std::string jsonl = video_test::TempDir() + "/cli_beside_full.jsonl";
  std::string err;
  const int code = RunCli({"stream", "--model", SquaresModel(), "--source", clip, "--scale",
                           "0.00392157", "--sink", "jsonl:/dev/full", "--sink", jsonl},
                          &err);
  EXPECT_EQ(code, 1) << err;
  EXPECT_EQ(FinalMetrics(err)["frames"], 50) << err;
  EXPECT_EQ(FinalMetrics(err)["error"], "") << err;
  EXPECT_EQ(ReadJsonLines(jsonl).size(), 50u);
  std::istringstream in(err);
  int failed_lines = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find("\"sink_write_failed\"") != std::string::npos) {
      ++failed_lines;
      EXPECT_NE(line.find("No space left on device"), std::string::npos) << line;
    }
  EXPECT_EQ(failed_lines, 1) << err;
  EXPECT_NE(err.find("50 frames not written"), std::string::npos) << err;
}

TEST(StreamCli, BadArgumentsAreOneClearLine) {
  std::string err;
  EXPECT_EQ(RunCli({"stream", "--model", "/nonexistent.onnx", "--source", "x.mp4"}, &err), 1);
  EXPECT_NE(err.find("nonexistent.onnx"), std::string::npos) << err;
  EXPECT_EQ(RunCli({"stream", "--model", SquaresModel(), "--source", "/nonexistent.mp4"}, &err), 1);
  EXPECT_NE(err.find("/nonexistent.mp4"), std::string::npos) << err;
  const std::string clip = video_test::MovingClip();
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the clip";
  EXPECT_EQ(
      RunCli({"stream", "--model", SquaresModel(), "--source", clip, "--sink", "ftp://example/x"},
             &err),
      1);
  EXPECT_NE(err.find("ftp://example/x"), std::string::npos) << err;
  EXPECT_EQ(
      RunCli({"stream", "--model", SquaresModel(), "--source", clip, "--skip", "often"}, &err), 1);
  EXPECT_NE(err.find("--skip"), std::string::npos) << err;
  EXPECT_EQ(RunCli({"stream", "--model", SquaresModel(), "--source", clip, "--escalate",
                    "key=10,ibt=0.5"},
                   &err),
            1);
  EXPECT_NE(err.find("--escalate 'ibt=0.5'"), std::string::npos) << err;
  EXPECT_EQ(RunCli({"stream", "--model", SquaresModel(), "--source", clip, "--source", clip,
                    "--sink", video_test::TempDir() + "/two.mp4"},
                   &err),
            1);
  EXPECT_NE(err.find("single --source"), std::string::npos) << err;
}

}  // namespace
}  // namespace supernova::stream

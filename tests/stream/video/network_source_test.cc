// Live sources over the network: an RTSP server (tests/stream/video/rtsp_test_server.cc, a
// child process) that the tests kill, pause and restart; an HTTP server in the test process.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

#include "stream/video/test_media.h"
#include "stream/video_source.h"

namespace supernova::stream {
namespace {

using namespace video_test;  // NOLINT: the test helpers

// Quick to notice a loss and to retry, so that the tests take seconds.
SourceOptions LiveOptions() {
  SourceOptions o;
  o.read_timeout_s = 1.5;
  o.reconnect_initial_s = 0.1;
  o.reconnect_max_s = 0.4;
  return o;
}

class RtspServer {
 public:
  explicit RtspServer(int port) : port_(port) {}
  bool Start() {
    return process_.Start({SUPERNOVA_RTSP_TEST_SERVER, std::to_string(port_)}) &&
           process_.WaitForLine("READY", 10);
  }
  void Kill() { process_.Stop(SIGKILL); }
  void Pause() { process_.Signal(SIGSTOP); }
  void Resume() { process_.Signal(SIGCONT); }
  std::string url() const { return "rtsp://127.0.0.1:" + std::to_string(port_) + "/test"; }

 private:
  int port_;
  ChildProcess process_;
};

// Reads on its own thread, as the pipeline would, until Read() fails.
class Reader {
 public:
  explicit Reader(VideoSource* source) : source_(source), thread_([this] { Run(); }) {}
  ~Reader() {
    source_->Close();  // a test that stopped early must not wait on a source reconnecting forever
    thread_.join();
  }
  int64_t count() const { return count_.load(); }
  bool done() const { return done_.load(); }
  std::vector<FramePtr> frames() const {
    std::lock_guard lock(mu_);
    return frames_;
  }
  Status end() const {
    std::lock_guard lock(mu_);
    return end_;
  }

 private:
  void Run() {
    for (;;) {
      Result<FramePtr> f = source_->Read();
      std::lock_guard lock(mu_);
      if (!f.ok()) {
        end_ = f.status();
        done_ = true;
        return;
      }
      frames_.push_back(*f);
      ++count_;
    }
  }

  VideoSource* source_;
  std::atomic<int64_t> count_{0};
  std::atomic<bool> done_{false};
  mutable std::mutex mu_;
  std::vector<FramePtr> frames_;
  Status end_;
  std::thread thread_;
};

// SMPTE bars from the test server: white on the left, then yellow.
void ExpectBars(const Frame& f) {
  Bgr white = PixelAt(f, 20, 40), yellow = PixelAt(f, 68, 40), blue = PixelAt(f, 300, 40);
  EXPECT_TRUE(white.b > 150 && white.g > 150 && white.r > 150) << "white bar";
  EXPECT_TRUE(yellow.b < 80 && yellow.g > 150 && yellow.r > 150) << "yellow bar";
  EXPECT_TRUE(blue.b > 150 && blue.g < 80 && blue.r < 80) << "blue bar";
}

void ExpectContinuous(const std::vector<FramePtr>& frames) {
  for (size_t i = 1; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i]->index, frames[i - 1]->index + 1);
    EXPECT_GE(frames[i]->pts_s, frames[i - 1]->pts_s) << "frame " << frames[i]->index;
    EXPECT_GE(frames[i]->captured, frames[i - 1]->captured);
  }
}

TEST(RtspSourceTest, ReadsReconnectsAfterTheServerDiesAndCloses) {
  const int port = FreePort();
  RtspServer server(port);
  ASSERT_TRUE(server.Start()) << "the RTSP test server did not start";
  auto opened = VideoSource::Open(server.url(), LiveOptions());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  VideoSource& source = **opened;
  EXPECT_TRUE(source.live());
  EXPECT_EQ(source.width(), 320);
  EXPECT_EQ(source.height(), 240);
  EXPECT_TRUE(source.stats().connected);

  Reader reader(&source);
  ASSERT_TRUE(WaitFor([&] { return reader.count() >= 10; }, 10)) << reader.end().ToString();
  ExpectBars(*reader.frames().front());

  // The server dies: Read() does not fail, the source says it is reconnecting.
  server.Kill();
  ASSERT_TRUE(WaitFor([&] { return !source.stats().connected; }, 5));
  ASSERT_TRUE(WaitFor([&] { return source.stats().reconnect_attempts >= 2; }, 5));
  EXPECT_FALSE(reader.done()) << reader.end().ToString();
  EXPECT_FALSE(source.stats().last_error.empty());
  const int64_t before = reader.count();

  // Back on the same port: frames flow again.
  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(WaitFor([&] { return reader.count() >= before + 10; }, 10))
      << source.stats().last_error;
  SourceStats stats = source.stats();
  EXPECT_GE(stats.reconnects, 1);
  EXPECT_TRUE(stats.connected);
  std::vector<FramePtr> frames = reader.frames();
  ExpectContinuous(frames);
  ExpectBars(*frames.back());

  // Close() unblocks the reader promptly, wherever it waits.
  auto start = std::chrono::steady_clock::now();
  source.Close();
  ASSERT_TRUE(WaitFor([&] { return reader.done(); }, 2));
  EXPECT_LT(SecondsSince(start), 2);
  EXPECT_EQ(reader.end().code(), Status::Code::kUnavailable) << reader.end().ToString();
  EXPECT_FALSE(source.stats().connected);
  // Counted once the reader has stopped: while it runs, the source has counted a frame that
  // Read() is still handing over (a sanitizer run saw 33 against 32).
  EXPECT_EQ(source.stats().frames, reader.count());
}

TEST(RtspSourceTest, ASilentServerIsLostAfterReadTimeoutAndComesBack) {
  const int port = FreePort();
  RtspServer server(port);
  ASSERT_TRUE(server.Start());
  SourceOptions o = LiveOptions();
  o.read_timeout_s = 1;
  auto opened = VideoSource::Open(server.url(), o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  VideoSource& source = **opened;
  Reader reader(&source);
  ASSERT_TRUE(WaitFor([&] { return reader.count() >= 5; }, 10));

  // Stopped, the server keeps its connections open and says nothing.
  server.Pause();
  auto paused = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return !source.stats().connected; }, 5));
  EXPECT_GT(SecondsSince(paused), 0.5);  // not before read_timeout_s (1 s) ran out
  EXPECT_NE(source.stats().last_error.find("no frame for"), std::string::npos)
      << source.stats().last_error;

  const int64_t before = reader.count();
  server.Resume();
  ASSERT_TRUE(WaitFor([&] { return reader.count() >= before + 5; }, 10))
      << source.stats().last_error;
  EXPECT_GE(source.stats().reconnects, 1);
  source.Close();
  ASSERT_TRUE(WaitFor([&] { return reader.done(); }, 2));
  ExpectContinuous(reader.frames());
}

TEST(RtspSourceTest, GivesUpAfterMaxReconnects) {
  const int port = FreePort();
  RtspServer server(port);
  ASSERT_TRUE(server.Start());
  SourceOptions o = LiveOptions();
  o.max_reconnects = 2;
  auto opened = VideoSource::Open(server.url(), o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  VideoSource& source = **opened;
  ASSERT_TRUE(source.Read().ok());
  server.Kill();
  Status end;
  for (int i = 0; i < 1000; ++i) {  // frames still in flight, then the give-up
    Result<FramePtr> f = source.Read();
    if (!f.ok()) {
      end = f.status();
      break;
    }
  }
  EXPECT_EQ(end.code(), Status::Code::kUnavailable) << end.ToString();
  EXPECT_NE(end.message().find("2 attempts"), std::string::npos) << end.ToString();
  EXPECT_EQ(source.stats().reconnect_attempts, 2);
  EXPECT_EQ(source.stats().reconnects, 0);
}

TEST(RtspSourceTest, UnreachableServerFailsToOpenWithTheReason) {
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(FreePort()) + "/test";
  auto source = VideoSource::Open(url, LiveOptions());
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), Status::Code::kUnavailable) << source.status().ToString();
  EXPECT_NE(source.status().message().find(url), std::string::npos) << source.status().ToString();
  EXPECT_NE(source.status().message().find("refused"), std::string::npos)
      << source.status().ToString();
}

TEST(RtspSourceTest, CredentialsStayOutOfMessages) {
  const std::string url = "rtsp://admin:hunter2@127.0.0.1:" + std::to_string(FreePort()) + "/test";
  auto source = VideoSource::Open(url, LiveOptions());
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().message().find("hunter2"), std::string::npos)
      << source.status().ToString();
  EXPECT_NE(source.status().message().find("rtsp://***@127.0.0.1"), std::string::npos)
      << source.status().ToString();
}

TEST(HttpSourceTest, Mp4OverHttpPlaysAsAFile) {
  const std::string clip = MovingClip(/*faststart=*/true);
  ASSERT_FALSE(clip.empty());
  std::ifstream in(clip, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  HttpServer http(body, "video/mp4", /*content_length=*/true);
  ASSERT_GT(http.port(), 0);
  SourceOptions o = LiveOptions();
  o.realtime = false;
  auto source =
      VideoSource::Open("http://127.0.0.1:" + std::to_string(http.port()) + "/moving.mp4", o);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_FALSE((*source)->live());  // it has a duration
  int frames = 0;
  Result<FramePtr> f = (*source)->Read();
  for (; f.ok(); f = (*source)->Read()) {
    EXPECT_NEAR((*f)->pts_s, frames / 25.0, 1e-3);
    EXPECT_TRUE(IsWhite(PixelAt(**f, SquareX(frames) + 20, kSquareY + 20)));
    ++frames;
  }
  EXPECT_EQ(frames, 50);
  EXPECT_EQ(f.status().code(), Status::Code::kOutOfRange) << f.status().ToString();
}

TEST(HttpSourceTest, MjpegStreamIsLiveAndReconnectsWhenItEnds) {
  // An MJPEG camera's multipart stream, 10 frames per connection, no length: each end of the
  // connection is a loss the source recovers from.
  const std::string clip = MovingClip();
  ASSERT_FALSE(clip.empty());
  const std::string parts = TempDir() + "/moving.mpjpeg";
  ASSERT_TRUE(Ffmpeg("-i " + clip + " -frames:v 10 -q:v 3 -f mpjpeg " + parts));
  std::ifstream in(parts, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  HttpServer http(body, "multipart/x-mixed-replace;boundary=ffmpeg", /*content_length=*/false);
  ASSERT_GT(http.port(), 0);
  auto source =
      VideoSource::Open("http://127.0.0.1:" + std::to_string(http.port()) + "/cam", LiveOptions());
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_TRUE((*source)->live());
  std::vector<FramePtr> frames;
  for (int i = 0; i < 25; ++i) {
    Result<FramePtr> f = (*source)->Read();
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    frames.push_back(*f);
  }
  EXPECT_GE((*source)->stats().reconnects, 2);
  EXPECT_GE(http.connections(), 3);
  ExpectContinuous(frames);
  // Each connection starts the clip again: frame 10 of the source is the clip's frame 0.
  EXPECT_TRUE(IsWhite(PixelAt(*frames[10], SquareX(0) + 20, kSquareY + 20)));
  EXPECT_TRUE(IsBlack(PixelAt(*frames[9], SquareX(0) + 5, kSquareY + 20)));
}

}  // namespace
}  // namespace supernova::stream

// What the video source tests make for themselves at run time: clips and images drawn by the
// ffmpeg command line into a temporary folder, child processes (the RTSP test server), and a
// tiny HTTP server on 127.0.0.1.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "free_port.h"
#include "stream/frame.h"

namespace supernova::stream::video_test {

// This process's scratch folder, removed when the process exits.
const std::string& TempDir();

// Runs `ffmpeg -y -loglevel error ARGS` (no stdin); true on success.
bool Ffmpeg(const std::string& args);

// The reference clip, made once per process: 320x240 at 25 fps, 50 frames, H.264 with
// B-frames in mp4 (moov atom first when `faststart`), black with a white 40x40 square whose
// top-left corner is at (10 + 4 n, 60) in frame n. Empty when ffmpeg failed.
std::string MovingClip(bool faststart = false);
inline int SquareX(int64_t n) { return 10 + 4 * static_cast<int>(n); }
constexpr int kSquareY = 60, kSquareSize = 40;

// A copy of `path` named `name` in TempDir(), cut to `fraction` of its size.
std::string Truncated(const std::string& path, const std::string& name, double fraction);

struct Bgr {
  int b = 0, g = 0, r = 0;
};
Bgr PixelAt(const Frame& f, int x, int y);
inline bool IsWhite(Bgr p) { return p.b > 200 && p.g > 200 && p.r > 200; }
inline bool IsBlack(Bgr p) { return p.b < 50 && p.g < 50 && p.r < 50; }

double SecondsSince(std::chrono::steady_clock::time_point t);
// Polls `done` every 10 ms for up to `timeout_s`; true once it holds.
bool WaitFor(const std::function<bool()>& done, double timeout_s);

using supernova::testing::FreePort;  // tests/free_port.h

// A child process whose stdout the test reads; killed (SIGKILL) and reaped on destruction.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool Start(const std::vector<std::string>& argv);
  // Reads stdout until a line that starts with `prefix`; false on timeout or exit.
  bool WaitForLine(const std::string& prefix, double timeout_s);
  void Signal(int sig);
  // Kills it with `sig` and reaps it.
  void Stop(int sig);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }  // for /proc: its descriptors and memory

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

// Serves one body to every GET on 127.0.0.1, each connection on its own thread, then closes
// the connection. With `content_length` false, the length is not sent (a live stream's way).
class HttpServer {
 public:
  HttpServer(std::string body, std::string content_type, bool content_length);
  ~HttpServer();
  int port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  void Serve(int fd);

  const std::string body_, content_type_;
  const bool content_length_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;  // guarded by mu_
};

}  // namespace supernova::stream::video_test

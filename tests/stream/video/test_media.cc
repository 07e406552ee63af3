#include "stream/video/test_media.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

extern char** environ;

namespace supernova::stream::video_test {

namespace fs = std::filesystem;

namespace {

struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "video_tests_XXXXXX").string();
    if (mkdtemp(tmpl.data())) path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

}  // namespace

const std::string& TempDir() {
  static ScratchDir dir;
  return dir.path;
}

bool Ffmpeg(const std::string& args) {
  std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y " + args;
  return std::system(cmd.c_str()) == 0;
}

std::string MovingClip(bool faststart) {
  static std::mutex mu;
  static std::map<bool, std::string> made;
  std::lock_guard lock(mu);
  if (auto it = made.find(faststart); it != made.end()) return it->second;
  std::string path = TempDir() + (faststart ? "/moving_faststart.mp4" : "/moving.mp4");
  // overlay evaluates x per frame: 100 px/s at 25 fps is 4 px a frame.
  bool ok = Ffmpeg(
      "-f lavfi -i color=black:s=320x240:r=25 -f lavfi -i color=white:s=40x40:r=25 "
      "-filter_complex \"[0][1]overlay=x='10+100*t':y=60:shortest=1\" -frames:v 50 "
      "-c:v libx264 -crf 18 -bf 2 -pix_fmt yuv420p " +
      std::string(faststart ? "-movflags +faststart " : "") + path);
  return made[faststart] = ok ? path : "";
}

std::string Truncated(const std::string& path, const std::string& name, double fraction) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  data.resize(static_cast<size_t>(static_cast<double>(data.size()) * fraction));
  std::string out = TempDir() + "/" + name;
  std::ofstream(out, std::ios::binary) << data;
  return out;
}

Bgr PixelAt(const Frame& f, int x, int y) {
  const uint8_t* p = f.bgr.data() + (static_cast<size_t>(y) * f.width + x) * 3;
  return {p[0], p[1], p[2]};
}

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

bool WaitFor(const std::function<bool()>& done, double timeout_s) {
  auto start = std::chrono::steady_clock::now();
  while (!done()) {
    if (SecondsSince(start) > timeout_s) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// ---- ChildProcess ----

ChildProcess::~ChildProcess() { Stop(SIGKILL); }

bool ChildProcess::Start(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int err = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (err != 0) {
    pid_ = -1;
    close(fds[0]);
    return false;
  }
  out_ = fds[0];
  buffer_.clear();
  return true;
}

bool ChildProcess::WaitForLine(const std::string& prefix, double timeout_s) {
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    size_t pos = 0;
    for (size_t nl; (nl = buffer_.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      if (buffer_.compare(pos, prefix.size(), prefix) == 0) {
        buffer_.erase(0, nl + 1);
        return true;
      }
    }
    buffer_.erase(0, pos);
    double left = timeout_s - SecondsSince(start);
    if (left <= 0 || out_ < 0) return false;
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
    char chunk[256];
    ssize_t n = read(out_, chunk, sizeof(chunk));
    if (n <= 0) return false;  // it exited
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

void ChildProcess::Stop(int sig) {
  if (pid_ > 0) {
    kill(pid_, SIGCONT);  // a stopped child cannot act on SIGTERM
    kill(pid_, sig);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (out_ >= 0) close(out_);
  out_ = -1;
}

// ---- HttpServer ----

HttpServer::HttpServer(std::string body, std::string content_type, bool content_length)
    : body_(std::move(body)),
      content_type_(std::move(content_type)),
      content_length_(content_length) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 16) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return;  // port() stays 0: the test fails on it
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] {
    while (!stop_.load()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval send_timeout{1, 0};  // a reader that went away must not hold the server up
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
      ++connections_;
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  });
}

HttpServer::~HttpServer() {
  stop_.store(true);
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard lock(mu_);
  for (std::thread& t : workers_) t.join();
  if (listen_fd_ >= 0) close(listen_fd_);
}

void HttpServer::Serve(int fd) {
  // The request: read its head (up to the blank line), whatever it asks for.
  std::string request;
  char buf[1024];
  while (request.find("\r\n\r\n") == std::string::npos && !stop_.load()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: " + content_type_ + "\r\n";
  if (content_length_) head += "Content-Length: " + std::to_string(body_.size()) + "\r\n";
  head += "Connection: close\r\n\r\n";
  std::string all = head + body_;
  for (size_t sent = 0; sent < all.size() && !stop_.load();) {
    ssize_t n = send(fd, all.data() + sent, all.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  close(fd);
}

}  // namespace supernova::stream::video_test

#include "server/serve_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>

namespace supernova::testing {

ServeProcess::ServeProcess(std::vector<std::string> args) {
  for (const char* flag : {"--http-port", "--grpc-port", "--metrics-port"})
    if (std::find(args.begin(), args.end(), flag) == args.end()) {
      args.push_back(flag);
      args.push_back("0");
    }
  std::vector<std::string> argv_strings = {SUPERNOVA_CLI, "serve"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  int fds[2];
  if (pipe(fds) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (std::string& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { ReadLoop(fd); });
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    Wait();
  }
  if (reader_.joinable()) reader_.join();
}

void ServeProcess::ReadLoop(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    const size_t old_size = log_.size();
    log_.append(buf, static_cast<size_t>(n));
    // Parse complete lines that arrived with this chunk for the ready event.
    size_t start = log_.rfind('\n', old_size == 0 ? 0 : old_size - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::istringstream lines(log_.substr(start));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("\"server_ready\"") == std::string::npos) continue;
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      http_port_ = std::stoi(j.value("http_port", "-1"));
      grpc_port_ = std::stoi(j.value("grpc_port", "-1"));
      metrics_port_ = std::stoi(j.value("metrics_port", "-1"));
    }
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mu_);
  eof_ = true;
  cv_.notify_all();
}

bool ServeProcess::WaitReady() {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::seconds(60), [&] {
    return eof_ || log_.find("\"server_ready\"") != std::string::npos;
  }) && !eof_;
}

void ServeProcess::Signal(int sig) {
  if (pid_ > 0 && !exited_) kill(pid_, sig);
}

int ServeProcess::Wait() {
  if (pid_ <= 0) return -1;
  if (!exited_) {
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return exit_code_;
}

std::string ServeProcess::Log() const {
  std::lock_guard lock(mu_);
  return log_;
}

bool ServeProcess::Logged(const std::string& event) const {
  std::lock_guard lock(mu_);
  return log_.find("\"event\":\"" + event + "\"") != std::string::npos;
}

}  // namespace supernova::testing

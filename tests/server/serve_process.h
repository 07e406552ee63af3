// `supernova serve` as a real process for the tests: started on ports the kernel picks, its
// JSON log read from stderr (the server_ready line gives the ports), stopped with a signal.
//
//   ServeProcess serve({"--model-repository", repo.path()});
//   ASSERT_TRUE(serve.WaitReady()) << serve.Log();
//   httplib::Client http("127.0.0.1", serve.http_port());
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace supernova::testing {

class ServeProcess {
 public:
  // Adds --http-port 0 --grpc-port 0 --metrics-port 0 unless `args` sets them.
  explicit ServeProcess(std::vector<std::string> args);
  ~ServeProcess();  // SIGKILLs the process if it still runs

  // Waits (up to 60 s) for the server_ready line; false if the process exited first.
  bool WaitReady();
  int http_port() const { return http_port_; }
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  // The process id (for /proc sampling: tests/soak/), -1 if it could not start.
  pid_t pid() const { return pid_; }

  void Signal(int sig);
  // Waits for the process to exit and returns its exit code (-1 if killed by a signal).
  int Wait();
  // Everything it wrote to stderr so far.
  std::string Log() const;
  // Whether a log line with "event":"<event>" has been written.
  bool Logged(const std::string& event) const;

 private:
  void ReadLoop(int fd);

  pid_t pid_ = -1;
  int exit_code_ = -1;
  bool exited_ = false;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string log_;
  bool eof_ = false;
  int http_port_ = -1, grpc_port_ = -1, metrics_port_ = -1;
};

}  // namespace supernova::testing

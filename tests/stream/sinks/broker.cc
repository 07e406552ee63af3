#include "stream/sinks/broker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace supernova::testing {
namespace {

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

Broker::Broker(int port) : port_(port) {
  char tmpl[] = "/tmp/sn_broker_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) std::abort();
  dir_ = tmpl;
  std::ofstream conf(dir_ + "/mosquitto.conf");
  conf << "listener " << port_ << " 127.0.0.1\n"
       << "allow_anonymous true\n"
       << "persistence false\n";
}

Broker::~Broker() {
  if (pid_ > 0) {
    kill(pid_, SIGCONT);
    Stop();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool Broker::Start() {
  if (pid_ > 0) return true;
  const std::string conf = dir_ + "/mosquitto.conf", log = dir_ + "/broker.log";
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execl(SUPERNOVA_MOSQUITTO_BROKER, "mosquitto", "-c", conf.c_str(), "-v",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ < 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Accepts(port_)) return true;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {  // it exited (port taken?)
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void Broker::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void Broker::Pause() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void Broker::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

std::string Broker::Log() const {
  std::ifstream in(dir_ + "/broker.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Subscriber::Subscriber(int port, std::string topic) : topic_(std::move(topic)) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(nullptr, true, this);
  mosquitto_connect_callback_set(mosq_, &Subscriber::OnConnect);
  mosquitto_subscribe_callback_set(mosq_, &Subscriber::OnSubscribe);
  mosquitto_message_callback_set(mosq_, &Subscriber::OnMessage);
  mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
  mosquitto_connect_async(mosq_, "127.0.0.1", port, 30);
  mosquitto_loop_start(mosq_);
}

Subscriber::~Subscriber() {
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, true);
  mosquitto_destroy(mosq_);
}

void Subscriber::OnConnect(mosquitto* m, void* self, int rc) {
  auto* s = static_cast<Subscriber*>(self);
  if (rc == 0) mosquitto_subscribe(m, nullptr, s->topic_.c_str(), 1);
}

void Subscriber::OnSubscribe(mosquitto*, void* self, int, int, const int*) {
  auto* s = static_cast<Subscriber*>(self);
  std::lock_guard lock(s->mu_);
  ++s->subscribed_;
  s->cv_.notify_all();
}

void Subscriber::OnMessage(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* s = static_cast<Subscriber*>(self);
  std::lock_guard lock(s->mu_);
  s->messages_.emplace_back(static_cast<const char*>(msg->payload),
                            static_cast<size_t>(msg->payloadlen));
  s->topics_.emplace_back(msg->topic);
  s->cv_.notify_all();
}

bool Subscriber::WaitSubscribed(int n, std::chrono::seconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return subscribed_ >= n; });
}

bool Subscriber::WaitMessages(size_t n, std::chrono::seconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
}

std::vector<std::string> Subscriber::messages() const {
  std::lock_guard lock(mu_);
  return messages_;
}

std::vector<std::string> Subscriber::topics() const {
  std::lock_guard lock(mu_);
  return topics_;
}

}  // namespace supernova::testing

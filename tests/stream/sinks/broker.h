// Test helpers for the MQTT sink: a real mosquitto broker as a child process on 127.0.0.1,
// and a libmosquitto subscriber that collects what arrives.
//
//   Broker broker(FreePort());
//   ASSERT_TRUE(broker.Start());
//   Subscriber sub(broker.port(), "supernova/#");
//   ASSERT_TRUE(sub.WaitSubscribed(1));
//   ... publish ...
//   ASSERT_TRUE(sub.WaitMessages(10));
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "free_port.h"

struct mosquitto;
struct mosquitto_message;

namespace supernova::testing {

class Broker {
 public:
  explicit Broker(int port);
  ~Broker();  // stops the broker and removes its files

  // Starts /usr/sbin/mosquitto on the port and waits (up to 10 s) until it accepts
  // connections. False if it did not come up (its log says why).
  bool Start();
  // SIGTERM, then waits for the process to end.
  void Stop();
  // SIGSTOP / SIGCONT: the connection stays up but nothing is answered.
  void Pause();
  void Resume();
  int port() const { return port_; }
  std::string Log() const;

 private:
  int port_;
  std::string dir_;
  pid_t pid_ = -1;
};

class Subscriber {
 public:
  // Connects in the background and (re)subscribes to `topic` on every connection.
  Subscriber(int port, std::string topic);
  ~Subscriber();

  // Waits until `n` subscriptions have been acknowledged (one per connection).
  bool WaitSubscribed(int n, std::chrono::seconds timeout = std::chrono::seconds(15));
  bool WaitMessages(size_t n, std::chrono::seconds timeout = std::chrono::seconds(15));
  std::vector<std::string> messages() const;
  std::vector<std::string> topics() const;

 private:
  static void OnConnect(mosquitto* m, void* self, int rc);
  static void OnSubscribe(mosquitto* m, void* self, int mid, int qos_count, const int* granted);
  static void OnMessage(mosquitto* m, void* self, const mosquitto_message* msg);

  const std::string topic_;
  mosquitto* mosq_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int subscribed_ = 0;
  std::vector<std::string> messages_, topics_;
};

}  // namespace supernova::testing

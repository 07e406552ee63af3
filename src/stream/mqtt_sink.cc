// The MQTT sink: one EdgeX event per frame through libmosquitto's threaded client.
//
// Write serialises the event on the caller's thread and hands it to mosquitto_publish, which
// only queues it for the network thread (mosquitto_loop_start): the pipeline never waits on
// the network. What the network thread reports back (connect, disconnect, publish done)
// arrives in the callbacks below, which keep the counts Write decides on: a frame is dropped
// while disconnected or while mqtt_queue_limit messages are still pending. Reconnection is
// libmosquitto's own, with the delays from SinkOptions.
#include <mosquitto.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "stream/sink_impl.h"

namespace supernova::stream {
namespace {

struct MqttAddress {
  std::string host;
  int port = 1883;
  std::string topic;
};

Result<MqttAddress> ParseMqttUrl(const std::string& url) {
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("mqtt sink '" + url + "': " + why +
                                   " (expected mqtt://HOST[:PORT]/TOPIC)");
  };
  std::string rest = url.substr(std::strlen("mqtt://"));
  const size_t slash = rest.find('/');
  if (slash == std::string::npos || slash + 1 == rest.size()) return bad("no topic");
  MqttAddress a;
  a.topic = rest.substr(slash + 1);
  std::string authority = rest.substr(0, slash);
  std::string port;
  if (!authority.empty() && authority[0] == '[') {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == std::string::npos) return bad("unterminated '['");
    a.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("junk after ']'");
      port = authority.substr(close + 2);
      if (port.empty()) return bad("empty port");
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string::npos) {
    a.host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return bad("empty port");
  } else {
    a.host = authority;
  }
  if (a.host.empty()) return bad("no host");
  if (a.host.find('@') != std::string::npos) return bad("user names are not supported");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
      return bad("port '" + port + "' is not a number");
    a.port = std::stoi(port);
    if (a.port < 1 || a.port > 65535) return bad("port " + port + " out of range");
  }
  if (mosquitto_pub_topic_check(a.topic.c_str()) != MOSQ_ERR_SUCCESS)
    return bad("'" + a.topic + "' is not a topic to publish on (no '+' or '#')");
  return a;
}

Status CheckOptions(const SinkOptions& o) {
  if (o.mqtt_qos < 0 || o.mqtt_qos > 2)
    return Status::InvalidArgument("mqtt sink: mqtt_qos must be 0, 1 or 2");
  if (o.mqtt_queue_limit < 1)
    return Status::InvalidArgument("mqtt sink: mqtt_queue_limit must be at least 1");
  if (o.mqtt_keepalive_s < 5)
    return Status::InvalidArgument("mqtt sink: mqtt_keepalive_s must be at least 5");
  if (o.mqtt_reconnect_delay_s < 1 || o.mqtt_reconnect_delay_max_s < o.mqtt_reconnect_delay_s)
    return Status::InvalidArgument(
        "mqtt sink: need 1 <= mqtt_reconnect_delay_s <= mqtt_reconnect_delay_max_s");
  if (!(o.mqtt_connect_timeout_s >= 0) || !(o.mqtt_close_timeout_s >= 0))
    return Status::InvalidArgument("mqtt sink: timeouts must not be negative");
  return Status::Ok();
}

std::string MosquittoError(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

std::chrono::duration<double> Seconds(double s) { return std::chrono::duration<double>(s); }

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

class MqttSink final : public Sink {
 public:
  static Result<std::unique_ptr<Sink>> Open(MqttAddress address, const SinkOptions& options);
  ~MqttSink() override;

  Status Write(const FrameResult& result) override;
  Status Close() override;
  SinkStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  MqttSink(MqttAddress address, SinkOptions options)
      : address_(std::move(address)), options_(std::move(options)) {}

  // A first connection attempt that fails at once (a refused port on this host, a name that
  // does not resolve) leaves libmosquitto's thread waiting for a connect call that never
  // comes: it only retries connections that got under way. This thread makes those calls,
  // with the same backoff, until one gets under way; then libmosquitto takes over.
  void RetryFirstConnection();

  // libmosquitto's network thread.
  static void OnConnect(mosquitto*, void* self, int rc);
  static void OnDisconnect(mosquitto*, void* self, int rc);
  static void OnPublish(mosquitto*, void* self, int mid);

  // Constant after Open.
  const MqttAddress address_;
  const SinkOptions options_;
  mosquitto* mosq_ = nullptr;
  bool loop_running_ = false;  // the owner's thread only
  bool closed_ = false;        // the owner's thread only
  std::thread connector_;      // RetryFirstConnection, where needed

  mutable std::mutex mu_;
  std::condition_variable cv_;  // connection and pending changes
  // Guarded by mu_. Write holds mu_ across mosquitto_publish, so that the counts change
  // atomically with the message's fate (mosquitto_publish only queues the message and takes
  // none of the locks its network thread holds while calling back).
  SinkStats stats_;
  bool ever_connected_ = false;
  int connack_refused_ = 0;  // the broker's CONNACK code when it refused us
  bool stopping_ = false;    // Close has begun: the connector gives up
};

void MqttSink::RetryFirstConnection() {
  int delay_s = options_.mqtt_reconnect_delay_s;
  std::unique_lock lock(mu_);
  for (;;) {
    if (cv_.wait_for(lock, std::chrono::seconds(delay_s), [&] { return stopping_; })) return;
    lock.unlock();
    const int rc = mosquitto_reconnect_async(mosq_);
    lock.lock();
    if (rc == MOSQ_ERR_SUCCESS) return;
    delay_s = std::min(2 * delay_s, options_.mqtt_reconnect_delay_max_s);
  }
}

void MqttSink::OnConnect(mosquitto*, void* self, int rc) {
  auto* s = static_cast<MqttSink*>(self);
  std::lock_guard lock(s->mu_);
  if (rc == 0) {
    s->stats_.connected = true;
    if (s->ever_connected_) ++s->stats_.reconnects;
    s->ever_connected_ = true;
  } else {
    s->connack_refused_ = rc;
  }
  s->cv_.notify_all();
}

void MqttSink::OnDisconnect(mosquitto*, void* self, int rc) {
  auto* s = static_cast<MqttSink*>(self);
  std::lock_guard lock(s->mu_);
  if (s->stats_.connected && rc != 0) ++s->stats_.disconnects;
  s->stats_.connected = false;
  // QoS 0 messages still queued die with the connection (libmosquitto drops its outgoing
  // packets when it reconnects); QoS 1 and 2 ones are sent again after the reconnect.
  if (s->options_.mqtt_qos == 0) {
    s->stats_.lost_on_disconnect += s->stats_.pending;
    s->stats_.pending = 0;
  }
  s->cv_.notify_all();
}

void MqttSink::OnPublish(mosquitto*, void* self, int) {
  auto* s = static_cast<MqttSink*>(self);
  std::lock_guard lock(s->mu_);
  ++s->stats_.sent;
  if (s->stats_.pending > 0) --s->stats_.pending;
  s->cv_.notify_all();
}

Result<std::unique_ptr<Sink>> MqttSink::Open(MqttAddress address, const SinkOptions& options) {
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });

  std::unique_ptr<MqttSink> sink(new MqttSink(std::move(address), options));
  MqttSink* s = sink.get();
  const std::string where =
      "mqtt sink: broker " + s->address_.host + ":" + std::to_string(s->address_.port);
  const char* id = options.mqtt_client_id.empty() ? nullptr : options.mqtt_client_id.c_str();
  s->mosq_ = mosquitto_new(id, /*clean_session=*/true, s);
  if (s->mosq_ == nullptr)
    return Status::Internal(where + ": cannot create a client: " + std::strerror(errno));
  mosquitto_connect_callback_set(s->mosq_, &MqttSink::OnConnect);
  mosquitto_disconnect_callback_set(s->mosq_, &MqttSink::OnDisconnect);
  mosquitto_publish_callback_set(s->mosq_, &MqttSink::OnPublish);
  mosquitto_reconnect_delay_set(s->mosq_, static_cast<unsigned>(options.mqtt_reconnect_delay_s),
                                static_cast<unsigned>(options.mqtt_reconnect_delay_max_s),
                                /*reconnect_exponential_backoff=*/true);

  const bool wait = options.mqtt_connect_timeout_s > 0;
  const int rc = mosquitto_connect_async(s->mosq_, s->address_.host.c_str(), s->address_.port,
                                         options.mqtt_keepalive_s);
  const std::string error = MosquittoError(rc);  // before errno changes
  if (rc != MOSQ_ERR_SUCCESS && (wait || rc == MOSQ_ERR_INVAL))
    return Status::Unavailable(where + ": cannot connect: " + error);
  if (const int lrc = mosquitto_loop_start(s->mosq_); lrc != MOSQ_ERR_SUCCESS)
    return Status::Internal(where + ": cannot start the network thread: " + MosquittoError(lrc));
  s->loop_running_ = true;
  if (rc != MOSQ_ERR_SUCCESS) s->connector_ = std::thread([s] { s->RetryFirstConnection(); });
  if (!wait) return std::unique_ptr<Sink>(std::move(sink));

  std::unique_lock lock(s->mu_);
  s->cv_.wait_for(lock, Seconds(options.mqtt_connect_timeout_s),
                  [&] { return s->stats_.connected || s->connack_refused_ != 0; });
  if (s->stats_.connected) {
    lock.unlock();
    return std::unique_ptr<Sink>(std::move(sink));
  }
  const std::string why =
      s->connack_refused_ != 0
          ? std::string("the broker refused the connection: ") +
                mosquitto_connack_string(s->connack_refused_)
          : "no connection within " + FormatSeconds(options.mqtt_connect_timeout_s);
  lock.unlock();
  return Status::Unavailable(where + ": " + why);  // ~MqttSink stops the thread
}

MqttSink::~MqttSink() {
  static_cast<void>(Close());
  if (mosq_ != nullptr) mosquitto_destroy(mosq_);
}

Status MqttSink::Write(const FrameResult& result) {
  if (closed_) return Status::FailedPrecondition("mqtt sink: written after Close");
  if (!result.frame) return Status::InvalidArgument("mqtt sink: a FrameResult without a frame");
  const std::string payload = EdgeXEventJson(result, options_);

  std::lock_guard lock(mu_);
  if (!stats_.connected) {
    ++stats_.frames;
    ++stats_.dropped_disconnected;
    return Status::Ok();
  }
  if (stats_.pending >= options_.mqtt_queue_limit) {
    ++stats_.frames;
    ++stats_.dropped_queue_full;
    return Status::Ok();
  }
  const int rc =
      mosquitto_publish(mosq_, nullptr, address_.topic.c_str(), static_cast<int>(payload.size()),
                        payload.data(), options_.mqtt_qos, /*retain=*/false);
  switch (rc) {
    case MOSQ_ERR_SUCCESS:
      ++stats_.frames;
      ++stats_.pending;
      return Status::Ok();
    case MOSQ_ERR_NO_CONN:
    case MOSQ_ERR_CONN_LOST:
    case MOSQ_ERR_ERRNO:
      ++stats_.frames;
      ++stats_.dropped_disconnected;  // the connection went between our check and the call
      return Status::Ok();
    default:  // a message this broker cannot take: too large, QoS not supported
      return Status::Unavailable("mqtt sink: cannot publish on '" + address_.topic +
                                 "': " + mosquitto_strerror(rc));
  }
}

Status MqttSink::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  if (!loop_running_) return Status::Ok();
  loop_running_ = false;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (connector_.joinable()) connector_.join();
  bool connected;
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, Seconds(options_.mqtt_close_timeout_s),
                 [&] { return !stats_.connected || stats_.pending == 0; });
    connected = stats_.connected;
  }
  mosquitto_disconnect(mosq_);
  // Connected, the network thread sends the DISCONNECT (after every message queued before
  // it) and ends. Otherwise it may be asleep between reconnection attempts for up to
  // mqtt_reconnect_delay_max_s: cancel it there rather than wait.
  mosquitto_loop_stop(mosq_, /*force=*/!connected);
  std::lock_guard lock(mu_);
  stats_.lost_on_disconnect += stats_.pending;
  stats_.pending = 0;
  stats_.connected = false;
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Sink>> OpenMqttSink(const std::string& url, const SinkOptions& options) {
  SN_RETURN_IF_ERROR(CheckOptions(options));
  SN_ASSIGN_OR_RETURN(MqttAddress address, ParseMqttUrl(url));
  return MqttSink::Open(std::move(address), options);
}

}  // namespace supernova::stream

// The hostile clients: raw sockets that break HTTP in the ways real networks and real attackers
// do (half a request then gone, bodies and headers over the limits, garbage), gRPC messages over
// the limit, calls without the right token, and slow clients that trickle a byte per 100 ms.
// Each expects a precise reaction; anything else is a failure.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <random>
#include <thread>

#include "grpc_service.grpc.pb.h"
#include "soak/soak.h"

namespace supernova::soak {
namespace {

// A blocking TCP connection to 127.0.0.1 with a receive timeout.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      fd_ = -1;
    }
    timeval tv{10, 0};
    if (fd_ >= 0) setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool Send(const std::string& bytes) {
    size_t at = 0;
    while (at < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return false;
      at += static_cast<size_t>(n);
    }
    return true;
  }
  bool Readable(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, timeout_ms) > 0;
  }
  // The status code of the response's first line; 0 when the server closed without one, -2
  // when nothing came within the receive timeout.
  int ReadStatus() {
    std::string got;
    char buf[512];
    while (got.find("\r\n") == std::string::npos) {
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -2;
      if (n <= 0) return 0;
      got.append(buf, static_cast<size_t>(n));
    }
    if (got.rfind("HTTP/1.", 0) != 0 || got.size() < 12) return 0;
    return std::atoi(got.c_str() + 9);
  }

 private:
  int fd_ = -1;
};

std::string Head(const Settings& s, const std::string& extra) {
  return "POST /v2/models/simple/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
         s.infer_token + "\r\nContent-Type: application/json\r\n" + extra;
}

const std::string kSteadyBody = [] {
  std::string data;
  for (int i = 0; i < kChainWidth; ++i) data += (i ? "," : "") + std::to_string(i % 5);
  return R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1,)" + std::to_string(kChainWidth) +
         R"(],"data":[)" + data + "]}]}";
}();

// Each returns its outcome: "ok_..." when the server reacted as it must.
std::string HalfHeader(const Settings& s) {
  RawConnection c(s.http_port);
  if (!c.ok()) return "FAIL_connect";
  c.Send(Head(s, "Content-Le"));
  return "ok_sent_and_left";
}

std::string HalfBody(const Settings& s) {
  RawConnection c(s.http_port);
  if (!c.ok()) return "FAIL_connect";
  c.Send(Head(s, "Content-Length: 400\r\n\r\n") + R"({"inputs":[{"name":"INPUT0",)");
  return "ok_sent_and_left";
}

// A whole request to the slower model, then gone before the answer: the server cancels it.
std::string GoneInFlight(const Settings& s) {
  RawConnection c(s.http_port);
  if (!c.ok()) return "FAIL_connect";
  std::string req = Head(s, "Content-Length: " + std::to_string(kSteadyBody.size()) + "\r\n\r\n");
  req.replace(req.find("simple"), 6, "steady");
  c.Send(req + kSteadyBody);
  return "ok_sent_and_left";
}

std::string BodyOverLimitDeclared(const Settings& s) {
  RawConnection c(s.http_port);
  if (!c.ok()) return "FAIL_connect";
  c.Send(Head(s, "Content-Length: " + std::to_string(s.max_body_bytes + 1) + "\r\n\r\n"));
  const int status = c.ReadStatus();
  return status == 413 ? "ok_413" : "FAIL_status_" + std::to_string(status);
}

// Chunked, so the size is only known as it arrives: the server must stop it at the limit.
std::string BodyOverLimitStreamed(const Settings& s) {
  RawConnection c(s.http_port);
  if (!c.ok()) return "FAIL_connect";
  c.Send(Head(s, "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
  for (size_t sent = 0; sent <= 2 * s.max_body_bytes && !c.Readable(0); sent += 0x10000)
    if (!c.Send(chunk)) break;
  const int status = c.ReadStatus();
  return status == 413 ? "ok_413" : "FAIL_status_" + std::to_string(status);
}

std::string HeaderOverLimit(const Settings& s) {
  RawConnection c(s.http_port);
  if (!c.ok()) return "FAIL_connect";
  c.Send(Head(s, "X-Big: " + std::string(20 * 1024, 'a') + "\r\nContent-Length: 2\r\n\r\n{}"));
  const int status = c.ReadStatus();
  if (status == 431) return "ok_431";
  return status == 0 ? "ok_closed" : "FAIL_status_" + std::to_string(status);
}

std::string Garbage(const Settings& s, std::mt19937& rng) {
  RawConnection c(s.http_port);
  if (!c.ok()) return "FAIL_connect";
  std::string junk(256, '\0');
  for (char& ch : junk) ch = static_cast<char>(rng() & 0xff);
  c.Send(junk + "\r\n\r\n");
  const int status = c.ReadStatus();
  if (status == 400) return "ok_400";
  // A random first line may still parse as far as "waiting for more": the idle timeout ends it.
  if (status == 0 || status == -2) return "ok_closed";
  return "FAIL_status_" + std::to_string(status);
}

std::string GrpcOverLimit(const Settings& s) {
  auto stub = inference::GRPCInferenceService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(s.grpc_port), grpc::InsecureChannelCredentials()));
  inference::ModelInferRequest req;
  req.set_model_name("steady");
  auto* in = req.add_inputs();
  in->set_name("x");
  in->set_datatype("FP32");
  in->add_shape(1);
  in->add_shape(static_cast<int64_t>(s.max_body_bytes / 4 + 16));
  req.add_raw_input_contents(std::string(s.max_body_bytes + 64, '\0'));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + s.infer_token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  inference::ModelInferResponse resp;
  const grpc::Status st = stub->ModelInfer(&ctx, req, &resp);
  return st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED
             ? "ok_resource_exhausted"
             : "FAIL_grpc_" + std::to_string(st.error_code());
}

// No token: 401. The inference token on an admin call: 403.
std::string WrongTokens(const Settings& s) {
  httplib::Client http("127.0.0.1", s.http_port);
  http.set_read_timeout(30);
  auto anon = http.Post("/v2/models/simple/infer", "{}", "application/json");
  http.set_bearer_token_auth(s.infer_token);
  auto admin = http.Post("/v2/repository/models/churn/unload", "{}", "application/json");
  if (!anon || anon->status != 401) return "FAIL_anonymous_infer";
  if (!admin || admin->status != 403) return "FAIL_infer_token_unloads";
  return "ok_401_403";
}

}  // namespace

void RunHostileClient(const Settings& s, Tally& tally, const Shutdown& shutdown) {
  std::mt19937 rng(19);
  const std::vector<std::pair<std::string, std::function<std::string()>>> attacks = {
      {"half_header", [&] { return HalfHeader(s); }},
      {"half_body", [&] { return HalfBody(s); }},
      {"gone_in_flight", [&] { return GoneInFlight(s); }},
      {"body_over_limit_declared", [&] { return BodyOverLimitDeclared(s); }},
      {"body_over_limit_chunked", [&] { return BodyOverLimitStreamed(s); }},
      {"header_over_limit", [&] { return HeaderOverLimit(s); }},
      {"garbage", [&] { return Garbage(s, rng); }},
      {"grpc_over_limit", [&] { return GrpcOverLimit(s); }},
      {"wrong_tokens", [&] { return WrongTokens(s); }}};
  for (size_t n = 0; !shutdown.signalled.load() && !shutdown.stop_clients.load(); ++n) {
    const auto& [kind, attack] = attacks[n % attacks.size()];
    std::string outcome = attack();
    // A SIGTERM that came in the middle changes what the server may answer.
    if (shutdown.signalled.load()) outcome = "after_sigterm";
    tally.Add("hostile/" + kind, outcome,
              outcome.rfind("FAIL", 0) == 0 ? kind + ": " + outcome : "");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A request's head, a byte per 100 ms, never finished: the idle timeout must cut it, and
// well-formed clients must not notice (their answers are checked meanwhile).
void RunSlowClient(const Settings& s, Tally& tally, const Shutdown& shutdown) {
  const std::string trickle = Head(s, "X-Slow: ") + std::string(100000, 'z');
  while (!shutdown.signalled.load() && !shutdown.stop_clients.load()) {
    RawConnection c(s.http_port);
    if (!c.ok()) return tally.Add("slow/trickle", "FAIL_connect");
    const Clock::time_point start = Clock::now();
    size_t at = 0;
    bool cut = false;
    while (!cut && at < trickle.size() && !shutdown.stop_clients.load()) {
      if (!c.Send(trickle.substr(at++, 1))) cut = true;
      // The server closes: readable with end of stream (or an error) at once.
      if (!cut && c.Readable(100)) cut = c.ReadStatus() <= 0;
    }
    const double held = std::chrono::duration<double>(Clock::now() - start).count();
    std::string outcome;
    if (!shutdown.Before(Clock::now()))
      outcome = "ended_after_sigterm";
    else if (!cut || held > 2 * s.idle_timeout_s + 2)
      outcome = "FAIL_not_cut";
    else if (held < 0.9 * s.idle_timeout_s)
      outcome = "FAIL_cut_early";
    else
      outcome = "ok_cut_by_idle_timeout";
    tally.Add(
        "slow/trickle", outcome,
        outcome.rfind("FAIL", 0) == 0 ? "slow client held " + std::to_string(held) + " s" : "");
  }
}

}  // namespace supernova::soak

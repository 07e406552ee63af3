// What the HTTP front end's tests share: a real HttpServer on 127.0.0.1 (ephemeral port) over a
// core built from a temporary repository, the bundled `simple` model's requests and their
// computed answers, the binary tensor extension, and a raw socket for the tests that misbehave
// at the byte level. The tests that use it are http_{metadata,infer,admin,transport}_test.cc.
// (pkg-config's cpp-httplib flags turn on its OpenSSL support: httplib::SSLClient.)
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/http_server.h"
#include "server/inference_server.h"
#include "server/raw_bytes.h"
#include "server/test_repository.h"

namespace supernova::server::http_test {

using json = nlohmann::json;
using testing::TempRepository;

// Polls `done` until it holds or a generous deadline passes: synchronisation with the server's
// threads, not a timing assertion.
bool WaitFor(const std::function<bool()>& done);

// A value of the core's Prometheus text: `series` is the name with its labels.
int64_t Metric(InferenceServer& core, const std::string& series);

// The admin token of the tests that load, unload or use a backend's sub-resources: without a
// token the server refuses administration.
inline constexpr char kTestAdminToken[] = "test-admin-token";

struct Server {
  TempRepository repo;
  std::unique_ptr<InferenceServer> core;
  std::unique_ptr<HttpServer> http;
  // Sent by Client() on every request when set (StartAdmin sets it).
  std::string token;

  // The core alone, on this server's repository.
  void StartCore(ServerOptions so = {}) {
    so.model_repository = repo.path();
    auto c = InferenceServer::Create(so);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    core = std::move(c).value();
  }
  void Start(ServerOptions so = {}, HttpOptions ho = {}) {
    StartCore(std::move(so));
    if (!core) return;
    ho.address = "127.0.0.1";
    ho.port = 0;
    auto h = HttpServer::Start(core.get(), ho);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    http = std::move(h).value();
  }
  // Start() with kTestAdminToken as the admin token, which Client() then sends: the only token,
  // so it also guards inference.
  void StartAdmin(ServerOptions so = {}, HttpOptions ho = {}) {
    so.admin_token = kTestAdminToken;
    token = kTestAdminToken;
    Start(std::move(so), std::move(ho));
  }
  int port() const { return http->port(); }
  httplib::Client Client() const {
    httplib::Client cli("127.0.0.1", port());
    if (!token.empty()) cli.set_default_headers({{"Authorization", "Bearer " + token}});
    cli.set_keep_alive(true);
    cli.set_tcp_nodelay(true);  // else Nagle holds the body behind the headers
    cli.set_read_timeout(120, 0);
    return cli;
  }
};

// The bundled `simple` model: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1, [batch, 16].
struct SimpleCase {
  int batch = 1;
  std::vector<int32_t> in0, in1;
};

SimpleCase MakeSimple(int batch, uint32_t seed);
// The request for `simple`: its inputs as flat or nested rows, and any `extra` top-level fields.
std::string SimpleJson(const SimpleCase& c, bool nested = false, const json& extra = {});
std::vector<int32_t> Sum(const SimpleCase& c);
std::vector<int32_t> Difference(const SimpleCase& c);
const json* FindOutput(const json& response, const std::string& name);

// Checks a JSON infer response of `simple` against the computed sums and differences.
void ExpectSimpleJson(const httplib::Result& res, const SimpleCase& c);
void ExpectSimpleOk(httplib::Client& cli, uint32_t seed);

// A binary-extension body: the JSON header, then the raw bytes of each binary input in order.
struct BinaryBody {
  std::string body;
  size_t header_length = 0;
};
BinaryBody MakeBinary(const json& header, const std::vector<std::string>& blobs);
using test_bytes::Bytes;

httplib::Result PostBinary(httplib::Client& cli, const std::string& path, const BinaryBody& b,
                           httplib::Headers headers = {});

// Splits a binary-extension response into its JSON and the bytes of each binary output.
struct BinaryResponse {
  json header;
  std::map<std::string, std::string> blobs;
};
BinaryResponse SplitBinary(const httplib::Response& res);

// A raw TCP connection, for what an HTTP client library will not do.
class RawSocket {
 public:
  explicit RawSocket(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{60, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawSocket() { Close(); }
  bool connected() const { return connected_; }
  void Send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }
  // Reads until the peer closes (or the 60 s receive timeout).
  std::string ReadAll() {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads until `marker` has been seen `count` times.
  std::string ReadUntil(const std::string& marker, int count = 1) {
    std::string out;
    char c;
    int seen = 0;
    while (seen < count && ::recv(fd_, &c, 1, 0) == 1) {
      out.push_back(c);
      if (out.size() >= marker.size() &&
          out.compare(out.size() - marker.size(), marker.size(), marker) == 0)
        ++seen;
    }
    return out;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// A raw HTTP/1.1 POST of a JSON body, with any `extra_headers` (each ending in \r\n).
std::string HttpPost(const std::string& path, const std::string& body,
                     const std::string& extra_headers = "");

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.repo.AddBundled("simple");
    s_.Start();
  }
  Server s_;
};

// HttpTest with the admin token set and sent by s_.Client(): for load and unload.
class HttpAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.repo.AddBundled("simple");
    s_.StartAdmin();
  }
  Server s_;
};

}  // namespace supernova::server::http_test

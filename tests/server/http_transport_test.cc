// The HTTP front end end to end (http_fixture.h): HTTPS, a full queue, timeouts and clients
// that disconnect, a graceful stop, and options that must fail to start. Assertions are on
// behaviour, never on speed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "server/http_fixture.h"

namespace supernova::server {
namespace {

using namespace http_test;  // NOLINT: the test helpers
using ::testing::HasSubstr;

// ---- TLS ------------------------------------------------------------------------------------

TEST(HttpTls, ServesHttpsOnly) {
  Server s;
  s.repo.AddBundled("simple");
  const std::string dir = s.repo.path();
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -days 1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  HttpOptions ho;
  ho.tls_cert_file = cert;
  ho.tls_key_file = key;
  s.Start({}, ho);

  httplib::SSLClient cli("127.0.0.1", s.port());
  cli.set_ca_cert_path(cert.c_str());
  cli.enable_server_certificate_verification(true);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);  // else Nagle holds the body behind the headers
  auto live = cli.Get("/v2/health/live");
  ASSERT_TRUE(live) << httplib::to_string(live.error());
  EXPECT_EQ(live->status, 200);
  for (int i = 0; i < 3; ++i) {
    const SimpleCase c = MakeSimple(2, 60 + i);
    ExpectSimpleJson(cli.Post("/v2/models/simple/infer", SimpleJson(c), "application/json"), c);
  }
  EXPECT_EQ(cli.Post("/v2/models/simple/infer", "{", "application/json")->status, 400);
  const SimpleCase c = MakeSimple(1, 70);
  ExpectSimpleJson(cli.Post("/v2/models/simple/infer", SimpleJson(c), "application/json"), c);

  // Plain HTTP on the TLS port gets no HTTP answer.
  httplib::Client plain("127.0.0.1", s.port());
  plain.set_read_timeout(30, 0);
  auto res = plain.Get("/v2/health/live");
  EXPECT_FALSE(res && res->status == 200);
}

TEST(HttpTls, MissingOrBadFilesFailToStart) {
  Server s;
  s.StartCore();
  ASSERT_TRUE(s.core);
  HttpOptions ho;
  ho.address = "127.0.0.1";
  ho.port = 0;
  ho.tls_cert_file = s.repo.path() + "/missing.pem";
  EXPECT_FALSE(HttpServer::Start(s.core.get(), ho).ok());  // key missing
  ho.tls_key_file = s.repo.path() + "/missing-key.pem";
  EXPECT_FALSE(HttpServer::Start(s.core.get(), ho).ok());  // files missing
}

// ---- queue full, timeout, disconnect, stop ----------------------------------------------------

// y = x through 48 identity MatMuls of 1024 x 1024: each request takes a while, one instance,
// one queue slot.
constexpr char kSlowConfig[] = R"(
max_batch_size: 1
instance_group [ { count: 1 kind: KIND_CPU } ]
dynamic_batching { default_queue_policy { max_queue_size: 1 } }
)";

TEST(HttpQueue, FloodGets503sAndEveryAnswerIsExact) {
  Server s;
  s.repo.AddIdentityChain("slow", 1024, 48, kSlowConfig);
  s.Start();
  std::atomic<int> ok{0}, busy{0}, wrong{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client cli("127.0.0.1", s.port());
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);  // else Nagle holds the body behind the headers
      cli.set_read_timeout(300, 0);
      std::mt19937 rng(static_cast<uint32_t>(t));
      std::uniform_real_distribution<float> dist(-100.0f, 100.0f);
      for (int i = 0; i < 6; ++i) {
        std::vector<float> x(1024);
        for (float& v : x) v = dist(rng);
        const bool binary = (t + i) % 2 == 0;
        const json binary_header = {{"parameters", {{"binary_data_output", true}}},
                                    {"inputs",
                                     {{{"name", "x"},
                                       {"shape", {1, 1024}},
                                       {"datatype", "FP32"},
                                       {"parameters", {{"binary_data_size", 4096}}}}}}};
        const json json_body = {
            {"inputs", {{{"name", "x"}, {"shape", {1, 1024}}, {"datatype", "FP32"}, {"data", x}}}}};
        httplib::Result res =
            binary ? PostBinary(cli, "/v2/models/slow/infer", MakeBinary(binary_header, {Bytes(x)}))
                   : cli.Post("/v2/models/slow/infer", json_body.dump(), "application/json");
        if (!res) {
          ++other;
        } else if (res->status == 503) {
          ++busy;
        } else if (res->status != 200) {
          ++other;
        } else if (binary) {
          (SplitBinary(*res).blobs["y"] == Bytes(x) ? ok : wrong)++;
        } else {
          const json j = json::parse(res->body);
          (j["outputs"][0]["data"].get<std::vector<float>>() == x ? ok : wrong)++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GE(ok.load(), 1);
  EXPECT_GE(busy.load(), 1);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok + busy, 8 * 6);
}

// A model whose requests wait in the queue for a batch of 8 for up to a minute: a request
// sits queued, deterministically, for as long as a test needs.
constexpr char kHeldConfig[] = R"(
max_batch_size: 8
instance_group [ { count: 1 kind: KIND_CPU } ]
dynamic_batching {
  preferred_batch_size: [ 8 ]
  max_queue_delay_microseconds: 60000000
  default_queue_policy { max_queue_size: 1 }
}
)";

std::string HeldRequest(float value, const json& parameters = json::object()) {
  return json({{"parameters", parameters},
               {"inputs",
                {{{"name", "x"},
                  {"shape", {1, 4}},
                  {"datatype", "FP32"},
                  {"data", {value, value, value, value}}}}}})
      .dump();
}

TEST(HttpQueue, FullQueue503DisconnectFreesTheSlotTimeout504) {
  Server s;
  s.repo.AddIdentityChain("held", 4, 1, kHeldConfig);
  s.Start();
  const std::string pending = "nv_inference_pending_request_count{model=\"held\",version=\"1\"}";
  const std::string canceled =
      "nv_inference_request_failure{model=\"held\",version=\"1\",reason=\"CANCELED\"}";
  const int64_t canceled_before = Metric(*s.core, canceled);

  // A raw client queues a request (it waits for a batch that never fills).
  auto raw = std::make_unique<RawSocket>(s.port());
  ASSERT_TRUE(raw->connected());
  raw->Send(HttpPost("/v2/models/held/infer", HeldRequest(1.0f)));
  ASSERT_TRUE(WaitFor([&] { return Metric(*s.core, pending) == 1; }));

  // The one slot is taken: 503.
  auto cli = s.Client();
  auto full = cli.Post("/v2/models/held/infer", HeldRequest(2.0f), "application/json");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 503) << full->body;
  EXPECT_THAT(json::parse(full->body)["error"].get<std::string>(), HasSubstr("queue"));

  // The raw client goes away: its request is cancelled and the slot freed.
  raw.reset();
  ASSERT_TRUE(WaitFor([&] { return Metric(*s.core, pending) == 0; }));
  if (canceled_before >= 0) {
    EXPECT_EQ(Metric(*s.core, canceled), canceled_before + 1);
  }

  // Now a request is queued again (not refused) and times out in the queue: 504.
  auto timed = cli.Post("/v2/models/held/infer", HeldRequest(3.0f, {{"timeout", 200000}}),
                        "application/json");
  ASSERT_TRUE(timed);
  EXPECT_EQ(timed->status, 504) << timed->body;
  EXPECT_THAT(json::parse(timed->body)["error"].get<std::string>(), HasSubstr("timed out"));
}

TEST(HttpStop, FinishesInFlightRequestsAndClosesIdleConnections) {
  Server s;
  // Held for half a second in the queue, then run.
  s.repo.AddIdentityChain("held", 4, 1, R"(
max_batch_size: 8
dynamic_batching { preferred_batch_size: [ 8 ] max_queue_delay_microseconds: 500000 }
)");
  s.repo.AddBundled("simple");
  s.Start();
  auto idle = s.Client();
  ExpectSimpleOk(idle, 1);  // a keep-alive connection, now idle

  std::optional<httplib::Result> result;
  std::thread client([&] {
    auto cli = s.Client();
    result.emplace(cli.Post("/v2/models/held/infer", HeldRequest(5.0f), "application/json"));
  });
  const std::string pending = "nv_inference_pending_request_count{model=\"held\",version=\"1\"}";
  ASSERT_TRUE(WaitFor([&] { return Metric(*s.core, pending) == 1; }));
  s.http->Stop();
  client.join();
  ASSERT_TRUE(result.has_value());
  const httplib::Result& in_flight = *result;
  ASSERT_TRUE(in_flight) << httplib::to_string(in_flight.error());
  EXPECT_EQ(in_flight->status, 200) << in_flight->body;
  EXPECT_EQ(json::parse(in_flight->body)["outputs"][0]["data"], json::array({5, 5, 5, 5}));
  EXPECT_EQ(in_flight->get_header_value("Connection"), "close");

  // Nothing listens any more; the idle connection was closed.
  auto after = idle.Get("/v2/health/live");
  EXPECT_FALSE(after);
  s.http->Stop();  // idempotent
}

TEST(HttpStop, ShuttingDownCoreAnswers503) {
  Server s;
  s.repo.AddBundled("simple");
  s.Start();
  auto cli = s.Client();
  ExpectSimpleOk(cli, 1);
  s.core->BeginShutdown();
  EXPECT_EQ(cli.Get("/v2/health/ready")->status, 400);
  EXPECT_EQ(cli.Get("/v2/health/live")->status, 200);
  auto res = cli.Post("/v2/models/simple/infer", SimpleJson(MakeSimple(1, 2)), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503) << res->body;
}

TEST(HttpStart, BadOptionsFail) {
  Server s;
  s.StartCore();
  ASSERT_TRUE(s.core);
  HttpOptions ho;
  ho.address = "not-an-address";
  ho.port = 0;
  EXPECT_FALSE(HttpServer::Start(s.core.get(), ho).ok());
  ho.address = "127.0.0.1";
  ho.threads = 0;
  EXPECT_FALSE(HttpServer::Start(s.core.get(), ho).ok());
  ho.threads = 1;
  auto first = HttpServer::Start(s.core.get(), ho);
  ASSERT_TRUE(first.ok());
  ho.port = (*first)->port();
  auto clash = HttpServer::Start(s.core.get(), ho);  // the port is taken
  EXPECT_FALSE(clash.ok());
}

}  // namespace
}  // namespace supernova::server

// `supernova serve` end to end as a process: the bundled repository, graceful shutdown on
// SIGTERM with requests in flight, the metrics port checked by Prometheus' own tools, and
// start-up errors.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "free_port.h"
#include "server/serve_process.h"
#include "server/test_repository.h"

namespace supernova::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

json SimpleInferBody(int seed) {
  json in0 = json::array(), in1 = json::array();
  for (int i = 0; i < 16; ++i) {
    in0.push_back(seed + i);
    in1.push_back(2 * i);
  }
  return {{"inputs",
           {{{"name", "INPUT0"}, {"datatype", "INT32"}, {"shape", {1, 16}}, {"data", in0}},
            {{"name", "INPUT1"}, {"datatype", "INT32"}, {"shape", {1, 16}}, {"data", in1}}}}};
}

json EchoBody(int width, float seed) {
  json data = json::array();
  for (int i = 0; i < width; ++i) data.push_back(seed + static_cast<float>(i % 7));
  return {
      {"inputs", {{{"name", "x"}, {"datatype", "FP32"}, {"shape", {1, width}}, {"data", data}}}}};
}

bool Eventually(const std::function<bool()>& cond, int seconds = 60) {
  for (int i = 0; i < seconds * 20; ++i) {  // a wait, not a timing assertion
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(ServeProcess, ServesTheBundledRepository) {
  ServeProcess serve({"--model-repository", BundledRepositoryDir()});
  ASSERT_TRUE(serve.WaitReady()) << serve.Log();
  httplib::Client http("127.0.0.1", serve.http_port());
  auto ready = http.Get("/v2/health/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  auto res = http.Post("/v2/models/simple/infer", SimpleInferBody(10).dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json out = json::parse(res->body);
  EXPECT_EQ(out["model_name"], "simple");
  for (const json& o : out["outputs"]) {
    const bool sum = o["name"] == "OUTPUT0";
    for (int i = 0; i < 16; ++i) EXPECT_EQ(o["data"][i].get<int>(), sum ? 10 + 3 * i : 10 - i);
  }
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(), 0) << serve.Log();
}

TEST(ServeProcess, SigtermFinishesRequestsInFlightThenExits) {
  TempRepository repo;
  // Requests wait up to two seconds in the queue for a batch of eight that never fills.
  repo.AddIdentityChain("held", 64, 1, R"(
max_batch_size: 8
dynamic_batching { preferred_batch_size: [ 8 ] max_queue_delay_microseconds: 2000000 }
)");
  ServeProcess serve({"--model-repository", repo.path(), "--exit-timeout-secs", "120"});
  ASSERT_TRUE(serve.WaitReady()) << serve.Log();
  httplib::Client metrics("127.0.0.1", serve.metrics_port());
  // Three requests are in the queue when the signal comes; all three must be answered.
  std::vector<std::future<httplib::Result>> replies;
  for (int i = 0; i < 3; ++i)
    replies.push_back(std::async(std::launch::async, [&serve, i] {
      httplib::Client c("127.0.0.1", serve.http_port());
      c.set_read_timeout(120);
      return c.Post("/v2/models/held/infer", EchoBody(64, static_cast<float>(i)).dump(),
                    "application/json");
    }));
  ASSERT_TRUE(Eventually([&] {
    auto m = metrics.Get("/metrics");
    return m && MetricSample(m->body, "nv_inference_pending_request_count", "model=\"held\"") == 3;
  })) << serve.Log();
  serve.Signal(SIGTERM);
  for (int i = 0; i < 3; ++i) {
    httplib::Result r = replies[i].get();
    ASSERT_TRUE(r) << "request " << i << " lost: " << httplib::to_string(r.error());
    ASSERT_EQ(r->status, 200) << r->body;
    const json out = json::parse(r->body);
    EXPECT_FLOAT_EQ(out["outputs"][0]["data"][3].get<float>(), static_cast<float>(i) + 3.0f);
  }
  EXPECT_EQ(serve.Wait(), 0) << serve.Log();
  EXPECT_TRUE(serve.Logged("signal_received"));
  EXPECT_TRUE(serve.Logged("shutdown_begun"));
  EXPECT_THAT(serve.Log(), HasSubstr("\"in_flight_finished\":\"true\""));
}

// Poll mode over the network: clients send without pause while a new version appears on
// disk and is picked up; not one request fails and the answers move to the new version.
TEST(ServeProcess, PolledReloadUnderLoadFailsNoRequest) {
  TempRepository repo;
  const std::string config = "max_batch_size: 8\ndynamic_batching { }";
  repo.AddIdentityChain("m", 64, 4, config, 1);
  ServeProcess serve({"--model-repository", repo.path(), "--model-control-mode", "poll",
                      "--repository-poll-secs", "0.2"});
  ASSERT_TRUE(serve.WaitReady()) << serve.Log();
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, wrong{0}, on_v1{0}, on_v2{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c)
    clients.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", serve.http_port());
      for (int i = 0; !stop.load(); ++i) {
        const float seed = static_cast<float>(c * 100000 + i);
        auto r = http.Post("/v2/models/m/infer", EchoBody(64, seed).dump(), "application/json");
        if (!r || r->status != 200) {
          ++failures;
          continue;
        }
        const json out = json::parse(r->body);
        if (out["outputs"][0]["data"][5].get<float>() != seed + 5.0f) ++wrong;
        (out["model_version"] == "1" ? on_v1 : on_v2)++;
      }
    });
  EXPECT_TRUE(Eventually([&] { return on_v1.load() >= 50; }));
  repo.AddIdentityChain("m", 64, 4, config, 2);
  EXPECT_TRUE(Eventually([&] { return on_v2.load() >= 50; })) << serve.Log();
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_TRUE(serve.Logged("model_version_retired"));
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(), 0);
}

// The metrics port as Prometheus sees it: promtool's format check, then a real scrape.
// A client trickling half a request when SIGTERM comes (found by the soak, tests/soak/): the
// server used to wait for it up to its 30 s drain, past --exit-timeout-secs; the exit timeout
// now bounds the whole shutdown. The idle timeout (60 s) is far beyond it, so only that bound
// can end the connection in time.
TEST(ServeProcess, HalfAReceivedRequestDoesNotHoldTheExitPastItsTimeout) {
  ServeProcess serve({"--model-repository", BundledRepositoryDir(), "--exit-timeout-secs", "2",
                      "--http-idle-timeout-secs", "60"});
  ASSERT_TRUE(serve.WaitReady()) << serve.Log();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(serve.http_port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string half = "POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  ASSERT_EQ(send(fd, half.data(), half.size(), MSG_NOSIGNAL), static_cast<ssize_t>(half.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the server read it
  const auto start = std::chrono::steady_clock::now();
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(), 0) << serve.Log();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(took, 3.0) << "exit took " << took << " s with --exit-timeout-secs 2";
  close(fd);
}

TEST(ServeProcess, PrometheusScrapesTheMetricsPort) {
  // Debian's prometheus package comes with scripts/setup.sh, so a machine without it fails.
  ASSERT_EQ(
      std::system("command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1"),
      0)
      << "promtool and prometheus are not on PATH (Debian's prometheus package)";
  ServeProcess serve({"--model-repository", BundledRepositoryDir()});
  ASSERT_TRUE(serve.WaitReady()) << serve.Log();
  httplib::Client http("127.0.0.1", serve.http_port());
  for (int i = 0; i < 5; ++i) {
    auto r = http.Post("/v2/models/simple/infer", SimpleInferBody(i).dump(), "application/json");
    ASSERT_TRUE(r && r->status == 200);
  }
  httplib::Client metrics("127.0.0.1", serve.metrics_port());
  auto m = metrics.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_THAT(m->get_header_value("Content-Type"), HasSubstr("text/plain"));
  TempRepository dir;  // a scratch directory
  const std::string scrape = dir.path() + "/metrics.txt";
  std::ofstream(scrape) << m->body;
  // promtool exits 1 on a format error and 3 on naming-convention complaints. Triton's
  // nv_inference_* names (kept so that its dashboards work) draw those complaints; our own
  // metrics must draw none.
  const int rc = std::system(
      ("promtool check metrics < " + scrape + " > " + dir.path() + "/promtool.txt 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  std::ifstream lint_file(dir.path() + "/promtool.txt");
  std::string lint((std::istreambuf_iterator<char>(lint_file)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(WEXITSTATUS(rc) == 0 || WEXITSTATUS(rc) == 3) << lint;
  std::istringstream lines(lint);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) {
      EXPECT_EQ(line.rfind("nv_inference_", 0), 0u) << line;
    }
  }

  // A Prometheus server scraping every 200 ms, then asked for the success counter.
  const int prom_port = FreePort();
  std::ofstream(dir.path() + "/prometheus.yml")
      << "global: {scrape_interval: 200ms}\nscrape_configs:\n  - job_name: supernova\n"
      << "    static_configs: [{targets: ['127.0.0.1:" << serve.metrics_port() << "']}]\n";
  const std::string cmd = "prometheus --config.file=" + dir.path() +
                          "/prometheus.yml --storage.tsdb.path=" + dir.path() +
                          "/tsdb --web.listen-address=127.0.0.1:" + std::to_string(prom_port) +
                          " > " + dir.path() + "/prometheus.log 2>&1 & echo $!";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_TRUE(p);
  int prom_pid = 0;
  ASSERT_EQ(fscanf(p, "%d", &prom_pid), 1);
  pclose(p);
  httplib::Client prom("127.0.0.1", prom_port);
  double scraped = -1;
  Eventually([&] {
    auto q = prom.Get("/api/v1/query?query=nv_inference_request_success%7Bmodel%3D%22simple%22%7D");
    if (!q || q->status != 200) return false;
    const json j = json::parse(q->body, nullptr, false);
    if (j.is_discarded() || j["data"]["result"].empty()) return false;
    scraped = std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
    return true;
  });
  kill(prom_pid, SIGTERM);
  EXPECT_EQ(scraped, 5) << std::ifstream(dir.path() + "/prometheus.log").rdbuf();
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(), 0);
}

TEST(ServeProcess, StartupErrorsAreClear) {
  {
    ServeProcess serve({"--model-repository", "/nonexistent/repository"});
    EXPECT_FALSE(serve.WaitReady());
    EXPECT_NE(serve.Wait(), 0);
    EXPECT_THAT(serve.Log(), HasSubstr("/nonexistent/repository"));
  }
  {
    ServeProcess first({"--model-repository", BundledRepositoryDir()});
    ASSERT_TRUE(first.WaitReady()) << first.Log();
    ServeProcess second({"--model-repository", BundledRepositoryDir(), "--http-port",
                         std::to_string(first.http_port())});
    EXPECT_FALSE(second.WaitReady());
    EXPECT_EQ(second.Wait(), 1);
    EXPECT_THAT(second.Log(), HasSubstr("HTTP"));
    first.Signal(SIGTERM);
    EXPECT_EQ(first.Wait(), 0);
  }
}

// Token files: one trailing newline is dropped; an empty token, or one a header could not
// carry, stops the start; a file others can read starts with a warning; a client CA without
// TLS is refused.
TEST(ServeProcess, TokenFilesAndTlsFlagsAreChecked) {
  TempRepository repo;
  repo.AddBundled("simple");
  auto with_token = [&](const std::string& contents) {
    repo.WriteFile("admin.token", contents);
    return std::vector<std::string>{"--model-repository", repo.path(), "--admin-token-file",
                                    repo.path() + "/admin.token"};
  };
  for (const std::string bad : {"", "\n", "two words\n", "tab\there", "end \n"}) {
    ServeProcess serve(with_token(bad));
    EXPECT_FALSE(serve.WaitReady()) << bad;
    EXPECT_EQ(serve.Wait(), 1) << bad;
    EXPECT_THAT(serve.Log(), HasSubstr("admin.token")) << bad;
  }
  {
    std::vector<std::string> args = with_token("s3cret\n");
    ::chmod((repo.path() + "/admin.token").c_str(), 0644);
    ServeProcess serve(args);
    ASSERT_TRUE(serve.WaitReady()) << serve.Log();
    EXPECT_TRUE(serve.Logged("token_file_readable_by_others")) << serve.Log();
    httplib::Client cli("127.0.0.1", serve.http_port());
    auto res = cli.Post("/v2/repository/models/simple/load", {{"Authorization", "Bearer s3cret"}},
                        "", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    serve.Signal(SIGTERM);
    EXPECT_EQ(serve.Wait(), 0);
  }
  ServeProcess ca({"--model-repository", repo.path(), "--tls-client-ca", repo.path() + "/x.pem"});
  EXPECT_FALSE(ca.WaitReady());
  EXPECT_EQ(ca.Wait(), 1);
  EXPECT_THAT(ca.Log(), HasSubstr("--tls-client-ca needs --tls-cert"));
}

}  // namespace
}  // namespace supernova::testing

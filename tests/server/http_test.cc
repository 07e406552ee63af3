// The HTTP front end end to end: a real HttpServer on 127.0.0.1 (ephemeral port) over a core
// built from a temporary repository, driven by cpp-httplib (and raw sockets where the test
// needs to misbehave at the byte level). Assertions are on behaviour, never on speed.
// (pkg-config's cpp-httplib flags turn on its OpenSSL support: httplib::SSLClient.)
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "server/http_server.h"
#include "server/inference_server.h"
#include "server/test_repository.h"

namespace supernova::server {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using testing::TempRepository;

// ---- helpers ----------------------------------------------------------------------------------

// Polls `done` until it holds or a generous deadline passes: synchronisation with the server's
// threads, not a timing assertion.
bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

// A value of the core's Prometheus text: `series` is the name with its labels.
int64_t Metric(InferenceServer& core, const std::string& series) {
  const std::string text = core.MetricsText();
  const size_t at = text.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 1));
}

struct Server {
  TempRepository repo;
  std::unique_ptr<InferenceServer> core;
  std::unique_ptr<HttpServer> http;

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
  int port() const { return http->port(); }
  httplib::Client Client() const {
    httplib::Client cli("127.0.0.1", port());
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

SimpleCase MakeSimple(int batch, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(-1000000, 1000000);
  SimpleCase c;
  c.batch = batch;
  for (int i = 0; i < batch * 16; ++i) {
    c.in0.push_back(dist(rng));
    c.in1.push_back(dist(rng));
  }
  return c;
}

json Nested(const std::vector<int32_t>& v, int batch) {
  json rows = json::array();
  for (int b = 0; b < batch; ++b)
    rows.push_back(std::vector<int32_t>(v.begin() + b * 16, v.begin() + (b + 1) * 16));
  return rows;
}

std::string SimpleJson(const SimpleCase& c, bool nested = false, const json& extra = {}) {
  json j = {{"inputs",
             {{{"name", "INPUT0"},
               {"shape", {c.batch, 16}},
               {"datatype", "INT32"},
               {"data", nested ? Nested(c.in0, c.batch) : json(c.in0)}},
              {{"name", "INPUT1"},
               {"shape", {c.batch, 16}},
               {"datatype", "INT32"},
               {"data", nested ? Nested(c.in1, c.batch) : json(c.in1)}}}}};
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return j.dump();
}

std::vector<int32_t> Sum(const SimpleCase& c) {
  std::vector<int32_t> s;
  for (size_t i = 0; i < c.in0.size(); ++i) s.push_back(c.in0[i] + c.in1[i]);
  return s;
}
std::vector<int32_t> Difference(const SimpleCase& c) {
  std::vector<int32_t> d;
  for (size_t i = 0; i < c.in0.size(); ++i) d.push_back(c.in0[i] - c.in1[i]);
  return d;
}

const json* FindOutput(const json& response, const std::string& name) {
  for (const json& o : response["outputs"])
    if (o["name"] == name) return &o;
  return nullptr;
}

// Checks a JSON infer response of `simple` against the computed sums and differences.
void ExpectSimpleJson(const httplib::Result& res, const SimpleCase& c) {
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const json j = json::parse(res->body);
  EXPECT_EQ(j["model_name"], "simple");
  EXPECT_EQ(j["model_version"], "1");
  const json* o0 = FindOutput(j, "OUTPUT0");
  const json* o1 = FindOutput(j, "OUTPUT1");
  ASSERT_TRUE(o0 && o1) << res->body;
  EXPECT_EQ((*o0)["datatype"], "INT32");
  EXPECT_EQ((*o0)["shape"], json::array({c.batch, 16}));
  EXPECT_EQ((*o0)["data"].get<std::vector<int32_t>>(), Sum(c));
  EXPECT_EQ((*o1)["data"].get<std::vector<int32_t>>(), Difference(c));
}

void ExpectSimpleOk(httplib::Client& cli, uint32_t seed) {
  const SimpleCase c = MakeSimple(1 + static_cast<int>(seed % 3), seed);
  ExpectSimpleJson(cli.Post("/v2/models/simple/infer", SimpleJson(c), "application/json"), c);
}

// A binary-extension body: the JSON header, then the raw bytes of each binary input in order.
struct BinaryBody {
  std::string body;
  size_t header_length = 0;
};
BinaryBody MakeBinary(const json& header, const std::vector<std::string>& blobs) {
  BinaryBody b;
  b.body = header.dump();
  b.header_length = b.body.size();
  for (const std::string& blob : blobs) b.body += blob;
  return b;
}
template <typename T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

httplib::Result PostBinary(httplib::Client& cli, const std::string& path, const BinaryBody& b,
                           httplib::Headers headers = {}) {
  headers.emplace("Inference-Header-Content-Length", std::to_string(b.header_length));
  return cli.Post(path.c_str(), headers, b.body, "application/octet-stream");
}

// Splits a binary-extension response into its JSON and the bytes of each binary output.
struct BinaryResponse {
  json header;
  std::map<std::string, std::string> blobs;
};
BinaryResponse SplitBinary(const httplib::Response& res) {
  BinaryResponse out;
  const size_t n = std::stoul(res.get_header_value("Inference-Header-Content-Length"));
  out.header = json::parse(res.body.substr(0, n));
  size_t at = n;
  for (const json& o : out.header["outputs"]) {
    if (!o.contains("parameters") || !o["parameters"].contains("binary_data_size")) continue;
    const size_t size = o["parameters"]["binary_data_size"].get<size_t>();
    out.blobs[o["name"].get<std::string>()] = res.body.substr(at, size);
    at += size;
  }
  EXPECT_EQ(at, res.body.size());
  return out;
}

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

std::string HttpPost(const std::string& path, const std::string& body,
                     const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// ---- health, metadata, config -----------------------------------------------------------------

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.repo.AddBundled("simple");
    s_.Start();
  }
  Server s_;
};

TEST_F(HttpTest, HealthEndpoints) {
  auto cli = s_.Client();
  for (const char* path : {"/v2/health/live", "/v2/health/ready"}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->body, "") << path;
  }
}

TEST_F(HttpTest, ServerMetadata) {
  auto res = s_.Client().Get("/v2");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const json j = json::parse(res->body);
  EXPECT_EQ(j["name"], "supernova");
  EXPECT_EQ(j["version"], std::string(s_.core->Version()));
  EXPECT_TRUE(j["extensions"].is_array());
}

TEST_F(HttpTest, ModelMetadataWithAndWithoutVersion) {
  auto cli = s_.Client();
  for (const char* path : {"/v2/models/simple", "/v2/models/simple/versions/1"}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << path << " " << res->body;
    const json j = json::parse(res->body);
    EXPECT_EQ(j["name"], "simple");
    EXPECT_EQ(j["versions"], json::array({"1"}));
    EXPECT_EQ(j["platform"], "onnxruntime_onnx");
    ASSERT_EQ(j["inputs"].size(), 2u);
    EXPECT_EQ(j["inputs"][0]["name"], "INPUT0");
    EXPECT_EQ(j["inputs"][0]["datatype"], "INT32");
    EXPECT_EQ(j["inputs"][0]["shape"], json::array({-1, 16}));
    ASSERT_EQ(j["outputs"].size(), 2u);
    EXPECT_EQ(j["outputs"][1]["name"], "OUTPUT1");
  }
}

TEST_F(HttpTest, ModelReady) {
  auto cli = s_.Client();
  EXPECT_EQ(cli.Get("/v2/models/simple/ready")->status, 200);
  EXPECT_EQ(cli.Get("/v2/models/simple/versions/1/ready")->status, 200);
  EXPECT_EQ(cli.Get("/v2/models/nope/ready")->status, 404);
  EXPECT_EQ(cli.Get("/v2/models/simple/versions/9/ready")->status, 404);
}

TEST_F(HttpTest, ModelConfigIsTritonJson) {
  auto res = s_.Client().Get("/v2/models/simple/config");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json j = json::parse(res->body);
  EXPECT_EQ(j["name"], "simple");
  EXPECT_EQ(j["max_batch_size"], 8);
  EXPECT_EQ(j["input"][0]["name"], "INPUT0");
  EXPECT_EQ(j["input"][0]["data_type"], "TYPE_INT32");
  EXPECT_EQ(j["input"][0]["dims"], json::array({16}));
  EXPECT_EQ(j["dynamic_batching"]["max_queue_delay_microseconds"], 100);
  EXPECT_EQ(j["dynamic_batching"]["preferred_batch_size"], json::array({4, 8}));
  EXPECT_EQ(s_.Client().Get("/v2/models/nope/config")->status, 404);
}

TEST_F(HttpTest, StatisticsExtension) {
  auto cli = s_.Client();
  ExpectSimpleOk(cli, 1);
  ExpectSimpleOk(cli, 2);
  for (const char* path :
       {"/v2/models/stats", "/v2/models/simple/stats", "/v2/models/simple/versions/1/stats"}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res) << path;
    ASSERT_EQ(res->status, 200) << path << ": " << res->body;
    const json j = json::parse(res->body);
    ASSERT_EQ(j["model_stats"].size(), 1u) << path;
    const json& m = j["model_stats"][0];
    EXPECT_EQ(m["name"], "simple");
    EXPECT_EQ(m["version"], "1");
    EXPECT_EQ(m["inference_stats"]["success"]["count"], 2) << path;
    EXPECT_GE(m["inference_count"].get<int>(), 2);
    EXPECT_GE(m["execution_count"].get<int>(), 1);
    EXPECT_TRUE(m["inference_stats"]["queue"]["ns"].is_number());
  }
  EXPECT_EQ(cli.Get("/v2/models/nope/stats")->status, 404);
  EXPECT_EQ(cli.Get("/v2/models/simple/versions/3/stats")->status, 404);
}

// ---- inference ------------------------------------------------------------------------------

TEST_F(HttpTest, InferJsonMatchesComputedSumsAndDifferences) {
  auto cli = s_.Client();
  for (int batch : {1, 3, 8}) {
    const SimpleCase c = MakeSimple(batch, 100 + batch);
    ExpectSimpleJson(cli.Post("/v2/models/simple/infer", SimpleJson(c), "application/json"), c);
    ExpectSimpleJson(
        cli.Post("/v2/models/simple/versions/1/infer", SimpleJson(c), "application/json"), c);
  }
}

TEST_F(HttpTest, InferEchoesIdAndReturnsRequestedOutputsOnly) {
  const SimpleCase c = MakeSimple(2, 7);
  auto res = s_.Client().Post(
      "/v2/models/simple/infer",
      SimpleJson(c, false, {{"id", "my-request"}, {"outputs", {{{"name", "OUTPUT1"}}}}}),
      "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json j = json::parse(res->body);
  EXPECT_EQ(j["id"], "my-request");
  ASSERT_EQ(j["outputs"].size(), 1u);
  EXPECT_EQ(j["outputs"][0]["name"], "OUTPUT1");
  EXPECT_EQ(j["outputs"][0]["data"].get<std::vector<int32_t>>(), Difference(c));
}

TEST_F(HttpTest, NestedAndFlatDataGiveTheSameAnswer) {
  auto cli = s_.Client();
  const SimpleCase c = MakeSimple(4, 11);
  ExpectSimpleJson(cli.Post("/v2/models/simple/infer", SimpleJson(c, true), "application/json"), c);
  ExpectSimpleJson(cli.Post("/v2/models/simple/infer", SimpleJson(c, false), "application/json"),
                   c);
}

TEST_F(HttpTest, InferBinaryInputsAndOutputs) {
  auto cli = s_.Client();
  const SimpleCase c = MakeSimple(3, 21);
  const json header = {{"parameters", {{"binary_data_output", true}}},
                       {"inputs",
                        {{{"name", "INPUT0"},
                          {"shape", {3, 16}},
                          {"datatype", "INT32"},
                          {"parameters", {{"binary_data_size", 3 * 16 * 4}}}},
                         {{"name", "INPUT1"},
                          {"shape", {3, 16}},
                          {"datatype", "INT32"},
                          {"parameters", {{"binary_data_size", 3 * 16 * 4}}}}}}};
  auto res =
      PostBinary(cli, "/v2/models/simple/infer", MakeBinary(header, {Bytes(c.in0), Bytes(c.in1)}));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/octet-stream");
  BinaryResponse b = SplitBinary(*res);
  EXPECT_EQ(b.header["model_name"], "simple");
  EXPECT_EQ(b.blobs["OUTPUT0"], Bytes(Sum(c)));
  EXPECT_EQ(b.blobs["OUTPUT1"], Bytes(Difference(c)));
  const json* o0 = FindOutput(b.header, "OUTPUT0");
  ASSERT_TRUE(o0);
  EXPECT_EQ((*o0)["parameters"]["binary_data_size"], 3 * 16 * 4);
  EXPECT_EQ((*o0)["shape"], json::array({3, 16}));
}

TEST_F(HttpTest, InferMixesBinaryAndJson) {
  auto cli = s_.Client();
  const SimpleCase c = MakeSimple(2, 31);
  // INPUT0 binary, INPUT1 JSON; OUTPUT0 binary, OUTPUT1 JSON.
  const json header = {
      {"inputs",
       {{{"name", "INPUT0"},
         {"shape", {2, 16}},
         {"datatype", "INT32"},
         {"parameters", {{"binary_data_size", 2 * 16 * 4}}}},
        {{"name", "INPUT1"}, {"shape", {2, 16}}, {"datatype", "INT32"}, {"data", c.in1}}}},
      {"outputs",
       {{{"name", "OUTPUT0"}, {"parameters", {{"binary_data", true}}}},
        {{"name", "OUTPUT1"}, {"parameters", {{"binary_data", false}}}}}}};
  auto res = PostBinary(cli, "/v2/models/simple/infer", MakeBinary(header, {Bytes(c.in0)}));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  BinaryResponse b = SplitBinary(*res);
  EXPECT_EQ(b.blobs["OUTPUT0"], Bytes(Sum(c)));
  const json* o1 = FindOutput(b.header, "OUTPUT1");
  ASSERT_TRUE(o1);
  EXPECT_EQ((*o1)["data"].get<std::vector<int32_t>>(), Difference(c));

  // JSON request, binary outputs by the request-wide parameter.
  auto res2 = cli.Post("/v2/models/simple/infer",
                       SimpleJson(c, false, {{"parameters", {{"binary_data_output", true}}}}),
                       "application/json");
  ASSERT_TRUE(res2);
  ASSERT_EQ(res2->status, 200);
  BinaryResponse b2 = SplitBinary(*res2);
  EXPECT_EQ(b2.blobs["OUTPUT1"], Bytes(Difference(c)));
}

TEST_F(HttpTest, ManyClientsAtOnceAllGetTheirOwnAnswers) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto cli = s_.Client();
      for (int i = 0; i < 20; ++i) {
        const SimpleCase c = MakeSimple(1 + (i % 4), static_cast<uint32_t>(t * 1000 + i));
        auto res = cli.Post("/v2/models/simple/infer", SimpleJson(c), "application/json");
        if (!res || res->status != 200) continue;
        const json j = json::parse(res->body);
        const json* o0 = FindOutput(j, "OUTPUT0");
        if (o0 && (*o0)["data"].get<std::vector<int32_t>>() == Sum(c)) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 8 * 20);
}

// ---- bad input ------------------------------------------------------------------------------

struct BadRequest {
  const char* what;
  std::string method;
  std::string path;
  std::string body;
  httplib::Headers headers;
  int status;
};

TEST_F(HttpTest, BadRequestsGetTheirStatusAndBreakNothing) {
  const SimpleCase c = MakeSimple(1, 5);
  json j = json::parse(SimpleJson(c));
  auto mutate = [&](const std::function<void(json&)>& f) {
    json copy = j;
    f(copy);
    return copy.dump();
  };
  const std::vector<int32_t> fifteen(15, 1);
  const std::string bin_header =
      json({{"inputs",
             {{{"name", "INPUT0"},
               {"shape", {1, 16}},
               {"datatype", "INT32"},
               {"parameters", {{"binary_data_size", 64}}}},
              {{"name", "INPUT1"}, {"shape", {1, 16}}, {"datatype", "INT32"}, {"data", c.in1}}}}})
          .dump();
  const httplib::Headers bin_headers = {
      {"Inference-Header-Content-Length", std::to_string(bin_header.size())}};
  const std::string infer = "/v2/models/simple/infer";

  const std::vector<BadRequest> cases = {
      {"malformed JSON", "POST", infer, "{\"inputs\": [", {}, 400},
      {"JSON not an object", "POST", infer, "[]", {}, 400},
      {"element count vs shape",
       "POST",
       infer,
       mutate([&](json& x) { x["inputs"][0]["data"] = fifteen; }),
       {},
       400},
      {"shape the model refuses",
       "POST",
       infer,
       mutate([&](json& x) {
         x["inputs"][0]["shape"] = {1, 15};
         x["inputs"][0]["data"] = fifteen;
       }),
       {},
       400},
      {"batch over max_batch_size", "POST", infer, SimpleJson(MakeSimple(9, 1)), {}, 400},
      {"datatype the model refuses",
       "POST",
       infer,
       mutate([&](json& x) { x["inputs"][0]["datatype"] = "FP32"; }),
       {},
       400},
      {"unknown datatype",
       "POST",
       infer,
       mutate([&](json& x) { x["inputs"][0]["datatype"] = "INT33"; }),
       {},
       400},
      {"float data for INT32",
       "POST",
       infer,
       mutate([&](json& x) { x["inputs"][0]["data"][0] = 1.5; }),
       {},
       400},
      {"INT32 out of range",
       "POST",
       infer,
       mutate([&](json& x) { x["inputs"][0]["data"][0] = 2147483648LL; }),
       {},
       400},
      {"unknown input",
       "POST",
       infer,
       mutate([&](json& x) { x["inputs"][1]["name"] = "INPUT7"; }),
       {},
       400},
      {"missing input", "POST", infer, mutate([&](json& x) { x["inputs"].erase(1); }), {}, 400},
      {"unknown output",
       "POST",
       infer,
       mutate([&](json& x) {
         x["outputs"] = {{{"name", "OUTPUT9"}}};
       }),
       {},
       400},
      {"binary byte count short", "POST", infer, bin_header + std::string(60, '\0'), bin_headers,
       400},
      {"binary byte count long", "POST", infer, bin_header + std::string(68, '\0'), bin_headers,
       400},
      {"header length not a number",
       "POST",
       infer,
       SimpleJson(c),
       {{"Inference-Header-Content-Length", "abc"}},
       400},
      {"header length past the body",
       "POST",
       infer,
       SimpleJson(c),
       {{"Inference-Header-Content-Length", "100000"}},
       400},
      {"compressed body", "POST", infer, SimpleJson(c), {{"Content-Encoding", "gzip"}}, 415},
      {"unknown model", "POST", "/v2/models/nope/infer", SimpleJson(c), {}, 404},
      {"unknown version", "POST", "/v2/models/simple/versions/7/infer", SimpleJson(c), {}, 404},
      {"unknown model metadata", "GET", "/v2/models/nope", "", {}, 404},
      {"unknown path", "GET", "/v2/nothing", "", {}, 404},
      {"unknown API", "GET", "/v3/health/live", "", {}, 404},
      {"too many segments", "GET", "/v2/models/simple/ready/now", "", {}, 404},
      {"GET infer", "GET", infer, "", {}, 405},
      {"POST health", "POST", "/v2/health/live", "", {}, 405},
      {"GET repository index", "GET", "/v2/repository/index", "", {}, 405},
  };
  auto cli = s_.Client();
  uint32_t seed = 1;
  for (const BadRequest& bad : cases) {
    httplib::Result res = bad.method == "GET"
                              ? cli.Get(bad.path.c_str(), bad.headers)
                              : cli.Post(bad.path.c_str(), bad.headers, bad.body,
                                         bad.headers.count("Inference-Header-Content-Length")
                                             ? "application/octet-stream"
                                             : "application/json");
    ASSERT_TRUE(res) << bad.what;
    EXPECT_EQ(res->status, bad.status) << bad.what << ": " << res->body;
    const json err = json::parse(res->body, nullptr, false);
    ASSERT_TRUE(err.is_object() && err["error"].is_string()) << bad.what << ": " << res->body;
    EXPECT_FALSE(err["error"].get<std::string>().empty()) << bad.what;
    if (bad.status == 405) {
      EXPECT_TRUE(res->has_header("Allow")) << bad.what;
    }
    ExpectSimpleOk(cli, seed++);  // the same connection still serves
  }
  // Infer requests the front end refused count as rejected, by HTTP status.
  auto rejected = [&](int code) {
    return Metric(*s_.core, "supernova_requests_rejected_total{protocol=\"http\",code=\"" +
                                std::to_string(code) + "\"}");
  };
  EXPECT_EQ(rejected(400), 10);  // the ones caught before the core (the model counts the rest)
  EXPECT_EQ(rejected(404), 2);
  EXPECT_EQ(rejected(415), 1);
}

TEST_F(HttpTest, MalformedHttpClosesOnlyThatConnection) {
  auto cli = s_.Client();
  ExpectSimpleOk(cli, 1);
  RawSocket raw(s_.port());
  ASSERT_TRUE(raw.connected());
  raw.Send("THIS IS NOT HTTP\r\n\r\n");
  const std::string reply = raw.ReadAll();
  EXPECT_THAT(reply, HasSubstr("HTTP/1.1 400"));
  EXPECT_THAT(reply, HasSubstr("\"error\""));
  ExpectSimpleOk(cli, 2);
}

TEST_F(HttpTest, PipelinedRequestsAreAnsweredInOrder) {
  RawSocket raw(s_.port());
  ASSERT_TRUE(raw.connected());
  const SimpleCase c = MakeSimple(1, 41);
  raw.Send(HttpPost("/v2/models/simple/infer", SimpleJson(c)) +
           "GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string reply = raw.ReadAll();
  const size_t first = reply.find("HTTP/1.1 200");
  const size_t second = reply.find("HTTP/1.1 200", first + 1);
  ASSERT_NE(first, std::string::npos) << reply;
  ASSERT_NE(second, std::string::npos) << reply;
  const size_t outputs = reply.find("\"outputs\"");
  EXPECT_LT(first, outputs);
  EXPECT_LT(outputs, second);
}

TEST_F(HttpTest, ExpectContinueIsHonoured) {
  RawSocket raw(s_.port());
  ASSERT_TRUE(raw.connected());
  const SimpleCase c = MakeSimple(1, 43);
  const std::string request = HttpPost("/v2/models/simple/infer", SimpleJson(c),
                                       "Expect: 100-continue\r\nConnection: close\r\n");
  const size_t split = request.find("\r\n\r\n") + 4;
  raw.Send(request.substr(0, split));
  EXPECT_THAT(raw.ReadUntil("\r\n\r\n"), HasSubstr("100 Continue"));
  raw.Send(request.substr(split));
  const std::string reply = raw.ReadAll();
  EXPECT_THAT(reply, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(reply, HasSubstr("OUTPUT0"));
}

TEST(HttpLimits, OversizeBodyIs413) {
  Server s;
  s.repo.AddBundled("simple");
  HttpOptions ho;
  ho.max_body_bytes = 4096;
  s.Start({}, ho);
  auto cli = s.Client();
  json j = json::parse(SimpleJson(MakeSimple(8, 1)));
  j["padding"] = std::string(8192, 'x');
  auto res = cli.Post("/v2/models/simple/infer", j.dump(), "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 413);
  EXPECT_THAT(res->body, HasSubstr("4096"));
  // A request under the limit still works (on a new connection: the server closed that one).
  auto cli2 = s.Client();
  ExpectSimpleOk(cli2, 3);
}

TEST(HttpLimits, IdleAndSlowConnectionsAreClosed) {
  Server s;
  s.repo.AddBundled("simple");
  HttpOptions ho;
  ho.idle_timeout_s = 0.2;
  s.Start({}, ho);
  RawSocket silent(s.port());
  ASSERT_TRUE(silent.connected());
  EXPECT_EQ(silent.ReadAll(), "");  // closed by the server, no answer
  RawSocket slow(s.port());
  ASSERT_TRUE(slow.connected());
  slow.Send("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n");  // never finished
  EXPECT_EQ(slow.ReadAll(), "");
  auto cli = s.Client();
  ExpectSimpleOk(cli, 8);
}

TEST(HttpLimits, LargeBinaryTensorsRoundTrip) {
  Server s;
  s.repo.AddIdentityChain("wide", 1024, 1, "max_batch_size: 2048");
  s.Start();
  auto cli = s.Client();
  const int64_t rows = 2048;  // 8 MiB in, 8 MiB out
  std::vector<float> x(static_cast<size_t>(rows * 1024));
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& v : x) v = dist(rng);
  const json header = {{"parameters", {{"binary_data_output", true}}},
                       {"inputs",
                        {{{"name", "x"},
                          {"shape", {rows, 1024}},
                          {"datatype", "FP32"},
                          {"parameters", {{"binary_data_size", x.size() * 4}}}}}}};
  auto res = PostBinary(cli, "/v2/models/wide/infer", MakeBinary(header, {Bytes(x)}));
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body.substr(0, 200);
  EXPECT_TRUE(SplitBinary(*res).blobs["y"] == Bytes(x));
}

// ---- auth -----------------------------------------------------------------------------------

TEST(HttpAuth, TokensGuardInferenceAndAdmin) {
  Server s;
  s.repo.AddBundled("simple");
  ServerOptions so;
  so.infer_token = "infer-secret";
  so.admin_token = "admin-secret";
  s.Start(so);
  auto cli = s.Client();
  const httplib::Headers none;
  const httplib::Headers wrong = {{"Authorization", "Bearer nope"}};
  const httplib::Headers infer = {{"Authorization", "Bearer infer-secret"}};
  const httplib::Headers admin = {{"Authorization", "Bearer admin-secret"}};
  const SimpleCase c = MakeSimple(1, 3);
  auto post_infer = [&](const httplib::Headers& h) {
    return cli.Post("/v2/models/simple/infer", h, SimpleJson(c), "application/json");
  };

  // Health is public.
  EXPECT_EQ(cli.Get("/v2/health/live", none)->status, 200);
  EXPECT_EQ(cli.Get("/v2/health/ready", none)->status, 200);

  // Inference endpoints: 401 without a token (with the challenge), 403 with a wrong one.
  for (const char* path :
       {"/v2", "/v2/models/simple", "/v2/models/simple/ready", "/v2/models/simple/config"}) {
    auto res = cli.Get(path, none);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer") << path;
    EXPECT_EQ(cli.Get(path, wrong)->status, 403) << path;
    EXPECT_EQ(cli.Get(path, infer)->status, 200) << path;
    EXPECT_EQ(cli.Get(path, admin)->status, 200) << path;
  }
  EXPECT_EQ(post_infer(none)->status, 401);
  EXPECT_EQ(post_infer(wrong)->status, 403);
  EXPECT_EQ(Metric(*s.core, "supernova_requests_rejected_total{protocol=\"http\",code=\"401\"}"),
            1);
  ExpectSimpleJson(post_infer(infer), c);
  ExpectSimpleJson(post_infer(admin), c);  // the admin token also grants inference
  EXPECT_EQ(cli.Post("/v2/repository/index", none, "", "application/json")->status, 401);
  EXPECT_EQ(cli.Post("/v2/repository/index", infer, "", "application/json")->status, 200);

  // Load and unload need the admin token.
  for (const char* path :
       {"/v2/repository/models/simple/load", "/v2/repository/models/simple/unload"}) {
    EXPECT_EQ(cli.Post(path, none, "", "application/json")->status, 401) << path;
    EXPECT_EQ(cli.Post(path, wrong, "", "application/json")->status, 403) << path;
    EXPECT_EQ(cli.Post(path, infer, "", "application/json")->status, 403) << path;
  }
  EXPECT_EQ(cli.Post("/v2/repository/models/simple/load", admin, "", "application/json")->status,
            200);
  ASSERT_TRUE(WaitFor([&] { return cli.Get("/v2/models/simple/ready", infer)->status == 200; }));
  ExpectSimpleJson(post_infer(infer), c);
}

// ---- repository -----------------------------------------------------------------------------

TEST_F(HttpTest, RepositoryIndexUnloadLoad) {
  auto cli = s_.Client();
  auto index = [&](const std::string& body) {
    auto res = cli.Post("/v2/repository/index", body, "application/json");
    EXPECT_TRUE(res && res->status == 200);
    return res ? json::parse(res->body) : json();
  };
  json all = index("");
  ASSERT_EQ(all.size(), 1u) << all.dump();
  EXPECT_EQ(all[0]["name"], "simple");
  EXPECT_EQ(all[0]["version"], "1");
  EXPECT_EQ(all[0]["state"], "READY");
  EXPECT_EQ(index(R"({"ready": true})").size(), 1u);
  EXPECT_EQ(cli.Post("/v2/repository/index", "{\"ready\": 1}", "application/json")->status, 400);

  auto unload = cli.Post("/v2/repository/models/simple/unload", "", "application/json");
  ASSERT_TRUE(unload);
  EXPECT_EQ(unload->status, 200) << unload->body;
  ASSERT_TRUE(WaitFor([&] { return cli.Get("/v2/models/simple/ready")->status == 400; }));
  EXPECT_EQ(index(R"({"ready": true})").size(), 0u);
  const SimpleCase c = MakeSimple(1, 9);
  auto refused = cli.Post("/v2/models/simple/infer", SimpleJson(c), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->status, 200);
  EXPECT_GE(refused->status, 400);

  auto load = cli.Post("/v2/repository/models/simple/load", "", "application/json");
  ASSERT_TRUE(load);
  EXPECT_EQ(load->status, 200) << load->body;
  ASSERT_TRUE(WaitFor([&] { return cli.Get("/v2/models/simple/ready")->status == 200; }));
  ExpectSimpleOk(cli, 4);
}

TEST_F(HttpTest, LoadWithConfigParameter) {
  auto cli = s_.Client();
  auto config = cli.Get("/v2/models/simple/config");
  ASSERT_TRUE(config && config->status == 200);
  json cfg = json::parse(config->body);
  cfg["max_batch_size"] = 4;
  cfg["dynamic_batching"]["preferred_batch_size"] = {2, 4};
  const json body = {{"parameters", {{"config", cfg.dump()}}}};
  auto load = cli.Post("/v2/repository/models/simple/load", body.dump(), "application/json");
  ASSERT_TRUE(load);
  ASSERT_EQ(load->status, 200) << load->body;
  ASSERT_TRUE(WaitFor([&] {
    auto res = cli.Get("/v2/models/simple/config");
    return res && res->status == 200 && json::parse(res->body)["max_batch_size"] == 4;
  }));
  ASSERT_TRUE(WaitFor([&] { return cli.Get("/v2/models/simple/ready")->status == 200; }));
  ExpectSimpleOk(cli, 5);
  EXPECT_EQ(
      cli.Post("/v2/models/simple/infer", SimpleJson(MakeSimple(6, 1)), "application/json")->status,
      400);  // over the new max_batch_size

  const json broken = {{"parameters", {{"config", "{ not json"}}}};
  auto bad = cli.Post("/v2/repository/models/simple/load", broken.dump(), "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  auto files = cli.Post("/v2/repository/models/simple/load",
                        R"({"parameters":{"file:1/model.onnx":"AAAA"}})", "application/json");
  EXPECT_EQ(files->status, 400);
  ExpectSimpleOk(cli, 6);
}

TEST_F(HttpTest, LoadUnknownModelIs404) {
  auto res = s_.Client().Post("/v2/repository/models/nope/load", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
}

// ---- metrics port ---------------------------------------------------------------------------

TEST_F(HttpTest, MetricsPort) {
  HttpOptions mo;
  mo.address = "127.0.0.1";
  mo.port = 0;
  mo.role = HttpOptions::Role::kMetrics;
  auto metrics = HttpServer::Start(s_.core.get(), mo);
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  auto cli = s_.Client();
  ExpectSimpleOk(cli, 1);
  httplib::Client mcli("127.0.0.1", (*metrics)->port());
  auto res = mcli.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_THAT(res->body, HasSubstr("nv_inference_request_success{model=\"simple\",version=\"1\"}"));
  EXPECT_EQ(mcli.Get("/v2/health/live")->status, 404);
  EXPECT_EQ(mcli.Post("/metrics", "", "text/plain")->status, 405);
  // The inference port has no /metrics.
  EXPECT_EQ(cli.Get("/metrics")->status, 404);
}

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

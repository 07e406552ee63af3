// The HTTP front end end to end (http_fixture.h): inference in JSON and the binary tensor
// extension, many clients at once, bad requests and malformed HTTP, pipelining and
// Expect: 100-continue, and the limits on bodies, idle connections and tensor sizes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "server/http_fixture.h"

namespace supernova::server {
namespace {

using namespace http_test;  // NOLINT: the test helpers
using ::testing::HasSubstr;

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

}  // namespace
}  // namespace supernova::server

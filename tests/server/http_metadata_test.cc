// The HTTP front end end to end (http_fixture.h): health, server and model metadata, model
// config, the statistics extension and the Prometheus metrics port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>

#include "server/http_fixture.h"

namespace supernova::server {
namespace {

using namespace http_test;  // NOLINT: the test helpers
using ::testing::HasSubstr;

// ---- health, metadata, config -----------------------------------------------------------------

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

}  // namespace
}  // namespace supernova::server

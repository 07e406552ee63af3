// The HTTP front end end to end (http_fixture.h): the inference and admin tokens, and the
// repository extension (index, load with and without a config, unload).
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>

#include "server/http_fixture.h"

namespace supernova::server {
namespace {

using namespace http_test;  // NOLINT: the test helpers

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

// Without any token the repository is read-only: load and unload are refused with a message
// that says how to turn administration on, and the model keeps serving.
TEST_F(HttpTest, AdministrationIsOffWithoutAToken) {
  auto cli = s_.Client();
  for (const char* path :
       {"/v2/repository/models/simple/load", "/v2/repository/models/simple/unload"}) {
    for (const httplib::Headers& h :
         {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer guess"}}}) {
      auto res = cli.Post(path, h, "", "application/json");
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 403) << path;
      EXPECT_NE(res->body.find("--admin-token-file"), std::string::npos) << res->body;
    }
  }
  ExpectSimpleOk(cli, 2);
}

// ---- repository -----------------------------------------------------------------------------

TEST_F(HttpAdminTest, RepositoryIndexUnloadLoad) {
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

TEST_F(HttpAdminTest, LoadWithConfigParameter) {
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

TEST_F(HttpAdminTest, LoadUnknownModelIs404) {
  auto res = s_.Client().Post("/v2/repository/models/nope/load", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
}

}  // namespace
}  // namespace supernova::server

// The request limits of docs/security.md on real servers on 127.0.0.1, each met by a client that
// goes past it: the server refuses that request (or connection) with a clear answer, before it
// allocates what the request asks for, and keeps serving everyone else.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include "server/grpc_fixture.h"
#include "server/http_fixture.h"

namespace supernova::server {
namespace {

using http_test::ExpectSimpleOk;
using http_test::HttpPost;
using http_test::HttpTest;
using http_test::RawSocket;

std::string Get(const std::string& path, const std::string& extra_headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

TEST_F(HttpTest, TooManyHeaderFieldsAre431) {
  std::string many;
  for (int i = 0; i < 150; ++i) many += "X-F" + std::to_string(i) + ": 1\r\n";
  RawSocket sock(s_.port());
  ASSERT_TRUE(sock.connected());
  sock.Send(Get("/v2/health/live", many));
  EXPECT_EQ(sock.ReadAll().rfind("HTTP/1.1 431", 0), 0u);
  RawSocket fine(s_.port());
  fine.Send(Get("/v2/health/live", many.substr(0, many.find("X-F50"))));
  EXPECT_EQ(fine.ReadUntil("\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(HttpTest, DeeplyNestedJsonIsRefusedBeforeParsing) {
  // 100000 levels in 200 KB: parsed, it would be 100000 nested arrays.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto cli = s_.Client();
  auto res = cli.Post(
      "/v2/models/simple/infer",
      R"({"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,16],"data":)" + deep + "}]}",
      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("too deep (over"), std::string::npos) << res->body;
  // Brackets inside strings are text, not nesting.
  res = cli.Post("/v2/models/simple/infer",
                 R"({"id":")" + std::string(500, '[') + R"(","inputs":[]})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body.find("too deep (over"), std::string::npos) << res->body;
  ExpectSimpleOk(cli, 3);
}

TEST(HttpLimits, ConnectionsBeyondTheCapAreClosedAndOthersKeepTheirService) {
  http_test::Server s;
  s.repo.AddBundled("simple");
  HttpOptions ho;
  ho.max_connections = 2;
  s.Start({}, ho);
  // Each answered request proves the server accepted and registered its connection.
  std::vector<std::unique_ptr<RawSocket>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<RawSocket>(s.port()));
    held.back()->Send(Get("/v2/health/live"));
    ASSERT_EQ(held.back()->ReadUntil("\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  }
  RawSocket third(s.port());
  third.Send(Get("/v2/health/live"));
  EXPECT_EQ(third.ReadAll(), "") << "the third connection was served";
  held[0]->Send(Get("/v2/health/ready"));
  EXPECT_EQ(held[0]->ReadUntil("\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  // A freed slot serves a new client.
  held[1].reset();
  ASSERT_TRUE(http_test::WaitFor([&] {
    RawSocket next(s.port());
    next.Send(Get("/v2/health/live"));
    return next.ReadUntil("\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0;
  }));
}

using grpc_test::GrpcTest;

TEST_F(GrpcTest, MetadataOverTheLimitFailsTheCall) {
  repo_.AddBundled("simple");
  GrpcOptions go;
  go.max_metadata_bytes = 4 * 1024;  // under gRPC's default of 8 KiB, so the option counts
  Start({}, go);
  inference::ModelInferResponse resp;
  auto ctx = Ctx();
  ctx->AddMetadata("x-padding", std::string(6 * 1024, 'a'));
  grpc::Status s = stub_->ModelInfer(ctx.get(), grpc_test::SimpleRequest(), &resp);
  EXPECT_FALSE(s.ok());
  // The refused call may cost the channel its connection; a load-dependent moment later the
  // next call meets it reconnecting (waited for: wait_for_ready) or closing under it
  // ("Socket closed", UNAVAILABLE, seen with two test suites on two cores). The point is that
  // the server still answers a call within the limit: a call the transport lost is made again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto small = Ctx();
    small->AddMetadata("x-padding", std::string(1024, 'a'));
    small->set_wait_for_ready(true);
    s = stub_->ModelInfer(small.get(), grpc_test::SimpleRequest(1, 2), &resp);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
  }
  ASSERT_TRUE(s.ok()) << grpc_test::CodeText(s);
  grpc_test::ExpectSimpleAnswer(resp, 1, 2);
}

// A shape of 2^40 elements with one typed value: refused by count before 4 TiB is asked for.
TEST_F(GrpcTest, TypedContentsShorterThanTheShapeAreRefusedBeforeAllocating) {
  repo_.AddBundled("simple");
  Start();
  inference::ModelInferRequest req = grpc_test::SimpleRequest(1, 0, /*typed=*/true);
  auto* in = req.mutable_inputs(0);
  in->clear_shape();
  in->add_shape(1);
  in->add_shape(int64_t{1} << 40);
  inference::ModelInferResponse resp;
  grpc::Status s = Infer(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << grpc_test::CodeText(s);
  EXPECT_NE(s.error_message().find("elements expected from its shape"), std::string::npos)
      << s.error_message();
  ExpectSimpleWorks();
}

}  // namespace
}  // namespace supernova::server

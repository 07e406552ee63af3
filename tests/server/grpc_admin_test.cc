// The gRPC front end end to end (grpc_fixture.h): the repository extension (index, load,
// unload) and the inference and admin tokens.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>

#include "server/grpc_fixture.h"

namespace supernova::server {
namespace {

using namespace grpc_test;  // NOLINT: the test helpers

TEST_F(GrpcTest, RepositoryIndexLoadUnload) {
  repo_.AddBundled("simple");
  StartAdmin();
  auto index = [&](bool ready_only) {
    inference::RepositoryIndexRequest req;
    req.set_ready(ready_only);
    inference::RepositoryIndexResponse resp;
    grpc::Status s = stub_->RepositoryIndex(Ctx().get(), req, &resp);
    EXPECT_TRUE(s.ok()) << CodeText(s);
    return resp;
  };
  auto all = index(false);
  ASSERT_EQ(all.models_size(), 1);
  EXPECT_EQ(all.models(0).name(), "simple");
  EXPECT_EQ(all.models(0).version(), "1");
  EXPECT_EQ(all.models(0).state(), "READY");

  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("simple");
  inference::RepositoryModelUnloadResponse unload_resp;
  grpc::Status s = stub_->RepositoryModelUnload(Ctx().get(), unload, &unload_resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  inference::ModelReadyRequest ready_req;
  ready_req.set_name("simple");
  inference::ModelReadyResponse ready;
  ASSERT_TRUE(stub_->ModelReady(Ctx().get(), ready_req, &ready).ok());
  EXPECT_FALSE(ready.ready());
  EXPECT_EQ(index(true).models_size(), 0);
  ModelInferResponse resp;
  s = Infer(SimpleRequest(), &resp);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL) << CodeText(s);

  inference::RepositoryModelLoadRequest load;
  load.set_model_name("simple");
  inference::RepositoryModelLoadResponse load_resp;
  s = stub_->RepositoryModelLoad(Ctx().get(), load, &load_resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ASSERT_TRUE(stub_->ModelReady(Ctx().get(), ready_req, &ready).ok());
  EXPECT_TRUE(ready.ready());
  ExpectSimpleWorks();

  load.set_model_name("nonexistent");
  s = stub_->RepositoryModelLoad(Ctx().get(), load, &load_resp);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.error_message().empty());
  ExpectSimpleWorks();
}

// ---- Auth ----------------------------------------------------------------------------------

// Without any token, load and unload are refused with a message that says how to turn
// administration on; inference stays open.
TEST_F(GrpcTest, AdministrationIsOffWithoutAToken) {
  repo_.AddBundled("simple");
  Start();
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("simple");
  inference::RepositoryModelLoadResponse load_resp;
  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("simple");
  inference::RepositoryModelUnloadResponse unload_resp;
  for (const std::string token : {"", "guess"}) {
    grpc::Status s = stub_->RepositoryModelLoad(Ctx(token).get(), load, &load_resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << CodeText(s);
    EXPECT_NE(s.error_message().find("--admin-token-file"), std::string::npos) << CodeText(s);
    s = stub_->RepositoryModelUnload(Ctx(token).get(), unload, &unload_resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << CodeText(s);
  }
  ExpectSimpleWorks();
}

TEST_F(GrpcTest, AuthTokens) {
  repo_.AddBundled("simple");
  ServerOptions opts;
  opts.infer_token = "infer-secret";
  opts.admin_token = "admin-secret";
  Start(opts);
  ModelInferResponse resp;

  // Health needs no token.
  inference::ServerLiveResponse live;
  EXPECT_TRUE(stub_->ServerLive(Ctx().get(), {}, &live).ok());
  inference::ServerReadyResponse ready;
  EXPECT_TRUE(stub_->ServerReady(Ctx().get(), {}, &ready).ok());

  // Inference: none, wrong, right, admin.
  grpc::Status s = Infer(SimpleRequest(1, 1), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << CodeText(s);
  EXPECT_EQ(Metric(*core_, "supernova_requests_rejected_total{protocol=\"grpc\",code=\"16\"}"), 1);
  s = Infer(SimpleRequest(1, 1), &resp, "wrong");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << CodeText(s);
  s = Infer(SimpleRequest(1, 1), &resp, "infer-secret");
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 1);
  s = Infer(SimpleRequest(1, 2), &resp, "admin-secret");
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 2);

  // Metadata, config, readiness and the index are inference-class.
  inference::ModelMetadataRequest mreq;
  mreq.set_name("simple");
  inference::ModelMetadataResponse md;
  EXPECT_EQ(stub_->ModelMetadata(Ctx().get(), mreq, &md).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(stub_->ModelMetadata(Ctx("infer-secret").get(), mreq, &md).ok());
  inference::ModelConfigRequest creq;
  creq.set_name("simple");
  inference::ModelConfigResponse config;
  EXPECT_EQ(stub_->ModelConfig(Ctx("wrong").get(), creq, &config).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(stub_->ModelConfig(Ctx("infer-secret").get(), creq, &config).ok());
  inference::ModelReadyRequest rreq;
  rreq.set_name("simple");
  inference::ModelReadyResponse mready;
  EXPECT_EQ(stub_->ModelReady(Ctx().get(), rreq, &mready).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  inference::RepositoryIndexResponse index;
  EXPECT_EQ(stub_->RepositoryIndex(Ctx().get(), {}, &index).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(stub_->RepositoryIndex(Ctx("infer-secret").get(), {}, &index).ok());
  inference::ServerMetadataResponse smd;
  EXPECT_EQ(stub_->ServerMetadata(Ctx().get(), {}, &smd).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Load and unload are admin-class: the inference token is not enough.
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("simple");
  inference::RepositoryModelLoadResponse load_resp;
  s = stub_->RepositoryModelLoad(Ctx().get(), load, &load_resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << CodeText(s);
  s = stub_->RepositoryModelLoad(Ctx("infer-secret").get(), load, &load_resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << CodeText(s);
  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("simple");
  inference::RepositoryModelUnloadResponse unload_resp;
  s = stub_->RepositoryModelUnload(Ctx("infer-secret").get(), unload, &unload_resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << CodeText(s);
  // The refused unload changed nothing.
  s = Infer(SimpleRequest(1, 3), &resp, "infer-secret");
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 3);

  s = stub_->RepositoryModelLoad(Ctx("admin-secret").get(), load, &load_resp);
  EXPECT_TRUE(s.ok()) << CodeText(s);
  s = Infer(SimpleRequest(1, 4), &resp, "infer-secret");
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 4);
}

}  // namespace
}  // namespace supernova::server

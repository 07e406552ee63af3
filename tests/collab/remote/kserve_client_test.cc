// The KServe v2 gRPC client against a real `supernova serve`: tensors there and back with
// their bytes counted, gzip or not, and the server's refusals and a missed deadline as
// Status codes that carry the gRPC code and message.
#include "kserve/kserve_client.h"

#include <gtest/gtest.h>

#include <cstring>

#include "collab/remote/split_fixture.h"
#include "server/serve_process.h"

namespace supernova::collab {
namespace {

using namespace supernova::collab::testing;  // NOLINT
using kserve::KServeClient;

class KServeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<SplitDir>(MakeSplitDir());
    serve_ = std::make_unique<supernova::testing::ServeProcess>(
        std::vector<std::string>{"--model-repository", dir_->dir + "/repository"});
    ASSERT_TRUE(serve_->WaitReady()) << serve_->Log();
    target_ = "127.0.0.1:" + std::to_string(serve_->grpc_port());
  }
  std::unique_ptr<SplitDir> dir_;
  std::unique_ptr<supernova::testing::ServeProcess> serve_;
  std::string target_;
};

TEST_F(KServeClientTest, RunsAModelThereAndCountsTheBytes) {
  for (bool gzip : {true, false}) {
    auto client = KServeClient::Create(target_, gzip);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    auto live = (*client)->Live(5000);
    ASSERT_TRUE(live.ok()) << live.status().ToString();
    EXPECT_GT(*live, 0);
    // Cloud-only's tail is the whole model: its answer is the local whole model's.
    auto reply = (*client)->Infer("net_cut1", {dir_->feeds[0]}, 5000);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_GT(reply->wall_ms, 0);
    EXPECT_EQ(reply->sent_bytes, 8u * 32 * 32 * 4);
    EXPECT_EQ(reply->received_bytes, 2u * 128 * 4);
    ASSERT_EQ(reply->outputs.size(), 2u);
    EXPECT_EQ(reply->outputs[0].first, "y");
    EXPECT_EQ(reply->outputs[1].first, "m");
    for (size_t i = 0; i < 2; ++i) {
      const Tensor& got = reply->outputs[i].second;
      ASSERT_EQ(got.shape(), dir_->expected[i].shape());
      EXPECT_EQ(std::memcmp(got.raw_data(), dir_->expected[i].raw_data(), got.nbytes()), 0)
          << "output " << i << (gzip ? " with gzip" : "");
    }
  }
}

TEST_F(KServeClientTest, RefusalsAndDeadlinesKeepTheGrpcCode) {
  auto client = KServeClient::Create(target_);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Infer("no_such_model", {dir_->feeds[0]}, 5000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound) << r.status().ToString();
  EXPECT_NE(r.status().message().find(target_), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("no_such_model"), std::string::npos);

  r = (*client)->Infer("net_cut1", {{"not_x", dir_->feeds[0].second}}, 5000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();

  r = (*client)->Infer("net_cut1", {dir_->feeds[0]}, 0.001);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kDeadlineExceeded) << r.status().ToString();

  // Text travels as BYTES; a model that takes floats refuses it.
  Tensor text(DataType::kString, {1});
  r = (*client)->Infer("net_cut1", {{"x", text}}, 5000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();

  EXPECT_FALSE(KServeClient::Create("no-port").ok());
}

TEST(KServeClient, AClosedPortIsUnavailable) {
  auto client = KServeClient::Create("127.0.0.1:1");
  ASSERT_TRUE(client.ok());
  auto live = (*client)->Live(2000);
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.status().code(), Status::Code::kUnavailable) << live.status().ToString();
}

}  // namespace
}  // namespace supernova::collab

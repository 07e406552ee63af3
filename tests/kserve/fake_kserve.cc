#include "kserve/fake_kserve.h"

#include <gtest/gtest.h>

#include <chrono>
#include <utility>

namespace supernova::testing {

class FakeKServe::Service final : public inference::GRPCInferenceService::Service {
 public:
  explicit Service(Handler handler) : handler_(std::move(handler)) {}
  grpc::Status ModelInfer(grpc::ServerContext*, const inference::ModelInferRequest* req,
                          inference::ModelInferResponse* resp) override {
    return handler_(*req, resp);
  }
  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* resp) override {
    resp->set_live(true);
    return grpc::Status::OK;
  }

 private:
  Handler handler_;
};

FakeKServe::FakeKServe(Handler handler) : service_(std::make_unique<Service>(std::move(handler))) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  EXPECT_TRUE(server_ != nullptr && port_ > 0) << "the fake KServe server did not start";
}

FakeKServe::~FakeKServe() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

std::string BytesElement(const std::string& value) {
  const auto n = static_cast<uint32_t>(value.size());
  std::string out;
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  return out + value;
}

}  // namespace supernova::testing

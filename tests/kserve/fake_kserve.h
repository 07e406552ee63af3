// An in-process KServe v2 gRPC server whose ModelInfer is the test's function, on a port of
// 127.0.0.1 the kernel picks: a remote that checks what the client put on the wire byte by
// byte and answers what the test needs (late, malformed, many at once).
//
//   FakeKServe remote([](const inference::ModelInferRequest& req,
//                        inference::ModelInferResponse* resp) { ...; return grpc::Status::OK; });
//   auto client = kserve::KServeClient::Create(remote.target());
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "grpc_service.grpc.pb.h"

namespace supernova::testing {

class FakeKServe {
 public:
  using Handler = std::function<grpc::Status(const inference::ModelInferRequest&,
                                             inference::ModelInferResponse*)>;
  explicit FakeKServe(Handler handler);
  ~FakeKServe();  // waits for the calls it is answering

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// `value` as KServe's BYTES element: its length, 4 bytes little-endian, then its bytes. Written
// out here rather than taken from kserve/bytes.h, so the tests check the codec against it.
std::string BytesElement(const std::string& value);

}  // namespace supernova::testing

// The gRPC front end's reading of a ModelInferRequest (server/grpc_request.h): the bytes a
// client sends as the message, parsed by protobuf as gRPC does, then converted into the core's
// InferRequest and checked as the service checks it before any model sees it.

#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>

#include "grpc_service.pb.h"
#include "server/grpc_request.h"
#include "touch_tensors.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Protobuf logs each string field that is not UTF-8; at thousands of inputs a second the
  // log would be most of the fuzzer's time.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  inference::ModelInferRequest message;
  // gRPC hands the service only messages protobuf could parse; the rest it refuses itself.
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto request = supernova::server::FromModelInferRequest(message, /*deadline_timeout_us=*/0);
  if (!request.ok()) return 0;
  supernova::fuzz::TouchTensors(request->inputs);
  return 0;
}

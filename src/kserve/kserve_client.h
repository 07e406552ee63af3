// A KServe v2 gRPC client for the edge (the split runner, the stream's cloud detector):
// ModelInfer with raw_input_contents and raw_output_contents (one copy of each numeric tensor;
// BYTES tensors, the runtime's string tensors, as KServe's length-prefixed elements), ServerLive
// as the probe, a deadline per call and optional gzip compression of the messages on the
// channel.
//
//   auto client = KServeClient::Create("10.0.0.5:8001");
//   auto reply = (*client)->Infer("resnet_tail", {{"t1", head_out}}, /*timeout_ms=*/500);
//
// Failures are Status values carrying the gRPC code (kUnavailable, kDeadlineExceeded, ...)
// and the remote's message, prefixed with the target.
#pragma once

#include <memory>
#include <string>

#include "kserve/transport.h"

namespace supernova::kserve {

class KServeClient : public Transport {
 public:
  // Connects lazily: an unknown or silent host shows up as the first call's failure.
  // `gzip` compresses every message the client sends (the server inflates it); off, a fast
  // link is spared the compression's CPU time.
  static Result<std::unique_ptr<KServeClient>> Create(const std::string& target, bool gzip = true);
  ~KServeClient() override;

  Result<RemoteReply> Infer(const std::string& model, const NamedTensors& inputs,
                            double timeout_ms) override;
  Result<double> Live(double timeout_ms) override;

  const std::string& target() const { return target_; }

 private:
  struct Stub;
  KServeClient(std::string target, std::unique_ptr<Stub> stub);
  std::string target_;
  std::unique_ptr<Stub> stub_;
};

// KServe v2 datatype names ("FP32", "INT64", "BYTES", ...) of the tensor types the client
// sends and reads.
const char* KServeDatatype(DataType dtype);
Result<DataType> DataTypeFromKServe(const std::string& name);

}  // namespace supernova::kserve

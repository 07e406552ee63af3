// The gRPC front end's reading of a ModelInferRequest: the message alone, into the core's
// InferRequest, apart from the service (grpc_server.cc) so that a fuzzer drives the same code
// with bytes (fuzz/grpc_infer.cc).
//
//   auto r = FromModelInferRequest(message, deadline_us);
//   if (!r.ok()) finish(INVALID_ARGUMENT, r.status().message());
#pragma once

#include <cstdint>

#include "grpc_service.pb.h"
#include "server/inference_server.h"
#include "supernova/status.h"

namespace supernova::server {

// Checks what needs no model: datatypes known, shapes non-negative and not overflowing, the
// data present once (raw_input_contents, one per input, or typed contents) and exactly as
// long as the shape says, typed values that fit the datatype, no duplicate input names, no
// classification extension. Raw bytes are copied: the message belongs to gRPC and is freed
// when the RPC finishes, which a cancelled request's running batch may outlive.
// `deadline_timeout_us`: what the client's gRPC deadline leaves (0: none); the request's
// "timeout" parameter (Triton's, microseconds) may shorten it. Errors are kInvalidArgument.
Result<InferRequest> FromModelInferRequest(const inference::ModelInferRequest& req,
                                           uint64_t deadline_timeout_us);

}  // namespace supernova::server

// How the edge (the split runner, the stream's cloud detector) reaches the cloud: one inference
// call on a model the remote serves and a liveness probe. The KServe v2 gRPC client
// (kserve_client.h) is the real one; the link emulator (emulated_link.h) wraps it to delay and drop
// messages as a slow link would.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::kserve {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct RemoteReply {
  NamedTensors outputs;  // in the order the remote answered
  double wall_ms = 0;    // the call end to end, as the caller waited for it
  // Payload bytes (tensor contents) each way, before the channel's compression: what the
  // split plan's sent_bytes and result_bytes count, so measured and predicted compare.
  size_t sent_bytes = 0;
  size_t received_bytes = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Runs `model` on the remote. A call that outlives `timeout_ms` fails with kDeadlineExceeded,
  // an unreachable remote with kUnavailable; the remote's own refusals keep the gRPC code.
  virtual Result<RemoteReply> Infer(const std::string& model, const NamedTensors& inputs,
                                    double timeout_ms) = 0;
  // A small exchange (KServe ServerLive): the wall time of the round trip, or why it failed.
  virtual Result<double> Live(double timeout_ms) = 0;
  // The runner numbers its requests; an emulated link changes with the number (its schedule).
  virtual void BeginRequest(int64_t /*request*/) {}
};

}  // namespace supernova::kserve

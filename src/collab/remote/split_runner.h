// The edge side of split execution: runs a model cut between this device and a remote
// `supernova serve`, request by request (docs/collab.md).
//
//   auto plan = ReadSplitPlan(dir);
//   auto client = KServeClient::Create("cloud:8001");
//   auto runner = SplitRunner::Open(*plan, std::move(*client), SplitOptions{});
//   RequestRecord rec;
//   auto outputs = (*runner)->Run({{"input", image}}, &rec);
//
// Per request it picks the materialized cut with the lowest predicted total on the link it
// measures (CutChooser, with hysteresis), runs the head here, sends the cut tensors to the
// tail on the remote and, when that call fails or times out, runs the tail here: a request
// fails only when the local models do. After a failure it runs the whole model here and
// probes the remote (ServerLive) every few requests to come back.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collab/link.h"
#include "collab/remote/cut_chooser.h"
#include "collab/remote/split_plan.h"
#include "kserve/transport.h"
#include "supernova/session.h"

namespace supernova::collab {

struct SplitOptions {
  double timeout_ms = 1000;  // deadline of each remote call
  // Emulated weaker edge: after computing locally, sleep (F - 1) x the compute (the spec's
  // --slowdown), so the edge behaves as a device F times slower than this host.
  double slowdown = 1;
  int threads = 0;  // kernel threads of the local sessions (0: one per core)
  // Every this many requests: a liveness probe (refreshes the RTT; after a failure, brings the
  // remote back), and, while on edge-only, one request through the best remote cut so that
  // the bandwidth estimate follows the link.
  int probe_every = 5;
  Hysteresis hysteresis;
  int pin = -1;  // a candidate id to use on every request (measuring one cut); -1: choose
};

// What happened to one request.
struct RequestRecord {
  int64_t request = 0;
  int candidate = -1;  // id in plan.json
  CutKind kind = CutKind::kEdgeOnly;
  std::string tail_at;  // "remote" or "edge"
  double head_ms = 0;   // local head compute (with the slowdown)
  // The remote call end to end: both transfers and the remote tail's compute (the server
  // does not report its compute time apart); 0 when nothing was sent, the time waited when
  // the call failed.
  double remote_ms = 0;
  double tail_ms = 0;   // local tail compute, when the tail ran here
  double total_ms = 0;  // the request end to end, with the probes made before it
  // Liveness probes made for this request: before it (the first request, or the remote down)
  // or after its answer (refreshing the RTT), the latter not in total_ms.
  double probe_ms = 0;
  double predicted_ms = 0;
  size_t sent_bytes = 0, received_bytes = 0;
  std::string fallback;  // why the tail ran here instead of remotely; empty if it did not
  bool explore = false;  // sent through a remote cut to measure the link (probe_every)
  Link link;             // the link estimate the choice was made on
  double edge_factor = 1;

  std::string ToJson() const;  // one line
};

class SplitRunner {
 public:
  static Result<std::unique_ptr<SplitRunner>> Open(SplitPlanFile plan,
                                                   std::unique_ptr<kserve::Transport> transport,
                                                   const SplitOptions& options = {});
  ~SplitRunner();

  // Uses candidate `id` on every request from now on (it still falls back), or, with -1,
  // chooses again from the one in use.
  Status Pin(int id);

  // Runs one request; outputs in the plan's output order.
  Result<std::vector<Tensor>> Run(const kserve::NamedTensors& inputs, RequestRecord* record);

  // The whole model's inputs and outputs (from the edge-only model).
  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  const SplitPlanFile& plan() const { return plan_; }
  Link link() const;  // the current estimate, the plan's link where not yet measured
  bool remote_up() const { return !down_; }

 private:
  struct Models;
  SplitRunner(SplitPlanFile plan, std::unique_ptr<kserve::Transport> transport,
              const SplitOptions& options, std::vector<PlanCandidate> materialized, size_t initial);

  // Runs a local model with the slowdown; returns its outputs and the emulated ms.
  Result<std::vector<Tensor>> RunLocal(const Session& session, const kserve::NamedTensors& feeds,
                                       double* ms) const;
  void Probe(int64_t request);
  void NoteFailure(int64_t request, const Status& s);
  size_t Pick(int64_t request, RequestRecord* record);
  Result<std::vector<Tensor>> RunCandidate(size_t i, const kserve::NamedTensors& inputs,
                                           RequestRecord* record);
  Result<std::vector<Tensor>> TailRemote(size_t i, const kserve::NamedTensors& feeds,
                                         RequestRecord* record, Status* failure);

  SplitPlanFile plan_;
  std::unique_ptr<kserve::Transport> transport_;
  SplitOptions options_;
  CutChooser chooser_;
  std::unique_ptr<Models> models_;
  size_t edge_only_ = 0;
  LinkEstimate estimate_{0.5};
  double edge_factor_ = 1;
  bool edge_factor_known_ = false;
  int64_t next_request_ = 0;
  bool down_ = false;
  int64_t down_since_ = -1, last_probe_ = -1, last_remote_ = -1;
  int failures_ = 0;       // remote calls and probes failed in a row
  int explore_every_ = 0;  // requests between explorations while on edge-only
  std::string down_reason_;
};

}  // namespace supernova::collab

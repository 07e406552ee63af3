#include "collab/remote/split_runner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

namespace supernova::collab {

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::vector<std::string> Names(const std::vector<TensorInfo>& infos) {
  std::vector<std::string> names;
  for (const TensorInfo& i : infos) names.push_back(i.name);
  return names;
}

std::string List(const std::vector<std::string>& names) {
  return "[" + fmt::format("{}", fmt::join(names, ", ")) + "]";
}

// A model file whose inputs or outputs are not what plan.json says is the mark of a plan
// written for another model (or files copied from another split).
Status ExpectNames(const std::string& file, const char* side, std::vector<std::string> got,
                   std::vector<std::string> want, bool ordered) {
  if (!ordered) {
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
  }
  if (got == want) return Status::Ok();
  return Status::InvalidModel(
      fmt::format("{} has {} {} where plan.json says {}: the plan does not describe these models "
                  "(a plan.json of another model?)",
                  file, side, List(got), List(want)));
}

Result<std::unique_ptr<Session>> OpenChecked(const std::string& path,
                                             const std::vector<std::string>& inputs,
                                             const std::vector<std::string>& outputs,
                                             bool inputs_ordered, const SessionOptions& opts) {
  auto session = Session::Open(path, opts);
  if (!session.ok()) return session.status().WithContext(path);
  SN_RETURN_IF_ERROR(
      ExpectNames(path, "inputs", Names((*session)->inputs()), inputs, inputs_ordered));
  SN_RETURN_IF_ERROR(ExpectNames(path, "outputs", Names((*session)->outputs()), outputs, true));
  return session;
}

// Runs `session` once on zeros, so that its first real run does not pay for creating
// kernels (times the slowdown, on an emulated edge). A dim left open (the batch) is 1, the
// size the split was profiled at. False where an input's rank is unknown.
bool WarmUp(const Session& session) {
  std::vector<std::pair<std::string, Tensor>> feeds;
  for (const TensorInfo& in : session.inputs()) {
    if (in.kind != ValueKind::kTensor || !in.rank_known || in.dtype == DataType::kString)
      return false;
    Shape shape;
    for (int64_t d : in.dims) shape.push_back(d < 0 ? 1 : d);
    Tensor zeros(in.dtype, shape);
    std::memset(zeros.raw_data(), 0, zeros.nbytes());
    feeds.emplace_back(in.name, std::move(zeros));
  }
  std::vector<Tensor> outputs;
  return session.Run(feeds, &outputs).ok();
}

}  // namespace

std::string RequestRecord::ToJson() const {
  nlohmann::json j = {{"request", request},
                      {"candidate", candidate},
                      {"kind", CutKindName(kind)},
                      {"tail_at", tail_at},
                      {"head_ms", head_ms},
                      {"remote_ms", remote_ms},
                      {"tail_ms", tail_ms},
                      {"total_ms", total_ms},
                      {"probe_ms", probe_ms},
                      {"predicted_ms", predicted_ms},
                      {"sent_bytes", sent_bytes},
                      {"received_bytes", received_bytes},
                      {"fallback", fallback.empty() ? nlohmann::json() : nlohmann::json(fallback)},
                      {"explore", explore},
                      {"link", {{"bandwidth_mbit", link.bandwidth_mbit}, {"rtt_ms", link.rtt_ms}}},
                      {"edge_factor", edge_factor}};
  return j.dump();
}

// The local models of every materialized candidate, index for index with the chooser's.
struct SplitRunner::Models {
  std::vector<std::unique_ptr<Session>> heads;  // null for cloud-only
  std::vector<std::unique_ptr<Session>> tails;  // null for edge-only
  // Whether a head has run here, or a tail remotely, once: a first run pays for compiling
  // kernels, which says nothing about the edge's speed or the link's.
  std::vector<bool> head_warm, tail_warm;
};

SplitRunner::SplitRunner(SplitPlanFile plan, std::unique_ptr<kserve::Transport> transport,
                         const SplitOptions& options, std::vector<PlanCandidate> materialized,
                         size_t initial)
    : plan_(std::move(plan)),
      transport_(std::move(transport)),
      options_(options),
      chooser_(std::move(materialized), initial, options.hysteresis),
      models_(std::make_unique<Models>()) {}

SplitRunner::~SplitRunner() = default;

Result<std::unique_ptr<SplitRunner>> SplitRunner::Open(SplitPlanFile plan,
                                                       std::unique_ptr<kserve::Transport> transport,
                                                       const SplitOptions& options) {
  std::vector<PlanCandidate> materialized;
  size_t initial = 0, edge_only = 0;
  const int start = options.pin >= 0 ? options.pin : plan.chosen;
  for (const PlanCandidate& c : plan.candidates) {
    if (!c.materialized) continue;
    if (c.id == start) initial = materialized.size();
    if (c.kind == CutKind::kEdgeOnly) edge_only = materialized.size();
    materialized.push_back(c);
  }
  const PlanCandidate* pinned = plan.Find(start);
  if (pinned == nullptr || !pinned->materialized)
    return Status::InvalidArgument(fmt::format(
        "candidate {} is not a materialized candidate of {}/plan.json", start, plan.dir));
  if (options.slowdown < 1)
    return Status::InvalidArgument(fmt::format(
        "slowdown {:g}: must be at least 1 (the edge as this host or slower)", options.slowdown));

  SessionOptions opts;
  opts.num_threads = options.threads;
  auto models = std::make_unique<Models>();
  for (const PlanCandidate& c : materialized) {
    std::unique_ptr<Session> head, tail;
    if (c.kind != CutKind::kCloudOnly) {
      SN_ASSIGN_OR_RETURN(head, OpenChecked(plan.HeadPath(c), plan.inputs, c.head_outputs,
                                            /*inputs_ordered=*/false, opts));
    }
    if (c.kind != CutKind::kEdgeOnly) {
      const bool cloud_only = c.kind == CutKind::kCloudOnly;
      SN_ASSIGN_OR_RETURN(tail,
                          OpenChecked(plan.TailPath(c), cloud_only ? plan.inputs : c.head_outputs,
                                      plan.outputs, !cloud_only, opts));
    }
    const bool head_warm = head != nullptr && WarmUp(*head);
    if (tail != nullptr) WarmUp(*tail);  // for a fallback; the remote's own warm-up is its own
    models->heads.push_back(std::move(head));
    models->tails.push_back(std::move(tail));
    models->head_warm.push_back(head_warm);
    models->tail_warm.push_back(false);
  }
  std::unique_ptr<SplitRunner> runner(new SplitRunner(std::move(plan), std::move(transport),
                                                      options, std::move(materialized), initial));
  runner->models_ = std::move(models);
  runner->edge_only_ = edge_only;
  runner->explore_every_ = options.probe_every;
  return runner;
}

Status SplitRunner::Pin(int id) {
  if (id < 0) {
    options_.pin = -1;
    return Status::Ok();
  }
  for (size_t i = 0; i < chooser_.candidates().size(); ++i)
    if (chooser_.candidate(i).id == id) {
      chooser_.Reset(i);
      options_.pin = id;
      return Status::Ok();
    }
  return Status::InvalidArgument(
      fmt::format("candidate {} is not a materialized candidate of {}/plan.json", id, plan_.dir));
}

const std::vector<TensorInfo>& SplitRunner::inputs() const {
  return models_->heads[edge_only_]->inputs();
}
const std::vector<TensorInfo>& SplitRunner::outputs() const {
  return models_->heads[edge_only_]->outputs();
}

Link SplitRunner::link() const {
  Link l = plan_.link;
  const Link measured = estimate_.link();
  if (estimate_.has_rtt()) l.rtt_ms = measured.rtt_ms;
  if (estimate_.has_bandwidth()) l.bandwidth_mbit = measured.bandwidth_mbit;
  return l;
}

Result<std::vector<Tensor>> SplitRunner::RunLocal(const Session& session,
                                                  const kserve::NamedTensors& feeds,
                                                  double* ms) const {
  const auto t0 = Clock::now();
  std::vector<Tensor> outputs;
  SN_RETURN_IF_ERROR(session.Run(feeds, &outputs));
  const double compute = MsSince(t0);
  if (options_.slowdown > 1)
    std::this_thread::sleep_for(
        std::chrono::duration<double, std::milli>((options_.slowdown - 1) * compute));
  *ms = MsSince(t0);
  return outputs;
}

void SplitRunner::Probe(int64_t request) {
  last_probe_ = request;
  const double timeout_ms = std::min(options_.timeout_ms, 1000.0);
  auto first = transport_->Live(timeout_ms);
  // The first exchange on a new connection (the first request, or the remote back after an
  // outage) pays the TCP and HTTP/2 handshakes, and one exchange on a busy host can come
  // late: after connecting, the least of three more measures the round trip. Any answer
  // says the remote is there (on a lossy link some are lost); two failures in a row, or a
  // refused first one, end the probe so that a silent host costs two deadlines at most.
  bool answered = first.ok();
  double rtt = first.ok() ? *first : 0;
  if ((request == 0 || down_) &&
      (first.ok() || first.status().code() != Status::Code::kUnavailable)) {
    double least = HUGE_VAL;
    int failed_in_row = first.ok() ? 0 : 1;
    for (int k = 0; k < 3 && failed_in_row < 2; ++k) {
      auto ms = transport_->Live(timeout_ms);
      failed_in_row = ms.ok() ? 0 : failed_in_row + 1;
      if (ms.ok()) least = std::min(least, *ms);
    }
    answered = answered || least < HUGE_VAL;
    rtt = least;
  }
  if (!answered) {
    NoteFailure(request, first.status());
    return;
  }
  if (rtt < HUGE_VAL) estimate_.Observe(0, 0, rtt, 0);
  down_ = false;
  failures_ = 0;
}

void SplitRunner::NoteFailure(int64_t request, const Status& s) {
  ++failures_;
  // Unreachable is down at once; a lost message or a missed deadline gets one more chance,
  // so that a lossy link does not cost probe_every requests per lost message.
  if (down_ || (s.code() != Status::Code::kUnavailable && failures_ < 2)) return;
  down_ = true;
  down_since_ = request;
  down_reason_ = s.ToString();
  last_probe_ = request;  // the next probe after probe_every requests
}

size_t SplitRunner::Pick(int64_t request, RequestRecord* record) {
  const Link l = link();
  record->link = l;
  record->edge_factor = edge_factor_;
  if (options_.pin >= 0) return chooser_.current();
  const size_t chosen = chooser_.Choose(l, edge_factor_);
  if (chooser_.candidate(chosen).kind != CutKind::kEdgeOnly) {
    explore_every_ = options_.probe_every;
    return chosen;
  }
  // On edge-only nothing measures the bandwidth: now and then a request goes through the best
  // remote cut. Each one that leaves the runner on edge-only doubles the wait for the next
  // (up to 8 x probe_every), so that a link that stays slow costs few slow requests.
  if (request - std::max(last_remote_, int64_t{0}) < explore_every_) return chosen;
  explore_every_ = std::min(explore_every_ * 2, 8 * options_.probe_every);
  // The best cut that sends something, so that the bandwidth estimate follows the link.
  size_t best = chosen;
  double best_ms = 0;
  for (size_t i = 0; i < chooser_.candidates().size(); ++i) {
    if (chooser_.candidate(i).kind == CutKind::kEdgeOnly) continue;
    const double ms = chooser_.Predict(i, l, edge_factor_);
    if (best == chosen || ms < best_ms) {
      best = i;
      best_ms = ms;
    }
  }
  record->explore = best != chosen;
  return best;
}

Result<std::vector<Tensor>> SplitRunner::Run(const kserve::NamedTensors& inputs,
                                             RequestRecord* record) {
  RequestRecord local;
  if (record == nullptr) record = &local;
  *record = RequestRecord();
  const int64_t request = next_request_++;
  record->request = request;
  transport_->BeginRequest(request);
  const auto t0 = Clock::now();
  // The first request measures the RTT and, while the remote is down, a probe decides where
  // this request goes: both come first. A refresh of the RTT waits until the answer is out.
  const bool probe_due = request - last_probe_ >= options_.probe_every;
  if (request == 0 || (down_ && probe_due)) Probe(request);
  record->probe_ms = MsSince(t0);

  size_t i = Pick(request, record);
  if (down_) {
    i = edge_only_;
    record->explore = false;
    record->fallback = fmt::format("remote down since request {}: {}", down_since_, down_reason_);
  }
  const double believed_mbit = link().bandwidth_mbit;
  auto outputs = RunCandidate(i, inputs, record);
  record->total_ms = MsSince(t0);
  // An exploration that finds the link much faster than believed brings the next one close,
  // instead of waiting out the back-off that slow explorations built up.
  if (record->explore && link().bandwidth_mbit > 1.5 * believed_mbit)
    explore_every_ = options_.probe_every;
  if (!down_ && probe_due && last_probe_ != request) {
    const auto t1 = Clock::now();
    Probe(request);
    record->probe_ms += MsSince(t1);
  }
  return outputs;
}

Result<std::vector<Tensor>> SplitRunner::RunCandidate(size_t i, const kserve::NamedTensors& inputs,
                                                      RequestRecord* record) {
  const PlanCandidate& c = chooser_.candidate(i);
  record->candidate = c.id;
  record->kind = c.kind;
  record->predicted_ms = chooser_.Predict(i, record->link, record->edge_factor);
  record->tail_at = "edge";

  // The head (for edge-only, the whole model).
  kserve::NamedTensors feeds = inputs;
  if (c.kind != CutKind::kCloudOnly) {
    SN_ASSIGN_OR_RETURN(std::vector<Tensor> head,
                        RunLocal(*models_->heads[i], inputs, &record->head_ms));
    const bool warm = models_->head_warm[i];
    models_->head_warm[i] = true;
    if (warm && c.edge_ms > 0) {
      const double ratio = record->head_ms / c.edge_ms;
      edge_factor_ = edge_factor_known_ ? 0.7 * edge_factor_ + 0.3 * ratio : ratio;
      edge_factor_known_ = true;
    }
    if (c.kind == CutKind::kEdgeOnly) return head;
    feeds.clear();
    for (size_t k = 0; k < head.size(); ++k) feeds.emplace_back(c.head_outputs[k], head[k]);
  }

  Status failure;
  auto remote = TailRemote(i, feeds, record, &failure);
  if (remote.ok()) return remote;
  // A request never fails because the link did: the tail runs here.
  record->fallback = failure.ToString();
  NoteFailure(record->request, failure);
  record->tail_at = "edge";
  return RunLocal(*models_->tails[i], feeds, &record->tail_ms);
}

Result<std::vector<Tensor>> SplitRunner::TailRemote(size_t i, const kserve::NamedTensors& feeds,
                                                    RequestRecord* record, Status* failure) {
  const PlanCandidate& c = chooser_.candidate(i);
  record->tail_at = "remote";
  last_remote_ = record->request;
  auto reply = transport_->Infer(c.tail_model, feeds, options_.timeout_ms);
  if (!reply.ok()) {
    *failure = reply.status();
    if (reply.status().code() == Status::Code::kDeadlineExceeded) {
      // No answer within the deadline bounds the link from above: the estimate learns it
      // is at most this fast.
      record->remote_ms = options_.timeout_ms;
      size_t sent = 0;
      for (const auto& f : feeds) sent += f.second.nbytes();
      estimate_.Observe(sent, c.result_bytes, options_.timeout_ms, c.cloud_ms);
    }
    return reply.status();
  }
  record->remote_ms = reply->wall_ms;
  record->sent_bytes = reply->sent_bytes;
  record->received_bytes = reply->received_bytes;
  failures_ = 0;
  if (models_->tail_warm[i])
    estimate_.Observe(reply->sent_bytes, reply->received_bytes, reply->wall_ms, c.cloud_ms);
  models_->tail_warm[i] = true;
  std::vector<Tensor> outputs;
  for (const std::string& name : plan_.outputs) {
    auto it = std::find_if(reply->outputs.begin(), reply->outputs.end(),
                           [&](const auto& o) { return o.first == name; });
    if (it == reply->outputs.end()) {
      *failure = Status::InvalidModel(
          fmt::format("remote model {} answered without output '{}'", c.tail_model, name));
      return *failure;
    }
    outputs.push_back(std::move(it->second));
  }
  return outputs;
}

}  // namespace supernova::collab

#include "server/scheduler.h"

#include "server/bytes.h"
#include "server/model_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

namespace supernova::server {

struct Scheduler::Pending {
  InferRequest request;  // inputs in the config's input order
  InferCallback done;
  std::function<void()> on_finish;
  int64_t rows = 1;  // the batch dimension's size (1 without batching)
  Clock::time_point enqueued;
  Clock::time_point deadline = Clock::time_point::max();
  bool running = false;    // guarded by mu_
  bool cancelled = false;  // guarded by mu_
  std::atomic<bool> finished{false};
};

class Scheduler::Handle : public RequestHandle {
 public:
  Handle(std::weak_ptr<Scheduler> scheduler, std::weak_ptr<Pending> pending)
      : scheduler_(std::move(scheduler)), pending_(std::move(pending)) {}
  void Cancel() override {
    auto scheduler = scheduler_.lock();
    auto pending = pending_.lock();
    if (scheduler && pending) scheduler->Cancel(pending);
  }

 private:
  std::weak_ptr<Scheduler> scheduler_;
  std::weak_ptr<Pending> pending_;
};

namespace {

double Seconds(Scheduler::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string ShapeText(const Shape& s) { return ShapeToString(s); }

// Dims after the batch dimension.
Shape Rest(const Shape& s) { return Shape(s.begin() + (s.empty() ? 0 : 1), s.end()); }

bool DimsMatch(const google::protobuf::RepeatedField<int64_t>& dims, const Shape& shape,
               size_t offset) {
  if (shape.size() != static_cast<size_t>(dims.size()) + offset) return false;
  for (int i = 0; i < dims.size(); ++i)
    if (dims[i] != -1 && dims[i] != shape[offset + i]) return false;
  return true;
}

}  // namespace

Scheduler::Scheduler(std::string model, std::string version,
                     std::shared_ptr<const ModelBackend> backend, inference::ModelConfig config,
                     uint32_t default_max_queue_size, std::shared_ptr<ModelMetrics> metrics)
    : model_(std::move(model)),
      version_(std::move(version)),
      backend_(std::move(backend)),
      config_(std::move(config)),
      metrics_(std::move(metrics)),
      max_queue_(config_.dynamic_batching().default_queue_policy().max_queue_size() > 0
                     ? config_.dynamic_batching().default_queue_policy().max_queue_size()
                     : default_max_queue_size),
      batching_(config_.has_dynamic_batching() && config_.max_batch_size() > 0),
      max_batch_(config_.max_batch_size()) {
  const auto& db = config_.dynamic_batching();
  if (batching_) {
    target_batch_ = max_batch_;
    if (db.preferred_batch_size_size() > 0)
      target_batch_ =
          *std::max_element(db.preferred_batch_size().begin(), db.preferred_batch_size().end());
    max_delay_ = std::chrono::microseconds(db.max_queue_delay_microseconds());
  }
  default_timeout_us_ = db.default_queue_policy().default_timeout_microseconds();
  allow_timeout_override_ =
      default_timeout_us_ == 0 || db.default_queue_policy().allow_timeout_override();
}

Scheduler::~Scheduler() { Drain(); }

void Scheduler::Start() {
  const int n = InstanceCount(config_);
  std::lock_guard lock(mu_);
  for (int i = 0; i < n; ++i) instances_.emplace_back([this] { InstanceLoop(); });
  live_instances_ = n;
}

size_t Scheduler::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

Status Scheduler::Validate(const InferRequest& request, int64_t* rows) const {
  const auto& inputs = config_.input();
  std::vector<const NamedTensor*> given(inputs.size(), nullptr);
  for (const NamedTensor& t : request.inputs) {
    int idx = -1;
    for (int i = 0; i < inputs.size(); ++i)
      if (inputs[i].name() == t.name) idx = i;
    if (idx < 0) {
      std::string names;
      for (const auto& in : inputs) names += (names.empty() ? "" : ", ") + in.name();
      return Status::InvalidArgument(
          fmt::format("unexpected input '{}' for model '{}' "
                      "(inputs: {})",
                      t.name, model_, names));
    }
    if (given[idx])
      return Status::InvalidArgument(fmt::format("input '{}' is given twice", t.name));
    given[idx] = &t;
  }
  *rows = 1;
  bool first = true;
  for (int i = 0; i < inputs.size(); ++i) {
    const inference::ModelInput& in = inputs[i];
    const NamedTensor* t = given[i];
    if (!t) {
      if (in.optional()) continue;
      return Status::InvalidArgument(
          fmt::format("missing input '{}' for model '{}'", in.name(), model_));
    }
    if (!t->tensor.defined() || !t->tensor.on_host())
      return Status::InvalidArgument(fmt::format("input '{}' has no data", in.name()));
    const std::optional<DataType> want = DataTypeFromConfig(in.data_type());
    if (!want || t->tensor.dtype() != *want)
      return Status::InvalidArgument(fmt::format(
          "input '{}' has datatype {} but model '{}' expects {}", in.name(),
          DataTypeToV2(t->tensor.dtype()), model_, want ? DataTypeToV2(*want) : "INVALID"));
    const Shape& shape = t->tensor.shape();
    const size_t offset = max_batch_ > 0 ? 1 : 0;
    if (!DimsMatch(in.dims(), shape, offset)) {
      std::string expect = "[";
      if (offset) expect += "batch";
      for (int d = 0; d < in.dims_size(); ++d)
        expect += (d || offset ? "," : "") + std::to_string(in.dims(d));
      return Status::InvalidArgument(
          fmt::format("input '{}' has shape {} but model '{}' "
                      "expects {}]",
                      in.name(), ShapeText(shape), model_, expect));
    }
    if (max_batch_ > 0) {
      const int64_t b = shape[0];
      if (b < 1 || b > max_batch_)
        return Status::InvalidArgument(
            fmt::format("input '{}' has batch size {}, outside 1..{} (the model's max_batch_size)",
                        in.name(), b, max_batch_));
      if (!first && b != *rows)
        return Status::InvalidArgument(fmt::format(
            "input '{}' has batch size {} but an earlier input has {}", in.name(), b, *rows));
      *rows = b;
      first = false;
    }
  }
  for (size_t i = 0; i < request.outputs.size(); ++i) {
    const std::string& name = request.outputs[i];
    const auto& outs = config_.output();
    if (std::none_of(outs.begin(), outs.end(), [&](const auto& o) { return o.name() == name; }))
      return Status::InvalidArgument(
          fmt::format("unexpected output '{}' for model '{}'", name, model_));
    for (size_t j = 0; j < i; ++j)
      if (request.outputs[j] == name)
        return Status::InvalidArgument(fmt::format("output '{}' is requested twice", name));
  }
  return Status::Ok();
}

std::shared_ptr<RequestHandle> Scheduler::Enqueue(InferRequest request, InferCallback done,
                                                  std::function<void()> on_finish,
                                                  std::optional<Unaccepted>* unaccepted) {
  auto p = std::make_shared<Pending>();
  p->done = std::move(done);
  p->on_finish = std::move(on_finish);
  p->enqueued = Clock::now();
  if (Status s = Validate(request, &p->rows); !s.ok()) {
    p->request = std::move(request);
    metrics_->RequestFailed(FailureReason::kInvalid);
    Finish(p, s, {});
    return nullptr;
  }
  // Inputs in the config's order, so that batching compares them position by position.
  std::vector<NamedTensor> ordered;
  for (const auto& in : config_.input())
    for (NamedTensor& t : request.inputs)
      if (t.name == in.name()) ordered.push_back(std::move(t));
  request.inputs = std::move(ordered);
  const uint64_t timeout_us =
      request.timeout_us > 0 && allow_timeout_override_ ? request.timeout_us : default_timeout_us_;
  if (timeout_us > 0) p->deadline = request.received + std::chrono::microseconds(timeout_us);
  p->request = std::move(request);

  Status refused;
  {
    std::lock_guard lock(mu_);
    if (draining_ && live_instances_ == 0 && unaccepted != nullptr) {
      unaccepted->emplace(
          Unaccepted{std::move(p->request), std::move(p->done), std::move(p->on_finish)});
      return nullptr;
    } else if (draining_ && live_instances_ == 0) {
      refused =
          Status::Unavailable(fmt::format("model '{}' version {} is unloading", model_, version_));
    } else if (queue_.size() >= max_queue_) {
      refused = Status::Unavailable(
          fmt::format("model '{}' queue is full ({} requests waiting)", model_, queue_.size()));
    } else {
      queue_.push_back(p);
      metrics_->SetPending(static_cast<int64_t>(queue_.size()));
    }
  }
  if (!refused.ok()) {
    metrics_->RequestFailed(FailureReason::kRejected);
    Finish(p, refused, {});
    return nullptr;
  }
  cv_.notify_one();
  return std::make_shared<Handle>(weak_from_this(), p);
}

void Scheduler::Cancel(const std::shared_ptr<Pending>& p) {
  {
    std::lock_guard lock(mu_);
    if (p->cancelled || p->finished.load()) return;
    p->cancelled = true;
    if (p->running) return;  // Execute answers it when the batch is done
    auto it = std::find(queue_.begin(), queue_.end(), p);
    if (it == queue_.end()) return;
    queue_.erase(it);
    metrics_->SetPending(static_cast<int64_t>(queue_.size()));
  }
  metrics_->RequestFailed(FailureReason::kCanceled);
  Finish(p, Status(Status::Code::kCancelled, "request cancelled by the client"), {});
}

void Scheduler::Drain() {
  {
    std::lock_guard lock(mu_);
    draining_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : instances_)
    if (t.joinable()) t.join();
  instances_.clear();
}

void Scheduler::ReapLocked(Clock::time_point now, std::vector<std::shared_ptr<Pending>>* reaped) {
  for (auto it = queue_.begin(); it != queue_.end();) {
    if ((*it)->deadline <= now) {
      reaped->push_back(*it);
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  if (!reaped->empty()) metrics_->SetPending(static_cast<int64_t>(queue_.size()));
}

std::vector<std::shared_ptr<Scheduler::Pending>> Scheduler::NextBatch(
    std::unique_lock<std::mutex>& lock, std::vector<std::shared_ptr<Pending>>* reaped) {
  for (;;) {
    const Clock::time_point now = Clock::now();
    ReapLocked(now, reaped);
    if (!reaped->empty()) return {};
    if (queue_.empty()) {
      if (draining_) return {};
      cv_.wait(lock);
      continue;
    }
    const std::shared_ptr<Pending> head = queue_.front();
    // Requests merge when they give the same inputs (an optional one may be left out) with
    // the same shapes apart from the batch dimension.
    auto compatible = [&](const Pending& p) {
      const std::vector<NamedTensor>& a = p.request.inputs;
      const std::vector<NamedTensor>& b = head->request.inputs;
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < b.size(); ++i)
        if (a[i].name != b[i].name || Rest(a[i].tensor.shape()) != Rest(b[i].tensor.shape()))
          return false;
      return true;
    };
    int64_t rows = 0;
    if (batching_) {
      for (const auto& p : queue_)
        if (compatible(*p) && rows + p->rows <= max_batch_) rows += p->rows;
      const Clock::time_point until = head->enqueued + max_delay_;
      if (rows < target_batch_ && !draining_ && now < until) {
        // Wake for the batch window's end, or earlier for a request's deadline.
        Clock::time_point wake = until;
        for (const auto& p : queue_) wake = std::min(wake, p->deadline);
        cv_.wait_until(lock, wake);
        continue;
      }
    }
    std::vector<std::shared_ptr<Pending>> batch;
    rows = 0;
    for (auto it = queue_.begin(); it != queue_.end();) {
      Pending& p = **it;
      if (batch.empty() || (batching_ && compatible(p) && rows + p.rows <= max_batch_)) {
        rows += p.rows;
        p.running = true;
        batch.push_back(*it);
        it = queue_.erase(it);
        if (!batching_ || rows >= max_batch_) break;
      } else {
        ++it;
      }
    }
    metrics_->SetPending(static_cast<int64_t>(queue_.size()));
    return batch;
  }
}

void Scheduler::InstanceLoop() {
  for (;;) {
    std::vector<std::shared_ptr<Pending>> batch, reaped;
    {
      std::unique_lock lock(mu_);
      batch = NextBatch(lock, &reaped);
      if (batch.empty() && reaped.empty()) {  // draining and nothing left
        --live_instances_;
        return;
      }
    }
    for (const auto& p : reaped) {
      metrics_->RequestFailed(FailureReason::kTimeout);
      Finish(p,
             Status(Status::Code::kDeadlineExceeded,
                    fmt::format("request timed out in the queue of model '{}'", model_)),
             {});
    }
    if (!batch.empty()) Execute(batch);
  }
}

void Scheduler::Execute(std::vector<std::shared_ptr<Pending>>& batch) {
  const Clock::time_point start = Clock::now();
  int64_t rows = 0;
  for (const auto& p : batch) rows += p->rows;

  std::vector<std::pair<std::string, Tensor>> feeds;
  const std::vector<NamedTensor>& first = batch.front()->request.inputs;
  for (size_t i = 0; i < first.size(); ++i) {
    if (batch.size() == 1) {
      feeds.emplace_back(first[i].name, first[i].tensor);
      continue;
    }
    Shape shape = first[i].tensor.shape();
    shape[0] = rows;
    Tensor merged(first[i].tensor.dtype(), shape);
    int64_t at = 0;
    for (const auto& p : batch) {
      const Tensor& t = p->request.inputs[i].tensor;
      CopyElements(t, 0, merged, at, t.numel());
      at += t.numel();
    }
    feeds.emplace_back(first[i].name, std::move(merged));
  }

  std::vector<Tensor> outputs;
  const Status status = backend_->Run(feeds, &outputs);
  const Clock::time_point end = Clock::now();
  const double compute_s = Seconds(end - start);
  metrics_->BatchExecuted(rows, static_cast<int>(batch.size()), compute_s);

  const std::vector<TensorInfo>& declared = backend_->outputs();
  int64_t offset = 0;
  for (const auto& p : batch) {
    bool cancelled;
    {
      std::lock_guard lock(mu_);
      cancelled = p->cancelled;
    }
    if (cancelled) {
      metrics_->RequestFailed(FailureReason::kCanceled);
      Finish(p, Status(Status::Code::kCancelled, "request cancelled by the client"), {});
      offset += p->rows;
      continue;
    }
    if (!status.ok()) {
      metrics_->RequestFailed(FailureReason::kBackend);
      Finish(p, status, {});
      offset += p->rows;
      continue;
    }
    InferResponse response;
    response.model = model_;
    response.version = version_;
    response.id = p->request.id;
    std::vector<std::string> names = p->request.outputs;
    if (names.empty())
      for (const auto& o : config_.output()) names.push_back(o.name());
    Status problem;
    for (const std::string& name : names) {
      size_t k = 0;
      while (k < declared.size() && declared[k].name != name) ++k;
      const Tensor& out = outputs[k];
      if (batch.size() == 1) {
        response.outputs.push_back({name, out});
        continue;
      }
      if (out.rank() == 0 || out.dim(0) != rows) {
        problem = Status::Internal(
            fmt::format("output '{}' has shape {}: its first dim is not the batch of {}", name,
                        ShapeToString(out.shape()), rows));
        break;
      }
      Shape shape = out.shape();
      shape[0] = p->rows;
      Tensor slice(out.dtype(), shape);
      const int64_t row_elements = out.numel() / rows;
      CopyElements(out, offset * row_elements, slice, 0, slice.numel());
      response.outputs.push_back({name, std::move(slice)});
    }
    offset += p->rows;
    if (!problem.ok()) {
      metrics_->RequestFailed(FailureReason::kBackend);
      Finish(p, problem, {});
      continue;
    }
    const Clock::time_point now = Clock::now();
    metrics_->RequestSucceeded(Seconds(now - p->request.received), Seconds(start - p->enqueued),
                               compute_s);
    Finish(p, Status::Ok(), std::move(response));
  }
}

void Scheduler::Finish(const std::shared_ptr<Pending>& p, Status status, InferResponse response) {
  if (p->finished.exchange(true)) return;
  if (status.ok() || response.model.empty()) {
    response.model = model_;
    response.version = version_;
    response.id = p->request.id;
  }
  if (p->done) p->done(std::move(status), std::move(response));
  p->done = nullptr;
  if (p->on_finish) p->on_finish();
  p->on_finish = nullptr;
}

}  // namespace supernova::server

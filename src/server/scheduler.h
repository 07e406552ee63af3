// The scheduler of one loaded model version: a bounded queue, the dynamic batcher and the
// instances that run batches.
//
// Each instance is a thread that takes work from the shared queue. With dynamic batching, an
// instance that finds requests waiting gathers compatible ones (same non-batch shapes) until
// it has a preferred batch size (or max_batch_size) or the oldest request has waited
// max_queue_delay, merges them along the batch dimension, runs the model once and splits the
// outputs back. The queue holds at most max_queue_size requests; more are refused at once.
// A request whose timeout passes while it waits is answered kDeadlineExceeded without
// running; a cancelled one leaves the queue at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "model_config.pb.h"
#include "server/backend.h"
#include "server/inference_server.h"
#include "server/metrics.h"
#include "supernova/session.h"

namespace supernova::server {

class Scheduler : public std::enable_shared_from_this<Scheduler> {
 public:
  using Clock = std::chrono::steady_clock;

  Scheduler(std::string model, std::string version, std::shared_ptr<const ModelBackend> backend,
            inference::ModelConfig config, uint32_t default_max_queue_size,
            std::shared_ptr<ModelMetrics> metrics);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the instance threads.
  void Start();

  // A request that reached a version after it had begun unloading, handed back whole so that
  // the caller may send it to the version that replaced this one.
  struct Unaccepted {
    InferRequest request;
    InferCallback done;
    std::function<void()> on_finish;
  };

  // Checks the request against the config (input names, datatypes, shapes, batch size,
  // requested outputs) and queues it. On refusal (invalid, queue full, draining) `done` is
  // called before Enqueue returns, and it returns null. `on_finish` runs after `done`, once.
  // With `unaccepted` given, a version that is unloading does not refuse: the request goes
  // into *unaccepted untouched (neither callback run, no failure counted) and Enqueue returns
  // null.
  std::shared_ptr<RequestHandle> Enqueue(InferRequest request, InferCallback done,
                                         std::function<void()> on_finish,
                                         std::optional<Unaccepted>* unaccepted = nullptr);

  // Stops taking requests; the instances finish every queued and running one and exit.
  // Blocks until they have.
  void Drain();

  const inference::ModelConfig& config() const { return config_; }
  const std::string& version() const { return version_; }
  size_t queued() const;

 private:
  struct Pending;
  class Handle;

  Status Validate(const InferRequest& request, int64_t* rows) const;
  void InstanceLoop();
  // Takes the next batch off the queue (lock held); empty when draining and nothing is left.
  // Expired requests found on the way go to `reaped` (returned alone, to be answered outside
  // the lock).
  std::vector<std::shared_ptr<Pending>> NextBatch(std::unique_lock<std::mutex>& lock,
                                                  std::vector<std::shared_ptr<Pending>>* reaped);
  void Execute(std::vector<std::shared_ptr<Pending>>& batch);
  void Finish(const std::shared_ptr<Pending>& p, Status status, InferResponse response);
  // Answers and removes expired and cancelled requests (lock held); returns them to be
  // finished outside the lock.
  void ReapLocked(Clock::time_point now, std::vector<std::shared_ptr<Pending>>* reaped);
  void Cancel(const std::shared_ptr<Pending>& p);

  const std::string model_;
  const std::string version_;
  const std::shared_ptr<const ModelBackend> backend_;
  const inference::ModelConfig config_;
  const std::shared_ptr<ModelMetrics> metrics_;
  const size_t max_queue_;
  const bool batching_;
  const int max_batch_;
  int target_batch_ = 1;  // the batch size at which an instance stops waiting
  std::chrono::microseconds max_delay_{0};
  uint64_t default_timeout_us_ = 0;
  bool allow_timeout_override_ = true;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool draining_ = false;
  int live_instances_ = 0;  // instance threads not yet exited
  std::vector<std::thread> instances_;
};

}  // namespace supernova::server

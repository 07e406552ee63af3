#include "supernova/refine_queue.h"

namespace supernova::tools {

RefineQueue::RefineQueue(learn::Refiner* refiner, size_t capacity,
                         std::function<Status()> on_update)
    : refiner_(refiner),
      capacity_(capacity),
      on_update_(std::move(on_update)),
      thread_([this] { Loop(); }) {}

RefineQueue::~RefineQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool RefineQueue::Offer(std::vector<float> embedding, learn::Prediction prediction,
                        std::string source) {
  {
    std::lock_guard lock(mu_);
    if (items_.size() >= capacity_) {
      ++counts_.dropped;
      return false;
    }
    items_.push_back({std::move(embedding), std::move(prediction), std::move(source)});
  }
  cv_.notify_all();
  return true;
}

void RefineQueue::Flush() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return items_.empty() && !busy_; });
}

RefineQueue::Counts RefineQueue::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

Status RefineQueue::TakeError() {
  std::lock_guard lock(mu_);
  Status e = error_;
  error_ = Status::Ok();
  return e;
}

void RefineQueue::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !items_.empty(); });
    if (items_.empty()) return;  // stopping, and nothing left to decide
    Item item = std::move(items_.front());
    items_.pop_front();
    busy_ = true;
    lock.unlock();
    Result<learn::RefineResult> r = refiner_->Offer(item.embedding, item.prediction, item.source);
    const Status updated = r.ok() && r->accepted && on_update_ ? on_update_() : Status::Ok();
    lock.lock();
    busy_ = false;
    if (!r.ok()) {
      ++counts_.failed;
      if (error_.ok()) error_ = r.status();
    } else {
      ++(r->accepted ? counts_.accepted : counts_.refused);
      if (!updated.ok() && error_.ok()) error_ = updated;
    }
    cv_.notify_all();  // Flush
  }
}

}  // namespace supernova::tools

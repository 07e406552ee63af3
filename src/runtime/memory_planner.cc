#include "runtime/memory_planner.h"

#include <bit>
#include <cstdlib>

namespace supernova::runtime {

size_t BufferPool::SizeClass(size_t bytes) {
  if (bytes <= 4096) return (bytes + 63) / 64 * 64 + (bytes == 0 ? 64 : 0);
  // Above 4 KiB: eight classes per power of two, so at most 12.5% is wasted.
  size_t p = std::bit_floor(bytes);
  size_t step = p / 8;
  return (bytes + step - 1) / step * step;
}

BufferPool::~BufferPool() {
  for (auto& [size, blocks] : free_)
    for (void* p : blocks) std::free(p);
}

void* BufferPool::Allocate(size_t bytes) {
  if (bytes > (size_t{1} << 62)) return nullptr;  // SizeClass's rounding would overflow
  const size_t cls = SizeClass(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = free_.find(cls);
  if (it != free_.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    kept_ -= cls;
    reused_ += cls;
    ++allocations_;
    live_ += cls;
    if (live_ > peak_) peak_ = live_;
    return p;
  }
  if (!MakeRoomLocked(cls)) return nullptr;
  void* p = std::aligned_alloc(64, cls);
  if (!p) return nullptr;
  ++allocations_;
  live_ += cls;
  if (live_ > peak_) peak_ = live_;
  return p;
}

void BufferPool::Free(void* p, size_t bytes) {
  const size_t cls = SizeClass(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  live_ -= cls;
  kept_ += cls;
  free_[cls].push_back(p);
}

bool BufferPool::MakeRoomLocked(size_t bytes) {
  if (limit_ == 0) return true;
  const auto fits = [&] { return bytes <= limit_ && live_ + kept_ + reserved_ <= limit_ - bytes; };
  for (auto k = free_.rbegin(); k != free_.rend() && !fits(); ++k) {
    while (!k->second.empty() && !fits()) {
      std::free(k->second.back());
      k->second.pop_back();
      kept_ -= k->first;
    }
  }
  if (fits()) return true;
  ++refusals_;
  return false;
}

bool BufferPool::Reserve(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!MakeRoomLocked(bytes)) return false;
  reserved_ += bytes;
  return true;
}

void BufferPool::Unreserve(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  reserved_ -= bytes;
}

void BufferPool::SetLimit(size_t max_held_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  limit_ = max_held_bytes;
}

size_t BufferPool::held_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_ + kept_;
}

void BufferPool::ResetStats() {
  std::lock_guard<std::mutex> lock(mu_);
  peak_ = live_;
  reused_ = 0;
  allocations_ = 0;
  refusals_ = 0;
}

size_t BufferPool::live_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}
size_t BufferPool::peak_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return peak_;
}
size_t BufferPool::reused_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reused_;
}
size_t BufferPool::allocations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return allocations_;
}
size_t BufferPool::refusals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refusals_;
}

}  // namespace supernova::runtime

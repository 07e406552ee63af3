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
  const size_t cls = SizeClass(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  ++allocations_;
  live_ += cls;
  if (live_ > peak_) peak_ = live_;
  auto it = free_.find(cls);
  if (it != free_.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    reused_ += cls;
    return p;
  }
  void* p = std::aligned_alloc(64, cls);
  if (!p) live_ -= cls;
  return p;
}

void BufferPool::Free(void* p, size_t bytes) {
  const size_t cls = SizeClass(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  live_ -= cls;
  free_[cls].push_back(p);
}

void BufferPool::ResetStats() {
  std::lock_guard<std::mutex> lock(mu_);
  peak_ = live_;
  reused_ = 0;
  allocations_ = 0;
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

}  // namespace supernova::runtime

#include "providers/cuda/arena.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <bit>

#include "providers/cuda/scoped_device.h"

namespace supernova::providers::cuda {
namespace {

constexpr size_t kMinBlock = 256;  // cudaMalloc's own alignment; keeps every carve aligned

}  // namespace

DeviceArena::DeviceArena(int device_id, size_t chunk_bytes)
    : device_id_(device_id), chunk_bytes_(SizeClass(chunk_bytes)) {}

DeviceArena::~DeviceArena() {
  // An arena that never allocated makes no CUDA call, so a provider made on a machine without
  // a driver is destroyed without touching the runtime.
  if (allocations_.empty()) return;
  ScopedDevice scope;
  // Errors are ignored: at process exit the runtime may already be unloading.
  if (scope.Set(device_id_) != cudaSuccess) return;
  for (void* p : allocations_) (void)cudaFree(p);
}

size_t DeviceArena::SizeClass(size_t bytes) {
  size_t c = std::max(kMinBlock, (bytes + kMinBlock - 1) / kMinBlock * kMinBlock);
  if (c <= 4096) return c;
  const size_t step = std::bit_floor(c) / 4;
  return (c + step - 1) / step * step;
}

void* DeviceArena::Allocate(size_t bytes) {
  const size_t size = SizeClass(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  void* p = nullptr;
  auto it = free_blocks_.find(size);
  if (it != free_blocks_.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
  } else if (size > chunk_bytes_ / 2) {
    ScopedDevice scope;
    if (scope.Set(device_id_) != cudaSuccess || cudaMalloc(&p, size) != cudaSuccess) {
      (void)cudaGetLastError();  // out of memory is not sticky; clear it for later calls
      return nullptr;
    }
    allocations_.push_back(p);
    reserved_ += size;
  } else {
    if (bump_left_ < size) {
      // The old chunk's tail (under `size` bytes) is abandoned: simpler than splitting it
      // into classes, and at most half a chunk per chunk.
      void* chunk = nullptr;
      ScopedDevice scope;
      if (scope.Set(device_id_) != cudaSuccess || cudaMalloc(&chunk, chunk_bytes_) != cudaSuccess) {
        (void)cudaGetLastError();
        return nullptr;
      }
      allocations_.push_back(chunk);
      reserved_ += chunk_bytes_;
      bump_ = static_cast<char*>(chunk);
      bump_left_ = chunk_bytes_;
    }
    p = bump_;
    bump_ += size;
    bump_left_ -= size;
  }
  in_use_ += size;
  peak_ = std::max(peak_, in_use_);
  return p;
}

void DeviceArena::Free(void* p, size_t bytes) {
  if (p == nullptr) return;
  const size_t size = SizeClass(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  free_blocks_[size].push_back(p);
  in_use_ -= size;
}

size_t DeviceArena::bytes_in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

size_t DeviceArena::peak_bytes_in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return peak_;
}

size_t DeviceArena::bytes_reserved() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reserved_;
}

void* RunAllocator::Allocate(size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(DeviceArena::SizeClass(bytes));
    if (!closed_ && it != cache_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      return p;
    }
  }
  return arena_->Allocate(bytes);
}

void RunAllocator::Free(void* p, size_t bytes) {
  if (p == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_) {
      cache_[DeviceArena::SizeClass(bytes)].push_back(p);
      return;
    }
  }
  arena_->Free(p, bytes);
}

void RunAllocator::Close() {
  std::map<size_t, std::vector<void*>> cache;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    cache.swap(cache_);
  }
  // A class's own size is a valid `bytes` for it: SizeClass is idempotent.
  for (auto& [size, blocks] : cache)
    for (void* p : blocks) arena_->Free(p, size);
}

}  // namespace supernova::providers::cuda

// Device memory for the cuda provider.
//
// DeviceArena caches freed blocks by size class instead of returning them to the driver
// (cudaMalloc and cudaFree synchronise the device and cost tens of microseconds each); it grows
// by large cudaMalloc chunks and keeps everything until it is destroyed. RunAllocator is one
// Run's view of the arena: blocks the run frees are reused by that run only, because its
// kernels are ordered on its one stream, and go back to the shared arena once the run's stream
// has synchronised, so a concurrent run on another stream never gets a block that queued work
// still reads.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "supernova/tensor.h"

namespace supernova::providers::cuda {

class DeviceArena final : public Allocator {
 public:
  // Chunks of `chunk_bytes`; requests over half a chunk get a cudaMalloc of their own.
  explicit DeviceArena(int device_id, size_t chunk_bytes = size_t{64} << 20);
  ~DeviceArena() override;
  DeviceArena(const DeviceArena&) = delete;
  DeviceArena& operator=(const DeviceArena&) = delete;

  // 256-byte aligned device memory of at least `bytes`, or nullptr when the device is out of
  // memory. Thread-safe; leaves the calling thread's current device as it was.
  void* Allocate(size_t bytes) override;
  // `bytes` must be what Allocate was given for `p`.
  void Free(void* p, size_t bytes) override;
  Device device() const override { return {DeviceType::kCuda, device_id_}; }

  size_t bytes_in_use() const;  // handed out and not freed, by size class
  size_t peak_bytes_in_use() const;
  size_t bytes_reserved() const;  // obtained from the driver

  // The block size a request is served with: multiples of 256 bytes up to 4 KiB, then four
  // classes per power of two (at most 25% waste).
  static size_t SizeClass(size_t bytes);

 private:
  const int device_id_;
  const size_t chunk_bytes_;

  mutable std::mutex mu_;
  std::vector<void*> allocations_;                    // GUARDED_BY(mu_): what to cudaFree
  char* bump_ = nullptr;                              // GUARDED_BY(mu_): rest of the chunk
  size_t bump_left_ = 0;                              // GUARDED_BY(mu_)
  std::map<size_t, std::vector<void*>> free_blocks_;  // GUARDED_BY(mu_): by size class
  size_t in_use_ = 0;                                 // GUARDED_BY(mu_)
  size_t peak_ = 0;                                   // GUARDED_BY(mu_)
  size_t reserved_ = 0;                               // GUARDED_BY(mu_)
};

class RunAllocator final : public Allocator {
 public:
  explicit RunAllocator(std::shared_ptr<DeviceArena> arena) : arena_(std::move(arena)) {}
  ~RunAllocator() override { Close(); }

  void* Allocate(size_t bytes) override;
  void Free(void* p, size_t bytes) override;
  Device device() const override { return arena_->device(); }

  // Call once the run's stream has synchronised: hands the cached blocks back to the arena,
  // and from then on frees (of the run's outputs, which outlive it) go straight there.
  void Close();

 private:
  const std::shared_ptr<DeviceArena> arena_;
  std::mutex mu_;
  bool closed_ = false;                         // GUARDED_BY(mu_)
  std::map<size_t, std::vector<void*>> cache_;  // GUARDED_BY(mu_): by size class
};

}  // namespace supernova::providers::cuda

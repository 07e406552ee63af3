// Buffer reuse by lifetime. The executor releases each intermediate value right after its
// last consumer ran; its buffer goes back to this pool and is handed to the next allocation
// of the same size class. The pool counts live bytes and records the peak.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

#include "supernova/tensor.h"

namespace supernova::runtime {

class BufferPool final : public Allocator {
 public:
  BufferPool() = default;
  ~BufferPool() override;

  void* Allocate(size_t bytes) override;
  void Free(void* p, size_t bytes) override;

  size_t live_bytes() const;
  size_t peak_bytes() const;
  // Starts a new measurement: the peak restarts from the bytes live now, and the reuse and
  // allocation counters from zero. Blocks on the free lists stay for reuse.
  void ResetStats();
  size_t reused_bytes() const;
  size_t allocations() const;

  // Size class that `bytes` is served from (exposed for tests).
  static size_t SizeClass(size_t bytes);

 private:
  mutable std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;  // GUARDED_BY(mu_): size class -> free blocks
  size_t live_ = 0;                            // GUARDED_BY(mu_)
  size_t peak_ = 0;                            // GUARDED_BY(mu_)
  size_t reused_ = 0;                          // GUARDED_BY(mu_)
  size_t allocations_ = 0;                     // GUARDED_BY(mu_)
};

}  // namespace supernova::runtime

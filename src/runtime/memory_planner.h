// Buffer reuse by lifetime. The executor releases each intermediate value right after its
// last consumer ran; its buffer goes back to this pool and is handed to the next allocation
// of the same size class. The pool counts live bytes and records the peak.
//
// A pool may be given a limit on the bytes it holds, live and kept for reuse together, plus
// the scratch kernels reserve: an allocation that would pass it first frees kept blocks, then
// fails (nullptr, which Tensor turns into std::bad_alloc and a run into ResourceExhausted).
// That is how a session bounds what one run of a model may take
// (SessionOptions::max_run_bytes).
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
  // Kernels' scratch, counted with the held bytes against the limit.
  bool Reserve(size_t bytes) override;
  void Unreserve(size_t bytes) override;

  // The most bytes the pool may hold (live, kept for reuse and reserved); 0: no limit.
  void SetLimit(size_t max_held_bytes);

  size_t live_bytes() const;
  // Live bytes plus those kept for reuse: what the pool takes from the heap.
  size_t held_bytes() const;
  size_t peak_bytes() const;
  // Starts a new measurement: the peak restarts from the bytes live now, and the reuse and
  // allocation counters from zero. Blocks on the free lists stay for reuse.
  void ResetStats();
  size_t reused_bytes() const;
  size_t allocations() const;
  // Allocations refused by the limit since ResetStats.
  size_t refusals() const;

  // Size class that `bytes` is served from (exposed for tests).
  static size_t SizeClass(size_t bytes);

 private:
  // Under the limit, whether `bytes` more fit once kept blocks are given back to the heap
  // (largest first, as many as needed); counts a refusal when they do not.
  bool MakeRoomLocked(size_t bytes);

  mutable std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;  // GUARDED_BY(mu_): size class -> free blocks
  size_t live_ = 0;                            // GUARDED_BY(mu_)
  size_t kept_ = 0;                            // GUARDED_BY(mu_): bytes in free_
  size_t reserved_ = 0;                        // GUARDED_BY(mu_)
  size_t limit_ = 0;                           // GUARDED_BY(mu_)
  size_t peak_ = 0;                            // GUARDED_BY(mu_)
  size_t reused_ = 0;                          // GUARDED_BY(mu_)
  size_t allocations_ = 0;                     // GUARDED_BY(mu_)
  size_t refusals_ = 0;                        // GUARDED_BY(mu_)
};

}  // namespace supernova::runtime

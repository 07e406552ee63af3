#include "runtime/memory_planner.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace supernova::runtime {
namespace {

TEST(BufferPool, SizeClassesBoundWaste) {
  EXPECT_EQ(BufferPool::SizeClass(0), 64u);
  EXPECT_EQ(BufferPool::SizeClass(1), 64u);
  EXPECT_EQ(BufferPool::SizeClass(4096), 4096u);
  for (size_t b : {4097u, 5000u, 100000u, 3000000u}) {
    EXPECT_GE(BufferPool::SizeClass(b), b);
    EXPECT_LE(BufferPool::SizeClass(b), b + b / 8);
  }
}

TEST(BufferPool, ReusesFreedBuffersAndTracksPeak) {
  auto pool = std::make_shared<BufferPool>();
  {
    Tensor a(DataType::kFloat32, {1000}, pool);
    Tensor b(DataType::kFloat32, {1000}, pool);
    EXPECT_EQ(pool->live_bytes(), 2 * BufferPool::SizeClass(4000));
  }
  EXPECT_EQ(pool->live_bytes(), 0u);
  Tensor c(DataType::kFloat32, {1000}, pool);  // served from a freed block
  EXPECT_EQ(pool->reused_bytes(), BufferPool::SizeClass(4000));
  EXPECT_EQ(pool->peak_bytes(), 2 * BufferPool::SizeClass(4000));
  EXPECT_EQ(pool->allocations(), 3u);
}

// Under a limit the pool first gives kept blocks back to the heap, then refuses: what it holds,
// live and kept, never passes the limit.
TEST(BufferPool, LimitFreesKeptBlocksBeforeRefusing) {
  const size_t kb64 = BufferPool::SizeClass(64 << 10), kb96 = BufferPool::SizeClass(96 << 10);
  BufferPool pool;
  pool.SetLimit(kb64 + kb96);
  void* a = pool.Allocate(64 << 10);
  void* b = pool.Allocate(96 << 10);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(pool.Allocate(1), nullptr);  // full: nothing kept to give back
  EXPECT_EQ(pool.refusals(), 1u);
  pool.Free(b, 96 << 10);
  EXPECT_EQ(pool.held_bytes(), kb64 + kb96);  // b is kept for reuse
  // 80 KiB is not b's size class: b goes back to the heap to make room for it.
  void* c = pool.Allocate(80 << 10);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(pool.live_bytes(), kb64 + BufferPool::SizeClass(80 << 10));
  EXPECT_EQ(pool.held_bytes(), pool.live_bytes());
  EXPECT_EQ(pool.Allocate(96 << 10), nullptr);  // 64 + 80 + 96 KiB would pass it
  EXPECT_EQ(pool.refusals(), 2u);
  pool.Free(a, 64 << 10);
  pool.Free(c, 80 << 10);
  pool.SetLimit(0);  // no limit: any size
  void* d = pool.Allocate(1 << 20);
  ASSERT_NE(d, nullptr);
  pool.Free(d, 1 << 20);
  pool.ResetStats();
  EXPECT_EQ(pool.refusals(), 0u);
}

// Kernels' scratch counts with the buffers: a reservation frees kept blocks like an allocation,
// and while it is held an allocation has that much less room.
TEST(BufferPool, ReservedScratchCountsAgainstTheLimit) {
  BufferPool pool;
  void* a = pool.Allocate(100 << 10);
  pool.Free(a, 100 << 10);  // kept
  pool.SetLimit(size_t{256} << 10);
  EXPECT_FALSE(pool.Reserve(size_t{257} << 10));
  EXPECT_EQ(pool.refusals(), 1u);
  ASSERT_TRUE(pool.Reserve(size_t{200} << 10));  // gives the kept block back to the heap
  EXPECT_EQ(pool.held_bytes(), 0u);
  EXPECT_EQ(pool.Allocate(64 << 10), nullptr);  // 200 + 64 KiB would pass 256
  void* b = pool.Allocate(32 << 10);
  ASSERT_NE(b, nullptr);
  pool.Unreserve(size_t{200} << 10);
  void* c = pool.Allocate(200 << 10);
  ASSERT_NE(c, nullptr);
  pool.Free(b, 32 << 10);
  pool.Free(c, 200 << 10);
  EXPECT_FALSE(pool.Reserve(SIZE_MAX));  // no overflow in the sum
}

}  // namespace
}  // namespace supernova::runtime

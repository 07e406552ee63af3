#include "runtime/memory_planner.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace supernova::runtime

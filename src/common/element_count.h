// How many elements a shape may count. A model's file chooses its shapes, so sizes read from
// it are checked against one bound before anything is sized or allocated by them.
#pragma once

#include <cstdint>

#include "supernova/tensor.h"

namespace supernova {

// The most elements one tensor may have: 2^40, 4 TiB of float32, beyond any device this runs
// on. The importer refuses larger declared shapes, shape inference leaves them unknown and
// Tensor's constructor throws std::bad_alloc for them, which a run reports as out of memory.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 40;

// NumElements(shape) when every dim is non-negative and the count is at most
// kMaxTensorElements; -1 otherwise. Never overflows, whatever the dims.
inline int64_t CheckedNumElements(const Shape& shape) {
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d == 0) return 0;  // empty, however large the other dims
  }
  int64_t n = 1;
  for (int64_t d : shape) {
    if (n > kMaxTensorElements / d) return -1;
    n *= d;
  }
  return n;
}

}  // namespace supernova

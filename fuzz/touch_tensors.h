// What an accepted infer request promises the scheduler, checked by the request fuzzers: each
// input holds exactly its shape's bytes (strings: one per element). Reading every byte lets
// ASan see a tensor shorter than it claims.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "server/inference_server.h"

namespace supernova::fuzz {

// Keeps the reads from being optimized away.
inline volatile unsigned touch_sink;

inline void TouchTensors(const std::vector<server::NamedTensor>& tensors) {
  unsigned sum = 0;
  for (const auto& input : tensors) {
    const Tensor& t = input.tensor;
    if (t.dtype() == DataType::kString) {
      const std::string* s = t.data<std::string>();
      for (int64_t i = 0; i < t.numel(); ++i)
        for (char c : s[i]) sum += static_cast<unsigned char>(c);
      continue;
    }
    const auto* p = static_cast<const unsigned char*>(t.raw_data());
    for (size_t i = 0; i < t.nbytes(); ++i) sum += p[i];
  }
  touch_sink = sum;
}

}  // namespace supernova::fuzz

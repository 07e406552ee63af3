// String tensors for op tests: Tensor::FromVector takes only byte-copyable element types.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "supernova/tensor.h"

namespace supernova::testing {

inline Tensor Strings(const std::vector<std::string>& values, Shape shape) {
  Tensor t(DataType::kString, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<std::string>());
  return t;
}

inline std::vector<std::string> StringValues(const Tensor& t) {
  const std::string* p = t.data<std::string>();
  return std::vector<std::string>(p, p + t.numel());
}

}  // namespace supernova::testing

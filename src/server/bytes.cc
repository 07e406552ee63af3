#include "server/bytes.h"

#include <algorithm>
#include <cstring>

namespace supernova::server {

void CopyElements(const Tensor& src, int64_t from, Tensor& dst, int64_t to, int64_t count) {
  if (src.dtype() == DataType::kString) {
    std::copy_n(src.data<std::string>() + from, count, dst.data<std::string>() + to);
    return;
  }
  const size_t elem = DataTypeSize(src.dtype());
  if (count > 0)
    std::memcpy(static_cast<char*>(dst.raw_data()) + static_cast<size_t>(to) * elem,
                static_cast<const char*>(src.raw_data()) + static_cast<size_t>(from) * elem,
                static_cast<size_t>(count) * elem);
}

}  // namespace supernova::server

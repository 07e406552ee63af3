// The server's BYTES tensors (string tensors: supernova/tensor.h): their wire codec, which is
// kserve's (kserve/bytes.h, shared with the client), and element copies for batching.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kserve/bytes.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::server {

using kserve::AppendEncodedBytes;
using kserve::DecodeBytes;
using kserve::EncodedBytesSize;

// Copies `count` elements of `src` from element `from` into `dst` at element `to`: the bytes of
// a numeric tensor, the strings of a string tensor (whose bytes are not its elements). For the
// scheduler's batch merge and split.
void CopyElements(const Tensor& src, int64_t from, Tensor& dst, int64_t to, int64_t count);

}  // namespace supernova::server

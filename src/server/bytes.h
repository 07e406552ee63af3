// KServe v2's BYTES tensors, which the runtime holds as string tensors (supernova/tensor.h:
// std::string elements, no bytes to copy). On the wire (the binary tensor extension and gRPC's
// raw contents) each element is a 4-byte little-endian length and that many bytes, back to back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::server {

// The string tensor of `shape` that `raw` encodes; every byte must belong to an element.
// `what` names the input in messages.
Result<Tensor> DecodeBytes(std::string_view raw, Shape shape, const std::string& what);
// The size of a string tensor's encoding, and the encoding appended to `out`.
size_t EncodedBytesSize(const Tensor& t);
void AppendEncodedBytes(std::string& out, const Tensor& t);

// Copies `count` elements of `src` from element `from` into `dst` at element `to`: the bytes of
// a numeric tensor, the strings of a string tensor (whose bytes are not its elements). For the
// scheduler's batch merge and split.
void CopyElements(const Tensor& src, int64_t from, Tensor& dst, int64_t to, int64_t count);

}  // namespace supernova::server

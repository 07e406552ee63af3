// KServe v2's BYTES tensors, which the runtime holds as string tensors (supernova/tensor.h:
// std::string elements, no bytes to copy). On the wire (the binary tensor extension and gRPC's
// raw contents) each element is a 4-byte little-endian length and that many bytes, back to back.
// The server and the client share this one codec: a layer of its own, free of gRPC, so that the
// server's core and the client both depend on it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::kserve {

// The string tensor of `shape` that `raw` encodes; every byte must belong to an element.
// `what` names the input in messages.
Result<Tensor> DecodeBytes(std::string_view raw, Shape shape, const std::string& what);
// The size of a string tensor's encoding, and the encoding appended to `out`.
size_t EncodedBytesSize(const Tensor& t);
void AppendEncodedBytes(std::string& out, const Tensor& t);

}  // namespace supernova::kserve

// What the sequence and optional ops share: reading their inputs as the kind they must be,
// with an error naming the node when a tensor comes where a sequence is due (or the reverse).
#pragma once

#include <string>

#include "ops/infer.h"
#include "ops/kernel.h"

namespace supernova::ops {

// Input i, which must be a sequence.
Result<const Value*> SequenceInput(const KernelContext& ctx, size_t i, const std::string& what);
// Input i, which must be a tensor.
Result<const Tensor*> TensorInput(const KernelContext& ctx, size_t i, const std::string& what);
// A position into a sequence of `size` elements: a one-element int32/int64 tensor in
// [-size, size - 1], or [-size, size] when `end_ok` (an insertion may append). Negative
// positions count from the end; the result is in [0, size].
Result<int64_t> SequencePosition(const KernelContext& ctx, const Tensor& position, size_t size,
                                 bool end_ok);

// Shape rules: output 0 is a sequence of input 0's element type (InferSequence), or a tensor
// of it whose shape is known at run time (InferElement).
std::optional<Dims> InferSequence(InferContext& ctx);
std::optional<Dims> InferElement(InferContext& ctx);

// The kernels of Concat and Split (concat.cc, split.cc), which ConcatFromSequence and
// SplitToSequence run over a sequence's elements.
Status Concat(KernelContext& ctx);
Status Split(KernelContext& ctx);

}  // namespace supernova::ops

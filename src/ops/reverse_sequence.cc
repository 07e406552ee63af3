#include <cstring>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status ReverseSequence(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* lens_t = ctx.input(1);
  if (!x || !lens_t) return ctx.Error("input and sequence_lens are required");
  if (x->rank() < 2) return ctx.Error("input must have rank >= 2");
  const int64_t time_axis = ctx.node.AttrInt("time_axis", 0);
  const int64_t batch_axis = ctx.node.AttrInt("batch_axis", 1);
  if (!((time_axis == 0 && batch_axis == 1) || (time_axis == 1 && batch_axis == 0)))
    return ctx.Error("time_axis and batch_axis must be 0 and 1 in some order");
  std::vector<int64_t> lens;
  SN_RETURN_IF_ERROR(ReadInts(ctx, *lens_t, "sequence_lens", &lens));
  const int64_t T = x->dim(static_cast<size_t>(time_axis));
  const int64_t B = x->dim(static_cast<size_t>(batch_axis));
  if (static_cast<int64_t>(lens.size()) != B)
    return ctx.Error("sequence_lens has " + std::to_string(lens.size()) + " entries for batch " +
                     std::to_string(B));
  for (int64_t l : lens)
    if (l < 0 || l > T)
      return ctx.Error("sequence length " + std::to_string(l) + " outside [0, " +
                       std::to_string(T) + "]");
  const size_t es = DataTypeSize(x->dtype());
  if (es == 0) return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), x->shape(), &y));
  const int64_t inner = B * T == 0 ? 0 : x->numel() / (B * T);
  const int64_t row = inner * static_cast<int64_t>(es);
  const int64_t t_stride = time_axis == 0 ? B : 1;  // in rows of `inner` elements
  const int64_t b_stride = time_axis == 0 ? 1 : T;
  const char* src = static_cast<const char*>(x->raw_data());
  char* dst = static_cast<char*>(y->raw_data());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t from = t < lens[b] ? lens[b] - 1 - t : t;
      std::memcpy(dst + (t * t_stride + b * b_stride) * row,
                  src + (from * t_stride + b * b_stride) * row, static_cast<size_t>(row));
    }
  return Status::Ok();
}

namespace {
constexpr OpDef kOps[] = {
    {"ReverseSequence", ReverseSequence, SameShape, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> ReverseSequenceOps() { return kOps; }

}  // namespace supernova::ops

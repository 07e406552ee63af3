// CenterCropPad (opset 18): each listed axis is cropped or zero-padded to its target length,
// centred: a crop drops (in - target) / 2 elements at the start, a pad adds (target - in) / 2
// zeros at the start (the odd one goes to the end in both cases).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status CenterCropPad(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* target = ctx.input(1);
  if (!x || !target) return ctx.Error("needs input and shape");
  const int64_t rank = static_cast<int64_t>(x->rank());
  std::vector<int64_t> lengths;
  SN_RETURN_IF_ERROR(ReadInts(ctx, *target, "shape", &lengths));
  std::vector<int64_t> axes = ctx.node.AttrInts("axes");
  if (axes.empty())
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  if (axes.size() != lengths.size())
    return ctx.Error("shape has " + std::to_string(lengths.size()) + " values for " +
                     std::to_string(axes.size()) + " axes");
  Shape out_shape = x->shape();
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (size_t k = 0; k < axes.size(); ++k) {
    SN_RETURN_IF_ERROR(CheckAxis(ctx, &axes[k], rank));
    if (seen[axes[k]]) return ctx.Error("axis " + std::to_string(axes[k]) + " repeated");
    seen[axes[k]] = true;
    if (lengths[k] < 0) return ctx.Error("negative target length " + std::to_string(lengths[k]));
    out_shape[axes[k]] = lengths[k];
  }
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), out_shape, &y));
  const size_t es = DataTypeSize(x->dtype());
  std::memset(y->raw_data(), 0, y->numel() * es);
  // The overlap of input and output along each axis: where it starts in each and its length.
  std::vector<int64_t> src0(rank), dst0(rank), len(rank);
  for (int64_t a = 0; a < rank; ++a) {
    const int64_t in = x->dim(a), out = out_shape[a];
    src0[a] = in > out ? (in - out) / 2 : 0;
    dst0[a] = out > in ? (out - in) / 2 : 0;
    len[a] = std::min(in, out);
    if (len[a] == 0) return Status::Ok();
  }
  if (rank == 0) {
    std::memcpy(y->raw_data(), x->raw_data(), es);
    return Status::Ok();
  }
  const std::vector<int64_t> xs = Strides(x->shape()), ys = Strides(out_shape);
  const char* src = static_cast<const char*>(x->raw_data());
  char* dst = static_cast<char*>(y->raw_data());
  // Copy rows of the last axis; step the other axes like an odometer.
  std::vector<int64_t> idx(rank, 0);
  const size_t row = static_cast<size_t>(len[rank - 1]) * es;
  while (true) {
    int64_t so = src0[rank - 1], d = dst0[rank - 1];
    for (int64_t a = 0; a + 1 < rank; ++a) {
      so += (src0[a] + idx[a]) * xs[a];
      d += (dst0[a] + idx[a]) * ys[a];
    }
    std::memcpy(dst + d * es, src + so * es, row);
    int64_t a = rank - 2;
    while (a >= 0 && ++idx[a] == len[a]) idx[a--] = 0;
    if (a < 0) break;
  }
  return Status::Ok();
}

namespace {
constexpr OpDef kOps[] = {
    {"CenterCropPad", CenterCropPad, SameDtype, OpKind::kDataMovement},
};
}  // namespace

std::span<const OpDef> CenterCropPadOps() { return kOps; }

}  // namespace supernova::ops

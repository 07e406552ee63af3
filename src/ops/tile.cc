#include <cstring>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status Tile(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* rep = ctx.input(1);
  if (!x || !rep) return ctx.Error("input and repeats are required");
  std::vector<int64_t> repeats;
  SN_RETURN_IF_ERROR(ReadInts(ctx, *rep, "repeats", &repeats));
  const int64_t r = static_cast<int64_t>(x->rank());
  if (static_cast<int64_t>(repeats.size()) != r)
    return ctx.Error("repeats has " + std::to_string(repeats.size()) + " entries for rank " +
                     std::to_string(r));
  Shape out_shape(static_cast<size_t>(r));
  for (int64_t k = 0; k < r; ++k) {
    if (repeats[k] < 0) return ctx.Error("repeats must be non-negative");
    if (__builtin_mul_overflow(x->dim(static_cast<size_t>(k)), repeats[k], &out_shape[k]))
      return ctx.Error("repeats make the output too large");
  }
  if (DataTypeSize(x->dtype()) == 0)
    return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), out_shape, &y));
  if (y->numel() == 0) return Status::Ok();
  if (r == 0) {
    std::memcpy(y->raw_data(), x->raw_data(), x->nbytes());
    return Status::Ok();
  }
  const std::vector<int64_t> in_strides = Strides(x->shape());
  const int64_t w_in = x->dim(static_cast<size_t>(r - 1));
  const int64_t w = out_shape[r - 1];
  const int64_t rows = y->numel() / w;
  return DispatchBySize(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x->data<T>();
    T* dst = y->data<T>();
    const int nt = y->nbytes() >= (256u << 10) ? ctx.num_threads : 1;
    // Each output row is an input row (found by wrapping the outer indices) repeated.
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t row = 0; row < rows; ++row) {
      int64_t off = 0, rem = row;
      for (int64_t k = r - 2; k >= 0; --k) {
        off += (rem % out_shape[k]) % x->dim(static_cast<size_t>(k)) * in_strides[k];
        rem /= out_shape[k];
      }
      T* d = dst + row * w;
      for (int64_t j = 0; j < w; j += w_in)
        std::memcpy(d + j, src + off, static_cast<size_t>(w_in) * sizeof(T));
    }
    return Status::Ok();
  });
}

namespace {
std::optional<Dims> TileShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  Dims out = ctx.in(0).dims();
  auto reps = ConstInts(ctx.in(1));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = reps && reps->size() == out.size() && out[i].known()
                 ? (DimMath(out[i].value) *= (*reps)[i]).dim()
                 : ir::Dim{};
  return out;
}

constexpr OpDef kOps[] = {
    {"Tile", Tile, TileShape, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> TileOps() { return kOps; }

}  // namespace supernova::ops

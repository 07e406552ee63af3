// Indexing by an index tensor: Gather, GatherElements, ScatterElements (and its deprecated
// alias Scatter). Every index is validated before any memory is touched.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// Reads `indices` as int64, wraps negative values and checks them against [-dim, dim).
Status ReadIndices(const KernelContext& ctx, const Tensor& indices, int64_t dim,
                   std::vector<int64_t>* out) {
  if (indices.dtype() != DataType::kInt64 && indices.dtype() != DataType::kInt32)
    return ctx.Error("indices must be int64 or int32, got " + DataTypeName(indices.dtype()));
  const int64_t n = indices.numel();
  out->resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = indices.dtype() == DataType::kInt64 ? indices.data<int64_t>()[i]
                                                    : indices.data<int32_t>()[i];
    if (v < -dim || v >= dim)
      return ctx.Error("index " + std::to_string(v) + " out of range [" + std::to_string(-dim) +
                       ", " + std::to_string(dim) + ")");
    (*out)[i] = v < 0 ? v + dim : v;
  }
  return Status::Ok();
}

// For GatherElements/ScatterElements: the data offset of every position of `indices`
// (shape `ishape`), with the index value substituted along `axis`.
std::vector<int64_t> ElementOffsets(const Shape& ishape, const Shape& dshape, int64_t axis,
                                    const std::vector<int64_t>& idx) {
  const std::vector<int64_t> ds = Strides(dshape);
  const int64_t r = static_cast<int64_t>(ishape.size());
  std::vector<int64_t> offsets(idx.size());
  std::vector<int64_t> pos(static_cast<size_t>(r), 0);
  int64_t base = 0;  // offset of pos without the axis term
  for (size_t i = 0; i < idx.size(); ++i) {
    offsets[i] = base + idx[i] * ds[axis];
    for (int64_t k = r - 1; k >= 0; --k) {
      if (k != axis) base += ds[k];
      if (++pos[k] < ishape[k]) break;
      if (k != axis) base -= pos[k] * ds[k];
      pos[k] = 0;
    }
  }
  return offsets;
}

Status CheckElementShapes(const KernelContext& ctx, const Tensor& data, const Tensor& indices,
                          int64_t axis) {
  if (indices.rank() != data.rank())
    return ctx.Error("indices rank " + std::to_string(indices.rank()) + " differs from data rank " +
                     std::to_string(data.rank()));
  for (size_t k = 0; k < data.rank(); ++k)
    if (static_cast<int64_t>(k) != axis && indices.dim(k) > data.dim(k))
      return ctx.Error("indices shape " + ShapeToString(indices.shape()) + " exceeds data shape " +
                       ShapeToString(data.shape()) + " outside the axis");
  return Status::Ok();
}

}  // namespace

Status Gather(KernelContext& ctx) {
  const Tensor* data = ctx.input(0);
  const Tensor* indices = ctx.input(1);
  if (!data || !indices) return ctx.Error("data and indices inputs are required");
  const int64_t r = static_cast<int64_t>(data->rank());
  int64_t axis = ctx.node.AttrInt("axis", 0);
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r));
  const int64_t dim = data->dim(static_cast<size_t>(axis));
  std::vector<int64_t> idx;
  SN_RETURN_IF_ERROR(ReadIndices(ctx, *indices, dim, &idx));
  Shape out_shape(data->shape().begin(), data->shape().begin() + axis);
  out_shape.insert(out_shape.end(), indices->shape().begin(), indices->shape().end());
  out_shape.insert(out_shape.end(), data->shape().begin() + axis + 1, data->shape().end());
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= data->dim(k);
  for (int64_t k = axis + 1; k < r; ++k) inner *= data->dim(k);
  const int64_t m = static_cast<int64_t>(idx.size());
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, data->dtype(), out_shape, &y));
  return DispatchBySize(data->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = data->data<T>();
    T* dst = y->data<T>();
    const int nt = y->nbytes() >= (256u << 10) ? ctx.num_threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t it = 0; it < outer * m; ++it) {
      const int64_t o = it / m, j = it % m;
      const T* s = src + (o * dim + idx[j]) * inner;
      T* d = dst + it * inner;
      if (inner == 1) {
        *d = *s;
      } else {
        std::memcpy(d, s, static_cast<size_t>(inner) * sizeof(T));
      }
    }
    return Status::Ok();
  });
}

Status GatherElements(KernelContext& ctx) {
  const Tensor* data = ctx.input(0);
  const Tensor* indices = ctx.input(1);
  if (!data || !indices) return ctx.Error("data and indices inputs are required");
  const int64_t r = static_cast<int64_t>(data->rank());
  int64_t axis = ctx.node.AttrInt("axis", 0);
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r));
  SN_RETURN_IF_ERROR(CheckElementShapes(ctx, *data, *indices, axis));
  std::vector<int64_t> idx;
  SN_RETURN_IF_ERROR(ReadIndices(ctx, *indices, data->dim(static_cast<size_t>(axis)), &idx));
  const std::vector<int64_t> off = ElementOffsets(indices->shape(), data->shape(), axis, idx);
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, data->dtype(), indices->shape(), &y));
  return DispatchBySize(data->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = data->data<T>();
    T* dst = y->data<T>();
    for (size_t i = 0; i < off.size(); ++i) dst[i] = src[off[i]];
    return Status::Ok();
  });
}

Status ScatterElements(KernelContext& ctx) {
  const Tensor* data = ctx.input(0);
  const Tensor* indices = ctx.input(1);
  const Tensor* updates = ctx.input(2);
  if (!data || !indices || !updates) return ctx.Error("data, indices and updates are required");
  const int64_t r = static_cast<int64_t>(data->rank());
  int64_t axis = ctx.node.AttrInt("axis", 0);
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r));
  SN_RETURN_IF_ERROR(CheckElementShapes(ctx, *data, *indices, axis));
  if (updates->shape() != indices->shape())
    return ctx.Error("updates shape " + ShapeToString(updates->shape()) +
                     " differs from indices shape " + ShapeToString(indices->shape()));
  if (updates->dtype() != data->dtype())
    return ctx.Error("updates dtype " + DataTypeName(updates->dtype()) + " differs from data " +
                     DataTypeName(data->dtype()));
  const std::string reduction = ctx.node.AttrString("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul" && reduction != "max" &&
      reduction != "min")
    return ctx.Unsupported("reduction '" + reduction + "' not supported");
  std::vector<int64_t> idx;
  SN_RETURN_IF_ERROR(ReadIndices(ctx, *indices, data->dim(static_cast<size_t>(axis)), &idx));
  const std::vector<int64_t> off = ElementOffsets(indices->shape(), data->shape(), axis, idx);
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, data->dtype(), data->shape(), &y));
  if (data->nbytes() > 0) std::memcpy(y->raw_data(), data->raw_data(), data->nbytes());
  if (reduction == "none") {
    return DispatchBySize(data->dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* u = updates->data<T>();
      T* dst = y->data<T>();
      for (size_t i = 0; i < off.size(); ++i) dst[off[i]] = u[i];
      return Status::Ok();
    });
  }
  Status s = DispatchNumeric(data->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* u = updates->data<T>();
    T* dst = y->data<T>();
    for (size_t i = 0; i < off.size(); ++i) {
      T& d = dst[off[i]];
      if (reduction == "add")
        d = static_cast<T>(d + u[i]);
      else if (reduction == "mul")
        d = static_cast<T>(d * u[i]);
      else if (reduction == "max")
        d = std::max(d, u[i]);
      else
        d = std::min(d, u[i]);
    }
    return Status::Ok();
  });
  return s.ok() ? s : ctx.Unsupported(s.message());
}

namespace {
std::optional<Dims> GatherShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank() || !ctx.in(1).has_rank()) return std::nullopt;
  const Dims &x = ctx.in(0).dims(), &idx = ctx.in(1).dims();
  int64_t axis = ctx.node.AttrInt("axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(x.size());
  if (axis < 0 || axis >= static_cast<int64_t>(x.size())) return std::nullopt;
  Dims out(x.begin(), x.begin() + axis);
  out.insert(out.end(), idx.begin(), idx.end());
  out.insert(out.end(), x.begin() + axis + 1, x.end());
  return out;
}

// GatherElements: the indices' shape; the Scatters: the data's.
std::optional<Dims> IndicesShape(InferContext& ctx) {
  if (!ctx.in(1).has_rank()) return std::nullopt;
  return ctx.in(1).dims();
}

constexpr OpDef kOps[] = {
    {"Gather", Gather, GatherShape, OpKind::kDataMovement},
    {"GatherElements", GatherElements, IndicesShape, OpKind::kDataMovement},
    {"Scatter", ScatterElements, SameShape},
    {"ScatterElements", ScatterElements, SameShape},
};

}  // namespace

std::span<const OpDef> GatherOps() { return kOps; }

}  // namespace supernova::ops

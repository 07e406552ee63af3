// GatherND and ScatterND: index tuples address slices of the data tensor.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// Element offsets (in data, relative to the start of the batch) of every index tuple in the
// last dim of `indices`, validated and with negative entries wrapped. `first_dim` is the data
// dim addressed by the first tuple entry.
Status TupleOffsets(const KernelContext& ctx, const Tensor& indices, const Shape& dshape,
                    int64_t first_dim, std::vector<int64_t>* out) {
  if (indices.dtype() != DataType::kInt64 && indices.dtype() != DataType::kInt32)
    return ctx.Error("indices must be int64 or int32, got " + DataTypeName(indices.dtype()));
  const int64_t k = indices.dim(indices.rank() - 1);
  const std::vector<int64_t> ds = Strides(dshape);
  const int64_t n = indices.numel() / k;  // callers guarantee k >= 1
  out->assign(static_cast<size_t>(n), 0);
  for (int64_t t = 0; t < n; ++t) {
    int64_t off = 0;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t i = t * k + j;
      int64_t v = indices.dtype() == DataType::kInt64 ? indices.data<int64_t>()[i]
                                                      : indices.data<int32_t>()[i];
      const int64_t dim = dshape[first_dim + j];
      if (v < -dim || v >= dim)
        return ctx.Error("index " + std::to_string(v) + " out of range [" + std::to_string(-dim) +
                         ", " + std::to_string(dim) + ") for data dim " +
                         std::to_string(first_dim + j));
      if (v < 0) v += dim;
      off += v * ds[first_dim + j];
    }
    (*out)[t] = off;
  }
  return Status::Ok();
}

}  // namespace

Status GatherND(KernelContext& ctx) {
  const Tensor* data = ctx.input(0);
  const Tensor* indices = ctx.input(1);
  if (!data || !indices) return ctx.Error("data and indices inputs are required");
  const int64_t r = static_cast<int64_t>(data->rank());
  const int64_t q = static_cast<int64_t>(indices->rank());
  const int64_t b = ctx.opset >= 12 ? ctx.node.AttrInt("batch_dims", 0) : 0;
  if (r < 1 || q < 1) return ctx.Error("data and indices must have rank >= 1");
  if (b < 0 || b >= std::min(r, q))
    return ctx.Error("batch_dims " + std::to_string(b) + " out of range");
  for (int64_t i = 0; i < b; ++i)
    if (data->dim(i) != indices->dim(i))
      return ctx.Error("batch dims of data " + ShapeToString(data->shape()) + " and indices " +
                       ShapeToString(indices->shape()) + " differ");
  const int64_t k = indices->dim(q - 1);
  if (k < 1 || k > r - b)
    return ctx.Error("last dim of indices (" + std::to_string(k) + ") must be in [1, " +
                     std::to_string(r - b) + "]");
  Shape out_shape(indices->shape().begin(), indices->shape().end() - 1);
  out_shape.insert(out_shape.end(), data->shape().begin() + b + k, data->shape().end());
  std::vector<int64_t> off;
  SN_RETURN_IF_ERROR(TupleOffsets(ctx, *indices, data->shape(), b, &off));
  int64_t batches = 1, slice = 1;
  for (int64_t i = 0; i < b; ++i) batches *= data->dim(i);
  for (int64_t i = b + k; i < r; ++i) slice *= data->dim(i);
  const int64_t batch_stride = batches > 0 ? data->numel() / batches : 0;
  const int64_t per_batch = batches > 0 ? static_cast<int64_t>(off.size()) / batches : 0;
  const size_t es = DataTypeSize(data->dtype());
  if (es == 0) return ctx.Unsupported("dtype " + DataTypeName(data->dtype()) + " not supported");
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, data->dtype(), out_shape, &y));
  const char* src = static_cast<const char*>(data->raw_data());
  char* dst = static_cast<char*>(y->raw_data());
  const int64_t slice_bytes = slice * static_cast<int64_t>(es);
  for (size_t t = 0; t < off.size(); ++t) {
    const int64_t batch = per_batch > 0 ? static_cast<int64_t>(t) / per_batch : 0;
    std::memcpy(dst + static_cast<int64_t>(t) * slice_bytes,
                src + (batch * batch_stride + off[t]) * static_cast<int64_t>(es),
                static_cast<size_t>(slice_bytes));
  }
  return Status::Ok();
}

Status ScatterND(KernelContext& ctx) {
  const Tensor* data = ctx.input(0);
  const Tensor* indices = ctx.input(1);
  const Tensor* updates = ctx.input(2);
  if (!data || !indices || !updates) return ctx.Error("data, indices and updates are required");
  const int64_t r = static_cast<int64_t>(data->rank());
  const int64_t q = static_cast<int64_t>(indices->rank());
  if (r < 1 || q < 1) return ctx.Error("data and indices must have rank >= 1");
  const int64_t k = indices->dim(q - 1);
  if (k < 1 || k > r)
    return ctx.Error("last dim of indices (" + std::to_string(k) + ") must be in [1, " +
                     std::to_string(r) + "]");
  Shape ushape(indices->shape().begin(), indices->shape().end() - 1);
  ushape.insert(ushape.end(), data->shape().begin() + k, data->shape().end());
  if (updates->shape() != ushape)
    return ctx.Error("updates shape " + ShapeToString(updates->shape()) + ", expected " +
                     ShapeToString(ushape));
  if (updates->dtype() != data->dtype())
    return ctx.Error("updates dtype " + DataTypeName(updates->dtype()) + " differs from data " +
                     DataTypeName(data->dtype()));
  const std::string reduction = ctx.node.AttrString("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul" && reduction != "max" &&
      reduction != "min")
    return ctx.Unsupported("reduction '" + reduction + "' not supported");
  std::vector<int64_t> off;
  SN_RETURN_IF_ERROR(TupleOffsets(ctx, *indices, data->shape(), 0, &off));
  int64_t slice = 1;
  for (int64_t i = k; i < r; ++i) slice *= data->dim(i);
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, data->dtype(), data->shape(), &y));
  if (data->nbytes() > 0) std::memcpy(y->raw_data(), data->raw_data(), data->nbytes());
  if (reduction == "none") {
    return DispatchBySize(data->dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* u = updates->data<T>();
      T* d = y->data<T>();
      for (size_t t = 0; t < off.size(); ++t)
        std::memcpy(d + off[t], u + static_cast<int64_t>(t) * slice,
                    static_cast<size_t>(slice) * sizeof(T));
      return Status::Ok();
    });
  }
  Status s = DispatchNumeric(data->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* u = updates->data<T>();
    T* d = y->data<T>();
    for (size_t t = 0; t < off.size(); ++t) {
      T* o = d + off[t];
      const T* v = u + static_cast<int64_t>(t) * slice;
      for (int64_t j = 0; j < slice; ++j) {
        if (reduction == "add")
          o[j] = static_cast<T>(o[j] + v[j]);
        else if (reduction == "mul")
          o[j] = static_cast<T>(o[j] * v[j]);
        else if (reduction == "max")
          o[j] = std::max(o[j], v[j]);
        else
          o[j] = std::min(o[j], v[j]);
      }
    }
    return Status::Ok();
  });
  return s.ok() ? s : ctx.Unsupported(s.message());
}

namespace {
constexpr OpDef kOps[] = {
    {"GatherND", GatherND, SameDtype, OpKind::kDataMovement},
    {"ScatterND", ScatterND, SameShape},
};

}  // namespace

std::span<const OpDef> GatherNDOps() { return kOps; }

}  // namespace supernova::ops

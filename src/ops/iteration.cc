#include "ops/iteration.h"

#include <cstring>

#include "ops/shape_helpers.h"

namespace supernova::ops {

Tensor SliceAlong(const KernelContext& ctx, const Tensor& x, size_t axis, int64_t index) {
  const std::vector<int64_t> strides = Strides(x.shape());
  Shape dims;
  std::vector<int64_t> src_strides;
  for (size_t k = 0; k < x.rank(); ++k)
    if (k != axis) {
      dims.push_back(x.dim(k));
      src_strides.push_back(strides[k]);
    }
  Tensor out(x.dtype(), dims, ctx.allocator());
  const size_t elem = DataTypeSize(x.dtype());
  const char* src = static_cast<const char*>(x.raw_data()) + index * strides[axis] * elem;
  if (out.numel() > 0) StridedCopy(elem, out.raw_data(), src, dims, src_strides, ctx.num_threads);
  return out;
}

Result<Tensor> Stack(const KernelContext& ctx, const std::vector<Tensor>& parts, int64_t axis,
                     bool reverse, const ir::ValueType* declared, const std::string& what) {
  Shape part_shape;
  DataType dtype = DataType::kUndefined;
  if (!parts.empty()) {
    part_shape = parts[0].shape();
    dtype = parts[0].dtype();
    for (size_t t = 1; t < parts.size(); ++t)
      if (parts[t].dtype() != dtype || parts[t].shape() != part_shape)
        return ctx.Error(what + ": iteration " + std::to_string(t) + " made " +
                         DataTypeName(parts[t].dtype()) + ShapeToString(parts[t].shape()) +
                         ", iteration 0 " + DataTypeName(dtype) + ShapeToString(part_shape) +
                         " (scan outputs must agree to be stacked)");
  } else {
    if (!declared || declared->dtype == DataType::kUndefined)
      return ctx.Error(what + ": no iteration ran and the body does not declare its type");
    dtype = declared->dtype;
    if (declared->HasStaticShape()) part_shape = declared->StaticShape();
  }
  if (DataTypeSize(dtype) == 0) return ctx.Unsupported(what + ": dtype " + DataTypeName(dtype));
  const int64_t rank = static_cast<int64_t>(part_shape.size());
  if (axis < -(rank + 1) || axis > rank)
    return ctx.Error(what + ": axis " + std::to_string(axis) + " out of range for rank " +
                     std::to_string(rank + 1));
  if (axis < 0) axis += rank + 1;
  const int64_t count = static_cast<int64_t>(parts.size());
  Shape out_shape = part_shape;
  out_shape.insert(out_shape.begin() + axis, count);
  const size_t elem = DataTypeSize(dtype);
  const size_t part_bytes = static_cast<size_t>(NumElements(part_shape)) * elem;
  auto place = [&](void* base) {
    for (int64_t t = 0; t < count; ++t) {
      const int64_t at = reverse ? count - 1 - t : t;
      if (part_bytes > 0)
        std::memcpy(static_cast<char*>(base) + at * part_bytes, parts[t].raw_data(), part_bytes);
    }
  };
  Tensor out(dtype, out_shape, ctx.allocator());
  if (axis == 0 || out.numel() == 0) {
    place(out.raw_data());
    return out;
  }
  // Stacked along axis 0 first, then that axis moved into place by one strided copy.
  Shape stacked_shape = part_shape;
  stacked_shape.insert(stacked_shape.begin(), count);
  Tensor stacked(dtype, stacked_shape, ctx.allocator());
  place(stacked.raw_data());
  const std::vector<int64_t> s = Strides(stacked_shape);
  std::vector<int64_t> src_strides(s.begin() + 1, s.end());
  src_strides.insert(src_strides.begin() + axis, s[0]);
  StridedCopy(elem, out.raw_data(), stacked.raw_data(), out_shape, src_strides, ctx.num_threads);
  return out;
}

}  // namespace supernova::ops

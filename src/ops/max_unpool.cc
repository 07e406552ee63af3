// MaxUnpool (opsets 9 and 11): scatters X back to where MaxPool took it from, zeros elsewhere.
//
// I holds MaxPool's indices: flat positions in the unpooled tensor [N, C, D1..Dn] whose
// spatial dims are (in - 1) * stride - pad_begin - pad_end + kernel. With the output_shape
// input the result is that shape instead; as in ONNX's reference (and its node test), the
// indices still address the computed shape, which lands in the leading corner of the larger
// output, the rest staying zero.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// The unpooled shape from X's shape and the window attributes; false when the attributes do
// not fit X's rank or give a negative dim.
bool UnpooledShape(const ir::Node& node, const std::vector<int64_t>& x, std::vector<int64_t>* out,
                   std::string* error) {
  const size_t spatial = x.size() - 2;
  const std::vector<int64_t> kernel = node.AttrInts("kernel_shape", {});
  const std::vector<int64_t> strides = node.AttrInts("strides", std::vector<int64_t>(spatial, 1));
  const std::vector<int64_t> pads = node.AttrInts("pads", std::vector<int64_t>(2 * spatial, 0));
  if (kernel.size() != spatial || strides.size() != spatial || pads.size() != 2 * spatial) {
    *error = "kernel_shape, strides and pads must have " + std::to_string(spatial) + ", " +
             std::to_string(spatial) + " and " + std::to_string(2 * spatial) + " values";
    return false;
  }
  *out = {x[0], x[1]};
  for (size_t d = 0; d < spatial; ++d) {
    DimMath v(x[d + 2]);
    v -= 1;
    v *= strides[d];
    v -= pads[d];
    v -= pads[d + spatial];
    v += kernel[d];
    if (!v.ok || v.v < 0 || kernel[d] <= 0 || strides[d] <= 0) {
      *error = "kernel_shape, strides and pads give no valid output size along spatial dim " +
               std::to_string(d);
      return false;
    }
    out->push_back(v.v);
  }
  return true;
}

Status MaxUnpool(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* indices = ctx.input(1);
  const Tensor* shape_in = ctx.input(2);
  if (!x || !indices) return ctx.Error("MaxUnpool needs X and I");
  if (x->rank() < 3)
    return ctx.Error("X must be (N, C, D1, ...), got " + ShapeToString(x->shape()));
  if (indices->dtype() != DataType::kInt64) return ctx.Error("I must be int64");
  if (indices->shape() != x->shape())
    return ctx.Error("I " + ShapeToString(indices->shape()) + " must have X's shape " +
                     ShapeToString(x->shape()));
  std::vector<int64_t> computed;
  std::string error;
  if (!UnpooledShape(ctx.node, x->shape(), &computed, &error)) return ctx.Error(error);
  Shape out_shape = computed;
  if (shape_in) {
    std::vector<int64_t> v;
    SN_RETURN_IF_ERROR(ReadInts(ctx, *shape_in, "output_shape", &v));
    bool fits = v.size() == computed.size();
    for (size_t d = 0; fits && d < v.size(); ++d) fits = v[d] >= computed[d];
    if (!fits)
      return ctx.Error("output_shape " + ShapeToString(v) + " must have rank " +
                       std::to_string(computed.size()) + " and hold the unpooled shape " +
                       ShapeToString(computed));
    out_shape = v;
  }
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), out_shape, &y));
  std::memset(y->raw_data(), 0, y->nbytes());
  const int64_t total = NumElements(computed);
  const bool same = out_shape == computed;
  const std::vector<int64_t> out_strides = Strides(out_shape);
  const int64_t* ip = indices->data<int64_t>();
  return DispatchBySize(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x->data<T>();
    T* yp = y->data<T>();
    // In order, so that of two elements sent to one place the later wins, as in the reference.
    for (int64_t e = 0; e < x->numel(); ++e) {
      int64_t i = ip[e];
      if (i < 0 || i >= total)
        return ctx.Error("index " + std::to_string(i) + " out of range for the unpooled shape " +
                         ShapeToString(computed));
      if (!same) {
        int64_t off = 0;
        for (size_t d = computed.size(); d-- > 0;) {
          off += (i % computed[d]) * out_strides[d];
          i /= computed[d];
        }
        i = off;
      }
      yp[i] = xp[e];
    }
    return Status::Ok();
  });
}

std::optional<Dims> InferMaxUnpool(InferContext& ctx) {
  if (ctx.inputs.size() > 2 && ctx.in(2).type) {
    const auto v = ConstInts(ctx.in(2));
    if (!v) return std::nullopt;
    Dims out;
    for (int64_t d : *v) out.push_back(DimMath(d).dim());
    return out;
  }
  const InferInput& x = ctx.in(0);
  if (!x.has_rank() || x.dims().size() < 3) return std::nullopt;
  std::vector<int64_t> known;
  for (const ir::Dim& d : x.dims()) known.push_back(d.known() ? d.value : 1);
  std::vector<int64_t> computed;
  std::string error;
  if (!UnpooledShape(ctx.node, known, &computed, &error)) return std::nullopt;
  Dims out;
  for (size_t d = 0; d < computed.size(); ++d)
    out.push_back(x.dims()[d].known() ? ir::Dim::Known(computed[d])
                                      : (d < 2 ? x.dims()[d] : ir::Dim{}));
  return out;
}

constexpr OpDef kOps[] = {
    {"MaxUnpool", MaxUnpool, InferMaxUnpool},
};

}  // namespace

std::span<const OpDef> MaxUnpoolOps() { return kOps; }

}  // namespace supernova::ops

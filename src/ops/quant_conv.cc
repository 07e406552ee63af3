// ConvInteger (opset 10) and QLinearConv (opsets 10-21): N-d grouped convolution of
// int8/uint8 tensors with their zero points subtracted, accumulated exactly in int32 (summed
// in int64, wrapped to 32 bits as the spec allows), then, for QLinearConv, the int32 bias
// added and the sum requantized to y's scale and zero point.
//
// x's zero point is one value; w's is one value or one per output channel, and so is
// QLinearConv's w_scale. Padding reads as x's zero point, i.e. 0 once it is subtracted.
// A direct loop, simple and exact; speed is the business of providers' int8 kernels.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/quant.h"
#include "ops/spatial.h"

namespace supernova::ops {
namespace {

struct IntConv {
  WindowGeometry g;
  int64_t batch = 0, c_in = 0, m_out = 0, group = 1;
  Shape y_shape;
  std::vector<int32_t> x, w;  // centred operands
};

// Checks X (input x_in), W (input w_in) and their zero points and the window attributes;
// fills `conv` with the geometry and the centred operands.
Status PrepareConv(const KernelContext& ctx, size_t x_in, size_t x_zp, size_t w_in, size_t w_zp,
                   IntConv* conv) {
  const Tensor* x = ctx.input(x_in);
  const Tensor* w = ctx.input(w_in);
  if (!x || !w) return ctx.Error(ctx.node.op_type + " needs inputs x and w");
  if (!IsInt8Type(x->dtype()) || !IsInt8Type(w->dtype()))
    return ctx.Unsupported("x " + DataTypeName(x->dtype()) + " and w " + DataTypeName(w->dtype()) +
                           " not supported (int8 or uint8)");
  if (x->rank() < 3 || x->rank() > 8)
    return ctx.Error("x must have rank 3 to 8 (N, C, spatial...), got " +
                     ShapeToString(x->shape()));
  if (w->rank() != x->rank())
    return ctx.Error("w " + ShapeToString(w->shape()) + " and x " + ShapeToString(x->shape()) +
                     " differ in rank");
  const int64_t c_in = x->dim(1), m_out = w->dim(0);
  const int64_t group = ctx.node.AttrInt("group", 1);
  if (group <= 0 || group > std::max<int64_t>(c_in, 1) || c_in % group != 0)
    return ctx.Error("group " + std::to_string(group) + " does not divide " + std::to_string(c_in) +
                     " input channels");
  if (w->dim(1) != c_in / group || m_out % group != 0)
    return ctx.Error("w " + ShapeToString(w->shape()) + " with group " + std::to_string(group) +
                     " does not fit " + std::to_string(c_in) + " input channels");
  std::vector<int64_t> kernel(w->shape().begin() + 2, w->shape().end());
  if (ctx.node.HasAttr("kernel_shape") && ctx.node.AttrInts("kernel_shape") != kernel)
    return ctx.Error("kernel_shape attribute does not match w " + ShapeToString(w->shape()));
  std::vector<int64_t> in_dims(x->shape().begin() + 2, x->shape().end());
  SN_RETURN_IF_ERROR(ResolveWindow(ctx, in_dims, kernel, false, &conv->g));

  const Tensor* xz = ctx.input(x_zp);
  const Tensor* wz = ctx.input(w_zp);
  if ((xz && xz->dtype() != x->dtype()) || (wz && wz->dtype() != w->dtype()))
    return ctx.Error("zero points must have the dtypes of x and w");
  double xzv;
  SN_RETURN_IF_ERROR(SingleValue(ctx, xz, 0, "x_zero_point", &xzv));
  std::vector<double> wzv;
  SN_RETURN_IF_ERROR(PerChannel(ctx, wz, m_out, 0, "w_zero_point", &wzv));
  const int32_t xzi = static_cast<int32_t>(xzv);
  const size_t per_m = static_cast<size_t>(w->numel() / std::max<int64_t>(m_out, 1));
  conv->x = Centered(*x, [&](size_t) { return xzi; });
  conv->w = Centered(*w, [&](size_t i) { return static_cast<int32_t>(wzv[i / per_m]); });
  conv->batch = x->dim(0);
  conv->c_in = c_in;
  conv->m_out = m_out;
  conv->group = group;
  conv->y_shape = {conv->batch, m_out};
  for (int64_t o : conv->g.out) conv->y_shape.push_back(o);
  return Status::Ok();
}

// acc[n][m][...] = sum over the group's channels and the window of x * w (centred).
void Accumulate(const IntConv& cv, int32_t* acc, int threads) {
  const WindowGeometry& g = cv.g;
  const size_t d = g.rank();
  const int64_t cg = cv.c_in / cv.group, mg = cv.m_out / cv.group;
  const int64_t kprod = Product(g.kernel), in_size = Product(g.in), out_size = Product(g.out);
  // Each window tap's offset along every axis.
  std::vector<int64_t> tap(static_cast<size_t>(kprod) * d);
  for (int64_t t = 0; t < kprod; ++t) {
    int64_t rem = t;
    for (size_t j = d; j-- > 0;) {
      tap[static_cast<size_t>(t) * d + j] = (rem % g.kernel[j]) * g.dilations[j];
      rem /= g.kernel[j];
    }
  }
  const int64_t planes = cv.batch * cv.m_out;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1 && planes > 1)
  for (int64_t p = 0; p < planes; ++p) {
    const int64_t n = p / cv.m_out, m = p % cv.m_out, grp = m / mg;
    const int32_t* xg = cv.x.data() + (n * cv.c_in + grp * cg) * in_size;
    const int32_t* wm = cv.w.data() + m * cg * kprod;
    int32_t* y = acc + p * out_size;
    std::vector<int64_t> o(d, 0);
    for (int64_t op = 0; op < out_size; ++op) {
      int64_t sum = 0;
      for (int64_t t = 0; t < kprod; ++t) {
        int64_t off = 0;
        bool inside = true;
        for (size_t j = 0; j < d && inside; ++j) {
          const int64_t i =
              o[j] * g.strides[j] - g.pad_begin[j] + tap[static_cast<size_t>(t) * d + j];
          inside = i >= 0 && i < g.in[j];
          off = off * g.in[j] + i;
        }
        if (!inside) continue;
        for (int64_t c = 0; c < cg; ++c) sum += int64_t{xg[c * in_size + off]} * wm[c * kprod + t];
      }
      y[op] = static_cast<int32_t>(sum);
      for (size_t j = d; j-- > 0;) {
        if (++o[j] < g.out[j]) break;
        o[j] = 0;
      }
    }
  }
}

}  // namespace

Status ConvInteger(KernelContext& ctx) {
  IntConv cv;
  SN_RETURN_IF_ERROR(PrepareConv(ctx, 0, 2, 1, 3, &cv));
  Tensor& y = ctx.Output(0, DataType::kInt32, cv.y_shape);
  if (y.numel() > 0) Accumulate(cv, y.data<int32_t>(), std::max(1, ctx.num_threads));
  return Status::Ok();
}

Status QLinearConv(KernelContext& ctx) {
  // Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
  const Tensor* bias = ctx.input(8);
  if (!ctx.input(0) || !ctx.input(1) || !ctx.input(3) || !ctx.input(4) || !ctx.input(6))
    return ctx.Error("QLinearConv needs x, x_scale, w, w_scale and y_scale");
  IntConv cv;
  SN_RETURN_IF_ERROR(PrepareConv(ctx, 0, 2, 3, 5, &cv));
  if (bias && (bias->dtype() != DataType::kInt32 || bias->rank() != 1 || bias->dim(0) != cv.m_out))
    return ctx.Error("B must be int32 of shape [" + std::to_string(cv.m_out) + "], got " +
                     DataTypeName(bias->dtype()) + ShapeToString(bias->shape()));
  std::vector<int32_t> acc(static_cast<size_t>(NumElements(cv.y_shape)));
  if (!acc.empty()) Accumulate(cv, acc.data(), std::max(1, ctx.num_threads));
  double x_scale;
  std::vector<double> w_scale;
  SN_RETURN_IF_ERROR(SingleValue(ctx, ctx.input(1), 1, "x_scale", &x_scale));
  SN_RETURN_IF_ERROR(PerChannel(ctx, ctx.input(4), cv.m_out, 1, "w_scale", &w_scale));
  const int64_t plane = Product(cv.g.out), m_out = cv.m_out;
  return WriteRequantized(
      ctx, {x_scale}, w_scale, acc, cv.y_shape,
      [=](size_t i) {
        return ScaleIndex{0, static_cast<size_t>(static_cast<int64_t>(i) / plane % m_out)};
      },
      bias ? bias->data<int32_t>() : nullptr);
}

namespace {

std::optional<Dims> ConvIntegerShape(InferContext& ctx) {
  ctx.dtype = DataType::kInt32;
  return WindowShape(ctx, true);
}

std::optional<Dims> QLinearConvShape(InferContext& ctx) {
  ctx.dtype = ctx.in(7).type ? ctx.in(7).type->dtype : ctx.dtype;
  // WindowShape reads x and w as inputs 0 and 1.
  const std::vector<InferInput> xw = {ctx.in(0), ctx.in(3)};
  InferContext sub{ctx.node, xw, ctx.opset, ctx.dtype};
  return WindowShape(sub, true);
}

constexpr OpDef kOps[] = {
    {"ConvInteger", ConvInteger, ConvIntegerShape},
    {"QLinearConv", QLinearConv, QLinearConvShape},
};

}  // namespace

std::span<const OpDef> QuantConvOps() { return kOps; }

}  // namespace supernova::ops

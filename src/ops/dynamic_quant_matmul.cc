// DynamicQuantMatMul (com.supernova): the dynamic int8 product of ONNX's standard pattern, fused
// by the optimizer (fuse_dynamic_quant_matmul.cc) so that a provider can run it as one integer
// product:
//
//   DynamicQuantizeLinear(x) -> (q, s, z); MatMulInteger(q, W, z) -> Cast to float
//     -> Mul(s * w_scale) [-> Add bias]
//
// Inputs: x (float, [..., K]), W (int8 [K, N], zero point 0), w_scale (float, one value or N),
// bias (optional float, one value or N). y[..., j] = float(sum_k (q[..., k] - z) * W[k, j]) *
// (s * w_scale[j]) + bias[j]: the same float operations, in the same order, as the pattern.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "ops/broadcast.h"
#include "ops/matmul_plan.h"
#include "ops/op.h"
#include "ops/quant.h"

namespace supernova::ops {
namespace {

// One value, or one per column of N: the float values.
Status Columns(const KernelContext& ctx, const Tensor* t, int64_t n, const char* what,
               std::vector<float>* out) {
  if (!t) return Status::Ok();
  if (t->dtype() != DataType::kFloat32 || (t->numel() != 1 && t->numel() != n))
    return ctx.Error(std::string(what) + " must be float32 with 1 or " + std::to_string(n) +
                     " values, got " + DataTypeName(t->dtype()) + ShapeToString(t->shape()));
  out->resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j)
    (*out)[static_cast<size_t>(j)] = t->data<float>()[t->numel() == 1 ? 0 : j];
  return Status::Ok();
}

Status DynamicQuantMatMul(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* w = ctx.input(1);
  if (!x || !w || !ctx.input(2)) return ctx.Error("needs x, W and w_scale");
  if (x->dtype() != DataType::kFloat32 || x->rank() < 1)
    return ctx.Unsupported("x must be float32 of rank >= 1");
  if (w->dtype() != DataType::kInt8 || w->rank() != 2 || w->dim(0) != x->shape().back())
    return ctx.Error("W must be int8 [K, N] with K = " + std::to_string(x->shape().back()) +
                     ", got " + DataTypeName(w->dtype()) + ShapeToString(w->shape()));
  const int64_t k = w->dim(0), n = w->dim(1), rows = k ? x->numel() / k : 0;
  std::vector<float> scales, bias;
  SN_RETURN_IF_ERROR(Columns(ctx, ctx.input(2), n, "w_scale", &scales));
  SN_RETURN_IF_ERROR(Columns(ctx, ctx.input(3), n, "bias", &bias));
  std::vector<uint8_t> q(static_cast<size_t>(x->numel()));
  const DynamicQuant p = DynamicQuantize(x->data<float>(), x->numel(), q.data(), ctx.num_threads);
  for (float& s : scales) s = p.scale * s;
  Shape out = x->shape();
  out.back() = n;
  Tensor& y = ctx.Output(0, DataType::kFloat32, out);
  const int8_t* pw = w->data<int8_t>();
  float* py = y.data<float>();
  ParallelBlocks(rows, ctx.num_threads, [&](int64_t b, int64_t e) {
    std::vector<int32_t> acc(static_cast<size_t>(n));
    for (int64_t r = b; r < e; ++r) {
      std::fill(acc.begin(), acc.end(), 0);
      for (int64_t i = 0; i < k; ++i) {
        const int32_t a = static_cast<int32_t>(q[static_cast<size_t>(r * k + i)]) - p.zero;
        const int8_t* wr = pw + i * n;
        for (int64_t j = 0; j < n; ++j) acc[static_cast<size_t>(j)] += a * wr[j];
      }
      for (int64_t j = 0; j < n; ++j) {
        const size_t c = static_cast<size_t>(j);
        const float v = static_cast<float>(acc[c]) * scales[c];
        py[r * n + j] = bias.empty() ? v : v + bias[c];
      }
    }
  });
  return Status::Ok();
}

std::optional<Dims> DynamicQuantMatMulShape(InferContext& ctx) {
  ctx.dtype = DataType::kFloat32;
  return MatMulDims(ctx.in(0), ctx.in(1));
}

constexpr OpDef kOps[] = {
    {"DynamicQuantMatMul", DynamicQuantMatMul, DynamicQuantMatMulShape, OpKind::kCompute,
     ActivationKind::kNone, "com.supernova"},
};

}  // namespace

std::span<const OpDef> DynamicQuantMatMulOps() { return kOps; }

}  // namespace supernova::ops

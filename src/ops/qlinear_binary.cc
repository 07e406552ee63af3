// QLinearAdd and QLinearMul (domain com.microsoft, version 1): the element-wise Add and Mul of
// ONNX Runtime's QOperator form, C = quantize(dequantize(A) op dequantize(B)) with numpy
// broadcasting. Inputs: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
// C_zero_point; each scale is one float, each zero point one value of A's type (omitted: 0).
// A, B and C are all uint8 or all int8.
//
// The arithmetic is DequantizeLinear's, the float op's and QuantizeLinear's in turn (float
// values, the quotient by C_scale in float, rounded half to even, the zero point added, then
// saturated), so the QDQ form the optimizer expands these nodes into
// (optimizer/expand_qoperators.cc) computes the same integers.
#include <cstdint>
#include <string>
#include <vector>

#include "ops/broadcast.h"
#include "ops/infer.h"
#include "ops/op.h"
#include "ops/quant.h"

namespace supernova::ops {
namespace {

struct ScalarQuant {
  float scale = 1.f;
  float zero = 0.f;
};

Status ReadQuant(const KernelContext& ctx, size_t scale_slot, DataType type, const char* name,
                 ScalarQuant* q) {
  const Tensor* s = ctx.input(scale_slot);
  if (!s || s->dtype() != DataType::kFloat32 || s->numel() != 1)
    return ctx.Error(std::string(name) + "_scale must be one float");
  q->scale = s->data<float>()[0];
  const Tensor* z = ctx.input(scale_slot + 1);
  if (!z) return Status::Ok();
  if (z->dtype() != type || z->numel() != 1)
    return ctx.Error(std::string(name) + "_zero_point must be one value of A's type");
  q->zero = static_cast<float>(z->GetAsDouble(0));
  return Status::Ok();
}

template <typename T, typename Op>
void Compute(const BroadcastPlan& plan, const Tensor& a, const Tensor& b, Tensor* c,
             const ScalarQuant& qa, const ScalarQuant& qb, const ScalarQuant& qc, int threads,
             Op op) {
  BinaryBroadcastLoop(plan, a.data<T>(), b.data<T>(), c->data<T>(), threads, [&](T x, T y) {
    const float real = op((static_cast<float>(x) - qa.zero) * qa.scale,
                          (static_cast<float>(y) - qb.zero) * qb.scale);
    return SaturateTo<T>(RoundHalfEven(static_cast<double>(real / qc.scale)) + qc.zero);
  });
}

template <typename Op>
Status QLinearBinary(KernelContext& ctx, Op op) {
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(3);
  if (!a || !b) return ctx.Error("needs A and B");
  const DataType type = a->dtype();
  if ((type != DataType::kUint8 && type != DataType::kInt8) || b->dtype() != type)
    return ctx.Error("A and B must both be uint8 or both int8");
  ScalarQuant qa, qb, qc;
  SN_RETURN_IF_ERROR(ReadQuant(ctx, 1, type, "A", &qa));
  SN_RETURN_IF_ERROR(ReadQuant(ctx, 4, type, "B", &qb));
  SN_RETURN_IF_ERROR(ReadQuant(ctx, 6, type, "C", &qc));
  Result<Shape> shape = BroadcastShapes({a->shape(), b->shape()});
  if (!shape.ok()) return ctx.Error(shape.status().message());
  const BroadcastPlan plan = MakeBroadcastPlan(*shape, {a->shape(), b->shape()});
  Tensor& c = ctx.Output(0, type, *shape);
  if (type == DataType::kUint8)
    Compute<uint8_t>(plan, *a, *b, &c, qa, qb, qc, ctx.num_threads, op);
  else
    Compute<int8_t>(plan, *a, *b, &c, qa, qb, qc, ctx.num_threads, op);
  return Status::Ok();
}

Status QLinearAdd(KernelContext& ctx) {
  return QLinearBinary(ctx, [](float x, float y) { return x + y; });
}

Status QLinearMul(KernelContext& ctx) {
  return QLinearBinary(ctx, [](float x, float y) { return x * y; });
}

// Broadcast of A (input 0) and B (input 3); A's type.
std::optional<Dims> QLinearBinaryShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank() || !ctx.in(3).has_rank()) return std::nullopt;
  return BroadcastDims({&ctx.in(0).dims(), &ctx.in(3).dims()});
}

constexpr OpDef kOps[] = {
    {"QLinearAdd", QLinearAdd, QLinearBinaryShape, OpKind::kCompute, ActivationKind::kNone,
     "com.microsoft"},
    {"QLinearMul", QLinearMul, QLinearBinaryShape, OpKind::kCompute, ActivationKind::kNone,
     "com.microsoft"},
};

}  // namespace

std::span<const OpDef> QLinearBinaryOps() { return kOps; }

}  // namespace supernova::ops

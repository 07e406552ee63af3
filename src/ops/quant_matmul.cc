// MatMulInteger (opset 10) and QLinearMatMul (opsets 10-21): numpy matmul of int8/uint8
// matrices with their zero points subtracted, accumulated exactly (the spec lets only the
// 32-bit accumulator wrap), then, for QLinearMatMul, requantized to y's scale and zero point.
//
// A's zero point is one value or one per row of A (a vector of M, or A's shape with K set to
// 1); B's is one value or one per column (a vector of N, or B's shape with K set to 1).
// QLinearMatMul's a_scale and y_scale are single values, b_scale one value or one per column.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/matmul_plan.h"
#include "ops/op.h"
#include "ops/quant.h"

namespace supernova::ops {
namespace {

// Checks `zp` against `x`'s shape and copies x as int32 with it subtracted. `along_rows`: one
// zero point per row (A: a vector of M, or x's shape with the last dim 1); else per column (B:
// a vector of N, or x's shape with the second-to-last dim 1).
Status CenterOperand(const KernelContext& ctx, const Tensor& x, const Tensor* zp, bool along_rows,
                     const char* what, std::vector<int32_t>* out) {
  if (!IsInt8Type(x.dtype()))
    return ctx.Unsupported(std::string(what) + " of dtype " + DataTypeName(x.dtype()) +
                           " not supported (int8 or uint8)");
  if (zp && zp->dtype() != x.dtype())
    return ctx.Error(std::string(what) + "'s zero point has dtype " + DataTypeName(zp->dtype()) +
                     ", not " + DataTypeName(x.dtype()));
  if (!zp || zp->numel() == 0) {
    if (zp) return ctx.Error(std::string(what) + "'s zero point is empty");
    *out = Centered(x, [](size_t) { return 0; });
    return Status::Ok();
  }
  std::vector<int32_t> z(static_cast<size_t>(zp->numel()));
  for (size_t i = 0; i < z.size(); ++i) z[i] = static_cast<int32_t>(zp->GetAsInt64(int64_t(i)));
  if (z.size() == 1 && zp->rank() <= 1) {
    *out = Centered(x, [&](size_t) { return z[0]; });
    return Status::Ok();
  }
  const Shape& s = x.shape();
  const size_t r = s.size();
  // Promoted 1-D operands have a single row (A) or column (B): only a scalar zero point fits.
  const int64_t rows = r >= 2 ? s[r - 2] : 1, cols = s[r - 1];
  Shape full = s;
  if (r >= 2) full[along_rows ? r - 1 : r - 2] = 1;
  const bool vec = zp->rank() == 1 && r >= 2 && zp->dim(0) == (along_rows ? rows : cols);
  if (!vec && (r < 2 || zp->shape() != full))
    return ctx.Error(std::string(what) + "'s zero point " + ShapeToString(zp->shape()) +
                     " fits neither one value nor one per " + (along_rows ? "row" : "column") +
                     " of " + ShapeToString(s));
  if (along_rows) {
    // Flat index / cols is the row over all batches; a vector repeats every matrix.
    *out = Centered(x, [&](size_t i) {
      const int64_t row = static_cast<int64_t>(i) / cols;
      return z[static_cast<size_t>(vec ? row % rows : row)];
    });
  } else {
    *out = Centered(x, [&](size_t i) {
      const int64_t col = static_cast<int64_t>(i) % cols;
      const int64_t mat = static_cast<int64_t>(i) / (rows * cols);
      return z[static_cast<size_t>(vec ? col : mat * cols + col)];
    });
  }
  return Status::Ok();
}

// acc = (A - a_zp) x (B - b_zp) for every batch of `plan`, as int32 (summed in int64, then
// wrapped to 32 bits as the spec allows).
void IntegerProduct(const MatMulPlan& plan, const std::vector<int32_t>& a,
                    const std::vector<int32_t>& b, int32_t* acc, int threads) {
  const int64_t m = plan.m, n = plan.n, k = plan.k;
  const int64_t rows = plan.batches() * m;
  const bool parallel = threads > 1 && rows > 1 && rows * n * k >= 65536;
#pragma omp parallel num_threads(threads) if (parallel)
  {
    std::vector<int64_t> sum(static_cast<size_t>(n));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t t = r / m, i = r % m;
      const int32_t* ar = a.data() + plan.a_off[static_cast<size_t>(t)] + i * k;
      const int32_t* bt = b.data() + plan.b_off[static_cast<size_t>(t)];
      std::fill(sum.begin(), sum.end(), 0);
      for (int64_t p = 0; p < k; ++p) {
        const int64_t av = ar[p];
        const int32_t* bp = bt + p * n;
        for (int64_t j = 0; j < n; ++j) sum[static_cast<size_t>(j)] += av * bp[j];
      }
      int32_t* c = acc + r * n;
      for (int64_t j = 0; j < n; ++j) c[j] = static_cast<int32_t>(sum[static_cast<size_t>(j)]);
    }
  }
}

// Plans the product of inputs a_in and b_in with their zero points and computes it.
Status Accumulate(const KernelContext& ctx, size_t a_in, size_t a_zp, size_t b_in, size_t b_zp,
                  MatMulPlan* plan, std::vector<int32_t>* acc) {
  const Tensor* a = ctx.input(a_in);
  const Tensor* b = ctx.input(b_in);
  if (!a || !b) return ctx.Error("missing input A or B");
  SN_RETURN_IF_ERROR(PlanMatMul(ctx, a->shape(), b->shape(), plan));
  std::vector<int32_t> ac, bc;
  SN_RETURN_IF_ERROR(CenterOperand(ctx, *a, ctx.input(a_zp), true, "A", &ac));
  SN_RETURN_IF_ERROR(CenterOperand(ctx, *b, ctx.input(b_zp), false, "B", &bc));
  acc->resize(static_cast<size_t>(NumElements(plan->y_shape)));
  if (!acc->empty()) IntegerProduct(*plan, ac, bc, acc->data(), std::max(1, ctx.num_threads));
  return Status::Ok();
}

}  // namespace

Status MatMulInteger(KernelContext& ctx) {
  MatMulPlan plan;
  std::vector<int32_t> acc;
  SN_RETURN_IF_ERROR(Accumulate(ctx, 0, 2, 1, 3, &plan, &acc));
  Tensor& y = ctx.Output(0, DataType::kInt32, plan.y_shape);
  std::copy(acc.begin(), acc.end(), y.data<int32_t>());
  return Status::Ok();
}

Status QLinearMatMul(KernelContext& ctx) {
  // Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
  if (!ctx.input(0) || !ctx.input(1) || !ctx.input(3) || !ctx.input(4) || !ctx.input(6))
    return ctx.Error("QLinearMatMul needs a, a_scale, b, b_scale and y_scale");
  MatMulPlan plan;
  std::vector<int32_t> acc;
  SN_RETURN_IF_ERROR(Accumulate(ctx, 0, 2, 3, 5, &plan, &acc));
  // b_scale is one value or one per column.
  const size_t n = static_cast<size_t>(plan.n);
  return WriteRequantized(ctx, plan.n, acc, plan.y_shape, [n](size_t i) { return i % n; });
}

namespace {

std::optional<Dims> MatMulIntegerShape(InferContext& ctx) {
  ctx.dtype = DataType::kInt32;
  return MatMulDims(ctx.in(0), ctx.in(1));
}

std::optional<Dims> QLinearMatMulShape(InferContext& ctx) {
  if (ctx.in(7).type) ctx.dtype = ctx.in(7).type->dtype;
  return MatMulDims(ctx.in(0), ctx.in(3));
}

constexpr OpDef kOps[] = {
    {"MatMulInteger", MatMulInteger, MatMulIntegerShape},
    {"QLinearMatMul", QLinearMatMul, QLinearMatMulShape},
};

}  // namespace

std::span<const OpDef> QuantMatMulOps() { return kOps; }

}  // namespace supernova::ops

// MatMulInteger (opset 10) and QLinearMatMul (opsets 10-21): numpy matmul of int8/uint8
// matrices with their zero points subtracted, accumulated exactly (the spec lets only the
// 32-bit accumulator wrap), then, for QLinearMatMul, requantized to y's scale and zero point.
//
// A's zero point and scale are one value or one per row of A (a vector of M, or A's shape with
// K set to 1); B's are one value or one per column (a vector of N, or B's shape with K set to
// 1).
#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "ops/matmul_plan.h"
#include "ops/op.h"
#include "ops/quant.h"

namespace supernova::ops {
namespace {

// A zero point or scale of A (per row) or B (per column): how it maps onto the operand, and
// its values (one `fallback` value when the input is omitted).
struct Param {
  enum class Per { kTensor, kVector, kFull } per = Per::kTensor;
  std::vector<double> v;
};

Status ReadParam(const KernelContext& ctx, const Shape& s, const Tensor* p, bool along_rows,
                 double fallback, const char* what, Param* out) {
  out->per = Param::Per::kTensor;
  out->v.assign(1, fallback);
  if (!p) return Status::Ok();
  if (p->numel() == 0) return ctx.Error(std::string(what) + " is empty");
  out->v.resize(static_cast<size_t>(p->numel()));
  for (size_t i = 0; i < out->v.size(); ++i) out->v[i] = p->GetAsDouble(static_cast<int64_t>(i));
  if (p->numel() == 1 && p->rank() <= 1) return Status::Ok();
  // Promoted 1-D operands have a single row (A) or column (B): only one value fits.
  const size_t r = s.size();
  if (r >= 2) {
    Shape full = s;
    full[along_rows ? r - 1 : r - 2] = 1;
    if (p->rank() == 1 && p->dim(0) == s[along_rows ? r - 2 : r - 1]) {
      out->per = Param::Per::kVector;
      return Status::Ok();
    }
    if (p->shape() == full) {
      out->per = Param::Per::kFull;
      return Status::Ok();
    }
  }
  return ctx.Error(std::string(what) + " " + ShapeToString(p->shape()) +
                   " fits neither one value nor one per " + (along_rows ? "row" : "column") +
                   " of " + ShapeToString(s));
}

// The entry of A's parameter for row `row` of A's batch that starts at row `row0` (A's flat
// row index, over all batches, is row0 + row).
size_t RowEntry(const Param& p, int64_t row0, int64_t row) {
  if (p.per == Param::Per::kTensor) return 0;
  return static_cast<size_t>(p.per == Param::Per::kVector ? row : row0 + row);
}
// The entry of B's parameter for column `col` of B's batch `batch`, with n columns.
size_t ColEntry(const Param& p, int64_t batch, int64_t col, int64_t n) {
  if (p.per == Param::Per::kTensor) return 0;
  return static_cast<size_t>(p.per == Param::Per::kVector ? col : batch * n + col);
}

// x as int32 with its zero point subtracted.
std::vector<int32_t> Center(const Tensor& x, const Param& zp, bool along_rows) {
  const Shape& s = x.shape();
  const int64_t rows = s.size() >= 2 ? s[s.size() - 2] : 1, cols = s.back();
  return Centered(x, [&](size_t i) {
    const int64_t e = static_cast<int64_t>(i);
    const size_t k =
        along_rows ? RowEntry(zp, 0, zp.per == Param::Per::kVector ? e / cols % rows : e / cols)
                   : ColEntry(zp, e / (rows * cols), e % cols, cols);
    return static_cast<int32_t>(zp.v[k]);
  });
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
  for (const auto& [x, zp, what] :
       {std::tuple{a, ctx.input(a_zp), "A"}, std::tuple{b, ctx.input(b_zp), "B"}}) {
    if (!IsInt8Type(x->dtype()))
      return ctx.Unsupported(std::string(what) + " of dtype " + DataTypeName(x->dtype()) +
                             " not supported (int8 or uint8)");
    if (zp && zp->dtype() != x->dtype())
      return ctx.Error(std::string(what) + "'s zero point has dtype " + DataTypeName(zp->dtype()) +
                       ", not " + DataTypeName(x->dtype()));
  }
  Param az, bz;
  SN_RETURN_IF_ERROR(ReadParam(ctx, a->shape(), ctx.input(a_zp), true, 0, "A's zero point", &az));
  SN_RETURN_IF_ERROR(ReadParam(ctx, b->shape(), ctx.input(b_zp), false, 0, "B's zero point", &bz));
  acc->resize(static_cast<size_t>(NumElements(plan->y_shape)));
  if (!acc->empty())
    IntegerProduct(*plan, Center(*a, az, true), Center(*b, bz, false), acc->data(),
                   std::max(1, ctx.num_threads));
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
  Param as, bs;
  SN_RETURN_IF_ERROR(ReadParam(ctx, ctx.input(0)->shape(), ctx.input(1), true, 1, "a_scale", &as));
  SN_RETURN_IF_ERROR(ReadParam(ctx, ctx.input(3)->shape(), ctx.input(4), false, 1, "b_scale", &bs));
  const int64_t m = plan.m, n = plan.n, k = plan.k;
  return WriteRequantized(ctx, as.v, bs.v, acc, plan.y_shape, [&](size_t i) {
    const int64_t e = static_cast<int64_t>(i);
    const int64_t t = e / (m * n), row = e / n % m, col = e % n;
    // Where batch t's matrices start, in rows of A and in matrices of B (a scale with a
    // zero-sized K indexes nothing: the accumulator is 0 there anyway).
    const size_t tt = static_cast<size_t>(t);
    const int64_t a_row0 = k ? plan.a_off[tt] / k : 0;
    const int64_t b_batch = k != 0 && n != 0 ? plan.b_off[tt] / (k * n) : 0;
    return ScaleIndex{RowEntry(as, a_row0, row), ColEntry(bs, b_batch, col, n)};
  });
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

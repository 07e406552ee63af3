// MatMul (opsets 1-17): numpy matmul with broadcast batch dims and 1-D operands.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "ops/dense_gemm.h"
#include "ops/dispatch.h"
#include "ops/matmul_plan.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

// Integer products have no blocked kernel; a row-times-matrix loop keeps the inner loop
// unit-stride.
template <typename T>
void NaiveMatMul(int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c) {
  for (int64_t i = 0; i < m; ++i) {
    T* ci = c + i * n;
    std::fill(ci, ci + n, T(0));
    for (int64_t p = 0; p < k; ++p) {
      const T av = a[i * k + p];
      const T* bp = b + p * n;
      for (int64_t j = 0; j < n; ++j) ci[j] += av * bp[j];
    }
  }
}

}  // namespace

Status PlanMatMul(const KernelContext& ctx, const Shape& a, const Shape& b, MatMulPlan* plan) {
  if (a.empty() || b.empty()) return ctx.Error("operands must not be scalars");
  // Promote 1-D operands to matrices; the added dim is dropped from the result.
  Shape as = a, bs = b;
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  if (a_vec) as.insert(as.begin(), 1);
  if (b_vec) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back();
  const int64_t n = bs.back();
  if (bs[bs.size() - 2] != k)
    return ctx.Error("inner dims differ: " + ShapeToString(a) + " x " + ShapeToString(b));
  // Broadcast the batch dims, right-aligned.
  const size_t ab = as.size() - 2, bb = bs.size() - 2;
  const size_t rb = std::max(ab, bb);
  Shape batch(rb, 1);
  std::vector<int64_t> a_stride(rb, 0), b_stride(rb, 0);
  {
    int64_t sa = m * k, sb = k * n;
    for (size_t i = rb; i-- > 0;) {
      const size_t off = rb - i;  // position from the right
      const int64_t da = off <= ab ? as[ab - off] : 1;
      const int64_t db = off <= bb ? bs[bb - off] : 1;
      if (da != db && da != 1 && db != 1)
        return ctx.Error("batch dims do not broadcast: " + ShapeToString(a) + " x " +
                         ShapeToString(b));
      batch[i] = std::max(da, db);
      if (da == 0 || db == 0) batch[i] = 0;
      a_stride[i] = da == 1 ? 0 : sa;
      b_stride[i] = db == 1 ? 0 : sb;
      sa *= da;
      sb *= db;
    }
  }
  plan->m = m;
  plan->n = n;
  plan->k = k;
  plan->y_shape = batch;
  if (!a_vec) plan->y_shape.push_back(m);
  if (!b_vec) plan->y_shape.push_back(n);
  const int64_t nbatch = NumElements(batch);
  // Offsets of each batch's A and B matrices.
  plan->a_off.assign(static_cast<size_t>(nbatch), 0);
  plan->b_off.assign(static_cast<size_t>(nbatch), 0);
  std::vector<int64_t> idx(rb, 0);
  for (int64_t t = 0; t < nbatch; ++t) {
    int64_t oa = 0, ob = 0;
    for (size_t i = 0; i < rb; ++i) {
      oa += idx[i] * a_stride[i];
      ob += idx[i] * b_stride[i];
    }
    plan->a_off[t] = oa;
    plan->b_off[t] = ob;
    for (size_t i = rb; i-- > 0;) {
      if (++idx[i] < batch[i]) break;
      idx[i] = 0;
    }
  }
  return Status::Ok();
}

Status MatMul(KernelContext& ctx) {
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(1);
  if (!a || !b) return ctx.Error("MatMul needs inputs A and B");
  if (a->dtype() != b->dtype()) return ctx.Error("A and B must share one dtype");
  MatMulPlan plan;
  SN_RETURN_IF_ERROR(PlanMatMul(ctx, a->shape(), b->shape(), &plan));
  const int64_t m = plan.m, n = plan.n, k = plan.k, nbatch = plan.batches();
  const std::vector<int64_t>&a_off = plan.a_off, &b_off = plan.b_off;
  Tensor& y = ctx.Output(0, a->dtype(), plan.y_shape);
  if (y.numel() == 0) return Status::Ok();
  const int threads = std::max(1, ctx.num_threads);
  auto floats = [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    const T* ap = a->data<T>();
    const T* bp = b->data<T>();
    T* yp = y.data<T>();
    // A shared B with A's batches laid out back to back is one tall product.
    bool fold = nbatch > 1;
    for (int64_t t = 0; t < nbatch && fold; ++t) fold = b_off[t] == 0 && a_off[t] == t * m * k;
    if (fold || nbatch == 1) {
      DenseGemm<T>(false, false, m * nbatch, n, k, T(1), ap, k, bp, n, T(0), yp, n, threads);
      return Status::Ok();
    }
    const double work = static_cast<double>(m) * n * k;
    if (threads > 1 && nbatch >= threads && work < 4e6) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
      for (int64_t t = 0; t < nbatch; ++t)
        DenseGemm<T>(false, false, m, n, k, T(1), ap + a_off[t], k, bp + b_off[t], n, T(0),
                     yp + t * m * n, n, 1);
    } else {
      for (int64_t t = 0; t < nbatch; ++t)
        DenseGemm<T>(false, false, m, n, k, T(1), ap + a_off[t], k, bp + b_off[t], n, T(0),
                     yp + t * m * n, n, threads);
    }
    return Status::Ok();
  };
  auto ints = [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    for (int64_t t = 0; t < nbatch; ++t)
      NaiveMatMul(m, n, k, a->data<T>() + a_off[t], b->data<T>() + b_off[t],
                  y.data<T>() + t * m * n);
    return Status::Ok();
  };
  switch (a->dtype()) {
    case DataType::kFloat32:
      return floats(TypeTag<float>{});
    case DataType::kFloat64:
      return floats(TypeTag<double>{});
    case DataType::kInt32:
      return ints(TypeTag<int32_t>{});
    case DataType::kInt64:
      return ints(TypeTag<int64_t>{});
    case DataType::kUint32:
      return ints(TypeTag<uint32_t>{});
    case DataType::kUint64:
      return ints(TypeTag<uint64_t>{});
    default:
      return ctx.Unsupported("dtype " + DataTypeName(a->dtype()) + " not supported");
  }
}

std::optional<Dims> MatMulDims(const InferInput& a_in, const InferInput& b_in) {
  if (!a_in.has_rank() || !b_in.has_rank()) return std::nullopt;
  const Dims &a = a_in.dims(), &b = b_in.dims();
  if (a.size() < 2 || b.size() < 2) return std::nullopt;  // 1-D cases left to run time
  const Dims batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2);
  auto out = BroadcastDims({&batch_a, &batch_b});
  if (!out) return std::nullopt;
  out->push_back(a[a.size() - 2]);
  out->push_back(b.back());
  return out;
}

namespace {
std::optional<Dims> MatMulShape(InferContext& ctx) { return MatMulDims(ctx.in(0), ctx.in(1)); }

constexpr OpDef kOps[] = {
    {"MatMul", MatMul, MatMulShape},
};

}  // namespace

std::span<const OpDef> MatMulOps() { return kOps; }

}  // namespace supernova::ops

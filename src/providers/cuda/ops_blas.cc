// Gemm and MatMul through cuBLAS.
//
// cuBLAS is column-major and our tensors are row-major. A row-major [r, c] matrix is the
// column-major [c, r] matrix of its transpose, so row-major Y = op(A) op(B) is computed as the
// column-major Y^T = op(B)^T op(A)^T: the operands swap places and keep their own transpose
// flags and leading dims (a row-major matrix's row length).
#include <algorithm>
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "providers/cuda/cuda_common.h"
#include "providers/cuda/kernels.h"
#include "providers/cuda/ops.h"

namespace supernova::providers::cuda {
namespace {

Status FitsInt(const OpContext& ctx, std::initializer_list<int64_t> values) {
  for (int64_t v : values)
    if (v < 0 || v > INT_MAX) return ctx.Error("matrix dim too large for cuBLAS");
  return Status::Ok();
}

class GemmOp final : public CudaOp {
 public:
  GemmOp(bool trans_a, bool trans_b, float alpha, float beta)
      : trans_a_(trans_a), trans_b_(trans_b), alpha_(alpha), beta_(beta) {}

  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* a, ctx.In(0));
    SN_ASSIGN_OR_RETURN(const Tensor* b, ctx.In(1));
    const Tensor* c = nullptr;
    if (ctx.input(2)) {
      SN_ASSIGN_OR_RETURN(c, ctx.In(2));
    }
    if (a->rank() != 2 || b->rank() != 2)
      return ctx.Error("A and B must be 2-D, got " + ShapeToString(a->shape()) + " and " +
                       ShapeToString(b->shape()));
    const int64_t m = trans_a_ ? a->dim(1) : a->dim(0);
    const int64_t k = trans_a_ ? a->dim(0) : a->dim(1);
    const int64_t kb = trans_b_ ? b->dim(1) : b->dim(0);
    const int64_t n = trans_b_ ? b->dim(0) : b->dim(1);
    if (k != kb)
      return ctx.Error("inner dims differ: op(A) is " + std::to_string(m) + "x" +
                       std::to_string(k) + ", op(B) is " + std::to_string(kb) + "x" +
                       std::to_string(n));
    // C broadcasts unidirectionally to [M, N].
    int64_t c_rows = 1, c_cols = 1;
    if (c) {
      const Shape& cs = c->shape();
      if (cs.size() > 2) return ctx.Error("C must have rank <= 2, got " + ShapeToString(cs));
      if (cs.size() >= 1) c_cols = cs.back();
      if (cs.size() == 2) c_rows = cs[0];
      if ((c_rows != 1 && c_rows != m) || (c_cols != 1 && c_cols != n))
        return ctx.Error("C " + ShapeToString(cs) + " does not broadcast to [" + std::to_string(m) +
                         "," + std::to_string(n) + "]");
    }
    SN_RETURN_IF_ERROR(FitsInt(ctx, {m, n, k, a->dim(1), b->dim(1)}));
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor({m, n}));
    if (y.numel() == 0) {
      ctx.outputs[0] = std::move(y);
      return Status::Ok();
    }
    // Y starts as beta * C (broadcast) and the product accumulates onto it.
    float gemm_beta = 0.0f;
    if (c && beta_ != 0.0f && c->numel() > 0) {
      SN_CUDA_CHECK(ctx.label, kernels::BroadcastScaled(c->data<float>(), c_rows, c_cols, beta_,
                                                        y.data<float>(), m, n, ctx.stream));
      gemm_beta = 1.0f;
    }
    if (k == 0) {
      // An empty product: Y is beta * C, or zeros.
      if (gemm_beta == 0.0f)
        SN_CUDA_CHECK(ctx.label, cudaMemsetAsync(y.raw_data(), 0, y.nbytes(), ctx.stream));
    } else {
      SN_CUBLAS_CHECK(
          ctx.label,
          cublasSgemm(ctx.cublas, trans_b_ ? CUBLAS_OP_T : CUBLAS_OP_N,
                      trans_a_ ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                      static_cast<int>(m), static_cast<int>(k), &alpha_, b->data<float>(),
                      static_cast<int>(b->dim(1)), a->data<float>(), static_cast<int>(a->dim(1)),
                      &gemm_beta, y.data<float>(), static_cast<int>(n)));
    }
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  const bool trans_a_, trans_b_;
  const float alpha_, beta_;
};

class MatMulOp final : public CudaOp {
 public:
  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* a, ctx.In(0));
    SN_ASSIGN_OR_RETURN(const Tensor* b, ctx.In(1));
    if (a->rank() == 0 || b->rank() == 0) return ctx.Error("MatMul operands must not be scalars");
    // 1-D operands become matrices; the added dim is dropped from the result.
    Shape as = a->shape(), bs = b->shape();
    const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
    if (a_vec) as.insert(as.begin(), 1);
    if (b_vec) bs.push_back(1);
    const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
    if (bs[bs.size() - 2] != k)
      return ctx.Error("inner dims differ: " + ShapeToString(a->shape()) + " x " +
                       ShapeToString(b->shape()));
    // Batch dims broadcast right-aligned; an operand's stride is 0 along dims it broadcasts.
    const size_t ab = as.size() - 2, bb = bs.size() - 2, rb = std::max(ab, bb);
    Shape batch(rb, 1);
    std::vector<int64_t> a_stride(rb, 0), b_stride(rb, 0);
    int64_t sa = m * k, sb = k * n;
    for (size_t i = rb; i-- > 0;) {
      const size_t off = rb - i;  // position from the right, 1-based
      const int64_t da = off <= ab ? as[ab - off] : 1;
      const int64_t db = off <= bb ? bs[bb - off] : 1;
      if (da != db && da != 1 && db != 1)
        return ctx.Error("batch dims do not broadcast: " + ShapeToString(a->shape()) + " x " +
                         ShapeToString(b->shape()));
      batch[i] = (da == 0 || db == 0) ? 0 : std::max(da, db);
      a_stride[i] = da == 1 ? 0 : sa;
      b_stride[i] = db == 1 ? 0 : sb;
      sa *= da;
      sb *= db;
    }
    Shape yshape = batch;
    if (!a_vec) yshape.push_back(m);
    if (!b_vec) yshape.push_back(n);
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(yshape));
    if (y.numel() == 0) {
      ctx.outputs[0] = std::move(y);
      return Status::Ok();
    }
    if (k == 0) {
      SN_CUDA_CHECK(ctx.label, cudaMemsetAsync(y.raw_data(), 0, y.nbytes(), ctx.stream));
      ctx.outputs[0] = std::move(y);
      return Status::Ok();
    }
    int64_t count = 1;
    for (int64_t d : batch) count *= d;
    SN_RETURN_IF_ERROR(FitsInt(ctx, {m, n, k, count}));
    // Element offsets of each batch's A and B.
    std::vector<int64_t> a_off(static_cast<size_t>(count)), b_off(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      int64_t rem = i, oa = 0, ob = 0;
      for (size_t d = rb; d-- > 0;) {
        const int64_t coord = rem % batch[d];
        rem /= batch[d];
        oa += coord * a_stride[d];
        ob += coord * b_stride[d];
      }
      a_off[static_cast<size_t>(i)] = oa;
      b_off[static_cast<size_t>(i)] = ob;
    }
    // One stride per operand covers equal batch shapes and an operand broadcast whole (the
    // common cases); mixed broadcasting falls back to pointer arrays.
    bool uniform = true;
    for (int64_t i = 0; i < count && uniform; ++i) {
      const size_t s = static_cast<size_t>(i);
      uniform =
          a_off[s] == i * (count > 1 ? a_off[1] : 0) && b_off[s] == i * (count > 1 ? b_off[1] : 0);
    }
    const float one = 1.0f, zero = 0.0f;
    const int in = static_cast<int>(n), im = static_cast<int>(m), ik = static_cast<int>(k);
    if (uniform) {
      SN_CUBLAS_CHECK(ctx.label, cublasSgemmStridedBatched(
                                     ctx.cublas, CUBLAS_OP_N, CUBLAS_OP_N, in, im, ik, &one,
                                     b->data<float>(), in, count > 1 ? b_off[1] : 0,
                                     a->data<float>(), ik, count > 1 ? a_off[1] : 0, &zero,
                                     y.data<float>(), in, m * n, static_cast<int>(count)));
    } else {
      auto host = std::make_shared<std::vector<const float*>>(static_cast<size_t>(3 * count));
      for (int64_t i = 0; i < count; ++i) {
        const size_t s = static_cast<size_t>(i);
        (*host)[s] = b->data<float>() + b_off[s];
        (*host)[static_cast<size_t>(count) + s] = a->data<float>() + a_off[s];
        (*host)[static_cast<size_t>(2 * count) + s] = y.data<float>() + i * m * n;
      }
      const size_t bytes = host->size() * sizeof(float*);
      SN_ASSIGN_OR_RETURN(
          Tensor ptrs,
          ctx.NewTensor({static_cast<int64_t>((bytes + sizeof(float) - 1) / sizeof(float))}));
      SN_CUDA_CHECK(ctx.label, cudaMemcpyAsync(ptrs.raw_data(), host->data(), bytes,
                                               cudaMemcpyHostToDevice, ctx.stream));
      ctx.HoldUntilSynchronized(std::move(host));
      auto* dev = static_cast<float**>(ptrs.raw_data());
      SN_CUBLAS_CHECK(ctx.label,
                      cublasSgemmBatched(ctx.cublas, CUBLAS_OP_N, CUBLAS_OP_N, in, im, ik, &one,
                                         const_cast<const float* const*>(dev), in,
                                         const_cast<const float* const*>(dev + count), ik, &zero,
                                         dev + 2 * count, in, static_cast<int>(count)));
    }
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }
};

}  // namespace

Result<std::unique_ptr<CudaOp>> MakeBlasOp(const ir::Graph& g, const ir::Node& n) {
  (void)g;
  if (n.op_type == "Gemm")
    return std::unique_ptr<CudaOp>(
        new GemmOp(n.AttrInt("transA", 0) != 0, n.AttrInt("transB", 0) != 0,
                   n.AttrFloat("alpha", 1.0f), n.AttrFloat("beta", 1.0f)));
  if (n.op_type == "MatMul") return std::unique_ptr<CudaOp>(new MatMulOp());
  return Status::Unimplemented("cuda: no blas op " + n.op_type);
}

}  // namespace supernova::providers::cuda

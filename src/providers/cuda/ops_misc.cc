// The cuda provider's own-kernel ops: element-wise unary and broadcasting binary math, softmax,
// concatenation, transpose, ReduceMean over trailing axes, and the metadata-only reshapes
// (Reshape, Flatten, Squeeze, Unsqueeze, Identity), which return views and copy nothing.
// Semantics follow the cpu reference kernels (providers/cpu/ops/*.cc).
#include <algorithm>
#include <cfloat>
#include <string>
#include <vector>

#include "providers/cuda/cuda_common.h"
#include "providers/cuda/kernels.h"
#include "providers/cuda/ops.h"
#include "providers/cuda/supports.h"

namespace supernova::providers::cuda {
namespace {

// Normalises an axis in [-rank, rank) (or [-rank, rank] with `inclusive`).
Status NormalizeAxis(const OpContext& ctx, int64_t* axis, int64_t rank, bool inclusive = false) {
  const int64_t hi = inclusive ? rank : rank - 1;
  if (*axis < -rank || *axis > hi)
    return ctx.Error("axis " + std::to_string(*axis) + " out of range for rank " +
                     std::to_string(rank));
  if (*axis < 0) *axis += rank;
  return Status::Ok();
}

int64_t Prod(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= s[i];
  return p;
}

// ---- element-wise ----

class UnaryOpImpl final : public CudaOp {
 public:
  explicit UnaryOpImpl(kernels::UnaryParams f) : f_(f) {}
  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* x, ctx.In(0));
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(x->shape()));
    SN_CUDA_CHECK(ctx.label,
                  kernels::Unary(x->data<float>(), y.data<float>(), x->numel(), f_, ctx.stream));
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  const kernels::UnaryParams f_;
};

Result<kernels::UnaryParams> UnaryParamsFor(const ir::Graph& g, const ir::Node& n) {
  using kernels::UnaryOp;
  kernels::UnaryParams f;
  const std::string& op = n.op_type;
  if (op == "Relu") {
    f.op = UnaryOp::kRelu;
  } else if (op == "LeakyRelu") {
    f.op = UnaryOp::kLeakyRelu;
    f.alpha = n.AttrFloat("alpha", 0.01f);
  } else if (op == "Sigmoid") {
    f.op = UnaryOp::kSigmoid;
  } else if (op == "Tanh") {
    f.op = UnaryOp::kTanh;
  } else if (op == "HardSigmoid") {
    f.op = UnaryOp::kHardSigmoid;
    f.alpha = n.AttrFloat("alpha", 0.2f);
    f.beta = n.AttrFloat("beta", 0.5f);
  } else if (op == "HardSwish") {
    f.op = UnaryOp::kHardSwish;
  } else if (op == "Elu") {
    f.op = UnaryOp::kElu;
    f.alpha = n.AttrFloat("alpha", 1.0f);
  } else if (op == "Exp") {
    f.op = UnaryOp::kExp;
  } else if (op == "Log") {
    f.op = UnaryOp::kLog;
  } else if (op == "Sqrt") {
    f.op = UnaryOp::kSqrt;
  } else if (op == "Abs") {
    f.op = UnaryOp::kAbs;
  } else if (op == "Neg") {
    f.op = UnaryOp::kNeg;
  } else if (op == "Erf") {
    f.op = UnaryOp::kErf;
  } else if (op == "Clip") {
    // Bounds: attributes before opset 11, optional constant scalar inputs from it. Absent
    // bounds are the float range, as in the cpu kernel.
    f.op = UnaryOp::kClip;
    f.alpha = -FLT_MAX;
    f.beta = FLT_MAX;
    if (g.Opset() < 11) {
      if (n.HasAttr("min")) f.alpha = n.AttrFloat("min", -FLT_MAX);
      if (n.HasAttr("max")) f.beta = n.AttrFloat("max", FLT_MAX);
    } else {
      if (n.inputs.size() > 1 && !n.inputs[1].empty()) {
        SN_ASSIGN_OR_RETURN(f.alpha, ConstantFloat(g, n.inputs[1]));
      }
      if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
        SN_ASSIGN_OR_RETURN(f.beta, ConstantFloat(g, n.inputs[2]));
      }
    }
  } else {
    return Status::Unimplemented("cuda: no unary function " + op);
  }
  return f;
}

// Numpy broadcasting of a and b into `out` and per-dim element strides, with size-1 output
// dims dropped and runs of dims that both operands walk contiguously merged, so that the
// kernel decomposes as few dims as possible (equal shapes become one contiguous run).
Status PlanBroadcast(const OpContext& ctx, const Shape& a, const Shape& b, Shape* out,
                     kernels::BroadcastDims* dims) {
  const size_t r = std::max(a.size(), b.size());
  out->assign(r, 1);
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  int64_t stride_a = 1, stride_b = 1;
  for (size_t k = r; k-- > 0;) {
    const size_t from_right = r - 1 - k;
    const int64_t da = from_right < a.size() ? a[a.size() - 1 - from_right] : 1;
    const int64_t db = from_right < b.size() ? b[b.size() - 1 - from_right] : 1;
    if (da != db && da != 1 && db != 1)
      return ctx.Error("shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                       " do not broadcast");
    (*out)[k] = da == 1 ? db : da;
    sa[k] = da == 1 ? 0 : stride_a;
    sb[k] = db == 1 ? 0 : stride_b;
    stride_a *= da;
    stride_b *= db;
  }
  std::vector<int64_t> o, ma, mb;  // merged, outermost first
  for (size_t k = 0; k < r; ++k) {
    if ((*out)[k] == 1) continue;
    if (!o.empty() && ma.back() == sa[k] * (*out)[k] && mb.back() == sb[k] * (*out)[k]) {
      o.back() *= (*out)[k];
      ma.back() = sa[k];
      mb.back() = sb[k];
    } else {
      o.push_back((*out)[k]);
      ma.push_back(sa[k]);
      mb.push_back(sb[k]);
    }
  }
  *dims = kernels::BroadcastDims{};
  if (o.empty() || (o.size() == 1 && ma[0] == 1 && mb[0] == 1)) return Status::Ok();  // same
  if (o.size() > static_cast<size_t>(kernels::kMaxRank))
    return ctx.Error("broadcast of " + ShapeToString(a) + " and " + ShapeToString(b) +
                     " needs more than " + std::to_string(kernels::kMaxRank) + " dims");
  dims->rank = static_cast<int32_t>(o.size());
  for (size_t k = 0; k < o.size(); ++k) {
    dims->out[k] = o[k];
    dims->a_stride[k] = ma[k];
    dims->b_stride[k] = mb[k];
  }
  return Status::Ok();
}

class BinaryOpImpl final : public CudaOp {
 public:
  explicit BinaryOpImpl(kernels::BinaryOp op) : op_(op) {}
  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* a, ctx.In(0));
    SN_ASSIGN_OR_RETURN(const Tensor* b, ctx.In(1));
    Shape out;
    kernels::BroadcastDims dims;
    SN_RETURN_IF_ERROR(PlanBroadcast(ctx, a->shape(), b->shape(), &out, &dims));
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(out));
    SN_CUDA_CHECK(ctx.label, kernels::Binary(op_, a->data<float>(), b->data<float>(),
                                             y.data<float>(), y.numel(), dims, ctx.stream));
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  const kernels::BinaryOp op_;
};

// ---- softmax ----

class SoftmaxOp final : public CudaOp {
 public:
  SoftmaxOp(int64_t axis, bool coerce_2d, bool log)
      : axis_(axis), coerce_2d_(coerce_2d), log_(log) {}
  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* x, ctx.In(0));
    const Shape& s = x->shape();
    const int64_t r = static_cast<int64_t>(s.size());
    int64_t axis = axis_;
    // Opset < 13 coerces to 2-D at `axis` (which may equal the rank): rows of everything from
    // it on. From 13 the reduction runs along the one dim `axis`.
    SN_RETURN_IF_ERROR(NormalizeAxis(ctx, &axis, r, coerce_2d_));
    const size_t a = static_cast<size_t>(axis);
    const int64_t outer = Prod(s, 0, a);
    const int64_t len = coerce_2d_ ? Prod(s, a, s.size()) : (r == 0 ? 1 : s[a]);
    const int64_t inner = coerce_2d_ ? 1 : Prod(s, a + 1, s.size());
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(s));
    SN_CUDA_CHECK(ctx.label, kernels::Softmax(x->data<float>(), y.data<float>(), outer, len, inner,
                                              log_, ctx.stream));
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  const int64_t axis_;
  const bool coerce_2d_;
  const bool log_;
};

// ---- layout ----

class ConcatOp final : public CudaOp {
 public:
  explicit ConcatOp(int64_t axis) : axis_(axis) {}
  Status Run(OpContext& ctx) const override {
    std::vector<const Tensor*> xs;
    for (size_t i = 0; i < ctx.inputs.size(); ++i) {
      SN_ASSIGN_OR_RETURN(const Tensor* x, ctx.In(i));
      xs.push_back(x);
    }
    if (xs.empty()) return ctx.Error("no inputs");
    const Shape& first = xs[0]->shape();
    int64_t axis = axis_;
    SN_RETURN_IF_ERROR(NormalizeAxis(ctx, &axis, static_cast<int64_t>(first.size())));
    const size_t a = static_cast<size_t>(axis);
    Shape out = first;
    out[a] = 0;
    for (const Tensor* x : xs) {
      const Shape& s = x->shape();
      bool same = s.size() == first.size();
      for (size_t k = 0; same && k < s.size(); ++k) same = k == a || s[k] == first[k];
      if (!same)
        return ctx.Error("input " + ShapeToString(s) + " does not match " + ShapeToString(first) +
                         " outside axis " + std::to_string(axis));
      out[a] += s[a];
    }
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(out));
    // Each input is `outer` rows of (its axis length x inner) floats, landing at a column
    // offset within the output's rows: one 2-D copy per input, no kernel.
    const int64_t outer = Prod(out, 0, a), inner = Prod(out, a + 1, out.size());
    const size_t dst_pitch = static_cast<size_t>(out[a] * inner) * sizeof(float);
    char* dst = static_cast<char*>(y.raw_data());
    size_t offset = 0;
    for (const Tensor* x : xs) {
      const size_t width = static_cast<size_t>(x->dim(a) * inner) * sizeof(float);
      if (width > 0 && outer > 0) {
        if (outer == 1 || dst_pitch >= (size_t{1} << 30)) {
          // One row, or pitches beyond what the 2-D copy takes: plain copies per row.
          for (int64_t row = 0; row < outer; ++row)
            SN_CUDA_CHECK(ctx.label,
                          cudaMemcpyAsync(dst + offset + static_cast<size_t>(row) * dst_pitch,
                                          static_cast<const char*>(x->raw_data()) +
                                              static_cast<size_t>(row) * width,
                                          width, cudaMemcpyDeviceToDevice, ctx.stream));
        } else {
          SN_CUDA_CHECK(ctx.label, cudaMemcpy2DAsync(dst + offset, dst_pitch, x->raw_data(), width,
                                                     width, static_cast<size_t>(outer),
                                                     cudaMemcpyDeviceToDevice, ctx.stream));
        }
      }
      offset += width;
    }
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  const int64_t axis_;
};

class TransposeOp final : public CudaOp {
 public:
  explicit TransposeOp(std::vector<int64_t> perm) : perm_(std::move(perm)) {}
  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* x, ctx.In(0));
    const Shape& s = x->shape();
    const size_t r = s.size();
    std::vector<int64_t> perm = perm_;
    if (perm.empty())
      for (size_t k = r; k-- > 0;) perm.push_back(static_cast<int64_t>(k));
    if (perm.size() != r)
      return ctx.Error("perm has " + std::to_string(perm.size()) + " entries for rank " +
                       std::to_string(r));
    std::vector<bool> seen(r, false);
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(r) || seen[static_cast<size_t>(p)])
        return ctx.Error("perm is not a permutation of the axes");
      seen[static_cast<size_t>(p)] = true;
    }
    std::vector<int64_t> in_stride(r, 1);
    for (size_t k = r; k-- > 1;) in_stride[k - 1] = in_stride[k] * s[k];
    Shape out(r);
    for (size_t k = 0; k < r; ++k) out[k] = s[static_cast<size_t>(perm[k])];
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(out));
    // Drop unit dims and merge output dims that read the input contiguously.
    std::vector<int64_t> o, st;
    for (size_t k = 0; k < r; ++k) {
      if (out[k] == 1) continue;
      const int64_t stride = in_stride[static_cast<size_t>(perm[k])];
      if (!o.empty() && st.back() == stride * out[k]) {
        o.back() *= out[k];
        st.back() = stride;
      } else {
        o.push_back(out[k]);
        st.push_back(stride);
      }
    }
    if (o.empty() || (o.size() == 1 && st[0] == 1)) {
      // The permutation only moves unit dims: the data is already in order.
      if (y.nbytes() > 0)
        SN_CUDA_CHECK(ctx.label, cudaMemcpyAsync(y.raw_data(), x->raw_data(), y.nbytes(),
                                                 cudaMemcpyDeviceToDevice, ctx.stream));
    } else {
      if (o.size() > static_cast<size_t>(kernels::kMaxRank))
        return ctx.Error("transpose needs more than " + std::to_string(kernels::kMaxRank) +
                         " dims after merging");
      kernels::PermuteDims d;
      d.rank = static_cast<int32_t>(o.size());
      for (size_t k = 0; k < o.size(); ++k) {
        d.out[k] = o[k];
        d.in_stride[k] = st[k];
      }
      SN_CUDA_CHECK(ctx.label,
                    kernels::Permute(x->data<float>(), y.data<float>(), y.numel(), d, ctx.stream));
    }
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  const std::vector<int64_t> perm_;  // empty: reverse the axes
};

// ---- metadata only: the output is a view of the input ----

enum class ViewKind { kReshape, kFlatten, kSqueeze, kUnsqueeze, kIdentity };

class ViewOp final : public CudaOp {
 public:
  ViewOp(ViewKind kind, std::vector<int64_t> ints, bool given, bool allowzero, int64_t axis)
      : kind_(kind), ints_(std::move(ints)), given_(given), allowzero_(allowzero), axis_(axis) {}

  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* x, ctx.In(0));
    Shape shape;
    SN_RETURN_IF_ERROR(OutputShape(ctx, x->shape(), &shape));
    Result<Tensor> y = x->Reshaped(std::move(shape));
    if (!y.ok()) return ctx.Error(y.status().message());
    ctx.outputs[0] = std::move(*y);
    return Status::Ok();
  }

 private:
  Status OutputShape(const OpContext& ctx, const Shape& s, Shape* out) const {
    const int64_t r = static_cast<int64_t>(s.size());
    switch (kind_) {
      case ViewKind::kIdentity:
        *out = s;
        return Status::Ok();
      case ViewKind::kReshape:
        *out = ints_;
        for (size_t i = 0; i < out->size(); ++i)
          if ((*out)[i] == 0 && !allowzero_) {
            if (static_cast<int64_t>(i) >= r)
              return ctx.Error("shape " + ShapeToString(ints_) + " copies dim " +
                               std::to_string(i) + " of a rank-" + std::to_string(r) + " input");
            (*out)[i] = s[i];
          }
        return Status::Ok();  // -1 and the element count are Reshaped's to check
      case ViewKind::kFlatten: {
        int64_t axis = axis_;
        SN_RETURN_IF_ERROR(NormalizeAxis(ctx, &axis, r, /*inclusive=*/true));
        const size_t a = static_cast<size_t>(axis);
        *out = {Prod(s, 0, a), Prod(s, a, s.size())};
        return Status::Ok();
      }
      case ViewKind::kSqueeze: {
        std::vector<bool> drop(s.size(), false);
        if (!given_ || ints_.empty()) {
          for (size_t k = 0; k < s.size(); ++k) drop[k] = s[k] == 1;
        } else {
          for (int64_t a : ints_) {
            SN_RETURN_IF_ERROR(NormalizeAxis(ctx, &a, r));
            if (s[static_cast<size_t>(a)] != 1)
              return ctx.Error("cannot squeeze axis " + std::to_string(a) + " of size " +
                               std::to_string(s[static_cast<size_t>(a)]));
            drop[static_cast<size_t>(a)] = true;
          }
        }
        out->clear();
        for (size_t k = 0; k < s.size(); ++k)
          if (!drop[k]) out->push_back(s[k]);
        return Status::Ok();
      }
      case ViewKind::kUnsqueeze: {
        if (!given_) return ctx.Error("axes are required");
        const int64_t out_rank = r + static_cast<int64_t>(ints_.size());
        std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
        for (int64_t a : ints_) {
          SN_RETURN_IF_ERROR(NormalizeAxis(ctx, &a, out_rank));
          if (inserted[static_cast<size_t>(a)])
            return ctx.Error("axis " + std::to_string(a) + " repeated");
          inserted[static_cast<size_t>(a)] = true;
        }
        out->clear();
        size_t next = 0;
        for (int64_t k = 0; k < out_rank; ++k)
          out->push_back(inserted[static_cast<size_t>(k)] ? 1 : s[next++]);
        return Status::Ok();
      }
    }
    return Status::Internal("unknown view kind");
  }

  const ViewKind kind_;
  const std::vector<int64_t> ints_;  // Reshape's shape; Squeeze/Unsqueeze's axes
  const bool given_;                 // whether axes were given
  const bool allowzero_;             // Reshape: a 0 is a zero dim, not "copy the input's"
  const int64_t axis_;               // Flatten
};

// ---- reduction ----

class ReduceMeanOp final : public CudaOp {
 public:
  ReduceMeanOp(std::vector<int64_t> axes, bool keepdims)
      : axes_(std::move(axes)), keepdims_(keepdims) {}
  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* x, ctx.In(0));
    const Shape& s = x->shape();
    const int64_t r = static_cast<int64_t>(s.size());
    std::vector<int64_t> axes = axes_;
    if (axes.empty())
      for (int64_t k = 0; k < r; ++k) axes.push_back(k);
    for (int64_t& a : axes) SN_RETURN_IF_ERROR(NormalizeAxis(ctx, &a, r));
    std::sort(axes.begin(), axes.end());
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
    // Supports() admitted trailing axes only; the run's shape must keep that true.
    const size_t first = static_cast<size_t>(r) - axes.size();
    if (!axes.empty() && axes.front() != static_cast<int64_t>(first))
      return ctx.Error("cuda ReduceMean reduces trailing axes only");
    const int64_t rows = Prod(s, 0, first), len = Prod(s, first, s.size());
    if (len == 0 && rows > 0) return ctx.Error("mean over an empty extent");
    Shape out(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(first));
    if (keepdims_) out.resize(s.size(), 1);
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(out));
    SN_CUDA_CHECK(ctx.label, kernels::ReduceRows(x->data<float>(), y.data<float>(), rows, len,
                                                 kernels::ReduceOp::kMean, ctx.stream));
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  const std::vector<int64_t> axes_;  // empty: all
  const bool keepdims_;
};

}  // namespace

Result<std::unique_ptr<CudaOp>> MakeMiscOp(const ir::Graph& g, const ir::Node& n) {
  const std::string& op = n.op_type;
  using kernels::BinaryOp;
  if (op == "Add") return std::unique_ptr<CudaOp>(new BinaryOpImpl(BinaryOp::kAdd));
  if (op == "Sub") return std::unique_ptr<CudaOp>(new BinaryOpImpl(BinaryOp::kSub));
  if (op == "Mul") return std::unique_ptr<CudaOp>(new BinaryOpImpl(BinaryOp::kMul));
  if (op == "Div") return std::unique_ptr<CudaOp>(new BinaryOpImpl(BinaryOp::kDiv));
  if (op == "Pow") return std::unique_ptr<CudaOp>(new BinaryOpImpl(BinaryOp::kPow));
  if (op == "Max") return std::unique_ptr<CudaOp>(new BinaryOpImpl(BinaryOp::kMax));
  if (op == "Min") return std::unique_ptr<CudaOp>(new BinaryOpImpl(BinaryOp::kMin));
  if (op == "Softmax" || op == "LogSoftmax") {
    const bool coerce = g.Opset() < 13;
    return std::unique_ptr<CudaOp>(
        new SoftmaxOp(n.AttrInt("axis", coerce ? 1 : -1), coerce, op == "LogSoftmax"));
  }
  if (op == "Concat") {
    if (!n.HasAttr("axis") && g.Opset() >= 4)
      return Status::InvalidModel(n.Label() + ": attribute 'axis' is required");
    return std::unique_ptr<CudaOp>(new ConcatOp(n.AttrInt("axis", 1)));
  }
  if (op == "Transpose") return std::unique_ptr<CudaOp>(new TransposeOp(n.AttrInts("perm")));
  if (op == "Identity")
    return std::unique_ptr<CudaOp>(new ViewOp(ViewKind::kIdentity, {}, false, false, 0));
  if (op == "Flatten")
    return std::unique_ptr<CudaOp>(
        new ViewOp(ViewKind::kFlatten, {}, false, false, n.AttrInt("axis", 1)));
  if (op == "Reshape") {
    if (n.inputs.size() < 2 || n.inputs[1].empty())
      return Status::InvalidModel(n.Label() + ": needs a shape input");
    SN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ConstantInts(g, n.inputs[1]));
    const bool allowzero = g.Opset() >= 14 && n.AttrInt("allowzero", 0) != 0;
    return std::unique_ptr<CudaOp>(
        new ViewOp(ViewKind::kReshape, std::move(shape), true, allowzero, 0));
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    std::vector<int64_t> axes;
    bool given = false;
    SN_RETURN_IF_ERROR(ReadAxes(g, n, 13, &axes, &given));
    return std::unique_ptr<CudaOp>(
        new ViewOp(op == "Squeeze" ? ViewKind::kSqueeze : ViewKind::kUnsqueeze, std::move(axes),
                   given, false, 0));
  }
  if (op == "ReduceMean") {
    std::vector<int64_t> axes;
    bool given = false;
    SN_RETURN_IF_ERROR(ReadAxes(g, n, 18, &axes, &given));
    if (axes.empty() && n.AttrInt("noop_with_empty_axes", 0) != 0)
      return Status::Unimplemented(n.Label() + ": noop_with_empty_axes");
    return std::unique_ptr<CudaOp>(
        new ReduceMeanOp(std::move(axes), n.AttrInt("keepdims", 1) != 0));
  }
  SN_ASSIGN_OR_RETURN(kernels::UnaryParams f, UnaryParamsFor(g, n));
  return std::unique_ptr<CudaOp>(new UnaryOpImpl(f));
}

}  // namespace supernova::providers::cuda

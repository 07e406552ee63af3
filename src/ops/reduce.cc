// The Reduce* family and ArgMax/ArgMin, on one shared [outer, reduced, inner] kernel.
//
// Reduced axes are grouped so that most reductions become one of three contiguous shapes:
// [O, R] (trailing axes: LayerNorm, softmax statistics), [R, I] or [O, R, I] (leading or middle
// axes: global pooling-like). Any other pattern is first transposed into [O, R].
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

enum class Kind { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

// Accumulator: double for floats and for results that go through a float function; int64 /
// uint64 otherwise (wraps like the narrower type once cast back).
template <typename T, Kind K>
using Acc = std::conditional_t<std::is_floating_point_v<T> || K == Kind::kL2 ||
                                   K == Kind::kLogSum || K == Kind::kLogSumExp,
                               double, std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

template <Kind K, typename A>
A Init() {
  if constexpr (K == Kind::kMax) {
    return std::numeric_limits<A>::has_infinity ? -std::numeric_limits<A>::infinity()
                                                : std::numeric_limits<A>::lowest();
  } else if constexpr (K == Kind::kMin) {
    return std::numeric_limits<A>::has_infinity ? std::numeric_limits<A>::infinity()
                                                : std::numeric_limits<A>::max();
  } else if constexpr (K == Kind::kProd) {
    return A(1);
  } else {
    return A(0);
  }
}

template <typename A>
inline bool IsNan(A v) {
  if constexpr (std::is_floating_point_v<A>)
    return std::isnan(v);
  else
    return false;
}

template <Kind K, typename A>
inline A Step(A acc, A v) {
  if constexpr (K == Kind::kMax)
    return v > acc || IsNan(v) ? v : acc;  // NaN propagates
  else if constexpr (K == Kind::kMin)
    return v < acc || IsNan(v) ? v : acc;
  else if constexpr (K == Kind::kProd)
    return acc * v;
  else if constexpr (K == Kind::kL1)
    return acc + (v < A(0) ? A(0) - v : v);
  else if constexpr (K == Kind::kL2 || K == Kind::kSumSquare)
    return acc + v * v;
  else if constexpr (K == Kind::kLogSumExp)
    return acc + std::exp(v);
  else
    return acc + v;
}

template <Kind K, typename A>
inline A Finish(A acc, int64_t n, A shift) {
  if constexpr (K == Kind::kMean) {
    if constexpr (std::is_floating_point_v<A>)
      return acc / static_cast<A>(n);
    else
      return n == 0 ? A(0) : acc / static_cast<A>(n);
  } else if constexpr (K == Kind::kL2) {
    return std::sqrt(acc);
  } else if constexpr (K == Kind::kLogSum) {
    return std::log(acc);
  } else if constexpr (K == Kind::kLogSumExp) {
    return std::log(acc) + shift;
  } else {
    return acc;
  }
}

constexpr int64_t kChunk = 256;

// y[o, i] = Finish(fold over r of Step(x[o, r, i] - shift[o, i])). `shift` (may be null) is
// only used by LogSumExp, to keep exp() in range.
template <Kind K, typename T, typename A>
void ReduceORI(const T* x, T* y, int64_t O, int64_t R, int64_t I, const A* shift, int num_threads) {
  const int nt = O * R * I >= (int64_t{1} << 16) ? num_threads : 1;
  if (I == 1) {
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t o = 0; o < O; ++o) {
      const T* p = x + o * R;
      const A s = shift ? shift[o] : A(0);
      A acc = Init<K, A>();
      for (int64_t r = 0; r < R; ++r) acc = Step<K, A>(acc, static_cast<A>(p[r]) - s);
      y[o] = static_cast<T>(Finish<K, A>(acc, R, s));
    }
    return;
  }
  const int64_t nchunks = (I + kChunk - 1) / kChunk;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t item = 0; item < O * nchunks; ++item) {
    const int64_t o = item / nchunks;
    const int64_t i0 = (item % nchunks) * kChunk, i1 = std::min(I, i0 + kChunk);
    const int64_t len = i1 - i0;
    A acc[kChunk];
    A sh[kChunk];
    for (int64_t i = 0; i < len; ++i) {
      acc[i] = Init<K, A>();
      sh[i] = shift ? shift[o * I + i0 + i] : A(0);
    }
    for (int64_t r = 0; r < R; ++r) {
      const T* p = x + (o * R + r) * I + i0;
      for (int64_t i = 0; i < len; ++i) acc[i] = Step<K, A>(acc[i], static_cast<A>(p[i]) - sh[i]);
    }
    for (int64_t i = 0; i < len; ++i)
      y[o * I + i0 + i] = static_cast<T>(Finish<K, A>(acc[i], R, sh[i]));
  }
}

template <Kind K, typename T>
void RunReduce(const T* x, T* y, int64_t O, int64_t R, int64_t I, int num_threads) {
  using A = Acc<T, K>;
  if constexpr (K == Kind::kLogSumExp) {
    // Shift by the maximum so that exp() cannot overflow.
    std::vector<T> mx(static_cast<size_t>(O * I));
    ReduceORI<Kind::kMax, T, A>(x, mx.data(), O, R, I, nullptr, num_threads);
    std::vector<A> shift(mx.size());
    for (size_t i = 0; i < mx.size(); ++i)
      shift[i] = std::isfinite(static_cast<double>(mx[i])) ? static_cast<A>(mx[i]) : A(0);
    ReduceORI<K, T, A>(x, y, O, R, I, shift.data(), num_threads);
  } else {
    ReduceORI<K, T, A>(x, y, O, R, I, nullptr, num_threads);
  }
}

// Reduced axes from the attribute, or from input 1 in the opsets where it moved there.
Status ReadReduceAxes(const KernelContext& ctx, bool axes_is_input, std::vector<int64_t>* axes) {
  if (axes_is_input) {
    if (const Tensor* a = ctx.input(1)) return ReadInts(ctx, *a, "axes", axes);
    return Status::Ok();
  }
  *axes = ctx.node.AttrInts("axes");
  return Status::Ok();
}

template <Kind K>
Status Reduce(KernelContext& ctx, int64_t axes_input_opset) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const int64_t r = static_cast<int64_t>(x->rank());
  std::vector<int64_t> axes;
  SN_RETURN_IF_ERROR(ReadReduceAxes(ctx, ctx.opset >= axes_input_opset, &axes));
  const bool keepdims = ctx.node.AttrInt("keepdims", 1) != 0;
  if (axes.empty() && ctx.node.AttrInt("noop_with_empty_axes", 0) != 0) {
    ctx.SetOutput(0, *x);
    return Status::Ok();
  }
  std::vector<bool> reduced(static_cast<size_t>(r), axes.empty());
  for (int64_t a : axes) {
    SN_RETURN_IF_ERROR(CheckAxis(ctx, &a, r));
    reduced[a] = true;
  }
  Shape out_shape;
  for (int64_t k = 0; k < r; ++k) {
    if (!reduced[k])
      out_shape.push_back(x->dim(k));
    else if (keepdims)
      out_shape.push_back(1);
  }
  // Group consecutive dims with the same role; size-1 dims fit either role.
  std::vector<std::pair<int64_t, bool>> groups;  // (size, reduced)
  for (int64_t k = 0; k < r; ++k) {
    if (x->dim(k) == 1) continue;
    if (!groups.empty() && groups.back().second == reduced[k])
      groups.back().first *= x->dim(k);
    else
      groups.emplace_back(x->dim(k), reduced[k]);
  }
  int64_t O = 1, R = 1, I = 1;
  bool simple = true;
  {
    size_t g = 0;
    if (g < groups.size() && !groups[g].second) O = groups[g++].first;
    if (g < groups.size() && groups[g].second) R = groups[g++].first;
    if (g < groups.size() && !groups[g].second) I = groups[g++].first;
    simple = g == groups.size();
  }
  const Tensor* src = x;
  Tensor moved;
  if (!simple) {
    // Bring kept dims first, reduced dims last, then reduce [O, R].
    std::vector<int64_t> perm;
    for (int64_t k = 0; k < r; ++k)
      if (!reduced[k]) perm.push_back(k);
    for (int64_t k = 0; k < r; ++k)
      if (reduced[k]) perm.push_back(k);
    const std::vector<int64_t> st = Strides(x->shape());
    Shape pshape;
    std::vector<int64_t> pstrides;
    O = 1;
    R = 1;
    I = 1;
    for (int64_t k : perm) {
      pshape.push_back(x->dim(k));
      pstrides.push_back(st[k]);
      (reduced[k] ? R : O) *= x->dim(k);
    }
    moved = Tensor(x->dtype(), pshape, ctx.allocator());
    StridedCopy(DataTypeSize(x->dtype()), moved.raw_data(), x->raw_data(), pshape, pstrides,
                ctx.num_threads);
    src = &moved;
  }
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), out_shape, &y));
  if (y->numel() == 0) return Status::Ok();
  if constexpr (K == Kind::kMax || K == Kind::kMin) {
    // Booleans (opset 20): max is any, min is all; bool is stored as 0/1 bytes.
    if (x->dtype() == DataType::kBool) {
      RunReduce<K, uint8_t>(static_cast<const uint8_t*>(src->raw_data()),
                            static_cast<uint8_t*>(y->raw_data()), O, R, I, ctx.num_threads);
      return Status::Ok();
    }
  }
  Status s = DispatchNumeric(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    RunReduce<K, T>(src->data<T>(), y->data<T>(), O, R, I, ctx.num_threads);
    return Status::Ok();
  });
  return s.ok() ? s : ctx.Unsupported(s.message());
}

template <bool kMax>
Status ArgReduce(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const int64_t r = static_cast<int64_t>(x->rank());
  int64_t axis = ctx.node.AttrInt("axis", 0);
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r));
  const bool keepdims = ctx.node.AttrInt("keepdims", 1) != 0;
  const bool last = ctx.node.AttrInt("select_last_index", 0) != 0;
  const int64_t R = x->dim(static_cast<size_t>(axis));
  if (R == 0) return ctx.Error("cannot take the arg of an empty axis");
  int64_t O = 1, I = 1;
  Shape out_shape;
  for (int64_t k = 0; k < r; ++k) {
    if (k < axis) O *= x->dim(k);
    if (k > axis) I *= x->dim(k);
    if (k != axis)
      out_shape.push_back(x->dim(k));
    else if (keepdims)
      out_shape.push_back(1);
  }
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, DataType::kInt64, out_shape, &y));
  if (y->numel() == 0) return Status::Ok();
  int64_t* out = y->data<int64_t>();
  Status s = DispatchNumeric(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = x->data<T>();
    const int64_t nchunks = (I + kChunk - 1) / kChunk;
    const int nt = x->numel() >= (int64_t{1} << 16) ? ctx.num_threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t item = 0; item < O * nchunks; ++item) {
      const int64_t o = item / nchunks;
      const int64_t i0 = (item % nchunks) * kChunk, len = std::min(I, i0 + kChunk) - i0;
      T best[kChunk];
      int64_t at[kChunk];
      const T* row = p + o * R * I + i0;
      for (int64_t i = 0; i < len; ++i) {
        best[i] = row[i];
        at[i] = 0;
      }
      for (int64_t k = 1; k < R; ++k) {
        const T* q = row + k * I;
        for (int64_t i = 0; i < len; ++i) {
          const bool better = kMax ? (last ? q[i] >= best[i] : q[i] > best[i])
                                   : (last ? q[i] <= best[i] : q[i] < best[i]);
          if (better) {
            best[i] = q[i];
            at[i] = k;
          }
        }
      }
      for (int64_t i = 0; i < len; ++i) out[o * I + i0 + i] = at[i];
    }
    return Status::Ok();
  });
  return s.ok() ? s : ctx.Unsupported(s.message());
}

constexpr int64_t kAxesInput = 18;  // most reductions take axes as an input from opset 18

}  // namespace

Status ReduceL1(KernelContext& ctx) { return Reduce<Kind::kL1>(ctx, kAxesInput); }
Status ReduceL2(KernelContext& ctx) { return Reduce<Kind::kL2>(ctx, kAxesInput); }
Status ReduceLogSum(KernelContext& ctx) { return Reduce<Kind::kLogSum>(ctx, kAxesInput); }
Status ReduceLogSumExp(KernelContext& ctx) { return Reduce<Kind::kLogSumExp>(ctx, kAxesInput); }
Status ReduceMax(KernelContext& ctx) { return Reduce<Kind::kMax>(ctx, kAxesInput); }
Status ReduceMean(KernelContext& ctx) { return Reduce<Kind::kMean>(ctx, kAxesInput); }
Status ReduceMin(KernelContext& ctx) { return Reduce<Kind::kMin>(ctx, kAxesInput); }
Status ReduceProd(KernelContext& ctx) { return Reduce<Kind::kProd>(ctx, kAxesInput); }
Status ReduceSum(KernelContext& ctx) { return Reduce<Kind::kSum>(ctx, 13); }
Status ReduceSumSquare(KernelContext& ctx) { return Reduce<Kind::kSumSquare>(ctx, kAxesInput); }
Status ArgMax(KernelContext& ctx) { return ArgReduce<true>(ctx); }
Status ArgMin(KernelContext& ctx) { return ArgReduce<false>(ctx); }

namespace {
// The reduced dims, for axes from the attribute, or from the constant second input (ReduceSum
// since opset 13, every reduction since 18); nullopt while they are not known.
std::optional<Dims> ReduceShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  std::optional<std::vector<int64_t>> axes = ctx.node.AttrInts("axes");
  if (ctx.opset >= 18 || (ctx.node.op_type == "ReduceSum" && ctx.opset >= 13))
    axes = ctx.inputs.size() > 1 ? ConstInts(ctx.in(1))
                                 : std::optional<std::vector<int64_t>>(std::vector<int64_t>{});
  if (!axes) return std::nullopt;
  const Dims& x = ctx.in(0).dims();
  if (axes->empty() && ctx.node.AttrInt("noop_with_empty_axes", 0) != 0) return x;
  const bool keep = ctx.node.AttrInt("keepdims", 1) != 0;
  std::vector<bool> red(x.size(), axes->empty());
  for (int64_t a : *axes) {
    if (a < 0) a += static_cast<int64_t>(x.size());
    if (a < 0 || a >= static_cast<int64_t>(x.size())) return std::nullopt;
    red[a] = true;
  }
  Dims out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!red[i])
      out.push_back(x[i]);
    else if (keep)
      out.push_back(ir::Dim::Known(1));
  }
  return out;
}

// ArgMax / ArgMin: int64 indices along one axis, kept as 1 or dropped.
std::optional<Dims> ArgShape(InferContext& ctx) {
  ctx.dtype = DataType::kInt64;
  if (!ctx.in(0).has_rank()) return std::nullopt;
  Dims x = ctx.in(0).dims();
  int64_t axis = ctx.node.AttrInt("axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(x.size());
  if (axis < 0 || axis >= static_cast<int64_t>(x.size())) return std::nullopt;
  if (ctx.node.AttrInt("keepdims", 1) != 0)
    x[axis] = ir::Dim::Known(1);
  else
    x.erase(x.begin() + axis);
  return x;
}

constexpr OpDef kOps[] = {
    {"ArgMax", ArgMax, ArgShape},
    {"ArgMin", ArgMin, ArgShape},
    {"ReduceL1", ReduceL1, ReduceShape},
    {"ReduceL2", ReduceL2, ReduceShape},
    {"ReduceLogSum", ReduceLogSum, ReduceShape},
    {"ReduceLogSumExp", ReduceLogSumExp, ReduceShape},
    {"ReduceMax", ReduceMax, ReduceShape},
    {"ReduceMean", ReduceMean, ReduceShape},
    {"ReduceMin", ReduceMin, ReduceShape},
    {"ReduceProd", ReduceProd, ReduceShape},
    {"ReduceSum", ReduceSum, ReduceShape},
    {"ReduceSumSquare", ReduceSumSquare, ReduceShape},
};

}  // namespace

std::span<const OpDef> ReduceOps() { return kOps; }

}  // namespace supernova::ops

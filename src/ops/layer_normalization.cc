// LayerNormalization (opset 17) and GroupNormalization (opsets 18 and 21).
//
// Both normalise contiguous rows of the input by their own mean and variance and then apply
// an affine map; they differ only in what a row is and where the scale comes from:
//   LayerNormalization: rows = dims before `axis`, a row = everything from `axis` on; Scale and
//     B broadcast (numpy, unidirectionally) to X, usually shaped like the row.
//   GroupNormalization: X is [N, C, spatial...], a row is one group of C / num_groups channels
//     of one sample; scale and bias hold one value per group before opset 21 and one per
//     channel from 21 (opset 18's per-group form was a spec error that 21 corrected).
// Statistics are always accumulated in double, more precise than any stash_type asks for;
// stash_type picks the dtype of LayerNormalization's Mean and InvStdDev outputs, as ONNX's
// type inference does.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ops/broadcast.h"
#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// Mean and 1/sqrt(variance + eps) of one row, two passes: a single pass loses precision on
// rows with a large mean.
template <typename T>
void RowMoments(const T* x, int64_t len, double eps, double* mean, double* inv_std) {
  double sum = 0;
  for (int64_t i = 0; i < len; ++i) sum += static_cast<double>(x[i]);
  const double m = len > 0 ? sum / static_cast<double>(len) : 0.0;
  double sq = 0;
  for (int64_t i = 0; i < len; ++i) {
    const double d = static_cast<double>(x[i]) - m;
    sq += d * d;
  }
  const double var = len > 0 ? sq / static_cast<double>(len) : 0.0;
  *mean = m;
  *inv_std = 1.0 / std::sqrt(var + eps);
}

// Whether a loop over `n` elements is worth OpenMP's start-up.
bool Parallel(const KernelContext& ctx, int64_t n) {
  return ctx.num_threads > 1 && n >= kParallelThreshold;
}

// Stores `v` into a fresh output of a floating dtype (Mean and InvStdDev).
Status WriteStats(KernelContext& ctx, size_t i, DataType dtype, Shape shape,
                  const std::vector<double>& v) {
  if (!ctx.output_wanted(i)) return Status::Ok();
  Tensor& t = ctx.Output(i, dtype, std::move(shape));
  const size_t n = v.size();
  switch (dtype) {
    case DataType::kFloat32:
      for (size_t k = 0; k < n; ++k) t.data<float>()[k] = static_cast<float>(v[k]);
      break;
    case DataType::kFloat64:
      std::memcpy(t.data<double>(), v.data(), n * sizeof(double));
      break;
    case DataType::kFloat16:
      for (size_t k = 0; k < n; ++k)
        t.data<Float16>()[k] = Float16::FromFloat(static_cast<float>(v[k]));
      break;
    default:  // kBFloat16, the only other dtype StashType admits
      for (size_t k = 0; k < n; ++k)
        t.data<BFloat16>()[k] = BFloat16::FromFloat(static_cast<float>(v[k]));
      break;
  }
  return Status::Ok();
}

// The dtype named by the stash_type attribute (an ONNX TensorProto type number).
Status StashType(const KernelContext& ctx, DataType* out) {
  const int64_t s = ctx.node.AttrInt("stash_type", 1);
  const DataType d = static_cast<DataType>(s);
  if (d != DataType::kFloat32 && d != DataType::kFloat64 && d != DataType::kFloat16 &&
      d != DataType::kBFloat16)
    return ctx.Error("stash_type " + std::to_string(s) + " is not a floating-point type");
  *out = d;
  return Status::Ok();
}

// Element strides of `in` in the coordinates of `out` (0 along broadcast dims); `in` must
// broadcast to `out`.
std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out) {
  std::vector<int64_t> s(out.size(), 0);
  const size_t lead = out.size() - in.size();
  int64_t stride = 1;
  for (size_t i = in.size(); i-- > 0;) {
    s[lead + i] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return s;
}

// Input i widened to float32 when it is float16/bfloat16 (the loops run on float and double).
const Tensor* Widened(const KernelContext& ctx, size_t i, Tensor* storage) {
  const Tensor* t = ctx.input(i);
  if (!t || !IsHalf(t->dtype())) return t;
  *storage = WidenToFloat32(*t, ctx.num_threads);
  return storage;
}

// Narrows output 0 back to `half` when the input was float16/bfloat16.
void NarrowOutput0(KernelContext& ctx, DataType half) {
  if (!IsHalf(half)) return;
  Tensor wide = ctx.outputs()[0];
  ctx.SetOutput(0, NarrowFromFloat32(wide, half, ctx));
}

// ---- LayerNormalization ---------------------------------------------------------------------

template <typename T>
void LayerNormRows(const KernelContext& ctx, const Tensor& x, const Tensor& scale,
                   const Tensor* bias, int64_t axis, double eps, Tensor& y,
                   std::vector<double>& mean, std::vector<double>& inv_std) {
  const Shape& xs = x.shape();
  const int64_t rows = static_cast<int64_t>(mean.size());
  const int64_t len = rows > 0 ? x.numel() / rows : 0;
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
#pragma omp parallel for num_threads(ctx.num_threads) schedule(static) if (Parallel(ctx, x.numel()))
  for (int64_t r = 0; r < rows; ++r) RowMoments(xp + r * len, len, eps, &mean[r], &inv_std[r]);

  // Scale and B usually vary only along the row: expanded once to a row of `len` they make a
  // tight loop. Otherwise the row is normalised first and the affine map broadcast over X.
  const Shape row_shape(xs.begin() + axis, xs.end());
  const auto varies_across_rows = [&](const Tensor& t) {
    const std::vector<int64_t> s = BroadcastStrides(t.shape(), xs);
    for (int64_t d = 0; d < axis; ++d)
      if (s[d] != 0) return true;
    return false;
  };
  const bool per_row = !varies_across_rows(scale) && !(bias && varies_across_rows(*bias));
  const auto expand = [&](const Tensor& t) {
    std::vector<T> row(static_cast<size_t>(len));
    const std::vector<int64_t> s = BroadcastStrides(t.shape(), xs);
    StridedCopy(sizeof(T), row.data(), t.data<T>(), row_shape,
                std::vector<int64_t>(s.begin() + axis, s.end()), 1);
    return row;
  };
  std::vector<T> srow, brow;
  if (per_row) {
    srow = expand(scale);
    brow = bias ? expand(*bias) : std::vector<T>(static_cast<size_t>(len), T(0));
  }
#pragma omp parallel for num_threads(ctx.num_threads) schedule(static) if (Parallel(ctx, x.numel()))
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = xp + r * len;
    T* yr = yp + r * len;
    const T m = static_cast<T>(mean[r]), is = static_cast<T>(inv_std[r]);
    if (per_row) {
      for (int64_t j = 0; j < len; ++j) yr[j] = (xr[j] - m) * is * srow[j] + brow[j];
    } else {
      for (int64_t j = 0; j < len; ++j) yr[j] = (xr[j] - m) * is;
    }
  }
  if (per_row) return;
  const BroadcastPlan ps = MakeBroadcastPlan(xs, {xs, scale.shape()});
  BinaryBroadcastLoop(ps, yp, scale.data<T>(), yp, ctx.num_threads, [](T a, T b) { return a * b; });
  if (!bias) return;
  const BroadcastPlan pb = MakeBroadcastPlan(xs, {xs, bias->shape()});
  BinaryBroadcastLoop(pb, yp, bias->data<T>(), yp, ctx.num_threads, [](T a, T b) { return a + b; });
}

Status LayerNormalization(KernelContext& ctx) {
  const Tensor* x0 = ctx.input(0);
  const Tensor* s0 = ctx.input(1);
  const Tensor* b0 = ctx.input(2);
  if (!x0 || !s0) return ctx.Error("LayerNormalization needs X and Scale");
  const DataType dtype = x0->dtype();
  if (s0->dtype() != dtype || (b0 && b0->dtype() != dtype))
    return ctx.Error("X, Scale and B must share one dtype");
  const int64_t rank = static_cast<int64_t>(x0->rank());
  if (rank == 0) return ctx.Error("X must have rank >= 1");
  int64_t axis = ctx.node.AttrInt("axis", -1);
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, rank));
  DataType stash;
  SN_RETURN_IF_ERROR(StashType(ctx, &stash));
  for (const Tensor* t : {s0, b0})
    if (t && !BroadcastsTo(t->shape(), x0->shape()))
      return ctx.Error("Scale and B must broadcast to X " + ShapeToString(x0->shape()) + ", got " +
                       ShapeToString(t->shape()));
  Tensor xw, sw, bw;
  const Tensor* x = Widened(ctx, 0, &xw);
  const Tensor* scale = Widened(ctx, 1, &sw);
  const Tensor* bias = Widened(ctx, 2, &bw);
  int64_t rows = 1;
  Shape stat_shape = x->shape();
  for (int64_t d = 0; d < rank; ++d) {
    if (d < axis)
      rows *= x->dim(static_cast<size_t>(d));
    else
      stat_shape[static_cast<size_t>(d)] = 1;
  }
  std::vector<double> mean(static_cast<size_t>(rows)), inv_std(static_cast<size_t>(rows));
  const double eps = ctx.node.AttrFloat("epsilon", 1e-5f);
  Status st = DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.Output(0, x->dtype(), x->shape());
    LayerNormRows<T>(ctx, *x, *scale, bias, axis, eps, y, mean, inv_std);
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Unsupported(st.message());
  NarrowOutput0(ctx, dtype);
  SN_RETURN_IF_ERROR(WriteStats(ctx, 1, stash, stat_shape, mean));
  return WriteStats(ctx, 2, stash, stat_shape, inv_std);
}

// ---- GroupNormalization ---------------------------------------------------------------------

Status GroupNormalization(KernelContext& ctx) {
  const Tensor* x0 = ctx.input(0);
  if (!x0 || !ctx.input(1) || !ctx.input(2))
    return ctx.Error("GroupNormalization needs X, scale and bias");
  const DataType dtype = x0->dtype();
  if (ctx.input(1)->dtype() != dtype || ctx.input(2)->dtype() != dtype)
    return ctx.Error("X, scale and bias must share one dtype");
  if (x0->rank() < 2)
    return ctx.Error("X must have rank >= 2 (N, C, ...), got " + ShapeToString(x0->shape()));
  if (!ctx.node.HasAttr("num_groups")) return ctx.Error("attribute num_groups is required");
  const int64_t groups = ctx.node.AttrInt("num_groups", 0);
  const int64_t n_batch = x0->dim(0), channels = x0->dim(1);
  if (groups <= 0 || channels % groups != 0)
    return ctx.Error("num_groups " + std::to_string(groups) + " must be positive and divide C " +
                     std::to_string(channels));
  DataType stash;
  SN_RETURN_IF_ERROR(StashType(ctx, &stash));
  // Opset 21 made scale and bias per channel; before, they were per group.
  const bool per_channel = ctx.opset >= 21;
  const int64_t params = per_channel ? channels : groups;
  for (size_t i : {size_t{1}, size_t{2}})
    if (ctx.input(i)->rank() != 1 || ctx.input(i)->dim(0) != params)
      return ctx.Error(
          std::string(i == 1 ? "scale" : "bias") + " must have shape [" + std::to_string(params) +
          "] (one value per " + (per_channel ? "channel" : "group") + " at opset " +
          std::to_string(ctx.opset) + "), got " + ShapeToString(ctx.input(i)->shape()));
  Tensor xw, sw, bw;
  const Tensor* x = Widened(ctx, 0, &xw);
  const Tensor* scale = Widened(ctx, 1, &sw);
  const Tensor* bias = Widened(ctx, 2, &bw);
  const int64_t rows = n_batch * groups;
  const int64_t plane = channels > 0 && n_batch > 0 ? x->numel() / (n_batch * channels) : 0;
  const int64_t group_channels = channels / groups, len = group_channels * plane;
  const double eps = ctx.node.AttrFloat("epsilon", 1e-5f);
  Status st = DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.Output(0, x->dtype(), x->shape());
    const T* xp = x->data<T>();
    const T* sp = scale->data<T>();
    const T* bp = bias->data<T>();
    T* yp = y.data<T>();
#pragma omp parallel for num_threads(ctx.num_threads) \
    schedule(static) if (Parallel(ctx, x->numel()))
    for (int64_t r = 0; r < rows; ++r) {
      double mean, inv_std;
      RowMoments(xp + r * len, len, eps, &mean, &inv_std);
      const int64_t g = r % groups;
      for (int64_t c = 0; c < group_channels; ++c) {
        const int64_t p = per_channel ? g * group_channels + c : g;
        // y = (x - mean) * inv_std * s + b, folded into one multiply-add per element.
        const double a = static_cast<double>(sp[p]) * inv_std;
        const T at = static_cast<T>(a), bt = static_cast<T>(static_cast<double>(bp[p]) - mean * a);
        const T* xc = xp + r * len + c * plane;
        T* yc = yp + r * len + c * plane;
        for (int64_t i = 0; i < plane; ++i) yc[i] = xc[i] * at + bt;
      }
    }
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Unsupported(st.message());
  NarrowOutput0(ctx, dtype);
  return Status::Ok();
}

constexpr OpDef kOps[] = {
    {"GroupNormalization", GroupNormalization, SameShape},
    {"LayerNormalization", LayerNormalization, SameShape},
};

}  // namespace

std::span<const OpDef> LayerNormalizationOps() { return kOps; }

}  // namespace supernova::ops

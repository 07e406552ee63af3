// GridSample (opsets 16 and 20): samples X (N, C, D1..Dr) at the normalised positions of
// `grid` (N, O1..Or, r) into Y (N, C, O1..Or).
//
// Opset 16 is 2-D only and names its modes bilinear/bicubic/nearest; opset 20 takes any number
// of spatial dims and names them linear/cubic/nearest. The arithmetic follows ONNX's
// reference (which follows PyTorch): grid[..., 0] indexes the last spatial dim; a position
// outside the sampling border is first clamped (border) or reflected (reflection) onto it;
// then every interpolation tap is looked up with the padding mode (zeros: outside reads 0).
// Nearest rounds half to even, except in 3-D where PyTorch rounds half away from zero.
// Cubic uses Keys' kernel with a = -0.75.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

enum class Mode { kNearest, kLinear, kCubic };
enum class Padding { kZeros, kBorder, kReflection };

// Reflects x about the borders [lo, hi] until it lies within them.
double Reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const double n = std::floor(dx / range), r = dx - n * range;
    return std::fmod(n, 2.0) == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double dx = x - hi;
    const double n = std::floor(dx / range), r = dx - n * range;
    return std::fmod(n, 2.0) == 0 ? hi - r : lo + r;
  }
  return x;
}

void CubicWeights(double t, double w[4]) {
  constexpr double a = -0.75;
  const double x0 = t + 1, x1 = t, x2 = 1 - t, x3 = 2 - t;
  w[0] = ((a * x0 - 5 * a) * x0 + 8 * a) * x0 - 4 * a;
  w[1] = ((a + 2) * x1 - (a + 3)) * x1 * x1 + 1;
  w[2] = ((a + 2) * x2 - (a + 3)) * x2 * x2 + 1;
  w[3] = ((a * x3 - 5 * a) * x3 + 8 * a) * x3 - 4 * a;
}

struct Geometry {
  Mode mode;
  Padding padding;
  bool align_corners;
  std::vector<int64_t> dims;     // D1..Dr
  std::vector<int64_t> strides;  // of each spatial dim within one channel plane
};

// The taps of one spatial dim for a sampling position `v` (normalised, in [-1, 1] inside):
// element indices (-1: reads zero) and their weights. Returns how many.
int Taps(const Geometry& g, size_t d, double v, int64_t idx[4], double w[4]) {
  const int64_t size = g.dims[d];
  const double lo = g.align_corners ? 0.0 : -0.5;
  const double hi = g.align_corners ? static_cast<double>(size - 1) : size - 0.5;
  double x = g.align_corners ? (v + 1) / 2 * static_cast<double>(size - 1)
                             : ((v + 1) * static_cast<double>(size) - 1) / 2;
  if (std::isnan(x)) {
    idx[0] = -1;
    w[0] = 0;
    return 1;
  }
  if (g.mode == Mode::kNearest) x = g.dims.size() == 3 ? std::round(x) : std::nearbyint(x);
  if (x < lo || x > hi) {
    if (g.padding == Padding::kBorder) x = std::clamp(x, 0.0, static_cast<double>(size - 1));
    if (g.padding == Padding::kReflection) x = Reflect(x, lo, hi);
  }
  // Far outside (zeros padding) every tap reads zero; the clamp keeps the casts defined. An
  // infinite position reflects to NaN, which reads zero too.
  if (std::isnan(x)) {
    idx[0] = -1;
    w[0] = 0;
    return 1;
  }
  x = std::clamp(x, -1e15, 1e15);
  int n = 1;
  int64_t first;
  if (g.mode == Mode::kNearest) {
    first = static_cast<int64_t>(x);  // truncation, as the reference's astype(int32)
    w[0] = 1;
  } else if (g.mode == Mode::kLinear) {
    first = static_cast<int64_t>(std::floor(x));
    const double t = x - static_cast<double>(first);
    w[0] = 1 - t;
    w[1] = t;
    n = 2;
  } else {
    const int64_t f = static_cast<int64_t>(std::floor(x));
    CubicWeights(x - static_cast<double>(f), w);
    first = f - 1;
    n = 4;
  }
  for (int k = 0; k < n; ++k) {
    int64_t i = first + k;
    if (g.padding == Padding::kZeros) {
      if (i < 0 || i >= size) i = -1;
    } else if (g.padding == Padding::kBorder) {
      i = std::clamp<int64_t>(i, 0, size - 1);
    } else {
      i = static_cast<int64_t>(Reflect(static_cast<double>(i), lo, hi));
      i = std::clamp<int64_t>(i, 0, size - 1);
    }
    idx[k] = i;
  }
  return n;
}

template <typename T, typename G>
void Sample(const Geometry& g, const Tensor& x, const Tensor& grid, Tensor& y, int threads) {
  const size_t r = g.dims.size();
  const int64_t n_batch = x.dim(0), channels = x.dim(1);
  int64_t plane = 1, points = 1;
  for (int64_t d : g.dims) plane *= d;
  for (size_t d = 1; d + 1 < grid.rank(); ++d) points *= grid.dim(d);
  const T* xp = x.data<T>();
  const G* gp = grid.data<G>();
  T* yp = y.data<T>();
  const int64_t work = n_batch * points;
#pragma omp parallel num_threads(threads) if (threads > 1 && work * channels >= (1 << 14))
  {
    std::vector<int64_t> offsets;
    std::vector<double> weights;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < work; ++t) {
      const int64_t n = t / points, p = t % points;
      const G* pos = gp + t * static_cast<int64_t>(r);
      // Taps of every spatial dim, then their products: the (offset, weight) pairs that read
      // inside X, shared by all channels.
      int64_t idx[16][4];
      double w[16][4];
      int count[16];
      for (size_t d = 0; d < r; ++d)
        count[d] = Taps(g, d, static_cast<double>(pos[r - 1 - d]), idx[d], w[d]);
      offsets.clear();
      weights.clear();
      int at[16] = {};
      while (true) {
        int64_t off = 0;
        double wt = 1;
        for (size_t d = 0; d < r && off >= 0; ++d) {
          const int64_t i = idx[d][at[d]];
          off = i < 0 ? -1 : off + i * g.strides[d];
          wt *= w[d][at[d]];
        }
        if (off >= 0 && wt != 0) {
          offsets.push_back(off);
          weights.push_back(wt);
        }
        size_t d = r;
        while (d > 0 && ++at[d - 1] == count[d - 1]) at[--d] = 0;
        if (d == 0) break;
      }
      for (int64_t c = 0; c < channels; ++c) {
        const T* xc = xp + (n * channels + c) * plane;
        double s = 0;
        for (size_t k = 0; k < offsets.size(); ++k)
          s += weights[k] * static_cast<double>(xc[offsets[k]]);
        yp[(n * channels + c) * points + p] = static_cast<T>(s);
      }
    }
  }
}

Status GridSample(KernelContext& ctx) {
  if (AnyHalfInput(ctx)) return RunWidened(ctx, GridSample);
  const Tensor* x = ctx.input(0);
  const Tensor* grid = ctx.input(1);
  if (!x || !grid) return ctx.Error("GridSample needs X and grid");
  const size_t r = x->rank() >= 2 ? x->rank() - 2 : 0;
  if (x->rank() < 3)
    return ctx.Error("X must be (N, C, D1, ...), got " + ShapeToString(x->shape()));
  if (ctx.opset < 20 && r != 2)
    return ctx.Error("X must be 4-D before opset 20, got " + ShapeToString(x->shape()));
  if (r > 16) return ctx.Unsupported("more than 16 spatial dims");
  if (grid->rank() != r + 2 || grid->dim(0) != x->dim(0) ||
      grid->dim(r + 1) != static_cast<int64_t>(r))
    return ctx.Error("grid must be (N, O1..O" + std::to_string(r) + ", " + std::to_string(r) +
                     ") for X " + ShapeToString(x->shape()) + ", got " +
                     ShapeToString(grid->shape()));
  Geometry g;
  const bool v20 = ctx.opset >= 20;
  const std::string mode = ctx.node.AttrString("mode", v20 ? "linear" : "bilinear");
  if (mode == (v20 ? "linear" : "bilinear"))
    g.mode = Mode::kLinear;
  else if (mode == (v20 ? "cubic" : "bicubic"))
    g.mode = Mode::kCubic;
  else if (mode == "nearest")
    g.mode = Mode::kNearest;
  else
    return ctx.Error("mode '" + mode + "' is not one of " +
                     (v20 ? "linear, nearest, cubic" : "bilinear, nearest, bicubic") +
                     " at opset " + std::to_string(ctx.opset));
  const std::string padding = ctx.node.AttrString("padding_mode", "zeros");
  if (padding == "zeros")
    g.padding = Padding::kZeros;
  else if (padding == "border")
    g.padding = Padding::kBorder;
  else if (padding == "reflection")
    g.padding = Padding::kReflection;
  else
    return ctx.Error("padding_mode '" + padding + "' is not zeros, border or reflection");
  g.align_corners = ctx.node.AttrInt("align_corners", 0) != 0;
  Shape out_shape = {x->dim(0), x->dim(1)};
  for (size_t d = 0; d < r; ++d) {
    g.dims.push_back(x->dim(d + 2));
    out_shape.push_back(grid->dim(d + 1));
  }
  g.strides = Strides(Shape(g.dims.begin(), g.dims.end()));
  for (int64_t d : g.dims)
    if (d == 0 && NumElements(out_shape) > 0) return ctx.Error("X has an empty spatial dim");
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), out_shape, &y));
  const int threads = std::max(1, ctx.num_threads);
  return DispatchFloat(x->dtype(), [&](auto xt) {
    using T = typename decltype(xt)::type;
    return DispatchFloat(grid->dtype(), [&](auto gt) {
      using G = typename decltype(gt)::type;
      Sample<T, G>(g, *x, *grid, *y, threads);
      return Status::Ok();
    });
  });
}

std::optional<Dims> InferGridSample(InferContext& ctx) {
  const InferInput& x = ctx.in(0);
  const InferInput& grid = ctx.in(1);
  if (!x.has_rank() || !grid.has_rank() || x.dims().size() < 3) return std::nullopt;
  if (grid.dims().size() != x.dims().size()) return std::nullopt;
  Dims out = {x.dims()[0], x.dims()[1]};
  for (size_t d = 1; d + 1 < grid.dims().size(); ++d) out.push_back(grid.dims()[d]);
  return out;
}

constexpr OpDef kOps[] = {
    {"GridSample", GridSample, InferGridSample},
};

}  // namespace

std::span<const OpDef> GridSampleOps() { return kOps; }

}  // namespace supernova::ops

// AffineGrid (opset 20): the sampling grid of an affine transform, for GridSample. theta
// [N, 2, 3] maps the normalised output coordinates (x, y, 1) of a [N, C, H, W] image to input
// coordinates, giving [N, H, W, 2]; [N, 3, 4] does the same in 3-D, giving [N, D, H, W, 3].
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// Normalised coordinate of index i of n in [-1, 1]: pixel centres, or with align_corners the
// corner pixels' centres at -1 and 1.
double Normalised(int64_t i, int64_t n, bool align_corners) {
  if (align_corners) return n > 1 ? -1.0 + 2.0 * static_cast<double>(i) / (n - 1) : 0.0;
  return (2.0 * static_cast<double>(i) + 1.0) / static_cast<double>(n) - 1.0;
}

}  // namespace

Status AffineGrid(KernelContext& ctx) {
  const Tensor* theta = ctx.input(0);
  const Tensor* size = ctx.input(1);
  if (!theta || !size) return ctx.Error("needs theta and size");
  std::vector<int64_t> sz;
  SN_RETURN_IF_ERROR(ReadInts(ctx, *size, "size", &sz));
  const bool align = ctx.node.AttrInt("align_corners", 0) != 0;
  if (sz.size() != 4 && sz.size() != 5)
    return ctx.Error("size must be [N, C, H, W] or [N, C, D, H, W]");
  const int64_t dims = static_cast<int64_t>(sz.size()) - 2;  // 2 or 3 spatial axes
  const int64_t n = sz[0];
  if (theta->rank() != 3 || theta->dim(0) != n || theta->dim(1) != dims ||
      theta->dim(2) != dims + 1)
    return ctx.Error("theta must be [N, " + std::to_string(dims) + ", " + std::to_string(dims + 1) +
                     "] for size of rank " + std::to_string(sz.size()) + ", got " +
                     ShapeToString(theta->shape()));
  for (int64_t d : sz)
    if (d < 0) return ctx.Error("negative size");
  const int64_t depth = dims == 3 ? sz[2] : 1, h = sz[sz.size() - 2], w = sz[sz.size() - 1];
  Shape out_shape = {n};
  if (dims == 3) out_shape.push_back(depth);
  out_shape.push_back(h);
  out_shape.push_back(w);
  out_shape.push_back(dims);
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, theta->dtype(), out_shape, &y));
  Status s = DispatchFloat(theta->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* th = theta->data<T>();
    T* out = y->data<T>();
    for (int64_t b = 0; b < n; ++b) {
      const T* m = th + b * dims * (dims + 1);
      for (int64_t k = 0; k < depth; ++k)
        for (int64_t i = 0; i < h; ++i)
          for (int64_t j = 0; j < w; ++j) {
            // The base point is (x, y[, z], 1): x along W, y along H, z along D.
            const double base[4] = {Normalised(j, w, align), Normalised(i, h, align),
                                    dims == 3 ? Normalised(k, depth, align) : 1.0, 1.0};
            for (int64_t r = 0; r < dims; ++r) {
              double v = 0;
              for (int64_t c = 0; c < dims; ++c)
                v += static_cast<double>(m[r * (dims + 1) + c]) * base[c];
              v += static_cast<double>(m[r * (dims + 1) + dims]);
              *out++ = static_cast<T>(v);
            }
          }
    }
    return Status::Ok();
  });
  return s.ok() ? s : ctx.Unsupported(s.message());
}

namespace {
constexpr OpDef kOps[] = {
    {"AffineGrid", AffineGrid, SameDtype},
};
}  // namespace

std::span<const OpDef> AffineGridOps() { return kOps; }

}  // namespace supernova::ops

// Col2Im (opset 18): the inverse of im2col. Each column of the input holds one sliding block
// (C x block_shape values) of an image; the blocks are summed back into the image, overlaps
// adding up. Any number of spatial axes.
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status Col2Im(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* image = ctx.input(1);
  const Tensor* block = ctx.input(2);
  if (!x || !image || !block) return ctx.Error("needs input, image_shape and block_shape");
  std::vector<int64_t> im, bl;
  SN_RETURN_IF_ERROR(ReadInts(ctx, *image, "image_shape", &im));
  SN_RETURN_IF_ERROR(ReadInts(ctx, *block, "block_shape", &bl));
  const size_t r = im.size();
  if (r == 0 || bl.size() != r)
    return ctx.Error("image_shape and block_shape must have the same non-zero length");
  if (x->rank() != 3)
    return ctx.Error("input must be [N, C*prod(block), L], got " + ShapeToString(x->shape()));
  const std::vector<int64_t> dil = ctx.node.AttrInts("dilations", std::vector<int64_t>(r, 1));
  const std::vector<int64_t> str = ctx.node.AttrInts("strides", std::vector<int64_t>(r, 1));
  const std::vector<int64_t> pads = ctx.node.AttrInts("pads", std::vector<int64_t>(2 * r, 0));
  if (dil.size() != r || str.size() != r || pads.size() != 2 * r)
    return ctx.Error("dilations, strides and pads must match the image's rank");
  int64_t block_size = 1, blocks = 1;
  std::vector<int64_t> per_axis(r);  // blocks along each axis
  for (size_t a = 0; a < r; ++a) {
    if (bl[a] <= 0 || im[a] < 0 || dil[a] <= 0 || str[a] <= 0)
      return ctx.Error("block_shape, dilations and strides must be positive");
    block_size *= bl[a];
    const int64_t span = dil[a] * (bl[a] - 1) + 1;
    per_axis[a] = (im[a] + pads[a] + pads[a + r] - span) / str[a] + 1;
    if (per_axis[a] <= 0) return ctx.Error("block larger than the padded image");
    blocks *= per_axis[a];
  }
  if (x->dim(1) % block_size != 0)
    return ctx.Error("input dim 1 (" + std::to_string(x->dim(1)) +
                     ") is not a multiple of the block size " + std::to_string(block_size));
  if (x->dim(2) != blocks)
    return ctx.Error("input has " + std::to_string(x->dim(2)) + " blocks, the geometry gives " +
                     std::to_string(blocks));
  const int64_t n = x->dim(0), c = x->dim(1) / block_size;
  Shape out_shape = {n, c};
  out_shape.insert(out_shape.end(), im.begin(), im.end());
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), out_shape, &y));
  const std::vector<int64_t> ys = Strides(Shape(im.begin(), im.end()));
  int64_t plane = 1;
  for (int64_t d : im) plane *= d;
  Status s = DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x->data<T>();
    T* yp = y->data<T>();
    std::fill(yp, yp + y->numel(), T(0));
    std::vector<int64_t> k(r), b(r);
    for (int64_t img = 0; img < n * c; ++img) {
      const T* col = xp + img * block_size * blocks;
      T* out = yp + img * plane;
      // For each offset k inside the block and each block position b, one input value lands
      // at b * stride + k * dilation - pad_begin, when that is inside the image.
      for (int64_t kk = 0; kk < block_size; ++kk) {
        for (int64_t t = kk, a = static_cast<int64_t>(r) - 1; a >= 0; --a) {
          k[a] = t % bl[a];
          t /= bl[a];
        }
        for (int64_t bb = 0; bb < blocks; ++bb) {
          int64_t pos = 0;
          bool inside = true;
          for (int64_t t = bb, a = static_cast<int64_t>(r) - 1; a >= 0; --a) {
            b[a] = t % per_axis[a];
            t /= per_axis[a];
            const int64_t p = b[a] * str[a] + k[a] * dil[a] - pads[a];
            if (p < 0 || p >= im[a]) inside = false;
            pos += p * ys[a];
          }
          if (inside) out[pos] += col[kk * blocks + bb];
        }
      }
    }
    return Status::Ok();
  });
  return s.ok() ? s : ctx.Unsupported(s.message());
}

namespace {
constexpr OpDef kOps[] = {
    {"Col2Im", Col2Im, SameDtype},
};
}  // namespace

std::span<const OpDef> Col2ImOps() { return kOps; }

}  // namespace supernova::ops

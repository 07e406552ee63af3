#include "ops/infer.h"

#include <algorithm>
#include <string>

namespace supernova::ops {
namespace {

using ir::Dim;

Dim Pooled(const Dim& in, int64_t k, int64_t stride, int64_t pad_total, int64_t dilation,
           bool ceil_mode) {
  if (!in.known()) return Dim{};
  const int64_t eff = (k - 1) * dilation + 1;
  const int64_t span = in.value + pad_total - eff;
  if (span < 0) return Dim{};
  const int64_t n = ceil_mode ? (span + stride - 1) / stride : span / stride;
  return Dim::Known(n + 1);
}

}  // namespace

std::optional<Dims> SameShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  return ctx.in(0).dims();
}

std::optional<Dims> SameDtype(InferContext&) { return std::nullopt; }

std::optional<Dims> BroadcastShape(InferContext& ctx) {
  std::vector<const Dims*> dims;
  for (const InferInput& in : ctx.inputs) {
    if (!in.has_rank()) return std::nullopt;
    dims.push_back(&in.dims());
  }
  return BroadcastDims(dims);
}

std::optional<Dims> BroadcastToBool(InferContext& ctx) {
  ctx.dtype = DataType::kBool;
  return BroadcastShape(ctx);
}

std::optional<std::vector<int64_t>> ConstInts(const InferInput& in) {
  if (!in.constant) return std::nullopt;
  const Tensor& t = *in.constant;
  if (t.dtype() != DataType::kInt64 && t.dtype() != DataType::kInt32) return std::nullopt;
  std::vector<int64_t> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(t.GetAsInt64(i));
  return v;
}

std::optional<Dims> BroadcastDims(const std::vector<const Dims*>& dims) {
  size_t rank = 0;
  for (const Dims* d : dims) rank = std::max(rank, d->size());
  Dims out(rank, Dim::Known(1));
  for (const Dims* d : dims) {
    const size_t off = rank - d->size();
    for (size_t i = 0; i < d->size(); ++i) {
      Dim& o = out[off + i];
      const Dim& x = (*d)[i];
      if (x.known() && x.value == 1) continue;
      if (o.known() && o.value == 1)
        o = x;
      else if (!(o == x)) {
        if (x.known() && o.known()) return std::nullopt;  // incompatible: leave to run time
        if (x.known()) o = x;  // a known dim beats a symbol that must equal it
      }
    }
  }
  return out;
}

std::optional<Dims> WindowShape(const InferContext& ctx, bool is_conv) {
  const ir::Node& n = ctx.node;
  if (!ctx.in(0).has_rank()) return std::nullopt;
  const Dims& x = ctx.in(0).dims();
  if (x.size() < 3) return std::nullopt;
  const size_t sp = x.size() - 2;
  std::vector<int64_t> kernel = n.AttrInts("kernel_shape");
  Dim channels = x[1];
  if (is_conv) {
    const InferInput& w = ctx.in(1);
    if (!w.has_rank() || w.dims().size() != x.size()) return std::nullopt;
    channels = w.dims()[0];
    if (kernel.empty())
      for (size_t i = 0; i < sp; ++i) {
        if (!w.dims()[2 + i].known()) return std::nullopt;
        kernel.push_back(w.dims()[2 + i].value);
      }
  }
  if (kernel.size() != sp) return std::nullopt;
  const auto strides = n.AttrInts("strides", std::vector<int64_t>(sp, 1));
  const auto dil = n.AttrInts("dilations", std::vector<int64_t>(sp, 1));
  const auto pads = n.AttrInts("pads", std::vector<int64_t>(2 * sp, 0));
  const std::string auto_pad = n.AttrString("auto_pad", "NOTSET");
  const bool ceil_mode = n.AttrInt("ceil_mode", 0) != 0;
  if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp) return std::nullopt;
  Dims out = {x[0], channels};
  for (size_t i = 0; i < sp; ++i) {
    const Dim& d = x[2 + i];
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out.push_back(d.known() ? Dim::Known((d.value + strides[i] - 1) / strides[i]) : Dim{});
    } else if (auto_pad == "VALID") {
      out.push_back(Pooled(d, kernel[i], strides[i], 0, dil[i], false));
    } else {
      out.push_back(Pooled(d, kernel[i], strides[i], pads[i] + pads[i + sp], dil[i], ceil_mode));
    }
  }
  return out;
}

}  // namespace supernova::ops

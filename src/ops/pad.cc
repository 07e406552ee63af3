#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// Source index along one dim for output index o (input index o - before), or -1 for the
// constant value. Reflection repeats as numpy.pad does when a pad exceeds the dim.
int64_t SourceIndex(int64_t o, int64_t before, int64_t dim, PadMode mode) {
  int64_t i = o - before;
  if (i >= 0 && i < dim) return i;
  switch (mode) {
    case PadMode::kConstant:
      return -1;
    case PadMode::kEdge:
      return i < 0 ? 0 : dim - 1;
    case PadMode::kWrap:
      return ((i % dim) + dim) % dim;
    case PadMode::kReflect: {
      if (dim == 1) return 0;
      const int64_t period = 2 * (dim - 1);
      int64_t m = ((i % period) + period) % period;
      return m < dim ? m : period - m;
    }
  }
  return -1;
}

}  // namespace

Status Pad(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const int64_t r = static_cast<int64_t>(x->rank());
  const std::string mode_name = ctx.node.AttrString("mode", "constant");
  PadMode mode;
  if (mode_name == "constant")
    mode = PadMode::kConstant;
  else if (mode_name == "reflect")
    mode = PadMode::kReflect;
  else if (mode_name == "edge")
    mode = PadMode::kEdge;
  else if (mode_name == "wrap")
    mode = PadMode::kWrap;
  else
    return ctx.Unsupported("mode '" + mode_name + "' not supported");

  std::vector<int64_t> pads, axes;
  double value = 0;
  const Tensor* value_t = nullptr;
  if (ctx.opset >= 11) {
    const Tensor* p = ctx.input(1);
    if (!p) return ctx.Error("missing pads input");
    SN_RETURN_IF_ERROR(ReadInts(ctx, *p, "pads", &pads));
    value_t = ctx.input(2);
    if (value_t && value_t->numel() != 1) return ctx.Error("constant_value must be a scalar");
    if (value_t && value_t->dtype() != x->dtype())
      return ctx.Error("constant_value dtype " + DataTypeName(value_t->dtype()) +
                       " differs from data " + DataTypeName(x->dtype()));
    if (const Tensor* a = ctx.input(3)) SN_RETURN_IF_ERROR(ReadInts(ctx, *a, "axes", &axes));
  } else {
    pads = ctx.node.AttrInts(ctx.opset >= 2 ? "pads" : "paddings");
    value = ctx.node.AttrFloat("value", 0.0f);
  }
  if (axes.empty())
    for (int64_t k = 0; k < r; ++k) axes.push_back(k);
  const int64_t na = static_cast<int64_t>(axes.size());
  if (static_cast<int64_t>(pads.size()) != 2 * na)
    return ctx.Error("pads has " + std::to_string(pads.size()) + " entries, expected " +
                     std::to_string(2 * na));
  std::vector<int64_t> before(static_cast<size_t>(r), 0), after(static_cast<size_t>(r), 0);
  for (int64_t i = 0; i < na; ++i) {
    int64_t a = axes[i];
    SN_RETURN_IF_ERROR(CheckAxis(ctx, &a, r));
    before[a] = pads[i];
    after[a] = pads[i + na];
  }
  Shape out_shape(static_cast<size_t>(r));
  for (int64_t k = 0; k < r; ++k) {
    const int64_t dim = x->dim(static_cast<size_t>(k));
    // Pads beyond 2^40 cannot describe a real tensor; rejecting them keeps the sum exact.
    constexpr int64_t kMaxPad = int64_t{1} << 40;
    if (before[k] > kMaxPad || before[k] < -kMaxPad || after[k] > kMaxPad || after[k] < -kMaxPad)
      return ctx.Error("pads " + ShapeToString(pads) + " are too large");
    out_shape[k] = dim + before[k] + after[k];
    if (out_shape[k] < 0)
      return ctx.Error("pads " + ShapeToString(pads) + " remove more than dim " +
                       std::to_string(k) + " of size " + std::to_string(dim));
    // Non-constant modes read existing elements: an empty dim has none to read.
    if (mode != PadMode::kConstant && dim == 0 && out_shape[k] > 0)
      return ctx.Error("cannot pad an empty dim in " + mode_name + " mode");
  }
  const size_t es = DataTypeSize(x->dtype());
  if (es == 0) return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), out_shape, &y));
  if (y->numel() == 0) return Status::Ok();
  if (r == 0) {
    std::memcpy(y->raw_data(), x->raw_data(), es);
    return Status::Ok();
  }

  // Index maps per dim, so the inner loops only look things up.
  std::vector<std::vector<int64_t>> map(static_cast<size_t>(r));
  for (int64_t k = 0; k < r; ++k) {
    map[k].resize(static_cast<size_t>(out_shape[k]));
    for (int64_t o = 0; o < out_shape[k]; ++o)
      map[k][o] = SourceIndex(o, before[k], x->dim(static_cast<size_t>(k)), mode);
  }
  const std::vector<int64_t> in_strides = Strides(x->shape());
  const int64_t w = out_shape[r - 1];
  const int64_t rows = y->numel() / w;
  const int64_t lo = std::clamp<int64_t>(before[r - 1], 0, w);  // [lo, hi): plain copy
  const int64_t hi = std::clamp<int64_t>(before[r - 1] + x->dim(r - 1), lo, w);

  return DispatchBySize(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T fill{};
    if (value_t) {
      std::memcpy(&fill, value_t->raw_data(), sizeof(T));
    } else if (value != 0) {
      // Opset < 11 gives the value as a float attribute: convert to the data type.
      Status s = DispatchNumeric(x->dtype(), [&](auto t2) {
        using U = typename decltype(t2)::type;
        if constexpr (sizeof(U) == sizeof(T)) {
          U u = static_cast<U>(value);
          std::memcpy(&fill, &u, sizeof(T));
        }
        return Status::Ok();
      });
      if (!s.ok()) return ctx.Unsupported(s.message());
    }
    const T* src = x->data<T>();
    T* dst = y->data<T>();
    const std::vector<int64_t>& last = map[r - 1];
    const int nt = y->nbytes() >= (256u << 10) ? ctx.num_threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t row = 0; row < rows; ++row) {
      T* d = dst + row * w;
      int64_t off = 0, rem = row;
      bool constant_row = false;
      for (int64_t k = r - 2; k >= 0; --k) {
        const int64_t i = map[k][rem % out_shape[k]];
        rem /= out_shape[k];
        if (i < 0) constant_row = true;
        off += i * in_strides[k];
      }
      if (constant_row) {
        std::fill(d, d + w, fill);
        continue;
      }
      const T* s = src + off;
      for (int64_t j = 0; j < lo; ++j) d[j] = last[j] < 0 ? fill : s[last[j]];
      if (hi > lo) std::memcpy(d + lo, s + (lo - before[r - 1]), (hi - lo) * sizeof(T));
      for (int64_t j = hi; j < w; ++j) d[j] = last[j] < 0 ? fill : s[last[j]];
    }
    return Status::Ok();
  });
}

namespace {
// Rank kept; dims known when the pads are.
std::optional<Dims> PadShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  Dims out = ctx.in(0).dims();
  std::optional<std::vector<int64_t>> pads;
  if (ctx.opset >= 11)
    pads = ConstInts(ctx.in(1));
  else
    pads = ctx.node.AttrInts("pads");
  const bool all_axes = ctx.opset < 18 || ctx.inputs.size() < 4 || !ctx.in(3).type;
  for (size_t i = 0; i < out.size(); ++i) {
    if (pads && all_axes && pads->size() == 2 * out.size() && out[i].known()) {
      DimMath d(out[i].value);
      d += (*pads)[i];
      d += (*pads)[i + out.size()];
      out[i] = d.dim();
    } else if (!pads || !all_axes || pads->size() != 2 * out.size()) {
      out[i] = ir::Dim{};
    }
  }
  return out;
}

constexpr OpDef kOps[] = {
    {"Pad", Pad, PadShape, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> PadOps() { return kOps; }

}  // namespace supernova::ops

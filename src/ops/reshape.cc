// The view ops: Reshape, Flatten, Squeeze and Unsqueeze only change the shape, so their
// outputs alias the input buffer.
#include <algorithm>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

Status SetView(KernelContext& ctx, const Tensor& x, Shape shape) {
  Result<Tensor> v = x.Reshaped(std::move(shape));
  if (!v.ok()) return ctx.Error(v.status().message());
  ctx.SetOutput(0, std::move(v).value());
  return Status::Ok();
}

// Axes from the attribute (before `input_opset`) or from input 1 (from it on).
Status ReadAxes(const KernelContext& ctx, int64_t input_opset, std::vector<int64_t>* axes,
                bool* given) {
  *given = false;
  if (ctx.opset >= input_opset) {
    if (const Tensor* a = ctx.input(1)) {
      SN_RETURN_IF_ERROR(ReadInts(ctx, *a, "axes", axes));
      *given = true;
    }
  } else if (ctx.node.HasAttr("axes")) {
    *axes = ctx.node.AttrInts("axes");
    *given = true;
  }
  return Status::Ok();
}

}  // namespace

Status Reshape(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  std::vector<int64_t> shape;
  if (ctx.opset >= 5) {
    const Tensor* s = ctx.input(1);
    if (!s) return ctx.Error("missing shape input");
    SN_RETURN_IF_ERROR(ReadInts(ctx, *s, "shape", &shape));
  } else {
    shape = ctx.node.AttrInts("shape");
  }
  const bool allowzero = ctx.opset >= 14 && ctx.node.AttrInt("allowzero", 0) != 0;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowzero) {
      if (i >= x->rank())
        return ctx.Error("shape " + ShapeToString(shape) + " copies dim " + std::to_string(i) +
                         " of an input of rank " + std::to_string(x->rank()));
      shape[i] = x->dim(i);
    }
    if (shape[i] == -1) {
      if (infer >= 0) return ctx.Error("shape " + ShapeToString(shape) + " has more than one -1");
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      return ctx.Error("invalid dim in shape " + ShapeToString(shape));
    } else if (__builtin_mul_overflow(known, shape[i], &known)) {
      return ctx.Error("shape " + ShapeToString(shape) + " counts more elements than int64 holds");
    }
  }
  if (infer >= 0) {
    if (known == 0) {
      if (x->numel() != 0)
        return ctx.Error("cannot infer -1 in " + ShapeToString(shape) + " for input " +
                         ShapeToString(x->shape()));
      shape[static_cast<size_t>(infer)] = 0;
    } else {
      if (x->numel() % known != 0)
        return ctx.Error("cannot reshape " + ShapeToString(x->shape()) + " to " +
                         ShapeToString(shape));
      shape[static_cast<size_t>(infer)] = x->numel() / known;
    }
  }
  return SetView(ctx, *x, std::move(shape));
}

Status Flatten(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const int64_t r = static_cast<int64_t>(x->rank());
  int64_t axis = ctx.node.AttrInt("axis", 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r)
    return ctx.Error("axis " + std::to_string(ctx.node.AttrInt("axis", 1)) +
                     " out of range for rank " + std::to_string(r));
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < r; ++k) (k < axis ? outer : inner) *= x->dim(static_cast<size_t>(k));
  return SetView(ctx, *x, {outer, inner});
}

Status Squeeze(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const int64_t r = static_cast<int64_t>(x->rank());
  std::vector<int64_t> axes;
  bool given;
  SN_RETURN_IF_ERROR(ReadAxes(ctx, 13, &axes, &given));
  std::vector<bool> drop(static_cast<size_t>(r), false);
  if (!given || axes.empty()) {  // an empty axes list also means "every size-1 dim"
    for (int64_t k = 0; k < r; ++k) drop[k] = x->dim(static_cast<size_t>(k)) == 1;
  }
  for (int64_t a : axes) {
    SN_RETURN_IF_ERROR(CheckAxis(ctx, &a, r));
    if (x->dim(static_cast<size_t>(a)) != 1)
      return ctx.Error("cannot squeeze axis " + std::to_string(a) + " of size " +
                       std::to_string(x->dim(static_cast<size_t>(a))));
    drop[static_cast<size_t>(a)] = true;
  }
  Shape shape;
  for (int64_t k = 0; k < r; ++k)
    if (!drop[k]) shape.push_back(x->dim(static_cast<size_t>(k)));
  return SetView(ctx, *x, std::move(shape));
}

Status Unsqueeze(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  std::vector<int64_t> axes;
  bool given;
  SN_RETURN_IF_ERROR(ReadAxes(ctx, 13, &axes, &given));
  if (!given) return ctx.Error("axes are required");
  const int64_t r = static_cast<int64_t>(x->rank() + axes.size());
  std::vector<bool> inserted(static_cast<size_t>(r), false);
  for (int64_t a : axes) {
    SN_RETURN_IF_ERROR(CheckAxis(ctx, &a, r, "output rank"));
    if (inserted[static_cast<size_t>(a)])
      return ctx.Error("axis " + std::to_string(a) + " repeated");
    inserted[static_cast<size_t>(a)] = true;
  }
  Shape shape;
  size_t next = 0;
  for (int64_t k = 0; k < r; ++k) shape.push_back(inserted[k] ? 1 : x->dim(next++));
  return SetView(ctx, *x, std::move(shape));
}

namespace {
std::optional<Dims> FlattenShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  const Dims& x = ctx.in(0).dims();
  int64_t axis = ctx.node.AttrInt("axis", 1);
  if (axis < 0) axis += static_cast<int64_t>(x.size());
  if (axis < 0 || axis > static_cast<int64_t>(x.size())) return std::nullopt;
  int64_t a = 1, b = 1;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!x[i].known()) return Dims{ir::Dim{}, ir::Dim{}};
    (static_cast<int64_t>(i) < axis ? a : b) *= x[i].value;
  }
  return Dims{ir::Dim::Known(a), ir::Dim::Known(b)};
}

std::optional<Dims> ReshapeShape(InferContext& ctx) {
  const InferInput& data = ctx.in(0);
  auto shape = ConstInts(ctx.in(1));
  if (!shape) {  // a computed shape of known length still gives the rank
    const InferInput& s = ctx.in(1);
    if (s.has_rank() && s.dims().size() == 1 && s.dims()[0].known())
      return Dims(s.dims()[0].value, ir::Dim{});
    return std::nullopt;
  }
  Dims out;
  int64_t known = 1, infer = -1;
  bool all_known = data.has_rank();
  int64_t total = 1;
  if (all_known)
    for (const ir::Dim& d : data.dims()) {
      if (!d.known() || __builtin_mul_overflow(total, d.value, &total)) all_known = false;
    }
  // A product past int64 (a hostile shape; the fuzzer's) or a negative entry other than -1
  // leaves nothing to infer the -1 from: known becomes 0, which the check below refuses.
  auto times = [&known](int64_t d) {
    if (d < 0 || __builtin_mul_overflow(known, d, &known)) known = 0;
  };
  for (size_t i = 0; i < shape->size(); ++i) {
    int64_t s = (*shape)[i];
    if (s == 0 && !ctx.node.AttrInt("allowzero", 0)) {
      if (!data.has_rank() || i >= data.dims().size()) return std::nullopt;
      out.push_back(data.dims()[i]);
      if (out.back().known()) times(out.back().value);
    } else if (s == -1) {
      infer = static_cast<int64_t>(i);
      out.push_back(ir::Dim{});
    } else {
      out.push_back(ir::Dim::Known(s));
      times(s);
    }
  }
  if (infer >= 0 && all_known && known > 0) out[infer] = ir::Dim::Known(total / known);
  return out;
}

// Squeeze and Unsqueeze take their axes from an attribute before opset 13, an input since.
std::optional<std::vector<int64_t>> SqueezeAxes(const InferContext& ctx) {
  if (ctx.opset >= 13) return ctx.inputs.size() > 1 ? ConstInts(ctx.in(1)) : std::nullopt;
  return ctx.node.AttrInts("axes");
}

std::optional<Dims> SqueezeShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  const Dims& x = ctx.in(0).dims();
  const auto axes = SqueezeAxes(ctx);
  if (!axes || axes->empty()) {
    Dims out;
    for (const ir::Dim& d : x) {
      if (!d.known()) return std::nullopt;
      if (d.value != 1) out.push_back(d);
    }
    return out;
  }
  std::vector<bool> drop(x.size(), false);
  for (int64_t a : *axes) {
    if (a < 0) a += static_cast<int64_t>(x.size());
    if (a < 0 || a >= static_cast<int64_t>(x.size())) return std::nullopt;
    drop[a] = true;
  }
  Dims out;
  for (size_t i = 0; i < x.size(); ++i)
    if (!drop[i]) out.push_back(x[i]);
  return out;
}

std::optional<Dims> UnsqueezeShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  const Dims& x = ctx.in(0).dims();
  const auto axes = SqueezeAxes(ctx);
  if (!axes) return std::nullopt;
  const int64_t rank = static_cast<int64_t>(x.size() + axes->size());
  std::vector<bool> add(rank, false);
  for (int64_t a : *axes) {
    if (a < 0) a += rank;
    if (a < 0 || a >= rank || add[a]) return std::nullopt;  // a repeated axis is invalid
    add[a] = true;
  }
  Dims out;
  size_t k = 0;
  for (int64_t i = 0; i < rank; ++i) out.push_back(add[i] ? ir::Dim::Known(1) : x[k++]);
  return out;
}

// Each aliases its input with another shape, so they take strings.
constexpr OpDef kOps[] = {
    {.op_type = "Flatten",
     .kernel = Flatten,
     .infer = FlattenShape,
     .kind = OpKind::kDataMovement,
     .strings = true},
    {.op_type = "Reshape",
     .kernel = Reshape,
     .infer = ReshapeShape,
     .kind = OpKind::kDataMovement,
     .strings = true},
    {.op_type = "Squeeze",
     .kernel = Squeeze,
     .infer = SqueezeShape,
     .kind = OpKind::kDataMovement,
     .strings = true},
    {.op_type = "Unsqueeze",
     .kernel = Unsqueeze,
     .infer = UnsqueezeShape,
     .kind = OpKind::kDataMovement,
     .strings = true},
};

}  // namespace

std::span<const OpDef> ReshapeOps() { return kOps; }

}  // namespace supernova::ops

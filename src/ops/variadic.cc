// Multi-input broadcasting ops: Max, Min, Sum, Mean (variadic), Where (3-way) and Expand.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "ops/broadcast.h"
#include "ops/dispatch.h"
#include "ops/fast_math.h"
#include "ops/half_bridge.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

// Copies `in` broadcast to `out` (same element width T).
template <typename T>
void BroadcastCopy(const Tensor& in, Tensor& out, int num_threads) {
  const BroadcastPlan plan = MakeBroadcastPlan(out.shape(), {in.shape()});
  const T* src = in.data<T>();
  T* dst = out.data<T>();
  const int64_t s = plan.inner_stride(0);
  ForEachRow(plan, num_threads, [&](int64_t row, int64_t begin, int64_t end) {
    const T* p = src + plan.RowOffset(0, row);
    T* o = dst + row * plan.inner;
    if (s == 1) {
      std::memcpy(o + begin, p + begin, static_cast<size_t>(end - begin) * sizeof(T));
    } else {
      const T v = p[0];
      for (int64_t i = begin; i < end; ++i) o[i] = v;
    }
  });
}

// Folds two or more inputs into the output pairwise: out = op(in0, in1), then
// out = op(out, in_k) in place.
template <typename T, typename Op>
Status Fold(KernelContext& ctx, Op op, bool mean) {
  const size_t n = ctx.num_inputs();
  std::vector<Shape> shapes;
  for (size_t i = 0; i < n; ++i) shapes.push_back(ctx.input(i)->shape());
  auto shape = BroadcastShapes(shapes);
  if (!shape.ok()) return ctx.Error(shape.status().message());
  Tensor& out = ctx.Output(0, DataTypeOf<T>(), *shape);
  T* o = out.data<T>();
  BinaryBroadcastLoop(MakeBroadcastPlan(*shape, {shapes[0], shapes[1]}), ctx.input(0)->data<T>(),
                      ctx.input(1)->data<T>(), o, ctx.num_threads, op);
  for (size_t i = 2; i < n; ++i)
    BinaryBroadcastLoop(MakeBroadcastPlan(*shape, {*shape, shapes[i]}), static_cast<const T*>(o),
                        ctx.input(i)->data<T>(), o, ctx.num_threads, op);
  if constexpr (std::is_floating_point_v<T>) {
    if (mean) {
      const T scale = T(1) / static_cast<T>(n);
      ParallelBlocks(out.numel(), ctx.num_threads, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) o[i] *= scale;
      });
    }
  }
  return Status::Ok();
}

enum class FoldKind { kMax, kMin, kSum, kMean };

Status Variadic(KernelContext& ctx, KernelFn self, FoldKind kind) {
  const size_t n = ctx.num_inputs();
  if (n == 0) return ctx.Error("expects at least one input");
  for (size_t i = 0; i < n; ++i) {
    if (!ctx.input(i)) return ctx.Error("missing input " + std::to_string(i));
    if (ctx.input(i)->dtype() != ctx.input(0)->dtype())
      return ctx.Error("inputs have different dtypes " + DataTypeName(ctx.input(0)->dtype()) +
                       " and " + DataTypeName(ctx.input(i)->dtype()));
  }
  if (n == 1) {  // the op is the identity on a single input
    ctx.SetOutput(0, *ctx.input(0));
    return Status::Ok();
  }
  if (AnyHalfInput(ctx)) return RunWidened(ctx, self);
  const DataType dt = ctx.input(0)->dtype();
  if ((kind == FoldKind::kSum || kind == FoldKind::kMean) && dt != DataType::kFloat32 &&
      dt != DataType::kFloat64)
    return ctx.Unsupported("dtype " + DataTypeName(dt) + " not supported");
  Status s = DispatchNumeric(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (kind) {
      case FoldKind::kMax:
        return Fold<T>(
            ctx, [](T x, T y) { return Select(x < y, y, x); }, false);
      case FoldKind::kMin:
        return Fold<T>(
            ctx, [](T x, T y) { return Select(y < x, y, x); }, false);
      case FoldKind::kSum:
        return Fold<T>(
            ctx, [](T x, T y) { return T(x + y); }, false);
      case FoldKind::kMean:
        return Fold<T>(
            ctx, [](T x, T y) { return T(x + y); }, true);
    }
    return Status::Ok();
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

template <typename T>
void WhereLoop(const BroadcastPlan& plan, const bool* c, const T* x, const T* y, T* o,
               int num_threads) {
  const int64_t sc = plan.inner_stride(0), sx = plan.inner_stride(1), sy = plan.inner_stride(2);
  ForEachRow(plan, num_threads, [&](int64_t row, int64_t begin, int64_t end) {
    const bool* pc = c + plan.RowOffset(0, row);
    const T* px = x + plan.RowOffset(1, row);
    const T* py = y + plan.RowOffset(2, row);
    T* po = o + row * plan.inner;
    if (sc == 1 && sx == 1 && sy == 1) {
      for (int64_t i = begin; i < end; ++i) po[i] = Select(pc[i], px[i], py[i]);
    } else {
      for (int64_t i = begin; i < end; ++i) po[i] = pc[i * sc] ? px[i * sx] : py[i * sy];
    }
  });
}

}  // namespace

Status Max(KernelContext& ctx) { return Variadic(ctx, Max, FoldKind::kMax); }
Status Min(KernelContext& ctx) { return Variadic(ctx, Min, FoldKind::kMin); }
Status Sum(KernelContext& ctx) { return Variadic(ctx, Sum, FoldKind::kSum); }
Status Mean(KernelContext& ctx) { return Variadic(ctx, Mean, FoldKind::kMean); }

Status Where(KernelContext& ctx) {
  const Tensor* c = ctx.input(0);
  const Tensor* x = ctx.input(1);
  const Tensor* y = ctx.input(2);
  if (!c || !x || !y) return ctx.Error("expects condition, X and Y inputs");
  if (c->dtype() != DataType::kBool)
    return ctx.Error("condition must be bool, got " + DataTypeName(c->dtype()));
  if (x->dtype() != y->dtype())
    return ctx.Error("X and Y have different dtypes " + DataTypeName(x->dtype()) + " and " +
                     DataTypeName(y->dtype()));
  auto shape = BroadcastShapes({c->shape(), x->shape(), y->shape()});
  if (!shape.ok()) return ctx.Error(shape.status().message());
  Tensor& out = ctx.Output(0, x->dtype(), *shape);
  const BroadcastPlan plan = MakeBroadcastPlan(*shape, {c->shape(), x->shape(), y->shape()});
  Status s = DispatchBySize(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    WhereLoop<T>(plan, c->data<bool>(), x->data<T>(), y->data<T>(), out.data<T>(), ctx.num_threads);
    return Status::Ok();
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

Status Expand(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* shape_t = ctx.input(1);
  if (!x || !shape_t) return ctx.Error("expects input and shape");
  if (shape_t->dtype() != DataType::kInt64 || shape_t->rank() != 1)
    return ctx.Error("shape must be a 1-D int64 tensor");
  Shape target(shape_t->data<int64_t>(), shape_t->data<int64_t>() + shape_t->numel());
  for (int64_t d : target)
    if (d < 0) return ctx.Error("shape " + ShapeToString(target) + " has a negative dim");
  auto shape = BroadcastShapes({x->shape(), target});
  if (!shape.ok()) return ctx.Error(shape.status().message());
  if (*shape == x->shape()) {  // nothing to repeat: alias instead of copying
    ctx.SetOutput(0, *x);
    return Status::Ok();
  }
  Tensor& out = ctx.Output(0, x->dtype(), *shape);
  Status s = DispatchBySize(x->dtype(), [&](auto tag) {
    BroadcastCopy<typename decltype(tag)::type>(*x, out, ctx.num_threads);
    return Status::Ok();
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

namespace {
// Where(condition, X, Y): broadcast of all three, of X's type.
std::optional<Dims> WhereShape(InferContext& ctx) {
  ctx.dtype = ctx.in(1).type ? ctx.in(1).type->dtype : DataType::kUndefined;
  return BroadcastShape(ctx);
}

// Expand(input, shape): the input broadcast with a constant shape.
std::optional<Dims> ExpandShape(InferContext& ctx) {
  auto shape = ConstInts(ctx.in(1));
  if (!ctx.in(0).has_rank() || !shape) return std::nullopt;
  Dims target;
  for (int64_t d : *shape) target.push_back(d >= 0 ? ir::Dim::Known(d) : ir::Dim{});
  return BroadcastDims({&ctx.in(0).dims(), &target});
}

constexpr OpDef kOps[] = {
    {"Expand", Expand, ExpandShape, OpKind::kDataMovement},
    {"Max", Max, BroadcastShape},
    {"Mean", Mean, BroadcastShape},
    {"Min", Min, BroadcastShape},
    {"Sum", Sum, BroadcastShape},
    {"Where", Where, WhereShape},
};

}  // namespace

std::span<const OpDef> VariadicOps() { return kOps; }

}  // namespace supernova::ops

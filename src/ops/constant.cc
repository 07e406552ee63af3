// Tensors made from attributes or scalars: Constant, ConstantOfShape, Range.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status Constant(KernelContext& ctx) {
  const ir::Node& n = ctx.node;
  if (n.HasAttr("sparse_value")) return ctx.Unsupported("sparse_value is not supported");
  if (const ir::Attribute* a = n.FindAttr("value")) {
    if (a->kind != ir::Attribute::Kind::kTensor || !a->t.defined())
      return ctx.Unsupported("'value' is not a dense tensor");
    // The attribute's tensor is immutable for the session's lifetime: alias it.
    ctx.SetOutput(0, a->t);
    return Status::Ok();
  }
  if (const ir::Attribute* f = n.FindAttr("value_float")) {
    ctx.SetOutput(0, Tensor::Scalar<float>(f->f));
  } else if (const ir::Attribute* fs = n.FindAttr("value_floats")) {
    ctx.SetOutput(0,
                  Tensor::FromVector<float>(fs->floats, {static_cast<int64_t>(fs->floats.size())}));
  } else if (const ir::Attribute* i = n.FindAttr("value_int")) {
    ctx.SetOutput(0, Tensor::Scalar<int64_t>(i->i));
  } else if (const ir::Attribute* is = n.FindAttr("value_ints")) {
    ctx.SetOutput(0,
                  Tensor::FromVector<int64_t>(is->ints, {static_cast<int64_t>(is->ints.size())}));
  } else if (const ir::Attribute* s = n.FindAttr("value_string")) {
    Tensor& y = ctx.Output(0, DataType::kString, {});
    y.data<std::string>()[0] = s->s;
  } else if (const ir::Attribute* ss = n.FindAttr("value_strings")) {
    Tensor& y = ctx.Output(0, DataType::kString, {static_cast<int64_t>(ss->strings.size())});
    std::copy(ss->strings.begin(), ss->strings.end(), y.data<std::string>());
  } else {
    return ctx.Error("no value attribute");
  }
  return Status::Ok();
}

Status ConstantOfShape(KernelContext& ctx) {
  const Tensor* s = ctx.input(0);
  if (!s) return ctx.Error("missing shape input");
  if (s->dtype() != DataType::kInt64) return ctx.Error("shape must be int64");
  std::vector<int64_t> shape;
  SN_RETURN_IF_ERROR(ReadInts(ctx, *s, "shape", &shape));
  Tensor value = Tensor::Scalar<float>(0.0f);
  if (const ir::Attribute* a = ctx.node.FindAttr("value")) {
    if (a->kind != ir::Attribute::Kind::kTensor || a->t.numel() != 1)
      return ctx.Error("'value' must be a one-element tensor");
    value = a->t;
  }
  const size_t es = DataTypeSize(value.dtype());
  if (es == 0) return ctx.Unsupported("dtype " + DataTypeName(value.dtype()) + " not supported");
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, value.dtype(), shape, &y));
  return DispatchBySize(value.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T v;
    std::memcpy(&v, value.raw_data(), sizeof(T));
    T* d = y->data<T>();
    const int64_t n = y->numel();
    for (int64_t i = 0; i < n; ++i) d[i] = v;
    return Status::Ok();
  });
}

Status Range(KernelContext& ctx) {
  const Tensor* start = ctx.input(0);
  const Tensor* limit = ctx.input(1);
  const Tensor* delta = ctx.input(2);
  if (!start || !limit || !delta) return ctx.Error("start, limit and delta are required");
  if (start->numel() != 1 || limit->numel() != 1 || delta->numel() != 1)
    return ctx.Error("start, limit and delta must be scalars");
  if (limit->dtype() != start->dtype() || delta->dtype() != start->dtype())
    return ctx.Error("start, limit and delta must have the same dtype");
  return DispatchNumeric(start->dtype(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    const T s = start->data<T>()[0], l = limit->data<T>()[0], d = delta->data<T>()[0];
    if (d == T(0)) return ctx.Error("delta must not be 0");
    const double count =
        std::ceil((static_cast<double>(l) - static_cast<double>(s)) / static_cast<double>(d));
    if (!(count < 1e15)) {  // also catches NaN
      if (count > 0 || std::isnan(count)) return ctx.Error("range too long");
    }
    const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
    Tensor* y;
    SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, start->dtype(), {n}, &y));
    T* p = y->data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(s + static_cast<T>(i) * d);
    return Status::Ok();
  });
}

}  // namespace supernova::ops

namespace supernova::ops {

Status EyeLike(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (x->rank() != 2) return ctx.Error("input must be 2-D, got " + ShapeToString(x->shape()));
  const DataType dt =
      ctx.node.HasAttr("dtype") ? static_cast<DataType>(ctx.node.AttrInt("dtype", 1)) : x->dtype();
  if (!IsKnownDataType(static_cast<int32_t>(dt)) || DataTypeSize(dt) == 0)
    return ctx.Unsupported("dtype " + DataTypeName(dt) + " not supported");
  const int64_t k = ctx.node.AttrInt("k", 0);
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, dt, x->shape(), &y));
  if (y->nbytes() > 0) std::memset(y->raw_data(), 0, y->nbytes());
  auto fill = [&](auto one) {
    using T = decltype(one);
    T* p = y->data<T>();
    const int64_t rows = x->dim(0), cols = x->dim(1);
    for (int64_t i = 0; i < rows; ++i) {
      if (k > cols || k < -rows) break;  // no diagonal inside the matrix; avoids overflow
      const int64_t j = i + k;
      if (j >= 0 && j < cols) p[i * cols + j] = one;
    }
    return Status::Ok();
  };
  if (dt == DataType::kBool) return fill(true);
  if (dt == DataType::kFloat16) return fill(Float16::FromFloat(1.0f));
  Status s = DispatchNumeric(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return fill(T(1));
  });
  return s.ok() ? s : ctx.Unsupported(s.message());
}

namespace {
std::optional<Dims> ConstantShape(InferContext& ctx) {
  if (const ir::Attribute* a = ctx.node.FindAttr("value");
      a && a->kind == ir::Attribute::Kind::kTensor) {
    ctx.dtype = a->t.dtype();
    Dims out;
    for (int64_t d : a->t.shape()) out.push_back(ir::Dim::Known(d));
    return out;
  }
  return std::nullopt;
}

std::optional<Dims> ConstantOfShapeShape(InferContext& ctx) {
  ctx.dtype = DataType::kFloat32;
  if (const ir::Attribute* a = ctx.node.FindAttr("value");
      a && a->kind == ir::Attribute::Kind::kTensor)
    ctx.dtype = a->t.dtype();
  if (auto shape = ConstInts(ctx.in(0))) {
    Dims out;
    for (int64_t d : *shape) out.push_back(d >= 0 ? ir::Dim::Known(d) : ir::Dim{});
    return out;
  }
  const InferInput& s = ctx.in(0);
  if (s.has_rank() && s.dims().size() == 1 && s.dims()[0].known())
    return Dims(s.dims()[0].value, ir::Dim{});
  return std::nullopt;
}

constexpr OpDef kOps[] = {
    {"Constant", Constant, ConstantShape},
    {"ConstantOfShape", ConstantOfShape, ConstantOfShapeShape},
    {"EyeLike", EyeLike, nullptr},
    {"Range", Range, nullptr},
};

}  // namespace

std::span<const OpDef> ConstantOps() { return kOps; }

}  // namespace supernova::ops

// The optional ops (opsets 15 and 18): Optional wraps a value, or makes an empty optional of
// its `type` attribute; OptionalHasElement tells them apart; OptionalGetElement unwraps. At run
// time an optional that holds something is that thing (supernova/value.h), so wrapping and
// unwrapping pass the value on and only None needs care.
#include <string>

#include "ops/op.h"
#include "ops/sequence.h"

namespace supernova::ops {
namespace {

Status Optional(KernelContext& ctx) {
  const Value v = ctx.input_value(0);
  if (v.defined()) {
    ctx.SetValue(0, v);
    return Status::Ok();
  }
  const ir::Attribute* type = ctx.node.FindAttr("type");
  if (!type || type->kind != ir::Attribute::Kind::kType)
    return ctx.Error("without an input, attribute 'type' must say what the optional holds");
  if (IsOptional(type->type.kind)) return ctx.Unsupported("an optional of an optional");
  const ValueKind kind = type->type.kind == ValueKind::kSequence ? ValueKind::kOptionalSequence
                                                                 : ValueKind::kOptionalTensor;
  ctx.SetValue(0, Value::None(kind, type->type.dtype));
  return Status::Ok();
}

// An omitted input counts as an empty optional (opset 18).
Status OptionalHasElement(KernelContext& ctx) {
  const Value v = ctx.input_value(0);
  Tensor& y = ctx.Output(0, DataType::kBool, {});
  y.data<bool>()[0] = v.defined() && !v.is_none();
  return Status::Ok();
}

Status OptionalGetElement(KernelContext& ctx) {
  const Value v = ctx.input_value(0);
  if (!v.defined()) return ctx.Error("missing input");
  if (v.is_none()) return ctx.Error("the optional is empty");
  ctx.SetValue(0, v);
  return Status::Ok();
}

std::optional<Dims> InferOptional(InferContext& ctx) {
  if (const ir::ValueType* in = ctx.in(0).type) {
    if (!IsOptional(in->kind))
      ctx.kind = in->kind == ValueKind::kSequence ? ValueKind::kOptionalSequence
                                                  : ValueKind::kOptionalTensor;
    return std::nullopt;
  }
  const ir::Attribute* type = ctx.node.FindAttr("type");
  if (!type || type->kind != ir::Attribute::Kind::kType) return std::nullopt;
  ctx.kind = type->type.kind == ValueKind::kSequence ? ValueKind::kOptionalSequence
                                                     : ValueKind::kOptionalTensor;
  ctx.dtype = type->type.dtype;
  return std::nullopt;
}

std::optional<Dims> InferOptionalHasElement(InferContext& ctx) {
  ctx.kind = ValueKind::kTensor;
  ctx.dtype = DataType::kBool;
  return Dims{};
}

// The element's kind; its dims are those of the input when that is a tensor already.
std::optional<Dims> InferOptionalGetElement(InferContext& ctx) {
  if (ctx.kind == ValueKind::kOptionalSequence) ctx.kind = ValueKind::kSequence;
  if (ctx.kind == ValueKind::kOptionalTensor) ctx.kind = ValueKind::kTensor;
  if (ctx.in(0).type && ctx.in(0).type->is_tensor() && ctx.in(0).has_rank())
    return ctx.in(0).dims();
  return std::nullopt;
}

constexpr OpDef kOps[] = {
    {"Optional", Optional, InferOptional, OpKind::kDataMovement},
    {"OptionalGetElement", OptionalGetElement, InferOptionalGetElement, OpKind::kDataMovement},
    {"OptionalHasElement", OptionalHasElement, InferOptionalHasElement},
};

}  // namespace

std::span<const OpDef> OptionalOps() { return kOps; }

}  // namespace supernova::ops

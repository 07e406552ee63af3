// The sequence ops of opset 11: make a sequence (SequenceEmpty, SequenceConstruct), read one
// (SequenceAt, SequenceLength) and make a changed copy of one (SequenceInsert, SequenceErase).
// A sequence is immutable: a changed copy shares the elements' buffers with the original.
#include "ops/sequence.h"

#include "ops/op.h"

namespace supernova::ops {

Result<const Value*> SequenceInput(const KernelContext& ctx, size_t i, const std::string& what) {
  const Value* v = ctx.value(i);
  if (!v) {
    if (const Tensor* t = ctx.input(i))
      return ctx.Error(what + " must be a sequence, got a tensor " + DataTypeName(t->dtype()) +
                       ShapeToString(t->shape()));
    return ctx.Error("missing input '" + what + "'");
  }
  if (!v->is_sequence())
    return ctx.Error(what + " must be a sequence, got " + (v->is_tensor() ? "a tensor " : "") +
                     v->Describe());
  return v;
}

Result<const Tensor*> TensorInput(const KernelContext& ctx, size_t i, const std::string& what) {
  if (const Tensor* t = ctx.input(i)) return t;
  if (const Value* v = ctx.value(i))
    return ctx.Error(what + " must be a tensor, got " + v->Describe());
  return ctx.Error("missing input '" + what + "'");
}

Result<int64_t> SequencePosition(const KernelContext& ctx, const Tensor& position, size_t size,
                                 bool end_ok) {
  if ((position.dtype() != DataType::kInt64 && position.dtype() != DataType::kInt32) ||
      position.numel() != 1)
    return ctx.Error("position must be one int32 or int64, got " + DataTypeName(position.dtype()) +
                     ShapeToString(position.shape()));
  const int64_t n = static_cast<int64_t>(size);
  const int64_t p = position.GetAsInt64(0);
  const int64_t last = end_ok ? n : n - 1;
  if (p < -n || p > last)
    return ctx.Error("position " + std::to_string(p) + " out of range for a sequence of " +
                     std::to_string(n) + (n == 1 ? " element" : " elements"));
  return p < 0 ? p + n : p;
}

std::optional<Dims> InferSequence(InferContext& ctx) {
  ctx.kind = ValueKind::kSequence;
  return std::nullopt;
}

std::optional<Dims> InferElement(InferContext& ctx) {
  ctx.kind = ValueKind::kTensor;
  return std::nullopt;
}

namespace {

Status SequenceEmpty(KernelContext& ctx) {
  const int64_t dtype = ctx.node.AttrInt("dtype", static_cast<int64_t>(DataType::kFloat32));
  if (dtype < 0 || dtype > INT32_MAX || !IsKnownDataType(static_cast<int32_t>(dtype)))
    return ctx.Error("unknown dtype " + std::to_string(dtype));
  ctx.SetValue(0, Value::Sequence(static_cast<DataType>(dtype), {}));
  return Status::Ok();
}

Status SequenceConstruct(KernelContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.Error("needs at least one input");
  std::vector<Tensor> items;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    SN_ASSIGN_OR_RETURN(const Tensor* t, TensorInput(ctx, i, "input " + std::to_string(i)));
    if (!items.empty() && t->dtype() != items[0].dtype())
      return ctx.Error("inputs mix " + DataTypeName(items[0].dtype()) + " and " +
                       DataTypeName(t->dtype()));
    items.push_back(*t);
  }
  const DataType dtype = items[0].dtype();
  ctx.SetValue(0, Value::Sequence(dtype, std::move(items)));
  return Status::Ok();
}

Status SequenceAt(KernelContext& ctx) {
  SN_ASSIGN_OR_RETURN(const Value* seq, SequenceInput(ctx, 0, "input_sequence"));
  SN_ASSIGN_OR_RETURN(const Tensor* pos, TensorInput(ctx, 1, "position"));
  SN_ASSIGN_OR_RETURN(int64_t p, SequencePosition(ctx, *pos, seq->sequence().size(), false));
  ctx.SetOutput(0, seq->sequence()[static_cast<size_t>(p)]);
  return Status::Ok();
}

Status SequenceLength(KernelContext& ctx) {
  SN_ASSIGN_OR_RETURN(const Value* seq, SequenceInput(ctx, 0, "input_sequence"));
  Tensor& y = ctx.Output(0, DataType::kInt64, {});
  y.data<int64_t>()[0] = static_cast<int64_t>(seq->sequence().size());
  return Status::Ok();
}

Status SequenceInsert(KernelContext& ctx) {
  SN_ASSIGN_OR_RETURN(const Value* seq, SequenceInput(ctx, 0, "input_sequence"));
  SN_ASSIGN_OR_RETURN(const Tensor* t, TensorInput(ctx, 1, "tensor"));
  if (seq->dtype() != DataType::kUndefined && t->dtype() != seq->dtype())
    return ctx.Error("cannot insert a " + DataTypeName(t->dtype()) + " tensor into a sequence of " +
                     DataTypeName(seq->dtype()));
  std::vector<Tensor> items = seq->sequence();
  int64_t at = static_cast<int64_t>(items.size());
  if (const Tensor* pos = ctx.input(2)) {
    SN_ASSIGN_OR_RETURN(at, SequencePosition(ctx, *pos, items.size(), true));
  }
  items.insert(items.begin() + at, *t);
  ctx.SetValue(0, Value::Sequence(t->dtype(), std::move(items)));
  return Status::Ok();
}

Status SequenceErase(KernelContext& ctx) {
  SN_ASSIGN_OR_RETURN(const Value* seq, SequenceInput(ctx, 0, "input_sequence"));
  std::vector<Tensor> items = seq->sequence();
  if (items.empty()) return ctx.Error("cannot erase from an empty sequence");
  int64_t at = static_cast<int64_t>(items.size()) - 1;
  if (const Tensor* pos = ctx.input(1)) {
    SN_ASSIGN_OR_RETURN(at, SequencePosition(ctx, *pos, items.size(), false));
  }
  items.erase(items.begin() + at);
  ctx.SetValue(0, Value::Sequence(seq->dtype(), std::move(items)));
  return Status::Ok();
}

// The element type, from the attribute or input 0 (a sequence's elements or a tensor).
std::optional<Dims> InferSequenceEmpty(InferContext& ctx) {
  ctx.kind = ValueKind::kSequence;
  const int64_t dtype = ctx.node.AttrInt("dtype", static_cast<int64_t>(DataType::kFloat32));
  ctx.dtype = dtype >= 0 && dtype <= INT32_MAX && IsKnownDataType(static_cast<int32_t>(dtype))
                  ? static_cast<DataType>(dtype)
                  : DataType::kUndefined;
  return std::nullopt;
}

// SequenceInsert's element type is the tensor's when the sequence's is not known.
std::optional<Dims> InferSequenceInsert(InferContext& ctx) {
  ctx.kind = ValueKind::kSequence;
  if (ctx.dtype == DataType::kUndefined && ctx.in(1).type) ctx.dtype = ctx.in(1).type->dtype;
  return std::nullopt;
}

std::optional<Dims> InferSequenceLength(InferContext& ctx) {
  ctx.kind = ValueKind::kTensor;
  ctx.dtype = DataType::kInt64;
  return Dims{};
}

constexpr OpDef kOps[] = {
    {"SequenceAt", SequenceAt, InferElement, OpKind::kDataMovement},
    {"SequenceConstruct", SequenceConstruct, InferSequence, OpKind::kDataMovement},
    {"SequenceEmpty", SequenceEmpty, InferSequenceEmpty, OpKind::kDataMovement},
    {"SequenceErase", SequenceErase, InferSequence, OpKind::kDataMovement},
    {"SequenceInsert", SequenceInsert, InferSequenceInsert, OpKind::kDataMovement},
    {"SequenceLength", SequenceLength, InferSequenceLength},
};

}  // namespace

std::span<const OpDef> SequenceOps() { return kOps; }

}  // namespace supernova::ops

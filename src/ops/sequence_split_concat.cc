// SplitToSequence and ConcatFromSequence: Split and Concat with a sequence on one side. Both
// run the kernels of Split and Concat over a node of their own, so the copies, the checks and
// their messages are those ops' own.
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/sequence.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// A node like `node` (its name and type, for messages) with `n` inputs and outputs and the
// attribute axis: what Concat and Split read.
ir::Node InnerNode(const ir::Node& node, int64_t axis, size_t num_inputs, size_t num_outputs) {
  ir::Node n;
  n.name = node.name;
  n.op_type = node.op_type;
  n.attributes["axis"].kind = ir::Attribute::Kind::kInt;
  n.attributes["axis"].i = axis;
  for (size_t i = 0; i < num_inputs; ++i) n.inputs.push_back("in" + std::to_string(i));
  for (size_t i = 0; i < num_outputs; ++i) n.outputs.push_back("out" + std::to_string(i));
  return n;
}

// The chunk lengths along an axis of size `dim`: ones without `split`; chunks of a scalar
// split's size, the last one smaller; a 1-D split's entries, which must add up to `dim`.
Status ChunkSizes(const KernelContext& ctx, const Tensor* split, int64_t dim,
                  std::vector<int64_t>* sizes) {
  if (!split) {
    sizes->assign(static_cast<size_t>(dim), 1);
    return Status::Ok();
  }
  std::vector<int64_t> s;
  SN_RETURN_IF_ERROR(ReadInts(ctx, *split, "split", &s));
  if (split->rank() == 0) {
    if (s[0] <= 0) return ctx.Error("split must be positive, got " + std::to_string(s[0]));
    for (int64_t at = 0; at < dim; at += s[0]) sizes->push_back(std::min(s[0], dim - at));
    return Status::Ok();
  }
  int64_t total = 0;
  for (int64_t v : s) {
    if (v < 0) return ctx.Error("negative entry in split");
    total += v;
  }
  if (total != dim)
    return ctx.Error("split sums to " + std::to_string(total) + " but the axis has size " +
                     std::to_string(dim));
  *sizes = std::move(s);
  return Status::Ok();
}

Status SplitToSequence(KernelContext& ctx) {
  SN_ASSIGN_OR_RETURN(const Tensor* x, TensorInput(ctx, 0, "input"));
  const int64_t r = static_cast<int64_t>(x->rank());
  int64_t axis = ctx.node.AttrInt("axis", 0);
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r));
  const Tensor* split = ctx.input(1);
  std::vector<int64_t> sizes;
  SN_RETURN_IF_ERROR(ChunkSizes(ctx, split, x->dim(static_cast<size_t>(axis)), &sizes));
  std::vector<Tensor> items;
  if (!sizes.empty()) {
    const Tensor given_sizes = Tensor::FromVector(sizes, {static_cast<int64_t>(sizes.size())});
    const ir::Node inner = InnerNode(ctx.node, axis, 2, sizes.size());
    KernelContext kc(inner, 13, {x, &given_sizes}, ctx.allocator(), ctx.num_threads);
    SN_RETURN_IF_ERROR(Split(kc));
    items = std::move(kc.outputs());
  }
  // Without `split` every chunk has length 1, and keepdims 0 drops the axis.
  if (!split && ctx.node.AttrInt("keepdims", 1) == 0) {
    Shape shape = x->shape();
    shape.erase(shape.begin() + axis);
    for (Tensor& t : items) {
      SN_ASSIGN_OR_RETURN(t, t.Reshaped(shape));
    }
  }
  ctx.SetValue(0, Value::Sequence(x->dtype(), std::move(items)));
  return Status::Ok();
}

Status ConcatFromSequence(KernelContext& ctx) {
  SN_ASSIGN_OR_RETURN(const Value* seq, SequenceInput(ctx, 0, "input_sequence"));
  if (!ctx.node.HasAttr("axis")) return ctx.Error("attribute 'axis' is required");
  const std::vector<Tensor>& items = seq->sequence();
  if (items.empty()) return ctx.Error("cannot concatenate an empty sequence");
  int64_t axis = ctx.node.AttrInt("axis", 0);
  const bool new_axis = ctx.node.AttrInt("new_axis", 0) == 1;
  std::vector<Tensor> parts = items;
  if (new_axis) {
    // Stacking: each element gains a dim of 1 at `axis`, which may also be one past the last.
    const int64_t r = static_cast<int64_t>(items[0].rank());
    SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r + 1));
    for (Tensor& t : parts) {
      if (t.shape() != items[0].shape())
        return ctx.Error("stacked elements must have one shape, got " +
                         ShapeToString(items[0].shape()) + " and " + ShapeToString(t.shape()));
      Shape s = t.shape();
      s.insert(s.begin() + axis, 1);
      SN_ASSIGN_OR_RETURN(t, t.Reshaped(s));
    }
  }
  std::vector<const Tensor*> in;
  for (const Tensor& t : parts) in.push_back(&t);
  const ir::Node inner = InnerNode(ctx.node, axis, in.size(), 1);
  KernelContext kc(inner, 13, std::move(in), ctx.allocator(), ctx.num_threads);
  SN_RETURN_IF_ERROR(Concat(kc));
  ctx.SetOutput(0, std::move(kc.outputs()[0]));
  return Status::Ok();
}

constexpr OpDef kOps[] = {
    {"ConcatFromSequence", ConcatFromSequence, InferElement, OpKind::kDataMovement},
    {"SplitToSequence", SplitToSequence, InferSequence, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> SequenceSplitConcatOps() { return kOps; }

}  // namespace supernova::ops

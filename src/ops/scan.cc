// Scan: runs its body once per slice of its scan inputs along their scan axes, carrying state
// values from one iteration to the next; the node returns the last states and each scan
// output of every iteration stacked along its output axis. Opset 9 on: per-input axes and
// directions, per-output axes and directions. Opset 8: a leading batch axis on every input
// and output, the scan axis right after it, one `directions` attribute for the inputs, and a
// sequence_lens input that may only say every sequence is whole.
#include "ops/iteration.h"
#include "ops/op.h"
#include "ops/subgraph.h"

namespace supernova::ops {
namespace {

struct ScanPlan {
  size_t states = 0, scans = 0, outputs = 0;  // N state values, M scan inputs, K scan outputs
  std::vector<int64_t> in_axes, in_reverse, out_axes, out_reverse;
};

// One scan over `states` and `inputs` (whose axes the plan has normalized); `finals` and
// `stacked` receive the last states and the stacked scan outputs.
Status RunScan(const KernelContext& ctx, const BoundBody& body, const ScanPlan& plan,
               std::vector<Tensor> states, const std::vector<const Tensor*>& inputs,
               std::vector<Tensor>* finals, std::vector<Tensor>* stacked) {
  int64_t count = -1;
  for (size_t m = 0; m < plan.scans; ++m) {
    const int64_t len = inputs[m]->dim(static_cast<size_t>(plan.in_axes[m]));
    if (count >= 0 && len != count)
      return ctx.Error("scan input " + std::to_string(m) + " has " + std::to_string(len) +
                       " steps along its axis, scan input 0 has " + std::to_string(count));
    count = len;
  }
  if (count < 0) count = 0;
  std::vector<std::vector<Tensor>> parts(plan.outputs);
  std::vector<Tensor> slices(plan.scans), outs;
  std::vector<const Tensor*> in(plan.states + plan.scans);
  for (int64_t t = 0; t < count; ++t) {
    for (size_t m = 0; m < plan.scans; ++m)
      slices[m] = SliceAlong(ctx, *inputs[m], static_cast<size_t>(plan.in_axes[m]),
                             plan.in_reverse[m] ? count - 1 - t : t);
    for (size_t j = 0; j < plan.states; ++j) in[j] = &states[j];
    for (size_t m = 0; m < plan.scans; ++m) in[plan.states + m] = &slices[m];
    SN_RETURN_IF_ERROR(body.Run(ctx, in, &outs, t));
    for (size_t j = 0; j < plan.states; ++j) states[j] = std::move(outs[j]);
    for (size_t k = 0; k < plan.outputs; ++k) parts[k].push_back(std::move(outs[plan.states + k]));
  }
  *finals = std::move(states);
  stacked->clear();
  const ir::Graph& g = body.graph();
  for (size_t k = 0; k < plan.outputs; ++k) {
    const std::string& name = g.outputs[plan.states + k];
    SN_ASSIGN_OR_RETURN(Tensor out, Stack(ctx, parts[k], plan.out_axes[k], plan.out_reverse[k] != 0,
                                          g.TypeOf(name), "scan output '" + name + "'"));
    stacked->push_back(std::move(out));
  }
  return Status::Ok();
}

// An attribute of one int per scan input or output: `fallback` for each when absent.
Result<std::vector<int64_t>> PerValue(const KernelContext& ctx, const char* key, size_t n,
                                      int64_t fallback) {
  if (!ctx.node.HasAttr(key)) return std::vector<int64_t>(n, fallback);
  std::vector<int64_t> v = ctx.node.AttrInts(key);
  if (v.size() != n)
    return ctx.Error(std::string(key) + " has " + std::to_string(v.size()) + " values, expected " +
                     std::to_string(n));
  return v;
}

Status CheckDirections(const KernelContext& ctx, const std::vector<int64_t>& dirs,
                       const char* key) {
  for (int64_t d : dirs)
    if (d != 0 && d != 1)
      return ctx.Error(std::string(key) + " must be 0 or 1, got " + std::to_string(d));
  return Status::Ok();
}

Status Scan(KernelContext& ctx) {
  SN_ASSIGN_OR_RETURN(BoundBody body, BoundBody::Bind(ctx, "body"));
  const bool batched = ctx.opset < 9;  // Scan-8
  const int64_t m_attr = ctx.node.AttrInt("num_scan_inputs", -1);
  const size_t first = batched ? 1 : 0;  // Scan-8's sequence_lens comes first
  const size_t given = ctx.node.inputs.size() > first ? ctx.node.inputs.size() - first : 0;
  if (m_attr < 1 || static_cast<size_t>(m_attr) > given)
    return ctx.Error("num_scan_inputs must be between 1 and the " + std::to_string(given) +
                     " inputs, got " + std::to_string(m_attr));
  ScanPlan plan;
  plan.scans = static_cast<size_t>(m_attr);
  plan.states = given - plan.scans;
  if (body.num_inputs() != plan.states + plan.scans)
    return ctx.Error("body takes " + std::to_string(body.num_inputs()) + " inputs, expected " +
                     std::to_string(plan.states + plan.scans));
  if (body.num_outputs() < plan.states || ctx.num_outputs() != body.num_outputs())
    return ctx.Error("body returns " + std::to_string(body.num_outputs()) + " values for " +
                     std::to_string(ctx.num_outputs()) + " outputs and " +
                     std::to_string(plan.states) + " states");
  plan.outputs = body.num_outputs() - plan.states;

  std::vector<Tensor> states;
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < given; ++i) {
    const Tensor* t = ctx.input(first + i);
    if (!t) return ctx.Error("input " + std::to_string(first + i) + " is missing");
    if (DataTypeSize(t->dtype()) == 0) return ctx.Unsupported("dtype " + DataTypeName(t->dtype()));
    if (i < plan.states)
      states.push_back(*t);
    else
      inputs.push_back(t);
  }

  if (batched) {
    SN_ASSIGN_OR_RETURN(plan.in_reverse, PerValue(ctx, "directions", plan.scans, 0));
    SN_RETURN_IF_ERROR(CheckDirections(ctx, plan.in_reverse, "directions"));
    plan.in_axes.assign(plan.scans, 0);  // per batch item, the sequence axis comes first
    plan.out_axes.assign(plan.outputs, 0);
    plan.out_reverse.assign(plan.outputs, 0);
    int64_t batch = -1;
    for (size_t i = 0; i < given; ++i) {
      const Tensor& t = i < plan.states ? states[i] : *inputs[i - plan.states];
      const size_t min_rank = i < plan.states ? 1 : 2;
      if (t.rank() < min_rank || (batch >= 0 && t.dim(0) != batch))
        return ctx.Error("input " + std::to_string(first + i) + " " + ShapeToString(t.shape()) +
                         " lacks the batch axis (and, for a scan input, the sequence axis) "
                         "every input shares");
      batch = t.dim(0);
    }
    if (const Tensor* lens = ctx.input(0)) {
      const int64_t full = inputs[0]->dim(1);
      for (int64_t b = 0; b < lens->numel(); ++b)
        if (lens->GetAsInt64(b) != full)
          return ctx.Unsupported("sequence_lens shorter than the sequence (" +
                                 std::to_string(lens->GetAsInt64(b)) + " of " +
                                 std::to_string(full) + ")");
    }
    std::vector<std::vector<Tensor>> finals(plan.states), stacked(plan.outputs);
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<Tensor> item_states, item_finals, item_stacked;
      std::vector<Tensor> item_inputs;
      for (const Tensor& s : states) item_states.push_back(SliceAlong(ctx, s, 0, b));
      for (const Tensor* x : inputs) item_inputs.push_back(SliceAlong(ctx, *x, 0, b));
      std::vector<const Tensor*> item_ptrs;
      for (const Tensor& x : item_inputs) item_ptrs.push_back(&x);
      Status s =
          RunScan(ctx, body, plan, std::move(item_states), item_ptrs, &item_finals, &item_stacked);
      if (!s.ok()) return s.WithContext("batch item " + std::to_string(b));
      for (size_t j = 0; j < plan.states; ++j) finals[j].push_back(std::move(item_finals[j]));
      for (size_t k = 0; k < plan.outputs; ++k) stacked[k].push_back(std::move(item_stacked[k]));
    }
    const ir::Graph& g = body.graph();
    for (size_t i = 0; i < ctx.num_outputs(); ++i) {
      const bool is_state = i < plan.states;
      auto& parts = is_state ? finals[i] : stacked[i - plan.states];
      SN_ASSIGN_OR_RETURN(Tensor out, Stack(ctx, parts, 0, false, g.TypeOf(g.outputs[i]),
                                            "output '" + ctx.node.outputs[i] + "'"));
      ctx.SetOutput(i, std::move(out));
    }
    return Status::Ok();
  }

  SN_ASSIGN_OR_RETURN(plan.in_axes, PerValue(ctx, "scan_input_axes", plan.scans, 0));
  SN_ASSIGN_OR_RETURN(plan.in_reverse, PerValue(ctx, "scan_input_directions", plan.scans, 0));
  SN_ASSIGN_OR_RETURN(plan.out_axes, PerValue(ctx, "scan_output_axes", plan.outputs, 0));
  SN_ASSIGN_OR_RETURN(plan.out_reverse, PerValue(ctx, "scan_output_directions", plan.outputs, 0));
  SN_RETURN_IF_ERROR(CheckDirections(ctx, plan.in_reverse, "scan_input_directions"));
  SN_RETURN_IF_ERROR(CheckDirections(ctx, plan.out_reverse, "scan_output_directions"));
  for (size_t m = 0; m < plan.scans; ++m) {
    const int64_t rank = static_cast<int64_t>(inputs[m]->rank());
    int64_t& a = plan.in_axes[m];
    if (a < -rank || a >= rank)
      return ctx.Error("scan_input_axes[" + std::to_string(m) + "] = " + std::to_string(a) +
                       " out of range for rank " + std::to_string(rank));
    if (a < 0) a += rank;
  }
  std::vector<Tensor> finals, stacked;
  SN_RETURN_IF_ERROR(RunScan(ctx, body, plan, std::move(states), inputs, &finals, &stacked));
  for (size_t j = 0; j < plan.states; ++j) ctx.SetOutput(j, std::move(finals[j]));
  for (size_t k = 0; k < plan.outputs; ++k) ctx.SetOutput(plan.states + k, std::move(stacked[k]));
  return Status::Ok();
}

// The dtype the body declares for its first output; shapes are known at run time.
std::optional<Dims> InferScan(InferContext& ctx) {
  ctx.dtype = DeclaredBodyDtype(ctx.node, "body", 0);
  return std::nullopt;
}

constexpr OpDef kOps[] = {
    {"Scan", Scan, InferScan},
};

}  // namespace

std::span<const OpDef> ScanOps() { return kOps; }

}  // namespace supernova::ops

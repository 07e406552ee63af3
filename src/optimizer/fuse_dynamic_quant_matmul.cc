// Dynamic int8 product fusion: the standard ONNX form of a dynamically quantized MatMul (what
// ONNX Runtime's quantize_dynamic and `supernova compress --dynamic-int8` write)
//
//   DynamicQuantizeLinear(x) -> (q, s, z)
//   MatMulInteger(q, W, z [, 0]) -> Cast(to float) -> Mul(., Mul(s, w_scale)) [-> Add(., bias)]
//
// becomes one com.supernova DynamicQuantMatMul(x, W, w_scale [, bias]) (ops/
// dynamic_quant_matmul.cc), which the cpu provider runs as one u8 x s8 oneDNN product with the
// scales applied on the way out, instead of four reference kernels and two int32 tensors.
//
// W must be an int8 initializer [K, N] with zero points 0 (symmetric, as both writers make it),
// w_scale and bias float initializers of one value or N; the int32 product, its float copy and
// the scaled product each read once. Either operand order of the Muls and the Add matches. The
// DynamicQuantizeLinear stays while anything else reads it (dead-node elimination drops it
// otherwise).
#include <string>

#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {
namespace {

bool ZeroInt8(const ir::Graph& g, const std::string& v) {
  if (v.empty()) return true;
  const Tensor* t = FindConstant(g, v);
  if (!t || t->dtype() != DataType::kInt8) return false;
  for (int64_t i = 0; i < t->numel(); ++i)
    if (t->data<int8_t>()[i] != 0) return false;
  return true;
}

// The other operand of a two-input `op` node that reads `value`, or "".
std::string OtherOperand(const ir::Node& n, const char* op, const std::string& value) {
  if (!IsOnnxOp(n, op) || n.inputs.size() != 2 || n.outputs.size() != 1) return "";
  if (n.inputs[0] == value) return n.inputs[1];
  if (n.inputs[1] == value) return n.inputs[0];
  return "";
}

// The one node reading `value` (kNoNode when not exactly one, or the value is pinned).
size_t SoleReader(const GraphEditor& e, const std::string& value) {
  return e.HasSingleUse(value) ? e.Consumers(value)[0] : kNoNode;
}

}  // namespace

Result<int> FuseDynamicQuantMatMul(ir::Graph& g) {
  GraphEditor e(g);
  int changes = 0;
  for (size_t i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i) || !IsOnnxOp(e.node(i), "MatMulInteger")) continue;
    const ir::Node& mm = e.node(i);
    if (mm.inputs.size() < 3 || mm.outputs.size() != 1) continue;
    const size_t dq = e.Producer(mm.inputs[0]);
    if (dq == kNoNode || !IsOnnxOp(e.node(dq), "DynamicQuantizeLinear")) continue;
    const ir::Node& d = e.node(dq);
    if (d.outputs.size() != 3 || d.outputs[0] != mm.inputs[0] || d.outputs[2] != mm.inputs[2])
      continue;
    const Tensor* w = FindConstant(g, mm.inputs[1]);
    if (!w || w->dtype() != DataType::kInt8 || w->rank() != 2) continue;
    if (!ZeroInt8(g, mm.inputs.size() > 3 ? mm.inputs[3] : "")) continue;
    const int64_t n = w->dim(1);
    const ir::ValueType* product_type = g.TypeOf(mm.outputs[0]);
    // The scales and bias may not outrank the product: one of higher rank would broadcast it
    // to more dims, which the fused op (x's dims with N last) does not.
    const size_t rank = product_type && product_type->dims ? product_type->dims->size() : 1;
    // Cast to float, then the product with Mul(s, w_scale).
    const size_t cast = SoleReader(e, mm.outputs[0]);
    if (cast == kNoNode || !IsOnnxOp(e.node(cast), "Cast") ||
        e.node(cast).AttrInt("to", 0) != static_cast<int64_t>(DataType::kFloat32))
      continue;
    const std::string real = e.node(cast).outputs[0];
    const size_t mul = SoleReader(e, real);
    if (mul == kNoNode) continue;
    const std::string factor = OtherOperand(e.node(mul), "Mul", real);
    const size_t fm = factor.empty() ? kNoNode : e.Producer(factor);
    if (fm == kNoNode) continue;
    const std::string w_scale = OtherOperand(e.node(fm), "Mul", d.outputs[1]);
    if (w_scale.empty() || !FloatColumns(g, w_scale, n, rank)) continue;
    // An Add of a constant per-column bias, where the scaled product goes there alone.
    std::string out = e.node(mul).outputs[0], bias;
    const size_t add = SoleReader(e, out);
    if (add != kNoNode) {
      const std::string b = OtherOperand(e.node(add), "Add", out);
      if (!b.empty() && FloatColumns(g, b, n, rank)) {
        bias = b;
        out = e.node(add).outputs[0];
      }
    }
    const std::string x = d.inputs[0], weight = mm.inputs[1];
    for (size_t slot = e.node(i).inputs.size(); slot-- > 0;) e.SetInput(i, slot, "");
    ir::Node& f = e.node(i);
    f.inputs.clear();
    f.op_type = "DynamicQuantMatMul";
    f.domain = kSupernovaDomain;
    e.SetInput(i, 0, x);
    e.SetInput(i, 1, weight);
    e.SetInput(i, 2, w_scale);
    if (!bias.empty()) {
      e.SetInput(i, 3, bias);
      e.RemoveNode(add);
    }
    e.RemoveNode(mul);
    e.RemoveNode(cast);
    e.SetOutput(i, 0, out);
    g.opsets[kSupernovaDomain] = kSupernovaOpset;
    ++changes;
  }
  SN_RETURN_IF_ERROR(e.Finish());
  return changes;
}

}  // namespace supernova::optimizer

// HardSwish written out: x * Clip(x + 3, 0, 6) / 6 (or * 1/6, before or after the product, in
// either operand order) -> one HardSwish(x); with another scale, or as a gate without the
// product, HardSwish or HardSigmoid times a scalar (see FuseScaledForms). Exporters of
// MobileNetV3-style models write it that way; four passes over the tensor become one, which
// fuse_conv_activation can then fold into the convolution before it.
#include <cmath>
#include <map>
#include <optional>
#include <string>

#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {
namespace {

// The value of a float32 scalar constant (any shape with one element).
std::optional<float> Scalar(const ir::Graph& g, const std::string& value) {
  const Tensor* t = FindConstant(g, value);
  if (!t || t->dtype() != DataType::kFloat32 || t->numel() != 1) return std::nullopt;
  return t->data<float>()[0];
}

bool Near(std::optional<float> v, float want) {
  return v && std::fabs(*v - want) <= 1e-6f * std::max(1.f, std::fabs(want));
}

// For Add(a, b) with one scalar-constant operand equal to `c`: the other operand.
std::optional<std::string> OtherOperand(const ir::Graph& g, const ir::Node& n, float c) {
  if (n.inputs.size() != 2) return std::nullopt;
  if (Near(Scalar(g, n.inputs[1]), c)) return n.inputs[0];
  if (Near(Scalar(g, n.inputs[0]), c)) return n.inputs[1];
  return std::nullopt;
}

// True when `n` divides by 6 or multiplies by 1/6 (the constant second / either operand).
bool IsSixth(const ir::Graph& g, const ir::Node& n, std::string* other) {
  if (n.inputs.size() != 2 || n.outputs.size() != 1) return false;
  if (IsOnnxOp(n, "Div") && Near(Scalar(g, n.inputs[1]), 6.f)) {
    *other = n.inputs[0];
    return true;
  }
  if (!IsOnnxOp(n, "Mul")) return false;
  for (int k = 0; k < 2; ++k)
    if (Near(Scalar(g, n.inputs[k]), 1.f / 6.f)) {
      *other = n.inputs[1 - k];
      return true;
    }
  return false;
}

// The single node reading `value` (which must not be pinned), or kNoNode.
size_t OnlyReader(const GraphEditor& e, const std::string& value) {
  return e.HasSingleUse(value) ? e.Consumers(value)[0] : kNoNode;
}

bool IsFloat(const ir::Graph& g, const std::string& value) {
  const ir::ValueType* t = g.TypeOf(value);
  return t && t->dtype == DataType::kFloat32;
}

// Rewrites node `k` in place into the unary `op`(input) with `attrs`.
void MakeUnary(GraphEditor& e, size_t k, const char* op, const std::string& input,
               std::map<std::string, float> attrs = {}) {
  for (size_t slot = e.node(k).inputs.size(); slot-- > 0;) e.SetInput(k, slot, "");
  e.SetInput(k, 0, input);
  ir::Node& n = e.node(k);
  n.inputs.resize(1);
  n.op_type = op;
  n.domain.clear();
  n.attributes.clear();
  for (const auto& [key, v] : attrs) SetAttr(n, key, v);
}

// The forms with a scale c other than exactly 1/6 (TensorFlow exports write 1/6 rounded to
// half precision, 0.16662598), where clip(x + 3, 0, 6) * c = 6c * HardSigmoid(x; 1/6, 1/2):
//   (x * c) * Clip(x + 3, 0, 6)  ->  6c * HardSwish(x)
//   c * Clip(x + 3, 0, 6)        ->  6c * HardSigmoid(x; 1/6, 1/2)   (a gate, no product)
// A leftover factor 6c within 1e-6 of 1 is dropped. Returns whether it rewrote.
bool FuseScaledForms(ir::Graph& g, GraphEditor& e, size_t clip, size_t add, size_t first,
                     const std::string& x) {
  const ir::Node& f = e.node(first);
  if (!IsOnnxOp(f, "Mul") || f.inputs.size() != 2) return false;
  const std::string& clipped = e.node(clip).outputs[0];
  const std::string other = f.inputs[0] == clipped ? f.inputs[1] : f.inputs[0];
  if (other == clipped) return false;
  const std::string out = f.outputs[0];
  // The rest of the product: a scalar constant c, or x * c made by a node read only here.
  std::optional<float> c = Scalar(g, other);
  size_t scaled_x = kNoNode;
  if (!c) {
    scaled_x = e.Producer(other);
    if (scaled_x == kNoNode || !IsOnnxOp(e.node(scaled_x), "Mul") || !e.HasSingleUse(other))
      return false;
    const ir::Node& m = e.node(scaled_x);
    if (m.inputs.size() != 2 || (m.inputs[0] != x && m.inputs[1] != x)) return false;
    c = Scalar(g, m.inputs[0] == x ? m.inputs[1] : m.inputs[0]);
    if (!c) return false;
  }
  const float factor = 6.f * *c;
  const bool unit = Near(factor, 1.f);
  // The node that computes the activation, and the name it writes.
  const size_t act = scaled_x != kNoNode ? scaled_x : clip;
  const char* op = scaled_x != kNoNode ? "HardSwish" : "HardSigmoid";
  std::map<std::string, float> attrs;
  if (scaled_x == kNoNode) attrs = {{"alpha", 1.f / 6.f}, {"beta", 0.5f}};
  if (unit) {  // the product node itself becomes the activation
    MakeUnary(e, first, op, x, attrs);
    e.RemoveNode(act);
    if (act != clip) e.RemoveNode(clip);
  } else {
    MakeUnary(e, act, op, x, attrs);
    const std::string act_out = e.node(act).outputs[0];
    const std::string k = e.UniqueName(out + "_scale");
    AddInitializer(g, k, Tensor::Scalar<float>(factor));
    e.SetInput(first, 0, act_out);
    e.SetInput(first, 1, k);
    if (act != clip) e.RemoveNode(clip);
  }
  e.RemoveNode(add);
  return true;
}

}  // namespace

Result<int> FuseHardSwish(ir::Graph& g) {
  GraphEditor e(g);
  int changes = 0;
  for (size_t i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i) || !IsOnnxOp(e.node(i), "Clip")) continue;
    const ir::Node& clip = e.node(i);
    // Clip(t, 0, 6), bounds as inputs (opset 11+) or attributes.
    const bool attrs = g.Opset() < 11;
    if (attrs ? !(clip.AttrFloat("min", -1.f) == 0.f && clip.AttrFloat("max", -1.f) == 6.f)
              : !(clip.inputs.size() == 3 && Near(Scalar(g, clip.inputs[1]), 0.f) &&
                  Near(Scalar(g, clip.inputs[2]), 6.f)))
      continue;
    if (clip.outputs.size() != 1 || clip.inputs[0].empty()) continue;
    const size_t add = e.Producer(clip.inputs[0]);
    if (add == kNoNode || !IsOnnxOp(e.node(add), "Add") || !e.HasSingleUse(clip.inputs[0]))
      continue;
    const std::optional<std::string> x = OtherOperand(g, e.node(add), 3.f);
    if (!x || !IsFloat(g, *x)) continue;

    // What follows, each the only reader of what came before: the product with x and the
    // scaling by 1/6, in either order; else one of the scaled forms.
    const size_t first = OnlyReader(e, clip.outputs[0]);
    if (first == kNoNode || e.node(first).outputs.size() != 1) continue;
    auto is_product_with_x = [&](const ir::Node& n, const std::string& operand) {
      return IsOnnxOp(n, "Mul") && n.inputs.size() == 2 &&
             ((n.inputs[0] == operand && n.inputs[1] == *x) ||
              (n.inputs[1] == operand && n.inputs[0] == *x));
    };
    const size_t second = OnlyReader(e, e.node(first).outputs[0]);
    std::string scaled;
    bool exact = false;  // the product with x and the scaling by exactly 1/6
    if (second != kNoNode && e.node(second).outputs.size() == 1) {
      const ir::Node &f = e.node(first), &s = e.node(second);
      exact = (is_product_with_x(f, clip.outputs[0]) && IsSixth(g, s, &scaled) &&
               scaled == f.outputs[0]) ||
              (IsSixth(g, f, &scaled) && scaled == clip.outputs[0] &&
               is_product_with_x(s, f.outputs[0]));
    }
    if (!exact) {
      if (FuseScaledForms(g, e, i, add, first, *x)) ++changes;
      continue;
    }
    MakeUnary(e, second, "HardSwish", *x);  // the last node becomes HardSwish(x)
    e.RemoveNode(first);
    e.RemoveNode(i);
    e.RemoveNode(add);
    ++changes;
  }
  SN_RETURN_IF_ERROR(e.Finish());
  return changes;
}

}  // namespace supernova::optimizer

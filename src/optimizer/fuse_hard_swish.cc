// HardSwish written out: x * Clip(x + 3, 0, 6) / 6 (or * 1/6, before or after the product, in
// either operand order) -> one HardSwish(x). Exporters of MobileNetV3-style models write it that
// way; four passes over the tensor become one, which fuse_conv_activation can then fold into
// the convolution before it.
#include <cmath>
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

    // Two nodes follow, each the only reader of what came before: the product with x and the
    // scaling by 1/6, in either order.
    const size_t first = OnlyReader(e, clip.outputs[0]);
    if (first == kNoNode || e.node(first).outputs.size() != 1) continue;
    const size_t second = OnlyReader(e, e.node(first).outputs[0]);
    if (second == kNoNode || e.node(second).outputs.size() != 1) continue;
    auto is_product_with_x = [&](const ir::Node& n, const std::string& operand) {
      return IsOnnxOp(n, "Mul") && n.inputs.size() == 2 &&
             ((n.inputs[0] == operand && n.inputs[1] == *x) ||
              (n.inputs[1] == operand && n.inputs[0] == *x));
    };
    std::string scaled;
    const ir::Node &f = e.node(first), &s = e.node(second);
    const bool product_first =
        is_product_with_x(f, clip.outputs[0]) && IsSixth(g, s, &scaled) && scaled == f.outputs[0];
    const bool scale_first =
        IsSixth(g, f, &scaled) && scaled == clip.outputs[0] && is_product_with_x(s, f.outputs[0]);
    if (!product_first && !scale_first) continue;

    // The last node becomes HardSwish(x); the other three go.
    const std::string out = s.outputs[0];
    ir::Node& hs = e.node(second);
    e.SetInput(second, 0, *x);
    e.SetInput(second, 1, "");
    hs.inputs.resize(1);
    hs.op_type = "HardSwish";
    hs.domain.clear();
    hs.attributes.clear();
    e.RemoveNode(first);
    e.RemoveNode(i);
    e.RemoveNode(add);
    ++changes;
  }
  SN_RETURN_IF_ERROR(e.Finish());
  return changes;
}

}  // namespace supernova::optimizer

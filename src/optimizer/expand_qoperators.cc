// The QOperator form of a quantized model (QLinearConv, QLinearMatMul, and com.microsoft's
// QLinearAdd, QLinearMul, QLinearConcat, QLinearGlobalAveragePool, QLinearAveragePool,
// QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax and QGemm: what ONNX Runtime's quantizer
// writes with QuantFormat.QOperator) in its QDQ form:
//
//   QLinearConv(x, xs, xz, w, ws, wz, ys, yz [, B])
//     -> QuantizeLinear(Conv(DequantizeLinear(x, xs, xz), DequantizeLinear(w, ws, wz),
//                            DequantizeLinear(B, xs * ws, 0)), ys, yz)
//   QLinearMatMul(a, as, az, b, bs, bz, ys, yz)
//     -> QuantizeLinear(MatMul(DequantizeLinear(a, as, az), DequantizeLinear(b, bs, bz)), ys, yz)
//   QLinearAdd / QLinearMul(a, as, az, b, bs, bz, cs, cz)  (com.microsoft)
//     -> QuantizeLinear(Add / Mul(DequantizeLinear(a, as, az), DequantizeLinear(b, bs, bz)),
//                       cs, cz)
//   QLinearConcat(ys, yz, x0, x0s, x0z, ...), QLinearGlobalAveragePool(x, xs, xz, ys, yz)
//     -> QuantizeLinear(Concat / GlobalAveragePool(DequantizeLinear(x...)), ys, yz)
//   QLinearSigmoid / QLinearLeakyRelu / QLinearAveragePool / QLinearSoftmax(x, xs, xz, ys, yz)
//     -> QuantizeLinear(Sigmoid / LeakyRelu / AveragePool / Softmax(DequantizeLinear(x, xs,
//                       xz)), ys, yz)
//   QGemm(a, as, az, b, bs, bz [, C, ys, yz])  (com.microsoft; alpha, transA, transB)
//     -> [QuantizeLinear(] Gemm(DequantizeLinear(a, as, az), DequantizeLinear(b, bs, bz),
//                             DequantizeLinear(C, alpha * as * bs, 0)) [, ys, yz)]
//
// The two compute the same integers: the product of the dequantized values is the integer sum
// scaled by xs * ws, the bias joins it with that scale, and the result is quantized with ys
// and yz; only where a float product lands on a rounding boundary may one value differ by a
// step. The QDQ form is what the cpu provider's regions run on oneDNN's int8 primitives
// (docs/runtime.md), keeping integers between consecutive quantized nodes; the QOperator
// nodes would run on the reference kernels.
//
// Taken where the weight is a constant, the scales are constants of one value or one per
// output channel (a QLinearConv's bias scale is a constant made from them) and the zero points
// constants shaped like their scales: a QLinearMatMul with scales per row of a, or a weight of
// rank other than 2, stays as it is, and so does anything the kernels would refuse (they say
// why when the node runs).
#include <algorithm>
#include <string>
#include <vector>

#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {
namespace {

// A float constant of one value or `n` values (a 1-D tensor), or nullptr.
const Tensor* ScaleConstant(const ir::Graph& g, const std::string& v, int64_t n) {
  return FloatColumns(g, v, n, 1);
}

// An optional input: "" where the node has none at `slot`.
std::string InputOr(const ir::Node& n, size_t slot) {
  return slot < n.inputs.size() ? n.inputs[slot] : "";
}

// Whether the zero point at `slot` is absent or a constant shaped like the scale at
// `slot - 1` (DequantizeLinear and QuantizeLinear want them alike).
bool ZeroMatches(const ir::Graph& g, const ir::Node& n, size_t slot) {
  const std::string z = InputOr(n, slot);
  if (z.empty()) return true;
  const Tensor* t = FindConstant(g, z);
  const Tensor* scale = FindConstant(g, InputOr(n, slot - 1));
  return t && scale && t->shape() == scale->shape();
}

// The zero points of the node's three quantized operands (slots 2, 5 and 7) all match.
bool ZerosMatch(const ir::Graph& g, const ir::Node& n) {
  return ZeroMatches(g, n, 2) && ZeroMatches(g, n, 5) && ZeroMatches(g, n, 7);
}

class Expander {
 public:
  // `names` gives the new values and nodes names the graph does not use yet.
  Expander(ir::Graph& g, GraphEditor& names) : g_(g), names_(names) {}

  // The QDQ nodes for `n`, or false (nothing appended) where it is not taken.
  bool Conv(const ir::Node& n, std::vector<ir::Node>* out) {
    if (n.inputs.size() < 8 || n.outputs.size() != 1) return false;
    const Tensor* w = FindConstant(g_, n.inputs[3]);
    if (!w || w->rank() < 3) return false;
    const int64_t m = w->dim(0);
    const Tensor* xs = ScaleConstant(g_, n.inputs[1], 1);
    const Tensor* ws = ScaleConstant(g_, n.inputs[4], m);
    if (!xs || !ws || !ScaleConstant(g_, n.inputs[6], 1) || !ZerosMatch(g_, n)) return false;
    if (ws->numel() > 1 && g_.Opset() < 13) return false;  // DequantizeLinear's axis
    const std::string& y = n.outputs[0];
    const std::string x = Dequantize(n, n.inputs[0], n.inputs[1], InputOr(n, 2), -1, out);
    const int64_t axis = ws->numel() > 1 ? 0 : -1;
    const std::string wd = Dequantize(n, n.inputs[3], n.inputs[4], InputOr(n, 5), axis, out);
    std::vector<std::string> conv_inputs = {x, wd};
    const std::string b = InputOr(n, 8);
    if (!b.empty()) {
      // The bias's scale: xs * ws, one value or one per output channel.
      Tensor bs(DataType::kFloat32, ws->numel() > 1 ? Shape{m} : Shape{});
      for (int64_t c = 0; c < ws->numel(); ++c)
        bs.data<float>()[c] = xs->data<float>()[0] * ws->data<float>()[c];
      const std::string bs_name = Unique(y + "_bias_scale");
      AddInitializer(g_, bs_name, std::move(bs));
      conv_inputs.push_back(Dequantize(n, b, bs_name, "", axis, out));
    }
    ir::Node conv = MakeNode("Conv", std::move(conv_inputs), {Unique(y + "_real")},
                             Unique(n.name.empty() ? y + "_conv" : n.name));
    conv.attributes = n.attributes;
    out->push_back(std::move(conv));
    Quantize(n, out);
    return true;
  }

  // com.microsoft QLinearAdd / QLinearMul (ops/qlinear_contrib.cc) -> DequantizeLinear of A
  // and B, Add or Mul, QuantizeLinear with C's scale and zero point (one of A's type made
  // where C's is omitted, since QuantizeLinear would write uint8 without one).
  bool Binary(const ir::Node& n, const char* op, std::vector<ir::Node>* out) {
    if (n.inputs.size() < 7 || n.outputs.size() != 1) return false;
    for (size_t slot : {1, 4, 6})
      if (!ScaleConstant(g_, n.inputs[slot], 1)) return false;
    if (!ZerosMatch(g_, n)) return false;
    const ir::ValueType* type = g_.TypeOf(n.inputs[0]);
    if (!type || (type->dtype != DataType::kUint8 && type->dtype != DataType::kInt8)) return false;
    const std::string& y = n.outputs[0];
    const std::string a = Dequantize(n, n.inputs[0], n.inputs[1], InputOr(n, 2), -1, out);
    const std::string b = Dequantize(n, n.inputs[3], n.inputs[4], InputOr(n, 5), -1, out);
    out->push_back(MakeNode(op, {a, b}, {Unique(y + "_real")},
                            Unique(n.name.empty() ? y + "_" + op : n.name)));
    QuantizeTo(n, 6, 7, type->dtype, out);
    return true;
  }

  // com.microsoft QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool and QLinearSoftmax
  // (x, xs, xz, ys, yz) -> DequantizeLinear, the float op with the node's attributes but
  // com.microsoft's own (channels_last, opset), QuantizeLinear with Y's scale and zero point.
  // A pooling over channels last, or a Softmax whose semantics differ from the graph's opset's
  // (it flattens to 2-D before 13) along an axis where that matters, stays as it is.
  bool Unary(const ir::Node& n, const char* op, std::vector<ir::Node>* out) {
    if (n.inputs.size() < 4 || n.outputs.size() != 1 || !ScaleConstant(g_, n.inputs[1], 1) ||
        !ScaleConstant(g_, n.inputs[3], 1) || !ZeroMatches(g_, n, 2) || !ZeroMatches(g_, n, 4))
      return false;
    const ir::ValueType* type = g_.TypeOf(n.inputs[0]);
    if (!type || (type->dtype != DataType::kUint8 && type->dtype != DataType::kInt8)) return false;
    if (n.AttrInt("channels_last", 0) != 0) return false;
    if (std::string(op) == "Softmax") {
      const int64_t from = n.AttrInt("opset", 0);
      if (from < 1 || ((from < 13) != (g_.Opset() < 13) && n.AttrInt("axis", -1) != -1))
        return false;
    }
    const std::string& y = n.outputs[0];
    const std::string x = Dequantize(n, n.inputs[0], n.inputs[1], InputOr(n, 2), -1, out);
    ir::Node f =
        MakeNode(op, {x}, {Unique(y + "_real")}, Unique(n.name.empty() ? y + "_" + op : n.name));
    f.attributes = n.attributes;
    f.attributes.erase("channels_last");
    f.attributes.erase("opset");
    // com.microsoft's default axis is -1 whatever the opset; ONNX's Softmax took 1 before 13.
    if (std::string(op) == "Softmax") SetAttr(f, "axis", n.AttrInt("axis", -1));
    out->push_back(std::move(f));
    QuantizeTo(n, 3, 4, type->dtype, out);
    return true;
  }

  // com.microsoft QLinearConcat -> DequantizeLinear of each input, Concat, QuantizeLinear
  // with Y's scale and zero point.
  bool Concat(const ir::Node& n, std::vector<ir::Node>* out) {
    if (n.inputs.size() < 5 || (n.inputs.size() - 2) % 3 != 0 || n.outputs.size() != 1 ||
        !ScaleConstant(g_, n.inputs[0], 1) || n.inputs[1].empty() || !ZeroMatches(g_, n, 1))
      return false;
    for (size_t i = 2; i < n.inputs.size(); i += 3)
      if (!ScaleConstant(g_, n.inputs[i + 1], 1) || !ZeroMatches(g_, n, i + 2)) return false;
    const std::string& y = n.outputs[0];
    std::vector<std::string> reals;
    for (size_t i = 2; i < n.inputs.size(); i += 3)
      reals.push_back(Dequantize(n, n.inputs[i], n.inputs[i + 1], n.inputs[i + 2], -1, out));
    ir::Node concat = MakeNode("Concat", std::move(reals), {Unique(y + "_real")},
                               Unique(n.name.empty() ? y + "_concat" : n.name));
    SetAttr(concat, "axis", n.AttrInt("axis", 0));
    out->push_back(std::move(concat));
    out->push_back(MakeNode("QuantizeLinear", {out->back().outputs[0], n.inputs[0], n.inputs[1]},
                            {y}, Unique(n.name + "_quantize")));
    return true;
  }

  // com.microsoft QLinearGlobalAveragePool over NC... (not channels_last) ->
  // DequantizeLinear, GlobalAveragePool, QuantizeLinear.
  bool GlobalAveragePool(const ir::Node& n, std::vector<ir::Node>* out) {
    if (n.inputs.size() < 5 || n.outputs.size() != 1 || n.AttrInt("channels_last", 0) != 0 ||
        !ScaleConstant(g_, n.inputs[1], 1) || !ScaleConstant(g_, n.inputs[3], 1) ||
        !ZeroMatches(g_, n, 2) || !ZeroMatches(g_, n, 4) || n.inputs[4].empty())
      return false;
    const std::string& y = n.outputs[0];
    const std::string x = Dequantize(n, n.inputs[0], n.inputs[1], n.inputs[2], -1, out);
    out->push_back(MakeNode("GlobalAveragePool", {x}, {Unique(y + "_real")},
                            Unique(n.name.empty() ? y + "_pool" : n.name)));
    out->push_back(MakeNode("QuantizeLinear", {out->back().outputs[0], n.inputs[3], n.inputs[4]},
                            {y}, Unique(n.name + "_quantize")));
    return true;
  }

  // com.microsoft QGemm: B a constant matrix with a scale per tensor or per column (along
  // B's axis 1, or 0 under transB; opset 13 and up), C a constant int32 (one per column where
  // the scale is), y_scale and y_zero_point both or neither (then the Gemm writes the node's
  // float output).
  bool QGemm(const ir::Node& n, std::vector<ir::Node>* out) {
    if (n.inputs.size() < 5 || n.outputs.size() != 1) return false;
    const Tensor* b = FindConstant(g_, n.inputs[3]);
    if (!b || b->rank() != 2) return false;
    const bool tb = n.AttrInt("transB", 0) != 0;
    const int64_t cols = b->dim(tb ? 0 : 1);
    const Tensor* as = ScaleConstant(g_, n.inputs[1], 1);
    const Tensor* bs = ScaleConstant(g_, n.inputs[4], cols);
    if (!as || !bs || !ZeroMatches(g_, n, 2) || !ZeroMatches(g_, n, 5)) return false;
    const bool per_column = bs->numel() > 1;
    if (per_column && g_.Opset() < 13) return false;  // DequantizeLinear's axis
    const std::string ys = InputOr(n, 7), yz = InputOr(n, 8);
    if (ys.empty() != yz.empty()) return false;
    if (!ys.empty() && (!ScaleConstant(g_, ys, 1) || !ZeroMatches(g_, n, 8))) return false;
    const std::string c = InputOr(n, 6);
    const Tensor* ct = c.empty() ? nullptr : FindConstant(g_, c);
    if (!c.empty() && (!ct || ct->dtype() != DataType::kInt32)) return false;
    if (ct && per_column && (ct->rank() != 1 || ct->dim(0) != cols)) return false;
    const float alpha = n.AttrFloat("alpha", 1.f);
    const std::string& y = n.outputs[0];
    std::vector<std::string> inputs = {
        Dequantize(n, n.inputs[0], n.inputs[1], InputOr(n, 2), -1, out),
        Dequantize(n, n.inputs[3], n.inputs[4], InputOr(n, 5), per_column ? (tb ? 0 : 1) : -1,
                   out)};
    if (ct) {
      // C's scale: alpha * as * bs, one value or one per column.
      Tensor cs(DataType::kFloat32, per_column ? Shape{cols} : Shape{});
      for (int64_t j = 0; j < bs->numel(); ++j)
        cs.data<float>()[j] = alpha * as->data<float>()[0] * bs->data<float>()[j];
      const std::string cs_name = Unique(y + "_bias_scale");
      AddInitializer(g_, cs_name, std::move(cs));
      inputs.push_back(Dequantize(n, c, cs_name, "", per_column ? 0 : -1, out));
    }
    ir::Node gemm = MakeNode("Gemm", std::move(inputs), {ys.empty() ? y : Unique(y + "_real")},
                             Unique(n.name.empty() ? y + "_gemm" : n.name));
    SetAttr(gemm, "alpha", alpha);
    SetAttr(gemm, "transA", n.AttrInt("transA", 0));
    SetAttr(gemm, "transB", n.AttrInt("transB", 0));
    out->push_back(std::move(gemm));
    if (!ys.empty()) QuantizeTo(n, 7, 8, DataType::kUint8, out);  // both given: no zero made
    return true;
  }

  bool MatMul(const ir::Node& n, std::vector<ir::Node>* out) {
    if (n.inputs.size() < 8 || n.outputs.size() != 1) return false;
    const Tensor* b = FindConstant(g_, n.inputs[3]);
    if (!b || b->rank() != 2) return false;
    const Tensor* bs = ScaleConstant(g_, n.inputs[4], b->dim(1));
    if (!ScaleConstant(g_, n.inputs[1], 1) || !bs || !ScaleConstant(g_, n.inputs[6], 1) ||
        !ZerosMatch(g_, n))
      return false;
    if (bs->numel() > 1 && g_.Opset() < 13) return false;  // DequantizeLinear's axis
    const std::string& y = n.outputs[0];
    const std::string a = Dequantize(n, n.inputs[0], n.inputs[1], InputOr(n, 2), -1, out);
    const std::string bd =
        Dequantize(n, n.inputs[3], n.inputs[4], InputOr(n, 5), bs->numel() > 1 ? 1 : -1, out);
    out->push_back(MakeNode("MatMul", {a, bd}, {Unique(y + "_real")},
                            Unique(n.name.empty() ? y + "_matmul" : n.name)));
    Quantize(n, out);
    return true;
  }

 private:
  // DequantizeLinear(v, scale, zero) along `axis` (< 0: none); returns its output.
  std::string Dequantize(const ir::Node& n, const std::string& v, const std::string& scale,
                         const std::string& zero, int64_t axis, std::vector<ir::Node>* out) {
    std::vector<std::string> inputs = {v, scale};
    if (!zero.empty()) inputs.push_back(zero);
    const std::string real = Unique(v + "_dequantized");
    ir::Node d = MakeNode("DequantizeLinear", std::move(inputs), {real},
                          Unique(n.name + "_dequantize_" + v));
    if (axis >= 0) SetAttr(d, "axis", axis);
    out->push_back(std::move(d));
    return real;
  }

  // QuantizeLinear of the last node's output with the node's y scale and zero point, into the
  // node's own output.
  void Quantize(const ir::Node& n, std::vector<ir::Node>* out) {
    std::vector<std::string> inputs = {out->back().outputs[0], n.inputs[6]};
    if (!InputOr(n, 7).empty()) inputs.push_back(n.inputs[7]);
    out->push_back(MakeNode("QuantizeLinear", std::move(inputs), {n.outputs[0]},
                            Unique(n.name + "_quantize")));
  }

  // QuantizeLinear of the last node's output with the node's scale at `scale_slot` and zero
  // point at `zero_slot`, into the node's own output; where the zero point is omitted, a zero of
  // `type` (QuantizeLinear would write uint8 without one).
  void QuantizeTo(const ir::Node& n, size_t scale_slot, size_t zero_slot, DataType type,
                  std::vector<ir::Node>* out) {
    std::string zero = InputOr(n, zero_slot);
    if (zero.empty()) {
      zero = Unique(n.outputs[0] + "_zero_point");
      Tensor z(type, {});
      z.data<uint8_t>()[0] = 0;  // one zero byte, uint8 or int8
      AddInitializer(g_, zero, std::move(z));
    }
    out->push_back(MakeNode("QuantizeLinear", {out->back().outputs[0], n.inputs[scale_slot], zero},
                            {n.outputs[0]}, Unique(n.name + "_quantize")));
  }

  std::string Unique(const std::string& base) { return names_.UniqueName(base); }

  ir::Graph& g_;
  GraphEditor& names_;
};

}  // namespace

Result<int> ExpandQOperators(ir::Graph& g) {
  // Most models have no QOperator node: nothing is built or copied for them, in any round. Below
  // opset 10 there is no QuantizeLinear to write.
  if (g.Opset() < 10 || std::none_of(g.nodes.begin(), g.nodes.end(), [](const ir::Node& n) {
        return n.op_type.rfind("QLinear", 0) == 0 || n.op_type == "QGemm";
      }))
    return 0;
  // The editor serves for its names alone (every value, node and subgraph read of the graph):
  // the expansion writes the node list itself, in order, and never calls Finish.
  GraphEditor names(g);
  Expander expander(g, names);
  std::vector<ir::Node> nodes;
  nodes.reserve(g.nodes.size());
  int changes = 0;
  for (ir::Node& n : g.nodes) {
    const bool microsoft = n.domain == "com.microsoft";
    const bool taken =
        (IsOnnxOp(n, "QLinearConv") && expander.Conv(n, &nodes)) ||
        (IsOnnxOp(n, "QLinearMatMul") && expander.MatMul(n, &nodes)) ||
        (microsoft && n.op_type == "QLinearAdd" && expander.Binary(n, "Add", &nodes)) ||
        (microsoft && n.op_type == "QLinearMul" && expander.Binary(n, "Mul", &nodes)) ||
        (microsoft && n.op_type == "QLinearConcat" && expander.Concat(n, &nodes)) ||
        (microsoft && n.op_type == "QLinearGlobalAveragePool" &&
         expander.GlobalAveragePool(n, &nodes)) ||
        (microsoft && n.op_type == "QLinearAveragePool" &&
         expander.Unary(n, "AveragePool", &nodes)) ||
        (microsoft && n.op_type == "QLinearSigmoid" && expander.Unary(n, "Sigmoid", &nodes)) ||
        (microsoft && n.op_type == "QLinearLeakyRelu" && expander.Unary(n, "LeakyRelu", &nodes)) ||
        (microsoft && n.op_type == "QLinearSoftmax" && expander.Unary(n, "Softmax", &nodes)) ||
        (microsoft && n.op_type == "QGemm" && expander.QGemm(n, &nodes));
    if (taken)
      ++changes;
    else
      nodes.push_back(std::move(n));
  }
  g.nodes = std::move(nodes);
  return changes;
}

}  // namespace supernova::optimizer

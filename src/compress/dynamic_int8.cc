#include "compress/dynamic_int8.h"

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "optimizer/graph_utils.h"

namespace supernova::compress {
namespace {

using optimizer::AddInitializer;
using optimizer::MakeNode;

// DynamicQuantizeLinear and MatMulInteger's opset.
constexpr int64_t kOpset = 11;

bool IsOnnx(const ir::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// What a quantizable node multiplies: B as [K, N] (Gemm's transB undone), the factor its
// product takes (Gemm's alpha) and the bias it adds (Gemm's beta * C; undefined: none).
struct Site {
  Tensor weight;
  float alpha = 1;
  Tensor bias;
};

const Tensor* FloatConstant(const ir::Graph& g, const std::string& v) {
  auto it = g.initializers.find(v);
  return it != g.initializers.end() && it->second.dtype() == DataType::kFloat32 ? &it->second
                                                                                : nullptr;
}

Tensor Transposed(const Tensor& b) {
  const int64_t rows = b.dim(0), cols = b.dim(1);
  Tensor t(DataType::kFloat32, {cols, rows});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t.data<float>()[c * rows + r] = b.data<float>()[r * cols + c];
  return t;
}

// Why `n` cannot be quantized ("" when it can); fills the site.
std::string Check(const ir::Graph& g, const ir::Node& n, const QuantizeOptions& o, Site* site) {
  if (Excluded(n, o.exclude)) return "excluded (--exclude)";
  if (n.NumInputs() < 2) return "no B";
  const Tensor* b = FloatConstant(g, n.inputs[1]);
  if (!b || b->rank() != 2) return "B is not a 2-D float32 constant (activation x activation)";
  const ir::ValueType* a = g.TypeOf(n.inputs[0]);
  if (!a || a->dtype != DataType::kFloat32) return "input is not float32";
  if (g.IsInitializer(n.inputs[0])) return "input is a constant";
  site->weight = *b;
  if (n.op_type == "Gemm") {
    if (n.AttrInt("transA", 0) != 0) return "transA";
    if (n.AttrInt("transB", 0) != 0) site->weight = Transposed(*b);
    site->alpha = n.AttrFloat("alpha", 1);
    if (n.NumInputs() > 2 && !n.inputs[2].empty()) {
      const Tensor* c = FloatConstant(g, n.inputs[2]);
      if (!c) return "C is not a float32 constant";
      const float beta = n.AttrFloat("beta", 1);
      site->bias = c->Clone();
      for (int64_t i = 0; i < c->numel(); ++i) site->bias.data<float>()[i] *= beta;
    }
  }
  return "";
}

}  // namespace

Result<DynamicInt8Report> QuantizeDynamic(ir::Graph& g, const QuantizeOptions& options) {
  SN_RETURN_IF_ERROR(CheckExcludes(g, options.exclude));
  DynamicInt8Report report;
  std::map<std::string, Site> sites;  // by the node's first output
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    if (!IsOnnx(n) || (n.op_type != "MatMul" && n.op_type != "Gemm")) continue;
    Site site;
    NodeDecision d{n.Label(), i, false, Check(g, n, options, &site)};
    d.quantized = d.reason.empty();
    report.decisions.push_back(d);
    if (d.quantized) sites.emplace(n.outputs[0], std::move(site));
  }
  if (sites.empty())
    return Status::InvalidArgument(
        report.decisions.empty() ? std::string("it has no MatMul or Gemm")
                                 : report.decisions[0].node + ": " + report.decisions[0].reason);
  report.quantized = static_cast<int>(sites.size());
  // On a copy: a refused upgrade leaves the caller's graph as it was.
  ir::Graph out = g;
  SN_ASSIGN_OR_RETURN(report.opset, UpgradeOpset(out, kOpset));

  optimizer::GraphEditor names(out);
  std::unordered_map<std::string, std::vector<std::string>> quantized;  // A -> DQL outputs
  std::vector<ir::Node> nodes;
  nodes.reserve(out.nodes.size() + 5 * sites.size());
  for (size_t i = 0; i < out.nodes.size(); ++i) {
    auto s = out.nodes[i].outputs.empty() ? sites.end() : sites.find(out.nodes[i].outputs[0]);
    if (s == sites.end() || !IsOnnx(out.nodes[i]) ||
        (out.nodes[i].op_type != "MatMul" && out.nodes[i].op_type != "Gemm")) {
      nodes.push_back(std::move(out.nodes[i]));
      continue;
    }
    const ir::Node& n = out.nodes[i];
    const std::string base = n.name.empty() ? n.outputs[0] : n.name;
    const std::string& a = n.inputs[0];
    auto dq = quantized.find(a);
    if (dq == quantized.end()) {
      // One DynamicQuantizeLinear per tensor, however many products read it.
      std::vector<std::string> outs = {names.UniqueName(a + "_quantized"),
                                       names.UniqueName(a + "_scale"),
                                       names.UniqueName(a + "_zero_point")};
      nodes.push_back(MakeNode("DynamicQuantizeLinear", {a}, outs,
                               names.UniqueName(a + "_DynamicQuantizeLinear")));
      dq = quantized.emplace(a, std::move(outs)).first;
    }
    const auto& [aq, as, az] = std::tie(dq->second[0], dq->second[1], dq->second[2]);
    const QuantizedWeight qw = QuantizeWeight(s->second.weight, options.per_channel ? 1 : -1);
    const std::string wq = names.UniqueName(n.inputs[1] + "_quantized");
    const std::string ws = names.UniqueName(n.inputs[1] + "_scale");
    AddInitializer(out, wq, qw.q);
    Tensor scale = qw.scale.Clone();
    for (int64_t c = 0; c < scale.numel(); ++c) scale.data<float>()[c] *= s->second.alpha;
    AddInitializer(out, ws, std::move(scale));
    const bool bias = s->second.bias.defined();
    const std::string product = names.UniqueName(base + "_product");
    const std::string real = names.UniqueName(base + "_real");
    const std::string factor = names.UniqueName(base + "_scale");
    const std::string scaled = bias ? names.UniqueName(base + "_scaled") : n.outputs[0];
    nodes.push_back(MakeNode("MatMulInteger", {aq, wq, az}, {product},
                             names.UniqueName(base + "_MatMulInteger")));
    ir::Node cast = MakeNode("Cast", {product}, {real}, names.UniqueName(base + "_Cast"));
    cast.attributes["to"].kind = ir::Attribute::Kind::kInt;
    cast.attributes["to"].i = static_cast<int64_t>(DataType::kFloat32);  // ONNX's numbering
    nodes.push_back(std::move(cast));
    nodes.push_back(MakeNode("Mul", {as, ws}, {factor}, names.UniqueName(base + "_scale_Mul")));
    nodes.push_back(MakeNode("Mul", {real, factor}, {scaled}, names.UniqueName(base + "_Mul")));
    if (bias) {
      const std::string b = names.UniqueName(n.inputs[2] + "_bias");
      AddInitializer(out, b, std::move(s->second.bias));
      nodes.push_back(
          MakeNode("Add", {scaled, b}, {n.outputs[0]}, names.UniqueName(base + "_Add")));
    }
  }
  out.nodes = std::move(nodes);
  DropUnreadInitializers(out);
  SN_RETURN_IF_ERROR(out.Validate());
  g = std::move(out);
  return report;
}

}  // namespace supernova::compress

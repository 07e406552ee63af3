#include "supernova/flops.h"

#include <map>
#include <set>

#include "ops/shape_inference.h"

namespace supernova::tools {
namespace {

double Product(const Shape& s, size_t from = 0) {
  double p = 1;
  for (size_t i = from; i < s.size(); ++i) p *= static_cast<double>(s[i]);
  return p;
}

}  // namespace

std::vector<std::string> FlopOperands(const ir::Node& n) {
  auto in = [&](size_t i) { return i < n.inputs.size() ? n.inputs[i] : std::string(); };
  auto out = [&](size_t i) { return i < n.outputs.size() ? n.outputs[i] : std::string(); };
  if (!n.domain.empty() && n.domain != "ai.onnx") return {};
  // Conv: output [N, M, spatial...] x weight [M, C/group, k...].
  if (n.op_type == "Conv") return {out(0), in(1)};
  // ConvTranspose: every input element meets weight [C, M/group, k...].
  if (n.op_type == "ConvTranspose") return {in(0), in(1)};
  // Gemm and MatMul (and the integer products, whose A is input 0 too): output [..., M, N] x
  // the reduced dim K of A.
  if (n.op_type == "Gemm" || n.op_type == "MatMul" || n.op_type == "MatMulInteger" ||
      n.op_type == "QLinearMatMul")
    return {in(0), out(0)};
  return {};
}

std::optional<double> NodeMacs(
    const ir::Node& n, const std::function<std::optional<Shape>(const std::string&)>& shape_of) {
  const std::vector<std::string> ops = FlopOperands(n);
  if (ops.empty()) return 0.0;
  std::optional<Shape> a = ops[0].empty() ? std::nullopt : shape_of(ops[0]);
  std::optional<Shape> b = ops[1].empty() ? std::nullopt : shape_of(ops[1]);
  if (!a || !b) return std::nullopt;
  if (n.op_type == "Conv" || n.op_type == "ConvTranspose") {
    // a: the output (Conv) or the input (ConvTranspose); b: the weight.
    if (b->size() >= 2) return Product(*a) * Product(*b, 1);
  } else if (n.op_type == "Gemm") {
    if (a->size() == 2 && b->size() == 2)
      return Product(*b) * static_cast<double>(n.AttrInt("transA", 0) ? (*a)[0] : (*a)[1]);
  } else if (!a->empty()) {  // MatMul, MatMulInteger, QLinearMatMul
    return Product(*b) * static_cast<double>(a->back());
  }
  return std::nullopt;
}

FlopCount CountFlops(const ir::Graph& graph,
                     const std::function<std::optional<Shape>(const std::string&)>& shape_of) {
  FlopCount count;
  for (const ir::Node& n : graph.nodes) {
    if (FlopOperands(n).empty()) continue;
    std::optional<double> macs = NodeMacs(n, shape_of);
    if (!macs) {
      count.unresolved.push_back(n.Label());
      continue;
    }
    count.flops += 2 * *macs;
    ++count.counted_nodes;
  }
  return count;
}

FlopCount CountFlopsStatic(ir::Graph& graph, const std::vector<Shape>& input_shapes) {
  for (size_t i = 0; i < graph.inputs.size() && i < input_shapes.size(); ++i) {
    const ir::ValueType* t = graph.TypeOf(graph.inputs[i]);
    graph.value_types[graph.inputs[i]] =
        ir::ValueType::Static(t ? t->dtype : DataType::kFloat32, input_shapes[i]);
  }
  // Declared shapes of intermediate values may carry the file's symbols: inference refines
  // them from the concrete inputs. Repeat while it learns something (it is one pass each).
  for (int pass = 0; pass < 4 && ops::InferShapes(graph) > 0; ++pass) {
  }
  return CountFlops(graph, [&](const std::string& name) -> std::optional<Shape> {
    auto init = graph.initializers.find(name);
    if (init != graph.initializers.end()) return init->second.shape();
    const ir::ValueType* t = graph.TypeOf(name);
    if (t && t->HasStaticShape()) return t->StaticShape();
    return std::nullopt;
  });
}

Result<FlopResult> CountModelFlops(ir::Model model, const std::vector<Shape>& shapes,
                                   const std::vector<std::pair<std::string, Tensor>>& feeds,
                                   const SessionOptions& options) {
  ir::Model pristine = model;
  FlopResult r{CountFlopsStatic(model.graph, shapes), "static"};
  if (r.count.unresolved.empty()) return r;

  const ir::Graph& inferred = model.graph;
  auto static_shape = [&](const std::string& name) -> std::optional<Shape> {
    auto init = inferred.initializers.find(name);
    if (init != inferred.initializers.end()) return init->second.shape();
    const ir::ValueType* t = inferred.TypeOf(name);
    if (t && t->HasStaticShape()) return t->StaticShape();
    return std::nullopt;
  };
  ir::Graph& probe = pristine.graph;
  std::set<std::string> outputs(probe.outputs.begin(), probe.outputs.end());
  std::vector<std::string> added;
  for (const ir::Node& n : probe.nodes)
    for (const std::string& v : FlopOperands(n))
      if (!v.empty() && !static_shape(v) && outputs.insert(v).second) {
        probe.outputs.push_back(v);
        added.push_back(v);
      }
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(pristine));
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::OpenBytes(bytes, options));
  std::vector<Tensor> outs;
  SN_RETURN_IF_ERROR(session->Run(feeds, &outs));
  std::map<std::string, Shape> measured;
  for (size_t i = 0; i < outs.size() && i < probe.outputs.size(); ++i)
    measured[probe.outputs[i]] = outs[i].shape();
  r.count = CountFlops(inferred, [&](const std::string& name) -> std::optional<Shape> {
    if (auto s = static_shape(name)) return s;
    auto it = measured.find(name);
    if (it != measured.end()) return it->second;
    return std::nullopt;
  });
  r.method = "static+measured";
  return r;
}

}  // namespace supernova::tools

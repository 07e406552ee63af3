#include "compress/bf16.h"

#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "supernova/session.h"

namespace supernova::compress {
namespace {

bool TakesBf16Weight(const ir::Node& n) {
  return (n.domain.empty() || n.domain == "ai.onnx") &&
         (n.op_type == "Conv" || n.op_type == "ConvTranspose" || n.op_type == "Gemm" ||
          n.op_type == "MatMul");
}

}  // namespace

Result<Bf16Stats> StoreWeightsBf16(ir::Model& model) {
  ir::Graph& g = model.graph;
  const int64_t opset = g.Opset();
  if (opset < 13)
    return Status::InvalidArgument(
        "--bf16 needs opset 13 or newer (Cast to float from bfloat16); the model has opset " +
        std::to_string(opset));
  // Readers of each initializer that take it as a weight, and those that read it otherwise.
  std::map<std::string, int> weight_reads;
  std::set<std::string> other_reads(g.outputs.begin(), g.outputs.end());
  for (const ir::Node& n : g.nodes) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (!g.initializers.count(n.inputs[i])) continue;
      if (i == 1 && TakesBf16Weight(n))
        ++weight_reads[n.inputs[i]];
      else
        other_reads.insert(n.inputs[i]);
    }
    std::unordered_set<std::string> sub;
    ir::CollectSubgraphReads(n, &sub);
    other_reads.insert(sub.begin(), sub.end());
  }
  Bf16Stats stats;
  std::vector<ir::Node> casts;
  for (const auto& [name, reads] : weight_reads) {
    const Tensor& w = g.initializers.at(name);
    if (other_reads.count(name) || w.dtype() != DataType::kFloat32) continue;
    Tensor b(DataType::kBFloat16, w.shape());
    const float* src = w.data<float>();
    BFloat16* dst = b.data<BFloat16>();
    for (int64_t i = 0; i < w.numel(); ++i) dst[i] = BFloat16::FromFloat(src[i]);
    std::string stored = name + "_bf16";
    while (g.initializers.count(stored) || g.value_types.count(stored)) stored += "_";
    stats.bytes_before += static_cast<int64_t>(w.nbytes());
    stats.bytes_after += static_cast<int64_t>(b.nbytes());
    g.value_types[stored] = ir::ValueType::Static(DataType::kBFloat16, b.shape());
    g.value_types[name] = ir::ValueType::Static(DataType::kFloat32, w.shape());
    g.initializers.erase(name);
    g.initializers.emplace(stored, std::move(b));
    // The weight keeps its name: the Cast now makes it, its readers stay as they were.
    ir::Node cast;
    cast.op_type = "Cast";
    cast.name = stored + "_Cast";
    cast.inputs = {stored};
    cast.outputs = {name};
    ir::Attribute to;
    to.kind = ir::Attribute::Kind::kInt;
    to.i = 1;  // TensorProto.FLOAT
    cast.attributes["to"] = to;
    casts.push_back(std::move(cast));
    ++stats.weights;
    stats.nodes += reads;
  }
  g.nodes.insert(g.nodes.begin(), casts.begin(), casts.end());
  if (stats.weights) {
    auto& props = model.metadata.props;
    std::erase_if(props, [](const auto& p) { return p.first == kPrecisionKey; });
    props.emplace_back(std::string(kPrecisionKey), std::string(kPrecisionBf16));
  }
  return stats;
}

}  // namespace supernova::compress

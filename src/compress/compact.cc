#include "compress/compact.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "optimizer/graph_utils.h"

namespace supernova::compress {
namespace {

bool OneValue(const Tensor& t) {
  if (t.dtype() == DataType::kString || t.numel() == 0) return false;
  const size_t size = DataTypeSize(t.dtype());
  const char* p = static_cast<const char*>(t.raw_data());
  for (int64_t i = 1; i < t.numel(); ++i)
    if (std::memcmp(p, p + static_cast<size_t>(i) * size, size) != 0) return false;
  return true;
}

}  // namespace

int CompactConstants(ir::Graph& g, int64_t min_elements) {
  if (g.Opset() < 9) return 0;
  std::set<std::string> pinned(g.inputs.begin(), g.inputs.end());
  pinned.insert(g.outputs.begin(), g.outputs.end());
  // Scales and zero points stay initializers: runtimes recognise QDQ by constant parameters,
  // and a zero point of zeros is what symmetric quantization writes.
  for (const ir::Node& n : g.nodes)
    if (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear")
      for (size_t i = 1; i < n.inputs.size(); ++i) pinned.insert(n.inputs[i]);
  // New names from the editor, which knows every value; the nodes are rebuilt directly below.
  optimizer::GraphEditor names(g);
  std::vector<ir::Node> made;
  for (auto it = g.initializers.begin(); it != g.initializers.end();) {
    const Tensor& t = it->second;
    if (t.numel() < min_elements || pinned.count(it->first) || !OneValue(t)) {
      ++it;
      continue;
    }
    const std::string shape_name = names.UniqueName(it->first + "_shape");
    std::vector<int64_t> dims(t.shape().begin(), t.shape().end());
    ir::Node n;
    n.op_type = "ConstantOfShape";
    n.name = it->first + "_ConstantOfShape";
    n.inputs = {shape_name};
    n.outputs = {it->first};
    ir::Attribute value;
    value.kind = ir::Attribute::Kind::kTensor;
    value.t = Tensor(t.dtype(), {1});
    std::memcpy(value.t.raw_data(), t.raw_data(), DataTypeSize(t.dtype()));
    n.attributes["value"] = value;
    made.push_back(std::move(n));
    g.value_types[shape_name] =
        ir::ValueType::Static(DataType::kInt64, {static_cast<int64_t>(dims.size())});
    Tensor shape = Tensor::FromVector(dims, {static_cast<int64_t>(dims.size())});
    it = g.initializers.erase(it);
    g.initializers[shape_name] = std::move(shape);
  }
  const int count = static_cast<int>(made.size());
  // The new nodes read only initializers: first in the order.
  for (ir::Node& n : g.nodes) made.push_back(std::move(n));
  g.nodes = std::move(made);
  return count;
}

}  // namespace supernova::compress

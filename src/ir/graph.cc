#include "ir/graph.h"

#include <queue>
#include <set>
#include <unordered_map>

namespace supernova::ir {

bool ValueType::HasStaticShape() const {
  if (!dims || !is_tensor()) return false;
  for (const Dim& d : *dims)
    if (!d.known()) return false;
  return true;
}

Shape ValueType::StaticShape() const {
  Shape s;
  for (const Dim& d : *dims) s.push_back(d.value);
  return s;
}

std::string ValueType::ToString() const {
  std::string s = DataTypeName(dtype);
  if (!is_tensor()) return ValueKindName(kind) + "(" + s + ")";
  if (!dims) return s + "[?]";
  s += "[";
  for (size_t i = 0; i < dims->size(); ++i) {
    if (i) s += ",";
    const Dim& d = (*dims)[i];
    s += d.known() ? std::to_string(d.value) : (d.symbol.empty() ? "?" : d.symbol);
  }
  return s + "]";
}

ValueType ValueType::Static(DataType t, const Shape& s) {
  ValueType v;
  v.dtype = t;
  v.dims.emplace();
  for (int64_t d : s) v.dims->push_back(Dim::Known(d));
  return v;
}

const Attribute* Node::FindAttr(const std::string& key) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? nullptr : &it->second;
}

int64_t Node::AttrInt(const std::string& key, int64_t fallback) const {
  const Attribute* a = FindAttr(key);
  return a && a->kind == Attribute::Kind::kInt ? a->i : fallback;
}

float Node::AttrFloat(const std::string& key, float fallback) const {
  const Attribute* a = FindAttr(key);
  if (!a) return fallback;
  if (a->kind == Attribute::Kind::kFloat) return a->f;
  if (a->kind == Attribute::Kind::kInt) return static_cast<float>(a->i);
  return fallback;
}

std::string Node::AttrString(const std::string& key, const std::string& fallback) const {
  const Attribute* a = FindAttr(key);
  return a && a->kind == Attribute::Kind::kString ? a->s : fallback;
}

std::vector<int64_t> Node::AttrInts(const std::string& key,
                                    const std::vector<int64_t>& fallback) const {
  const Attribute* a = FindAttr(key);
  return a && a->kind == Attribute::Kind::kInts ? a->ints : fallback;
}

std::vector<float> Node::AttrFloats(const std::string& key,
                                    const std::vector<float>& fallback) const {
  const Attribute* a = FindAttr(key);
  return a && a->kind == Attribute::Kind::kFloats ? a->floats : fallback;
}

size_t Node::NumInputs() const {
  size_t n = inputs.size();
  while (n > 0 && inputs[n - 1].empty()) --n;
  return n;
}

std::string Node::Label() const {
  return op_type + " '" + (name.empty() ? (outputs.empty() ? "" : outputs[0]) : name) + "'";
}

int64_t Graph::Opset(const std::string& domain) const {
  auto it = opsets.find(domain);
  if (it != opsets.end()) return it->second;
  if (domain == "ai.onnx") return Opset("");
  return 0;
}

const ValueType* Graph::TypeOf(const std::string& value) const {
  auto it = value_types.find(value);
  return it == value_types.end() ? nullptr : &it->second;
}

Status Graph::TopologicalSort() {
  std::unordered_map<std::string, size_t> producer;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const std::string& o : nodes[i].outputs)
      if (!o.empty()) producer[o] = i;
  std::set<std::string> available(inputs.begin(), inputs.end());
  for (const auto& [name, _] : initializers) available.insert(name);

  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<size_t>> consumers(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::set<size_t> deps;
    std::unordered_set<std::string> captured;  // a body's reads of this scope order it too
    CollectSubgraphReads(nodes[i], &captured);
    std::vector<std::string> reads = nodes[i].inputs;
    reads.insert(reads.end(), captured.begin(), captured.end());
    for (const std::string& in : reads) {
      if (in.empty() || available.count(in)) continue;
      auto it = producer.find(in);
      if (it == producer.end())
        return Status::InvalidModel(nodes[i].Label() + " reads '" + in +
                                    "', which no node, graph input or initializer produces");
      deps.insert(it->second);
    }
    pending[i] = static_cast<int>(deps.size());
    for (size_t d : deps) consumers[d].push_back(i);
  }
  // Min-heap on the original index keeps already-sorted graphs unchanged.
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (pending[i] == 0) ready.push(i);
  std::vector<size_t> order;
  order.reserve(nodes.size());
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    for (size_t c : consumers[i])
      if (--pending[c] == 0) ready.push(c);
    order.push_back(i);
  }
  if (order.size() != nodes.size()) return Status::InvalidModel("graph '" + name + "' has a cycle");
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  for (size_t i : order) sorted.push_back(std::move(nodes[i]));
  nodes = std::move(sorted);
  return Status::Ok();
}

Status Graph::Validate() const {
  std::set<std::string> defined(inputs.begin(), inputs.end());
  for (const auto& [n, _] : initializers) defined.insert(n);
  for (const Node& node : nodes) {
    for (const std::string& in : node.inputs)
      if (!in.empty() && !defined.count(in))
        return Status::InvalidModel(node.Label() + " reads '" + in + "' before it is produced");
    for (const std::string& out : node.outputs) {
      if (out.empty()) continue;
      if (!defined.insert(out).second)
        return Status::InvalidModel("value '" + out + "' is produced twice (" + node.Label() + ")");
    }
  }
  for (const std::string& out : outputs)
    if (!defined.count(out))
      return Status::InvalidModel("graph output '" + out + "' is never produced");
  return Status::Ok();
}

void CollectOuterReads(const Graph& body, std::unordered_set<std::string>* names) {
  // ONNX values are assigned once across all scopes, so a name the body defines itself is
  // never an outer one: what it reads minus what it defines is exactly what it captures.
  std::unordered_set<std::string> defined(body.inputs.begin(), body.inputs.end());
  for (const auto& [name, t] : body.initializers) defined.insert(name);
  for (const Node& inner : body.nodes) defined.insert(inner.outputs.begin(), inner.outputs.end());
  auto need = [&](const std::string& v) {
    if (!v.empty() && !defined.count(v)) names->insert(v);
  };
  std::unordered_set<std::string> nested;
  for (const Node& inner : body.nodes) {
    for (const std::string& v : inner.inputs) need(v);
    CollectSubgraphReads(inner, &nested);
  }
  for (const std::string& v : nested) need(v);
  for (const std::string& v : body.outputs) need(v);
}

void CollectSubgraphReads(const Node& node, std::unordered_set<std::string>* names) {
  for (const auto& [key, a] : node.attributes)
    if (a.kind == Attribute::Kind::kGraph && a.g) CollectOuterReads(*a.g, names);
}

}  // namespace supernova::ir

#include "optimizer/graph_utils.h"

#include <algorithm>

#include "optimizer/passes.h"

namespace supernova::optimizer {
namespace {

const std::vector<size_t>& EmptyList() {
  static const std::vector<size_t> kEmpty;
  return kEmpty;
}

}  // namespace

GraphEditor::GraphEditor(ir::Graph& g) : g_(g), removed_(g.nodes.size(), false) {
  for (const std::string& o : g.outputs) pinned_.insert(o);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    for (const std::string& in : n.inputs) {
      if (in.empty()) continue;
      consumers_[in].push_back(i);
      names_.insert(in);
    }
    for (const std::string& out : n.outputs) {
      if (out.empty()) continue;
      producer_[out] = i;
      names_.insert(out);
    }
    ir::CollectSubgraphReads(n, &pinned_);
  }
  pinned_.erase("");
  for (const std::string& v : g.inputs) names_.insert(v);
  for (const std::string& v : g.outputs) names_.insert(v);
  for (const auto& [name, t] : g.initializers) names_.insert(name);
  for (const auto& [name, t] : g.value_types) names_.insert(name);
  for (const std::string& v : pinned_) names_.insert(v);
}

size_t GraphEditor::Producer(const std::string& value) const {
  auto it = producer_.find(value);
  return it == producer_.end() ? kNoNode : it->second;
}

const std::vector<size_t>& GraphEditor::Consumers(const std::string& value) const {
  auto it = consumers_.find(value);
  return it == consumers_.end() ? EmptyList() : it->second;
}

bool GraphEditor::HasSingleUse(const std::string& value) const {
  return !value.empty() && !IsPinned(value) && Consumers(value).size() == 1;
}

void GraphEditor::Unread(const std::string& value, size_t node) {
  auto it = consumers_.find(value);
  if (it == consumers_.end()) return;
  auto pos = std::find(it->second.begin(), it->second.end(), node);
  if (pos != it->second.end()) it->second.erase(pos);
  if (it->second.empty()) consumers_.erase(it);
}

void GraphEditor::SetInput(size_t node, size_t slot, const std::string& value) {
  ir::Node& n = g_.nodes[node];
  if (slot >= n.inputs.size()) n.inputs.resize(slot + 1);
  if (!n.inputs[slot].empty()) Unread(n.inputs[slot], node);
  n.inputs[slot] = value;
  if (!value.empty()) {
    consumers_[value].push_back(node);
    names_.insert(value);
  }
  edited_ = true;
}

void GraphEditor::SetOutput(size_t node, size_t slot, const std::string& value) {
  ir::Node& n = g_.nodes[node];
  const std::string& old = n.outputs[slot];
  if (!old.empty()) {
    auto it = producer_.find(old);
    if (it != producer_.end() && it->second == node) producer_.erase(it);
  }
  n.outputs[slot] = value;
  if (!value.empty()) {
    producer_[value] = node;
    names_.insert(value);
  }
  edited_ = true;
}

void GraphEditor::RemoveNode(size_t node) {
  if (removed_[node]) return;
  const ir::Node& n = g_.nodes[node];
  for (const std::string& in : n.inputs)
    if (!in.empty()) Unread(in, node);
  for (const std::string& out : n.outputs) {
    auto it = producer_.find(out);
    if (it != producer_.end() && it->second == node) producer_.erase(it);
  }
  removed_[node] = true;
  edited_ = true;
}

void GraphEditor::ReplaceUses(const std::string& from, const std::string& to) {
  if (from == to) return;
  auto it = consumers_.find(from);
  if (it == consumers_.end()) return;
  const std::vector<size_t> readers = std::move(it->second);
  consumers_.erase(it);
  std::vector<size_t>& dst = consumers_[to];
  for (size_t r : readers)  // a node reading `from` in two slots is listed twice
    for (std::string& in : g_.nodes[r].inputs)
      if (in == from) {
        in = to;
        dst.push_back(r);
        break;
      }
  names_.insert(to);
  edited_ = true;
}

bool GraphEditor::Bypass(size_t node, const std::string& in, const std::string& out) {
  if (in.empty() || out.empty() || in == out) return false;
  if (!IsPinned(out)) {
    RemoveNode(node);
    ReplaceUses(out, in);
    return true;
  }
  // `out` is a graph output: keep its name by making the producer of `in` produce it.
  const size_t p = Producer(in);
  if (p == kNoNode || IsPinned(in)) return false;
  ir::Node& pn = g_.nodes[p];
  const auto slot = std::find(pn.outputs.begin(), pn.outputs.end(), in) - pn.outputs.begin();
  RemoveNode(node);
  SetOutput(p, static_cast<size_t>(slot), out);
  ReplaceUses(in, out);
  return true;
}

std::string GraphEditor::UniqueName(const std::string& base) {
  std::string name = base;
  for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
  names_.insert(name);
  return name;
}

Status GraphEditor::Finish() {
  if (!edited_) return Status::Ok();
  std::vector<ir::Node> kept;
  kept.reserve(g_.nodes.size());
  for (size_t i = 0; i < g_.nodes.size(); ++i)
    if (!removed_[i]) kept.push_back(std::move(g_.nodes[i]));
  g_.nodes = std::move(kept);
  Status s = g_.TopologicalSort();
  if (!s.ok()) return Status::Internal("optimizer broke the graph: " + s.message());
  return Status::Ok();
}

const Tensor* FindConstant(const ir::Graph& g, const std::string& value) {
  auto it = g.initializers.find(value);
  return it == g.initializers.end() ? nullptr : &it->second;
}

const Tensor* FloatColumns(const ir::Graph& g, const std::string& value, int64_t n,
                           size_t max_rank) {
  const Tensor* t = FindConstant(g, value);
  if (!t || t->dtype() != DataType::kFloat32 || t->rank() > max_rank) return nullptr;
  if (t->numel() == 1) return t;
  return t->numel() == n && t->rank() >= 1 && t->shape().back() == n ? t : nullptr;
}

std::optional<Shape> StaticShape(const ir::Graph& g, const std::string& value) {
  if (const Tensor* t = FindConstant(g, value)) return t->shape();
  const ir::ValueType* vt = g.TypeOf(value);
  if (!vt || !vt->HasStaticShape()) return std::nullopt;
  return vt->StaticShape();
}

bool SameShape(const ir::Graph& g, const std::string& a, const std::string& b) {
  auto dims_of = [&](const std::string& v) -> std::optional<std::vector<ir::Dim>> {
    if (const Tensor* t = FindConstant(g, v)) {
      std::vector<ir::Dim> d;
      for (int64_t x : t->shape()) d.push_back(ir::Dim::Known(x));
      return d;
    }
    const ir::ValueType* vt = g.TypeOf(v);
    if (!vt || !vt->dims) return std::nullopt;
    return vt->dims;
  };
  auto da = dims_of(a), db = dims_of(b);
  if (!da || !db || da->size() != db->size()) return false;
  for (size_t i = 0; i < da->size(); ++i) {
    const ir::Dim &x = (*da)[i], &y = (*db)[i];
    if (x.known() || y.known()) {
      if (x.value != y.value) return false;
    } else if (x.symbol.empty() || x.symbol != y.symbol) {
      return false;
    }
  }
  return true;
}

std::optional<std::vector<int64_t>> ConstantInts(const ir::Graph& g, const std::string& value) {
  const Tensor* t = FindConstant(g, value);
  if (!t || (t->dtype() != DataType::kInt64 && t->dtype() != DataType::kInt32)) return std::nullopt;
  std::vector<int64_t> v(static_cast<size_t>(t->numel()));
  for (int64_t i = 0; i < t->numel(); ++i) v[i] = t->GetAsInt64(i);
  return v;
}

ir::Node MakeNode(const std::string& op_type, std::vector<std::string> inputs,
                  std::vector<std::string> outputs, const std::string& name) {
  ir::Node n;
  n.op_type = op_type;
  n.name = name;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  return n;
}

void AddInitializer(ir::Graph& g, const std::string& name, Tensor t) {
  g.value_types[name] = ir::ValueType::Static(t.dtype(), t.shape());
  g.initializers[name] = std::move(t);
}

bool OnlyFirstOutputUsed(const GraphEditor& e, const ir::Node& n) {
  for (size_t k = 1; k < n.outputs.size(); ++k) {
    const std::string& o = n.outputs[k];
    if (!o.empty() && (e.IsPinned(o) || !e.Consumers(o).empty())) return false;
  }
  return true;
}

void SetAttr(ir::Node& n, const std::string& key, std::vector<float> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kFloats;
  a.floats = std::move(v);
  n.attributes[key] = std::move(a);
}

void SetAttr(ir::Node& n, const std::string& key, std::string v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kString;
  a.s = std::move(v);
  n.attributes[key] = std::move(a);
}

void SetAttr(ir::Node& n, const std::string& key, int64_t v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  n.attributes[key] = std::move(a);
}

void SetAttr(ir::Node& n, const std::string& key, float v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kFloat;
  a.f = v;
  n.attributes[key] = std::move(a);
}

void SetAttr(ir::Node& n, const std::string& key, std::vector<int64_t> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = std::move(v);
  n.attributes[key] = std::move(a);
}

bool IsFusableConv(const ir::Graph& g, const ir::Node& n) {
  const bool conv =
      IsOnnxOp(n, "Conv") || (n.op_type == "FusedConv" && n.domain == kSupernovaDomain);
  if (!conv || n.outputs.size() != 1 || n.outputs[0].empty()) return false;
  const ir::ValueType* t = g.TypeOf(n.outputs[0]);
  return t && t->dtype == DataType::kFloat32;
}

bool HasActivation(const ir::Node& n) { return !n.AttrString("activation", "").empty(); }

bool HasResidual(const ir::Node& n) { return n.inputs.size() > 3 && !n.inputs[3].empty(); }

void MakeFusedConv(ir::Graph& g, ir::Node& n) {
  g.opsets.emplace(kSupernovaDomain, kSupernovaOpset);
  if (n.op_type == "FusedConv") return;
  n.op_type = "FusedConv";
  n.domain = kSupernovaDomain;
}

}  // namespace supernova::optimizer

#include "runtime/placement.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "ops/op.h"
#include "ops/shape_inference.h"

namespace supernova::runtime {

namespace {

// Node-level dataflow: successors[i] are the nodes reading something node i makes.
struct Dataflow {
  std::vector<std::vector<size_t>> successors;
  std::vector<std::vector<size_t>> predecessors;
};

// What a node reads: its inputs and whatever its subgraphs read from the enclosing graph.
std::vector<std::string> Reads(const ir::Node& n) {
  std::vector<std::string> reads;
  for (const std::string& in : n.inputs)
    if (!in.empty()) reads.push_back(in);
  std::unordered_set<std::string> sub;
  ir::CollectSubgraphReads(n, &sub);
  reads.insert(reads.end(), sub.begin(), sub.end());
  return reads;
}

bool HasSubgraph(const ir::Node& n) {
  for (const auto& [key, a] : n.attributes)
    if (a.kind == ir::Attribute::Kind::kGraph) return true;
  return false;
}

// Why the node runs on the fallback provider whatever other providers say of its op, or
// nullptr. Subgraphs are run by the session's own executor; sequences and optionals live
// only in the fallback's slots (KernelContext::value); string elements are std::string
// objects on the host's heap (supernova/tensor.h), which only the cpu's kernels handle.
const char* FallbackOnly(const ir::Graph& g, const ir::Node& n) {
  if (HasSubgraph(n)) return "has a subgraph";
  for (const auto* values : {&n.inputs, &n.outputs})
    for (const std::string& v : *values) {
      const ir::ValueType* t = v.empty() ? nullptr : g.TypeOf(v);
      if (t == nullptr) continue;
      if (!t->is_tensor()) return "sequence or optional value";
      if (t->dtype == DataType::kString) return "string tensors stay on the cpu";
    }
  return nullptr;
}

Dataflow BuildDataflow(const ir::Graph& g) {
  std::unordered_map<std::string, size_t> producer;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const std::string& out : g.nodes[i].outputs)
      if (!out.empty()) producer[out] = i;
  Dataflow df;
  df.successors.resize(g.nodes.size());
  df.predecessors.resize(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    std::set<size_t> preds;
    for (const std::string& v : Reads(g.nodes[i]))
      if (auto it = producer.find(v); it != producer.end() && it->second != i)
        preds.insert(it->second);
    for (size_t p : preds) {
      df.predecessors[i].push_back(p);
      df.successors[p].push_back(i);
    }
  }
  return df;
}

// Units being merged: union-find over nodes with member lists.
class Clusters {
 public:
  explicit Clusters(size_t n) : parent_(n), members_(n) {
    std::iota(parent_.begin(), parent_.end(), 0);
    for (size_t i = 0; i < n; ++i) members_[i] = {i};
  }
  size_t Find(size_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  const std::vector<size_t>& Members(size_t root) const { return members_[root]; }
  void Merge(size_t a, size_t b) {
    a = Find(a);
    b = Find(b);
    if (a == b) return;
    if (members_[a].size() < members_[b].size()) std::swap(a, b);
    parent_[b] = a;
    members_[a].insert(members_[a].end(), members_[b].begin(), members_[b].end());
    members_[b].clear();
  }

  // Whether merging the units of a and b would close a cycle: some path leaves one of them,
  // passes through at least one other unit, and enters the other. The units form a DAG, so a
  // direct edge between them is harmless and only longer paths matter; both directions are
  // searched because a path may run either way.
  bool MergeMakesCycle(size_t a, size_t b, const Dataflow& df) {
    a = Find(a);
    b = Find(b);
    return Reaches(a, b, df) || Reaches(b, a, df);
  }

 private:
  bool Reaches(size_t from, size_t to, const Dataflow& df) {
    std::vector<size_t> stack;
    std::unordered_set<size_t> seen;
    for (size_t m : members_[from])
      for (size_t s : df.successors[m]) {
        size_t u = Find(s);
        if (u != from && u != to && seen.insert(u).second) stack.push_back(u);
      }
    while (!stack.empty()) {
      size_t u = stack.back();
      stack.pop_back();
      for (size_t m : members_[u])
        for (size_t s : df.successors[m]) {
          size_t v = Find(s);
          if (v == to) return true;
          if (v != from && seen.insert(v).second) stack.push_back(v);
        }
    }
    return false;
  }

  std::vector<size_t> parent_;
  std::vector<std::vector<size_t>> members_;
};

// Ops that only move or relabel data (ops/op.h): alone on a device they cost copies and save
// nothing.
bool DataMovementOnly(const ir::Node& n) {
  const ops::OpDef* def = ops::FindOp(n);
  return def && def->kind == ops::OpKind::kDataMovement;
}

// Kahn's algorithm over the units, taking the ready unit that starts earliest in the original
// order, so the plan stays close to the model's own order (and its memory behaviour).
std::vector<long> OrderUnits(const ir::Graph& g, const Placement& pl, const Dataflow& df) {
  const size_t n = g.nodes.size();
  const size_t units = pl.pieces.size() + n;
  auto unit_of = [&](size_t i) {
    return pl.piece[i] >= 0 ? static_cast<size_t>(pl.piece[i]) : pl.pieces.size() + i;
  };
  std::vector<size_t> first(units, n);
  std::vector<bool> live(units, false);
  for (size_t i = 0; i < n; ++i) {
    size_t u = unit_of(i);
    first[u] = std::min(first[u], i);
    live[u] = true;
  }
  std::vector<std::set<size_t>> succ(units);
  std::vector<size_t> indegree(units, 0);
  for (size_t i = 0; i < n; ++i)
    for (size_t s : df.successors[i]) {
      size_t a = unit_of(i), b = unit_of(s);
      if (a != b && succ[a].insert(b).second) ++indegree[b];
    }
  using Item = std::pair<size_t, size_t>;  // (first node, unit)
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> ready;
  for (size_t u = 0; u < units; ++u)
    if (live[u] && indegree[u] == 0) ready.push({first[u], u});
  std::vector<long> order;
  while (!ready.empty()) {
    size_t u = ready.top().second;
    ready.pop();
    order.push_back(u < pl.pieces.size() ? ~static_cast<long>(u)
                                         : static_cast<long>(u - pl.pieces.size()));
    for (size_t v : succ[u])
      if (--indegree[v] == 0) ready.push({first[v], v});
  }
  return order;
}

}  // namespace

Status PrepareForPlacement(ir::Graph& g) {
  // Graph outputs stay produced by their nodes.
  const ops::OpDef* constant = ops::FindOp("", "Constant");
  std::vector<ir::Node> kept;
  kept.reserve(g.nodes.size());
  for (ir::Node& n : g.nodes) {
    const bool hoist =
        n.op_type == "Constant" && (n.domain.empty() || n.domain == "ai.onnx") &&
        n.outputs.size() == 1 && !n.outputs[0].empty() &&
        std::find(g.outputs.begin(), g.outputs.end(), n.outputs[0]) == g.outputs.end();
    if (!hoist) {
      kept.push_back(std::move(n));
      continue;
    }
    ops::KernelContext ctx(n, g.Opset(), {}, nullptr, 1);
    SN_RETURN_IF_ERROR(constant->kernel(ctx));
    g.initializers[n.outputs[0]] = std::move(ctx.outputs()[0]);
  }
  g.nodes = std::move(kept);
  ops::InferShapes(g);
  return Status::Ok();
}

void PieceBoundary(const ir::Graph& g, const std::vector<size_t>& nodes,
                   std::vector<std::string>* inputs, std::vector<std::string>* outputs) {
  std::unordered_set<std::string> made;
  std::unordered_set<size_t> inside(nodes.begin(), nodes.end());
  for (size_t i : nodes)
    for (const std::string& out : g.nodes[i].outputs)
      if (!out.empty()) made.insert(out);
  inputs->clear();
  outputs->clear();
  std::unordered_set<std::string> seen_in;
  for (size_t i : nodes)
    for (const std::string& v : Reads(g.nodes[i]))
      if (!made.count(v) && !g.IsInitializer(v) && seen_in.insert(v).second) inputs->push_back(v);
  std::unordered_set<std::string> read_outside(g.outputs.begin(), g.outputs.end());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!inside.count(i))
      for (const std::string& v : Reads(g.nodes[i])) read_outside.insert(v);
  for (size_t i : nodes)
    for (const std::string& out : g.nodes[i].outputs)
      if (!out.empty() && read_outside.count(out)) outputs->push_back(out);
}

Placement PlanPlacement(const ir::Graph& g,
                        std::span<const providers::ExecutionProvider* const> eps) {
  const size_t n = g.nodes.size();
  Placement pl;
  pl.provider.assign(n, Placement::kNone);
  pl.piece.assign(n, -1);
  pl.reason.assign(n, "");
  const Dataflow df = BuildDataflow(g);
  Clusters clusters(n);
  std::vector<bool> taken(n, false);
  // Nodes a device provider gave back (data movement alone): only host providers may take them.
  std::vector<bool> host_only(n, false);

  for (size_t p = 0; p < eps.size(); ++p) {
    const providers::ExecutionProvider* ep = eps[p];
    if (!ep) continue;
    const std::string name(ep->name());
    const bool host = ep->device().is_host();
    std::vector<bool> mine(n, false);
    for (size_t i = 0; i < n; ++i) {
      if (taken[i] || (host_only[i] && !host)) continue;
      const char* fallback_only = ep->is_fallback() ? nullptr : FallbackOnly(g, g.nodes[i]);
      providers::Support s =
          fallback_only ? providers::Support::No(fallback_only) : ep->Supports(g, g.nodes[i]);
      if (s.ok) {
        mine[i] = true;
      } else {
        std::string& r = pl.reason[i];
        r += (r.empty() ? "" : "; ") + name + ": " + s.reason;
      }
    }
    // Grow pieces along dataflow edges in execution order.
    for (size_t i = 0; i < n; ++i) {
      if (!mine[i]) continue;
      for (size_t pred : df.predecessors[i]) {
        if (!mine[pred] || clusters.Find(pred) == clusters.Find(i)) continue;
        if (!clusters.MergeMakesCycle(pred, i, df)) clusters.Merge(pred, i);
      }
    }
    std::unordered_map<size_t, size_t> piece_of_root;
    std::vector<size_t> new_pieces;
    for (size_t i = 0; i < n; ++i) {
      if (!mine[i]) continue;
      size_t root = clusters.Find(i);
      auto [it, inserted] = piece_of_root.emplace(root, pl.pieces.size());
      if (inserted) {
        pl.pieces.push_back({static_cast<int>(p), {}});
        new_pieces.push_back(it->second);
      }
      pl.pieces[it->second].nodes.push_back(i);  // ascending index: a valid order
      pl.piece[i] = static_cast<int>(it->second);
      pl.provider[i] = static_cast<int>(p);
      taken[i] = true;
    }
    // A device piece of data movement alone is not worth its copies; a host provider runs these
    // ops well, so they wait for one (not for a later device provider, which would face the
    // same copies). Their union-find unit stays merged: later cycle checks then see a coarser
    // graph, which can only refuse a merge, never admit a cycle.
    if (!host) {
      for (size_t k : new_pieces) {
        const auto& nodes = pl.pieces[k].nodes;
        if (std::all_of(nodes.begin(), nodes.end(),
                        [&](size_t i) { return DataMovementOnly(g.nodes[i]); }))
          for (size_t i : nodes) {
            pl.provider[i] = Placement::kNone;
            pl.piece[i] = -1;
            taken[i] = false;
            host_only[i] = true;
            std::string& r = pl.reason[i];
            r += (r.empty() ? "" : "; ") + name +
                 ": piece of data movement only, not worth two device copies";
          }
      }
    }
  }
  // Drop emptied pieces and renumber. A piece is given back whole, so a piece whose first
  // node now belongs elsewhere is empty, and the remaining pieces are unchanged.
  std::vector<Placement::PieceNodes> kept;
  std::vector<int> renumber(pl.pieces.size(), -1);
  for (size_t k = 0; k < pl.pieces.size(); ++k) {
    const auto& nodes = pl.pieces[k].nodes;
    if (pl.piece[nodes.front()] != static_cast<int>(k)) continue;
    renumber[k] = static_cast<int>(kept.size());
    kept.push_back(pl.pieces[k]);
  }
  for (size_t i = 0; i < n; ++i)
    if (pl.piece[i] >= 0) pl.piece[i] = renumber[pl.piece[i]];
  pl.pieces = std::move(kept);
  pl.order = OrderUnits(g, pl, df);
  return pl;
}

std::vector<size_t> Unplaced(const Placement& pl) {
  std::vector<size_t> nodes;
  for (size_t i = 0; i < pl.provider.size(); ++i)
    if (pl.provider[i] == Placement::kNone) nodes.push_back(i);
  return nodes;
}

void MovePiece(Placement& pl, size_t p, int provider, const std::string& why) {
  pl.pieces[p].provider = provider;
  for (size_t i : pl.pieces[p].nodes) {
    pl.provider[i] = provider;
    std::string& r = pl.reason[i];
    r += (r.empty() ? "" : "; ") + why;
  }
}

namespace {

std::string DeviceName(const std::string& value, const Device& d) {
  return value + "@" + d.ToString();
}

}  // namespace

LoweredGraph Lower(const ir::Graph& g, const Placement& pl,
                   std::span<const providers::ExecutionProvider* const> eps) {
  LoweredGraph out;
  // Where each value was made; values absent (graph inputs, initializers) are on the host.
  std::unordered_map<std::string, int> made_by;  // value -> provider index
  std::unordered_set<std::string> on_host;       // device-made values copied back already
  std::unordered_set<std::string> copied_to;     // "name@device" made by a copy
  // Values nothing made (graph inputs) are on the host.
  auto device_of = [&](int p) { return p == Placement::kNone ? Device{} : eps[p]->device(); };
  auto maker = [&](const std::string& v) {
    auto it = made_by.find(v);
    return it == made_by.end() ? Placement::kNone : it->second;
  };
  auto copy_node = [&](const char* op, int provider, std::string from, std::string to) {
    ir::Node c;
    c.op_type = op;
    c.domain = kRuntimeDomain;
    c.name = to;
    c.inputs = {std::move(from)};
    c.outputs = {std::move(to)};
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = provider;
    c.attributes["provider"] = a;
    out.nodes.push_back(std::move(c));
    ++out.copies;
  };
  // The host name of v, copying it back from its device the first time it is needed there.
  auto need_on_host = [&](const std::string& v) {
    const int p = maker(v);
    if (device_of(p).is_host() || on_host.count(v)) return;
    copy_node("MemcpyToHost", p, DeviceName(v, device_of(p)), v);
    on_host.insert(v);
  };
  // The name under which v is on provider p's device.
  auto need_on = [&](const std::string& v, int p) -> std::string {
    const Device d = device_of(p);
    if (d.is_host()) {
      need_on_host(v);
      return v;
    }
    const int q = maker(v);
    const std::string dev_name = DeviceName(v, d);
    if (q != Placement::kNone && device_of(q) == d) return dev_name;
    if (copied_to.insert(dev_name).second) {
      need_on_host(v);
      copy_node("MemcpyToDevice", p, v, dev_name);
    }
    return dev_name;
  };

  for (long unit : pl.order) {
    const size_t k = static_cast<size_t>(~unit);  // every node is in a piece (see Unplaced)
    const int p = pl.pieces[k].provider;
    std::vector<std::string> inputs, outputs;
    PieceBoundary(g, pl.pieces[k].nodes, &inputs, &outputs);
    ir::Node stand_in;
    stand_in.op_type = "Piece";
    stand_in.domain = kRuntimeDomain;
    stand_in.name = std::string(eps[p]->name()) + " piece " + std::to_string(k);
    for (const std::string& v : inputs) stand_in.inputs.push_back(need_on(v, p));
    const Device d = device_of(p);
    for (const std::string& v : outputs) {
      stand_in.outputs.push_back(d.is_host() ? v : DeviceName(v, d));
      made_by[v] = p;
    }
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = static_cast<int64_t>(k);
    stand_in.attributes["piece"] = a;
    out.nodes.push_back(std::move(stand_in));
  }
  for (const std::string& v : g.outputs) need_on_host(v);
  return out;
}

PlacementReport Describe(const ir::Graph& g, const Placement& pl,
                         std::span<const providers::ExecutionProvider* const> eps, int copies) {
  PlacementReport r;
  for (const auto* ep : eps)
    if (ep) r.providers.emplace_back(ep->name());
  auto provider_name = [&](int p) {
    return p == Placement::kNone ? std::string("none") : std::string(eps[p]->name());
  };
  for (size_t i = 0; i < g.nodes.size(); ++i)
    r.nodes.push_back({g.nodes[i].Label(), g.nodes[i].op_type, provider_name(pl.provider[i]),
                       pl.piece[i], pl.reason[i]});
  for (const auto& piece : pl.pieces) {
    std::map<std::string, int> ops;
    for (size_t i : piece.nodes) ++ops[g.nodes[i].op_type];
    std::vector<std::pair<std::string, int>> sorted(ops.begin(), ops.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string s = provider_name(piece.provider) + ": " + std::to_string(piece.nodes.size()) +
                    " node" + (piece.nodes.size() == 1 ? "" : "s") + " (";
    for (size_t j = 0; j < sorted.size(); ++j)
      s += (j ? ", " : "") + sorted[j].first + " x" + std::to_string(sorted[j].second);
    r.pieces.push_back(s + ")");
  }
  // Seams: (value, reading provider) pairs where the maker's provider differs.
  std::unordered_map<std::string, int> made_by;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const std::string& o : g.nodes[i].outputs)
      if (!o.empty()) made_by[o] = pl.provider[i];
  std::set<std::pair<std::string, int>> seams;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const std::string& v : Reads(g.nodes[i]))
      if (auto it = made_by.find(v); it != made_by.end() && it->second != pl.provider[i])
        seams.insert({v, pl.provider[i]});
  r.seams = static_cast<int>(seams.size());
  r.copies = copies;
  return r;
}

}  // namespace supernova::runtime

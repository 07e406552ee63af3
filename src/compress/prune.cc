// How channels are followed: every output channel of every prunable conv is one element of a
// union-find. Walking the nodes in order, each value that carries conv channels on axis 1 knows
// which element each of its channels is (a Concat lays its inputs' lists side by side, a Flatten
// of a 1x1 map keeps them); an Add of two such values unites them channel by channel. Whatever
// reaches an op that cannot be followed pins its elements. A set of united elements is one
// channel that lives or dies as a whole; the convs whose elements meet are one group, ranked
// and pruned together. Nothing is edited before the plan is complete, so a failure leaves the
// graph as it was.
#include "compress/prune.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "ops/shape_inference.h"
#include "optimizer/passes.h"

namespace supernova::compress {

Result<PruneCriterion> ParsePruneCriterion(const std::string& name) {
  if (name == "l1") return PruneCriterion::kL1;
  if (name == "l2") return PruneCriterion::kL2;
  return Status::InvalidArgument("unknown pruning criterion '" + name + "' (l1 or l2)");
}

const char* PruneCriterionName(PruneCriterion c) { return c == PruneCriterion::kL1 ? "l1" : "l2"; }

namespace {

bool IsOnnxNode(const ir::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

const Tensor* FloatInit(const ir::Graph& g, const ir::Node& n, size_t slot) {
  if (slot >= n.inputs.size() || n.inputs[slot].empty()) return nullptr;
  auto it = g.initializers.find(n.inputs[slot]);
  if (it == g.initializers.end() || it->second.dtype() != DataType::kFloat32) return nullptr;
  return &it->second;
}

// The channels of a value: the element of each, and the value's rank.
struct Channels {
  std::vector<int> el;
  size_t rank = 4;
};

// Cut `node`'s constant input `slot` along `axis` to the channels of `el` that survive.
struct Slice {
  size_t node = 0, slot = 0, axis = 0;
  std::vector<int> el;
};

// The elements of a conv's output channels, or of the zero channels a Pad adds on the channel
// axis (pad_before >= 0: that many before the input's, the rest after). Zero channels cost
// nothing to drop: the Pad adds fewer.
struct Source {
  size_t node = 0;
  int base = 0;
  int64_t channels = 0;
  int64_t pad_before = -1;
};

class Planner {
 public:
  Planner(ir::Graph& g, const PruneOptions& o) : g_(g), o_(o) {}

  // `shape_readers`: values whose shape some node read (Shape, Size) before constant folding
  // turned that node into a constant: their channel count must stay.
  void Walk(const std::unordered_map<std::string, std::string>& shape_readers);
  // Chooses what to remove; false when no group has a channel that may go.
  bool Choose(PruneReport* report);
  void Apply(PruneReport* report);

 private:
  int Find(int e) {
    while (parent_[static_cast<size_t>(e)] != e)
      e = parent_[static_cast<size_t>(e)] =
          parent_[static_cast<size_t>(parent_[static_cast<size_t>(e)])];
    return e;
  }
  void Unite(int a, int b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent_[static_cast<size_t>(a)] = b;
  }
  void Pin(const std::string& value, const std::string& why);
  void AddSource(size_t i);
  std::vector<int> NewElements(int64_t count, Source s);
  void VisitPad(size_t i, const Channels& c, const std::string& why);
  bool FollowConstant(size_t i, size_t slot, const Channels& c);
  void Visit(size_t i);
  std::vector<double> FilterNorms(const ir::Node& conv) const;
  bool Removed(int e) { return removed_.count(Find(e)) != 0; }

  ir::Graph& g_;
  const PruneOptions& o_;
  std::unordered_map<std::string, Channels> ch_;
  std::vector<int> parent_;
  std::vector<int> elem_source_;
  std::vector<std::string> pin_;  // per element: why it must stay ("" when free)
  std::vector<Source> sources_;
  std::vector<Slice> slices_;
  std::vector<std::pair<size_t, std::vector<int>>> groups_attr_;  // depthwise: group = kept
  std::vector<std::pair<size_t, std::vector<int>>> readers_;      // convs reading pruned input
  std::unordered_set<int> removed_;                               // roots
};

void Planner::Pin(const std::string& value, const std::string& why) {
  auto it = ch_.find(value);
  if (it == ch_.end()) return;
  for (int e : it->second.el)
    if (pin_[static_cast<size_t>(e)].empty()) pin_[static_cast<size_t>(e)] = why;
}

void Planner::AddSource(size_t i) {
  const ir::Node& n = g_.nodes[i];
  const Tensor* w = FloatInit(g_, n, 1);
  if (!w || w->rank() < 3 || n.AttrInt("group", 1) != 1 || n.outputs.size() != 1) return;
  if (n.NumInputs() > 2 && !FloatInit(g_, n, 2)) return;
  Channels c;
  c.rank = w->rank();
  c.el = NewElements(w->dim(0), Source{i, 0, w->dim(0), -1});
  slices_.push_back({i, 1, 0, c.el});
  if (n.NumInputs() > 2) slices_.push_back({i, 2, 0, c.el});
  ch_[n.outputs[0]] = std::move(c);
}

std::vector<int> Planner::NewElements(int64_t count, Source s) {
  s.base = static_cast<int>(parent_.size());
  std::vector<int> el;
  for (int64_t k = 0; k < count; ++k) {
    const int e = static_cast<int>(parent_.size());
    parent_.push_back(e);
    elem_source_.push_back(static_cast<int>(sources_.size()));
    pin_.emplace_back();
    el.push_back(e);
  }
  sources_.push_back(s);
  return el;
}

// Constant padding that leaves the batch axis alone; zeros added on the channel axis become
// elements of their own (a residual shortcut that widens by padding couples with them).
void Planner::VisitPad(size_t i, const Channels& c, const std::string& why) {
  const ir::Node& n = g_.nodes[i];
  std::vector<int64_t> pads = n.AttrInts("pads");
  if (n.NumInputs() > 1) {
    const auto it = g_.initializers.find(n.inputs[1]);
    pads.clear();
    for (int64_t k = 0; it != g_.initializers.end() && k < it->second.numel(); ++k)
      pads.push_back(it->second.GetAsInt64(k));
  }
  const size_t r = c.rank;
  const bool ok = n.NumInputs() < 4 && n.AttrString("mode", "constant") == "constant" &&
                  pads.size() == 2 * r && pads[0] == 0 && pads[r] == 0 && pads[1] >= 0 &&
                  pads[r + 1] >= 0 && (n.NumInputs() < 2 || g_.IsInitializer(n.inputs[1]));
  if (!ok) return Pin(n.inputs[0], why);
  if (pads[1] == 0 && pads[r + 1] == 0) {
    ch_[n.outputs[0]] = c;
    return;
  }
  const std::vector<int> zeros = NewElements(pads[1] + pads[r + 1], Source{i, 0, 0, pads[1]});
  sources_.back().channels = pads[1] + pads[r + 1];
  Channels out;
  out.rank = r;
  out.el.assign(zeros.begin(), zeros.begin() + pads[1]);
  out.el.insert(out.el.end(), c.el.begin(), c.el.end());
  out.el.insert(out.el.end(), zeros.begin() + pads[1], zeros.end());
  ch_[n.outputs[0]] = std::move(out);
}

// A constant operand of an element-wise op on channels `c`: a scalar, or one value per channel
// (cut with them), or anything broadcast along the channel axis.
bool Planner::FollowConstant(size_t i, size_t slot, const Channels& c) {
  const Tensor* t = FloatInit(g_, g_.nodes[i], slot);
  if (!t || t->rank() > c.rank) return false;
  const int64_t axis = static_cast<int64_t>(t->rank()) - static_cast<int64_t>(c.rank) + 1;
  if (axis < 0 || t->dim(static_cast<size_t>(axis)) == 1) return true;
  if (t->dim(static_cast<size_t>(axis)) != static_cast<int64_t>(c.el.size())) return false;
  slices_.push_back({i, slot, static_cast<size_t>(axis), c.el});
  return true;
}

// The channel dim of an activation's static type equals 1 (it broadcasts over the channels).
bool BroadcastsOverChannels(const ir::Graph& g, const std::string& v, size_t rank) {
  const ir::ValueType* t = g.TypeOf(v);
  if (!t || !t->dims || t->dims->size() > rank) return false;
  const int64_t axis = static_cast<int64_t>(t->dims->size()) - static_cast<int64_t>(rank) + 1;
  return axis < 0 || (*t->dims)[static_cast<size_t>(axis)].value == 1;
}

const std::set<std::string>& ChannelwiseUnary() {
  static const std::set<std::string> ops = {"Relu",
                                            "LeakyRelu",
                                            "Sigmoid",
                                            "Tanh",
                                            "Clip",
                                            "HardSigmoid",
                                            "HardSwish",
                                            "Elu",
                                            "Selu",
                                            "Celu",
                                            "Softplus",
                                            "Softsign",
                                            "Identity",
                                            "Dropout",
                                            "Neg",
                                            "Abs",
                                            "Exp",
                                            "Sqrt",
                                            "Erf",
                                            "Gelu",
                                            "Mish",
                                            "ThresholdedRelu",
                                            "MaxPool",
                                            "AveragePool",
                                            "GlobalAveragePool",
                                            "GlobalMaxPool",
                                            "LpPool",
                                            "Cast",
                                            "Floor",
                                            "Ceil",
                                            "Round",
                                            "Sign",
                                            "Reciprocal",
                                            "Log",
                                            "Sin",
                                            "Cos"};
  return ops;
}

const std::set<std::string>& ChannelwiseBinary() {
  static const std::set<std::string> ops = {"Add", "Sub", "Mul",   "Div",
                                            "Max", "Min", "PRelu", "Pow"};
  return ops;
}

void Planner::Visit(size_t i) {
  const ir::Node& n = g_.nodes[i];
  std::vector<size_t> tracked;
  for (size_t s = 0; s < n.inputs.size(); ++s)
    if (!n.inputs[s].empty() && ch_.count(n.inputs[s])) tracked.push_back(s);
  const std::string why = "reaches " + n.Label();
  auto pin_all = [&](const std::string& reason) {
    for (size_t s : tracked) Pin(n.inputs[s], reason);
  };
  auto extra_outputs_read = [&] {
    for (size_t k = 1; k < n.outputs.size(); ++k)
      if (!n.outputs[k].empty()) return true;
    return false;
  };
  if (!IsOnnxNode(n)) {
    pin_all(why);
    return;
  }
  const std::string& op = n.op_type;
  if (op == "Conv") {
    if (tracked.empty()) {
      AddSource(i);
      return;
    }
    const Channels c = ch_[n.inputs[0]];
    const Tensor* w = FloatInit(g_, n, 1);
    const int64_t group = n.AttrInt("group", 1);
    const int64_t cin = static_cast<int64_t>(c.el.size());
    if (tracked.size() != 1 || tracked[0] != 0 || !w || w->rank() != c.rank) {
      pin_all(why);
      return;
    }
    if (group == 1 && w->dim(1) == cin) {
      slices_.push_back({i, 1, 1, c.el});
      readers_.push_back({i, c.el});
      AddSource(i);
      return;
    }
    if (group == cin && w->dim(0) == cin && w->dim(1) == 1 &&
        (n.NumInputs() < 3 || FloatInit(g_, n, 2))) {  // depthwise: its channels are the input's
      slices_.push_back({i, 1, 0, c.el});
      if (n.NumInputs() > 2) slices_.push_back({i, 2, 0, c.el});
      groups_attr_.push_back({i, c.el});
      ch_[n.outputs[0]] = c;
      return;
    }
    pin_all(why + " (grouped)");
    return;
  }
  if (tracked.empty()) return;
  const Channels c = ch_[n.inputs[tracked[0]]];
  if (op == "BatchNormalization") {
    bool ok =
        tracked.size() == 1 && tracked[0] == 0 && n.inputs.size() >= 5 && !extra_outputs_read();
    for (size_t s = 1; ok && s < 5; ++s) {
      const Tensor* t = FloatInit(g_, n, s);
      ok = t && t->rank() == 1 && t->dim(0) == static_cast<int64_t>(c.el.size());
    }
    if (!ok) return pin_all(why);
    for (size_t s = 1; s < 5; ++s) slices_.push_back({i, s, 0, c.el});
    ch_[n.outputs[0]] = c;
    return;
  }
  if (ChannelwiseUnary().count(op)) {
    if (tracked.size() != 1 || tracked[0] != 0 || extra_outputs_read()) return pin_all(why);
    ch_[n.outputs[0]] = c;
    return;
  }
  if (ChannelwiseBinary().count(op) && n.inputs.size() == 2) {
    if (tracked.size() == 2) {
      const Channels& d = ch_[n.inputs[1]];
      if (d.el.size() != c.el.size() || d.rank != c.rank) return pin_all(why);
      for (size_t k = 0; k < c.el.size(); ++k) Unite(c.el[k], d.el[k]);
    } else {
      const size_t other = 1 - tracked[0];
      const bool ok = g_.IsInitializer(n.inputs[other])
                          ? FollowConstant(i, other, c)
                          : BroadcastsOverChannels(g_, n.inputs[other], c.rank);
      if (!ok) return pin_all(why);
    }
    ch_[n.outputs[0]] = c;
    return;
  }
  if (op == "Concat") {
    int64_t axis = n.AttrInt("axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(c.rank);
    if (axis != 1 || tracked.size() != n.inputs.size()) return pin_all(why);
    Channels out;
    out.rank = c.rank;
    for (const std::string& in : n.inputs) {
      const Channels& d = ch_[in];
      if (d.rank != c.rank) return pin_all(why);
      out.el.insert(out.el.end(), d.el.begin(), d.el.end());
    }
    ch_[n.outputs[0]] = std::move(out);
    return;
  }
  if (op == "Pad") {
    if (tracked.size() != 1 || tracked[0] != 0) return pin_all(why);
    return VisitPad(i, c, why);
  }
  if (op == "Flatten" || op == "Reshape") {
    // [N, C, 1, 1] -> [N, C]: the channels become features, in order.
    const ir::ValueType* in = g_.TypeOf(n.inputs[0]);
    const ir::ValueType* out = g_.TypeOf(n.outputs[0]);
    bool ok = tracked.size() == 1 && tracked[0] == 0 && in && in->dims && out && out->dims &&
              out->dims->size() == 2 && in->dims->size() == c.rank;
    for (size_t d = 2; ok && d < c.rank; ++d) ok = (*in->dims)[d].value == 1;
    if (ok && op == "Flatten") ok = n.AttrInt("axis", 1) == 1;
    if (ok && op == "Reshape") {  // the shape must not name the channel count
      const auto it = g_.initializers.find(n.inputs[1]);
      ok = it != g_.initializers.end() && it->second.numel() == 2 &&
           it->second.GetAsInt64(1) == -1 && it->second.GetAsInt64(0) != -1;
    }
    if (!ok) return pin_all(why);
    ch_[n.outputs[0]] = Channels{c.el, 2};
    return;
  }
  if ((op == "Gemm" || op == "MatMul") && c.rank == 2 && tracked.size() == 1 && tracked[0] == 0) {
    const Tensor* b = FloatInit(g_, n, 1);
    const size_t k_axis = op == "Gemm" && n.AttrInt("transB", 0) != 0 ? 1 : 0;
    if (b && b->rank() == 2 && n.AttrInt("transA", 0) == 0 &&
        b->dim(k_axis) == static_cast<int64_t>(c.el.size())) {
      slices_.push_back({i, 1, k_axis, c.el});
      return;
    }
  }
  pin_all(why);
}

void Planner::Walk(const std::unordered_map<std::string, std::string>& shape_readers) {
  for (size_t i = 0; i < g_.nodes.size(); ++i) {
    std::unordered_set<std::string> outer;
    ir::CollectSubgraphReads(g_.nodes[i], &outer);
    for (const std::string& v : outer) Pin(v, "is read inside " + g_.nodes[i].Label());
    Visit(i);
    for (const std::string& out : g_.nodes[i].outputs) {
      const auto it = shape_readers.find(out);
      if (it != shape_readers.end()) Pin(out, "reaches " + it->second);
    }
  }
  for (const std::string& out : g_.outputs) Pin(out, "is a graph output");
}

std::vector<double> Planner::FilterNorms(const ir::Node& conv) const {
  const Tensor* w = FloatInit(g_, conv, 1);
  const int64_t m = w->dim(0), inner = w->numel() / m;
  std::vector<double> norm(static_cast<size_t>(m), 0.0);
  for (int64_t k = 0; k < m; ++k) {
    double s = 0;
    for (int64_t j = 0; j < inner; ++j) {
      const double v = w->data<float>()[k * inner + j];
      s += o_.criterion == PruneCriterion::kL1 ? std::fabs(v) : v * v;
    }
    norm[static_cast<size_t>(k)] = o_.criterion == PruneCriterion::kL1 ? s : std::sqrt(s);
  }
  // A BatchNormalization right after scales each channel by gamma / sqrt(var + eps): the
  // filter's effective norm is the scaled one.
  for (const ir::Node& bn : g_.nodes) {
    if (bn.op_type != "BatchNormalization" || bn.inputs.size() < 5 ||
        bn.inputs[0] != conv.outputs[0])
      continue;
    const Tensor* gamma = FloatInit(g_, bn, 1);
    const Tensor* var = FloatInit(g_, bn, 4);
    if (!gamma || !var || gamma->numel() != m || var->numel() != m) break;
    const double eps = bn.AttrFloat("epsilon", 1e-5f);
    for (int64_t k = 0; k < m; ++k)
      norm[static_cast<size_t>(k)] *=
          std::fabs(gamma->data<float>()[k]) / std::sqrt(var->data<float>()[k] + eps);
    break;
  }
  return norm;
}

bool Planner::Choose(PruneReport* report) {
  // Sources whose elements were united form one group.
  std::vector<int> comp(sources_.size());
  std::iota(comp.begin(), comp.end(), 0);
  auto find_comp = [&](int s) {
    while (comp[static_cast<size_t>(s)] != s) s = comp[static_cast<size_t>(s)];
    return s;
  };
  for (size_t e = 0; e < parent_.size(); ++e) {
    const int a = find_comp(elem_source_[e]);
    const int b = find_comp(elem_source_[static_cast<size_t>(Find(static_cast<int>(e)))]);
    if (a != b) comp[static_cast<size_t>(a)] = b;
  }
  std::map<int, std::vector<size_t>> members;
  for (size_t s = 0; s < sources_.size(); ++s) members[find_comp(static_cast<int>(s))].push_back(s);
  bool any_free = false;
  for (const auto& [_, srcs] : members) {
    std::map<int, double> norm;  // class root -> summed norm
    std::map<int, std::string> pinned;
    const int64_t q = std::max<int64_t>(o_.channel_multiple, 1);
    bool blocked = q > 1;
    PruneGroup group;
    for (size_t s : srcs) {
      const ir::Node& conv = g_.nodes[sources_[s].node];
      const bool zeros = sources_[s].pad_before >= 0;
      if (!zeros) group.convs.push_back(conv.name.empty() ? conv.outputs[0] : conv.name);
      blocked = blocked && (zeros || sources_[s].channels % q == 0);
      const std::vector<double> fn =
          zeros ? std::vector<double>(static_cast<size_t>(sources_[s].channels), 0.0)
                : FilterNorms(conv);
      for (int64_t k = 0; k < sources_[s].channels; ++k) {
        const int e = sources_[s].base + static_cast<int>(k);
        const int root = Find(e);
        norm[root] += fn[static_cast<size_t>(k)];
        if (!pin_[static_cast<size_t>(e)].empty() && !pinned.count(root))
          pinned[root] = pin_[static_cast<size_t>(e)];
      }
    }
    const int64_t n = static_cast<int64_t>(norm.size());
    const int64_t free_count = n - static_cast<int64_t>(pinned.size());
    if (free_count == 0) {
      for (size_t s : srcs)
        report->skipped.push_back(g_.nodes[sources_[s].node].Label() + ": output " +
                                  pinned.begin()->second);
      continue;
    }
    if (!o_.coupled && srcs.size() > 1) {
      report->skipped.push_back(g_.nodes[sources_[srcs[0]].node].Label() + " and " +
                                std::to_string(srcs.size() - 1) +
                                " coupled with it: coupled groups are left alone");
      continue;
    }
    any_free = true;
    blocked = blocked && n % q == 0;
    const double target = o_.ratio * static_cast<double>(n);
    int64_t remove = blocked
                         ? static_cast<int64_t>(std::llround(target / static_cast<double>(q))) * q
                         : static_cast<int64_t>(std::llround(target));
    remove = std::min({remove, free_count, n - (blocked ? q : 1)});
    if (blocked) remove -= remove % q;
    remove = std::max<int64_t>(remove, 0);
    if (!pinned.empty())
      report->skipped.push_back(g_.nodes[sources_[srcs[0]].node].Label() + " and its group: " +
                                std::to_string(pinned.size()) + " of " + std::to_string(n) +
                                " channels kept, output " + pinned.begin()->second);
    std::vector<std::pair<double, int>> order;
    for (const auto& [root, v] : norm)
      if (!pinned.count(root)) order.push_back({v, root});
    std::sort(order.begin(), order.end());
    for (int64_t k = 0; k < remove; ++k) removed_.insert(order[static_cast<size_t>(k)].second);
    for (size_t s : srcs) {
      if (sources_[s].pad_before >= 0) continue;
      group.removed_of.emplace_back();
      for (int64_t k = 0; k < sources_[s].channels; ++k)
        if (Removed(sources_[s].base + static_cast<int>(k))) group.removed_of.back().push_back(k);
    }
    group.channels = n;
    group.removed = remove;
    report->channels_before += n;
    report->channels_after += n - remove;
    report->groups.push_back(std::move(group));
  }
  return any_free;
}

Tensor SliceAlong(const Tensor& t, size_t axis, const std::vector<int64_t>& keep) {
  Shape shape = t.shape();
  const int64_t outer = std::accumulate(shape.begin(), shape.begin() + static_cast<long>(axis),
                                        int64_t{1}, std::multiplies<>());
  const int64_t inner = std::accumulate(shape.begin() + static_cast<long>(axis) + 1, shape.end(),
                                        int64_t{1}, std::multiplies<>());
  const int64_t d = shape[axis];
  shape[axis] = static_cast<int64_t>(keep.size());
  Tensor out(DataType::kFloat32, shape);
  const float* src = t.data<float>();
  float* dst = out.data<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (size_t k = 0; k < keep.size(); ++k)
      std::copy_n(src + (o * d + keep[k]) * inner, inner,
                  dst + (o * static_cast<int64_t>(keep.size()) + static_cast<int64_t>(k)) * inner);
  return out;
}

int64_t FloatParams(const ir::Graph& g) {
  int64_t n = 0;
  for (const auto& [_, t] : g.initializers)
    if (t.dtype() == DataType::kFloat32) n += t.numel();
  return n;
}

void Planner::Apply(PruneReport* report) {
  auto kept = [&](const std::vector<int>& el) {
    std::vector<int64_t> keep;
    for (size_t k = 0; k < el.size(); ++k)
      if (!Removed(el[k])) keep.push_back(static_cast<int64_t>(k));
    return keep;
  };
  std::set<std::string> names;
  for (const auto& [k, _] : g_.initializers) names.insert(k);
  std::set<std::string> replaced;
  for (const Slice& s : slices_) {
    const std::vector<int64_t> keep = kept(s.el);
    if (keep.size() == s.el.size()) continue;
    ir::Node& n = g_.nodes[s.node];
    const std::string old = n.inputs[s.slot];
    std::string name = old + "_pruned";
    for (int k = 2; names.count(name); ++k) name = old + "_pruned" + std::to_string(k);
    names.insert(name);
    g_.initializers[name] = SliceAlong(g_.initializers.at(old), s.axis, keep);
    g_.value_types[name] = ir::ValueType::Static(DataType::kFloat32, g_.initializers[name].shape());
    n.inputs[s.slot] = name;
    replaced.insert(old);
  }
  for (const Source& src : sources_) {
    if (src.pad_before < 0) continue;
    int64_t before = 0, after = 0;
    for (int64_t k = 0; k < src.channels; ++k)
      if (!Removed(src.base + static_cast<int>(k))) ++(k < src.pad_before ? before : after);
    ir::Node& n = g_.nodes[src.node];
    std::vector<int64_t> pads = n.AttrInts("pads");
    if (n.NumInputs() > 1) {
      const Tensor& t = g_.initializers.at(n.inputs[1]);
      pads.clear();
      for (int64_t k = 0; k < t.numel(); ++k) pads.push_back(t.GetAsInt64(k));
    }
    pads[1] = before;
    pads[pads.size() / 2 + 1] = after;
    if (n.NumInputs() > 1) {
      std::string name = n.inputs[1] + "_pruned";
      while (names.count(name)) name += "_";
      names.insert(name);
      g_.initializers[name] =
          Tensor::FromVector<int64_t>(pads, {static_cast<int64_t>(pads.size())});
      g_.value_types[name] =
          ir::ValueType::Static(DataType::kInt64, {static_cast<int64_t>(pads.size())});
      n.inputs[1] = name;
    } else {
      ir::Attribute a;
      a.kind = ir::Attribute::Kind::kInts;
      a.ints = pads;
      n.attributes["pads"] = a;
    }
  }
  for (const auto& [node, el] : groups_attr_) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = static_cast<int64_t>(kept(el).size());
    g_.nodes[node].attributes["group"] = a;
  }
  for (const auto& [node, el] : readers_) {
    const ir::Node& reader = g_.nodes[node];
    PrunedReader r{reader.name.empty() ? reader.outputs[0] : reader.name, reader.outputs[0], {}};
    for (size_t k = 0; k < el.size(); ++k)
      if (Removed(el[k])) r.removed_inputs.push_back(static_cast<int64_t>(k));
    if (!r.removed_inputs.empty()) report->readers.push_back(std::move(r));
  }
  for (const auto& [value, c] : ch_) {
    std::vector<int64_t> keep = kept(c.el);
    if (keep.size() < c.el.size()) report->kept_channels[value] = std::move(keep);
    auto it = g_.value_types.find(value);
    if (it == g_.value_types.end() || !it->second.dims || it->second.dims->size() < 2) continue;
    (*it->second.dims)[1] = ir::Dim::Known(static_cast<int64_t>(kept(c.el).size()));
  }
  std::unordered_set<std::string> read;
  for (const ir::Node& n : g_.nodes) read.insert(n.inputs.begin(), n.inputs.end());
  for (const std::string& old : replaced)
    if (!read.count(old)) {
      g_.initializers.erase(old);
      g_.value_types.erase(old);
    }
}

}  // namespace

Result<PruneReport> PruneChannels(ir::Graph& g, const PruneOptions& o) {
  if (!(o.ratio >= 0 && o.ratio < 1))
    return Status::InvalidArgument("pruning ratio " + std::to_string(o.ratio) +
                                   " is outside [0, 1)");
  if (o.criterion != PruneCriterion::kL1 && o.criterion != PruneCriterion::kL2)
    return Status::InvalidArgument("unknown pruning criterion");
  // On a copy (tensors are shared, not copied) so that a failure leaves `g` as it was. Weights
  // that exporters route through Identity or Constant nodes become initializers first, and
  // types are needed to follow a Flatten.
  std::unordered_map<std::string, std::string> shape_readers;
  for (const ir::Node& n : g.nodes)
    if ((n.op_type == "Shape" || n.op_type == "Size") && !n.inputs.empty())
      shape_readers.emplace(n.inputs[0], n.Label());
  ir::Graph work = g;
  ops::InferShapes(work);
  SN_RETURN_IF_ERROR(optimizer::FoldConstants(work).status());
  ops::InferShapes(work);
  PruneReport report;
  report.params_before = FloatParams(g);
  Planner p(work, o);
  p.Walk(shape_readers);
  if (!p.Choose(&report)) {
    std::string why = "no conv whose output channels can be pruned";
    if (!report.skipped.empty()) why += ": " + report.skipped[0];
    return Status::InvalidArgument(why);
  }
  p.Apply(&report);
  SN_RETURN_IF_ERROR(optimizer::EliminateDeadNodes(work).status());
  report.params_after = FloatParams(work);
  g = std::move(work);
  return report;
}

}  // namespace supernova::compress

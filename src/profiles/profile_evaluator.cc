// What a capability profile says of a graph: which nodes the accelerator runs and why the others
// fall back, and the placement that follows (capability_profile.h). Reading profiles is
// capability_profile.cc's.
#include "profiles/capability_profile.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ops/shape_inference.h"
#include "optimizer/optimizer.h"
#include "optimizer/passes.h"
#include "profiles/capability_profile_impl.h"

namespace supernova::profiles {
namespace {

// ---------------------------------------------------------------------------------------------
// Evaluation helpers.

std::string Join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string IntsToString(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

std::string RangeToString(const Constraint& c) {
  return "[" + (c.min ? FormatNumber(*c.min) : std::string("-inf")) + ", " +
         (c.max ? FormatNumber(*c.max) : std::string("inf")) + "]";
}

const std::string* InputName(const ir::Node& n, int i) {
  if (i < 0 || static_cast<size_t>(i) >= n.inputs.size() || n.inputs[i].empty()) return nullptr;
  return &n.inputs[i];
}

const Tensor* ConstantValue(const ir::Graph& g, const std::string& name) {
  auto it = g.initializers.find(name);
  return it == g.initializers.end() ? nullptr : &it->second;
}

// Dims of a value: an initializer's shape or its inferred type; nullopt when rank is unknown.
std::optional<std::vector<ir::Dim>> DimsOf(const ir::Graph& g, const std::string& name) {
  if (const Tensor* t = ConstantValue(g, name)) {
    std::vector<ir::Dim> dims;
    for (int64_t d : t->shape()) dims.push_back(ir::Dim::Known(d));
    return dims;
  }
  const ir::ValueType* t = g.TypeOf(name);
  if (!t || !t->dims) return std::nullopt;
  return *t->dims;
}

// Rank minus the leading dims of size 1: how many dims the data really spans. Unknown dims
// count as larger than 1.
int EffectiveRank(const std::vector<ir::Dim>& dims) {
  size_t first = 0;
  while (first < dims.size() && dims[first].known() && dims[first].value == 1) ++first;
  return static_cast<int>(dims.size() - first);
}

std::optional<std::vector<double>> ConstantNumbers(const ir::Graph& g, const std::string& name) {
  const Tensor* t = ConstantValue(g, name);
  if (!t) return std::nullopt;
  std::vector<double> out(static_cast<size_t>(t->numel()));
  for (int64_t i = 0; i < t->numel(); ++i) out[static_cast<size_t>(i)] = t->GetAsDouble(i);
  return out;
}

std::optional<std::string> AttrAsString(const ir::Node& n, const std::string& key) {
  const ir::Attribute* a = n.FindAttr(key);
  if (!a) return std::nullopt;
  switch (a->kind) {
    case ir::Attribute::Kind::kInt:
      return std::to_string(a->i);
    case ir::Attribute::Kind::kString:
      return a->s;
    case ir::Attribute::Kind::kFloat:
      return FormatNumber(a->f);
    case ir::Attribute::Kind::kInts:
      return IntsToString(a->ints);
    default:
      return std::string("?");
  }
}

// The axes a node acts on: attribute "axes"/"axis", else constant input 1, else `fallback`
// (nullopt: every axis). Sets *unknown when the axes come from a non-constant input.
std::optional<std::vector<int64_t>> NodeAxes(const ir::Graph& g, const ir::Node& n,
                                             const std::vector<double>& fallback, bool* unknown) {
  *unknown = false;
  if (const ir::Attribute* a = n.FindAttr("axes"); a && a->kind == ir::Attribute::Kind::kInts)
    return a->ints;
  if (const ir::Attribute* a = n.FindAttr("axis"); a && a->kind == ir::Attribute::Kind::kInt)
    return std::vector<int64_t>{a->i};
  // Reduce* (opset 18) and Squeeze/Unsqueeze (opset 13) take axes as input 1.
  const bool axes_input =
      n.op_type.rfind("Reduce", 0) == 0 || n.op_type == "Squeeze" || n.op_type == "Unsqueeze";
  if (axes_input) {
    if (const std::string* in = InputName(n, 1)) {
      auto values = ConstantNumbers(g, *in);
      if (!values) {
        *unknown = true;
        return std::nullopt;
      }
      std::vector<int64_t> axes;
      for (double v : *values) axes.push_back(static_cast<int64_t>(v));
      if (!axes.empty()) return axes;
      // An empty axes input means "all axes" unless noop_with_empty_axes.
      if (n.AttrInt("noop_with_empty_axes", 0)) return std::vector<int64_t>{};
      return std::nullopt;
    }
  }
  if (!fallback.empty()) {
    std::vector<int64_t> axes;
    for (double v : fallback) axes.push_back(static_cast<int64_t>(v));
    return axes;
  }
  return std::nullopt;
}

std::string ConvGroupClass(const ir::Graph& g, const ir::Node& n) {
  const int64_t group = n.AttrInt("group", 1);
  if (group == 1) return "standard";
  // Depthwise: one group per input channel. Input channels = group x weight dim 1.
  const std::string* w = InputName(n, 1);
  auto wdims = w ? DimsOf(g, *w) : std::nullopt;
  if (wdims && wdims->size() >= 2 && (*wdims)[1].known() && (*wdims)[1].value == 1)
    return "depthwise";
  return "grouped";
}

// Checks one constraint; an empty string means it holds.
std::string Check(const Constraint& c, const ir::Graph& g, const ir::Node& n) {
  using K = Constraint::Kind;
  switch (c.kind) {
    case K::kAttrIn: {
      std::optional<std::string> v = AttrAsString(n, c.attr);
      if (!v) v = c.default_value;
      if (!v) return "";  // the source gives no rule for an absent attribute
      if (std::find(c.values.begin(), c.values.end(), *v) != c.values.end()) return "";
      return "attribute " + c.attr + "=" + *v + " outside {" + Join(c.values) + "}";
    }
    case K::kAttrRange: {
      const ir::Attribute* a = n.FindAttr(c.attr);
      if (!a) return "";
      std::vector<double> values;
      if (a->kind == ir::Attribute::Kind::kInt) values.push_back(static_cast<double>(a->i));
      if (a->kind == ir::Attribute::Kind::kFloat) values.push_back(a->f);
      if (a->kind == ir::Attribute::Kind::kInts)
        for (int64_t i : a->ints) values.push_back(static_cast<double>(i));
      for (double v : values)
        if ((c.min && v < *c.min) || (c.max && v > *c.max))
          return "attribute " + c.attr + "=" + AttrAsString(n, c.attr).value_or("?") + " outside " +
                 RangeToString(c);
      return "";
    }
    case K::kAttrAllEqual: {
      const std::vector<int64_t> v = n.AttrInts(c.attr);
      if (std::adjacent_find(v.begin(), v.end(), std::not_equal_to<>()) == v.end()) return "";
      return "attribute " + c.attr + "=" + IntsToString(v) + " not all equal";
    }
    case K::kInputConstant: {
      const std::string* in = InputName(n, c.input);
      if (!in || g.IsInitializer(*in)) return "";
      return "input " + std::to_string(c.input) + " not constant";
    }
    case K::kInputRank:
    case K::kInputEffectiveRank:
    case K::kInputMaxElements: {
      const std::string* in = InputName(n, c.input);
      if (!in) return "";
      auto dims = DimsOf(g, *in);
      const std::string which = "input " + std::to_string(c.input);
      if (!dims) return which + " rank unknown";
      if (c.kind == K::kInputRank) {
        const double rank = static_cast<double>(dims->size());
        if ((c.min && rank < *c.min) || (c.max && rank > *c.max))
          return which + " rank " + std::to_string(dims->size()) + " outside " + RangeToString(c);
        return "";
      }
      if (c.kind == K::kInputEffectiveRank) {
        const int r = EffectiveRank(*dims);
        if (c.max && r > *c.max)
          return which + " effective rank " + std::to_string(r) + " above " + FormatNumber(*c.max);
        return "";
      }
      double elements = 1;
      for (const ir::Dim& d : *dims) {
        if (!d.known()) return which + " shape not static";
        elements *= static_cast<double>(d.value);
      }
      if (c.max && elements > *c.max)
        return which + " has " + FormatNumber(elements) + " elements (max " + FormatNumber(*c.max) +
               ")";
      return "";
    }
    case K::kInputValuesIn: {
      const std::string* in = InputName(n, c.input);
      if (!in) return "";
      auto values = ConstantNumbers(g, *in);
      const std::string which = "input " + std::to_string(c.input);
      if (!values) return which + " not constant";
      for (double v : *values)
        if (std::find(c.numbers.begin(), c.numbers.end(), v) == c.numbers.end()) {
          std::vector<std::string> allowed;
          for (double a : c.numbers) allowed.push_back(FormatNumber(a));
          return which + " value " + FormatNumber(v) + " outside {" + Join(allowed) + "}";
        }
      return "";
    }
    case K::kMaxOutputs: {
      const auto used = std::count_if(n.outputs.begin(), n.outputs.end(),
                                      [](const std::string& o) { return !o.empty(); });
      if (c.max && static_cast<double>(used) > *c.max)
        return std::to_string(used) + " outputs used (max " + FormatNumber(*c.max) + ")";
      return "";
    }
    case K::kConvGroup: {
      const std::string cls = ConvGroupClass(g, n);
      if (std::find(c.values.begin(), c.values.end(), cls) != c.values.end()) return "";
      return cls + " convolution (group=" + std::to_string(n.AttrInt("group", 1)) + ") outside {" +
             Join(c.values) + "}";
    }
    case K::kAxesExclude: {
      bool unknown = false;
      auto axes = NodeAxes(g, n, c.numbers, &unknown);
      if (unknown) return "axes input not constant";
      const std::string* in0 = InputName(n, 0);
      auto dims = in0 ? DimsOf(g, *in0) : std::nullopt;
      const int64_t rank = dims ? static_cast<int64_t>(dims->size()) : -1;
      std::set<int64_t> used;
      if (!axes) {  // every axis
        if (rank < 0) return "rank unknown";
        for (int64_t a = 0; a < rank; ++a) used.insert(a);
      } else {
        for (int64_t a : *axes) {
          if (a < 0 && rank < 0) return "rank unknown";
          used.insert(a < 0 ? a + rank : a);
        }
      }
      for (int64_t banned : c.axes)
        if (used.count(banned)) return "acts on axis " + std::to_string(banned);
      return "";
    }
    case K::kPadsZeroOn: {
      std::vector<double> pads;
      if (const ir::Attribute* a = n.FindAttr("pads"); a && a->kind == ir::Attribute::Kind::kInts) {
        for (int64_t p : a->ints) pads.push_back(static_cast<double>(p));
      } else if (const std::string* in = InputName(n, 1)) {
        auto values = ConstantNumbers(g, *in);
        if (!values) return "pads input not constant";
        pads = *values;
      }
      const size_t rank = pads.size() / 2;
      for (int64_t axis : c.axes) {
        const size_t a = static_cast<size_t>(axis);
        if (a < rank && (pads[a] != 0 || pads[a + rank] != 0))
          return "pads along axis " + std::to_string(axis);
      }
      return "";
    }
    case K::kPermFixed: {
      std::vector<int64_t> perm = n.AttrInts("perm");
      if (perm.empty()) {  // default: reverse the dims
        const std::string* in0 = InputName(n, 0);
        auto dims = in0 ? DimsOf(g, *in0) : std::nullopt;
        if (!dims) return "rank unknown";
        perm.resize(dims->size());
        std::iota(perm.rbegin(), perm.rend(), 0);
      }
      for (int64_t axis : c.axes)
        if (static_cast<size_t>(axis) < perm.size() && perm[static_cast<size_t>(axis)] != axis)
          return "moves axis " + std::to_string(axis) + " (perm=" + IntsToString(perm) + ")";
      return "";
    }
    case K::kClipBounds: {
      constexpr double kInf = std::numeric_limits<double>::infinity();
      double lo = -kInf, hi = kInf;
      if (n.HasAttr("min") || n.HasAttr("max")) {  // opset < 11
        lo = n.AttrFloat("min", -std::numeric_limits<float>::max());
        hi = n.AttrFloat("max", std::numeric_limits<float>::max());
      } else {
        for (int i : {1, 2}) {
          const std::string* in = InputName(n, i);
          if (!in) continue;
          auto v = ConstantNumbers(g, *in);
          if (!v || v->size() != 1) return "Clip bounds not constant";
          (i == 1 ? lo : hi) = (*v)[0];
        }
      }
      // float's extremes are how exporters write "no bound".
      if (lo <= -std::numeric_limits<float>::max()) lo = -kInf;
      if (hi >= std::numeric_limits<float>::max()) hi = kInf;
      auto matches = [](std::optional<double> want, double have, double inf) {
        return want ? std::abs(*want - have) < 1e-6 : have == inf;
      };
      std::vector<std::string> allowed;
      for (const auto& [want_lo, want_hi] : c.bounds) {
        if (matches(want_lo, lo, -kInf) && matches(want_hi, hi, kInf)) return "";
        allowed.push_back("(" + (want_lo ? FormatNumber(*want_lo) : "-inf") + ", " +
                          (want_hi ? FormatNumber(*want_hi) : "inf") + ")");
      }
      return "Clip bounds (" + FormatNumber(lo) + ", " + FormatNumber(hi) + ") outside {" +
             Join(allowed) + "}";
    }
  }
  return "";
}

}  // namespace

bool IsFloat(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat16 || t == DataType::kBFloat16 ||
         t == DataType::kFloat64;
}

Status PrepareGraph(ir::Graph& graph) {
  SN_RETURN_IF_ERROR(optimizer::Optimize(graph, OptimizationLevel::kBasic));
  // Every vendor converter folds BatchNormalization into the convolution before it maps ops;
  // a table without BatchNormalization does not mean the model's BN layers fall back.
  for (int round = 0; round < 4; ++round) {
    SN_ASSIGN_OR_RETURN(int folded, optimizer::FoldBatchNorm(graph));
    if (folded == 0) break;
    SN_RETURN_IF_ERROR(optimizer::EliminateDeadNodes(graph).status());
    ops::InferShapes(graph);
  }
  for (int pass = 0; pass < 4 && ops::InferShapes(graph) > 0; ++pass) {
  }
  return Status::Ok();
}

providers::Support Supports(const Profile& profile, const ir::Graph& graph, const ir::Node& node,
                            const EvalOptions& options) {
  if (!node.domain.empty() && node.domain != "ai.onnx")
    return providers::Support::No("op " + node.domain + "." + node.op_type + " not in table");
  auto rule = profile.ops.find(node.op_type);
  if (rule == profile.ops.end())
    return providers::Support::No("op " + node.op_type + " not in table");
  if (!rule->second.supported)
    return providers::Support::No("op " + node.op_type + " not supported");

  // Dtypes and shapes of the values the accelerator would hold: weights are the compiler's
  // business (it quantizes or converts them), so initializers are not checked.
  const std::vector<DataType>& allowed =
      rule->second.dtypes.empty() ? profile.dtypes : rule->second.dtypes;
  auto first_float = std::find_if(profile.dtypes.begin(), profile.dtypes.end(), IsFloat);
  std::vector<const std::string*> values;
  for (const std::string& in : node.inputs)
    if (!in.empty() && !graph.IsInitializer(in)) values.push_back(&in);
  for (const std::string& out : node.outputs)
    if (!out.empty()) values.push_back(&out);
  for (const std::string* v : values) {
    const ir::ValueType* t = graph.TypeOf(*v);
    if (!t) {
      if (profile.static_shapes) return providers::Support::No("shape unknown");
      continue;
    }
    DataType dtype = t->dtype;
    if (options.assume_int8 && IsFloat(dtype)) dtype = DataType::kInt8;
    if (profile.float_policy == FloatPolicy::kConvert && IsFloat(dtype) &&
        first_float != profile.dtypes.end() &&
        std::find(allowed.begin(), allowed.end(), dtype) == allowed.end())
      dtype = *first_float;
    if (dtype != DataType::kUndefined &&
        std::find(allowed.begin(), allowed.end(), dtype) == allowed.end())
      return providers::Support::No("dtype " + DataTypeName(t->dtype));
    if (profile.static_shapes && !t->HasStaticShape())
      return providers::Support::No(t->dims ? "dynamic shape" : "shape unknown");
    if (profile.max_effective_rank > 0 && t->dims) {
      const int r = EffectiveRank(*t->dims);
      if (r > profile.max_effective_rank)
        return providers::Support::No("tensor of effective rank " + std::to_string(r) + " (limit " +
                                      std::to_string(profile.max_effective_rank) + ")");
    }
  }
  for (const Constraint& c : rule->second.constraints) {
    std::string why = Check(c, graph, node);
    if (!why.empty()) return providers::Support::No(std::move(why));
  }
  return providers::Support::Yes();
}

Placement Evaluate(const Profile& profile, const ir::Graph& graph, const EvalOptions& options) {
  Placement p;
  bool prefix_broken = false;
  for (const ir::Node& n : graph.nodes) {
    if (n.op_type == "Constant" && n.domain.empty()) continue;
    NodePlacement np{&n, true, {}};
    providers::Support s = Supports(profile, graph, n, options);
    if (!s.ok) {
      np.on_accelerator = false;
      np.reason = s.reason;
    } else if (prefix_broken) {
      np.on_accelerator = false;
      np.reason = "after first unsupported op (prefix rule)";
    }
    if (!np.on_accelerator && profile.partition == PartitionRule::kPrefix) prefix_broken = true;
    (np.on_accelerator ? p.accelerator_nodes : p.cpu_nodes)++;
    p.nodes.push_back(std::move(np));
  }

  // Producer of each value; graph inputs are made on the host.
  std::map<std::string, size_t> producer;
  for (size_t i = 0; i < p.nodes.size(); ++i)
    for (const std::string& out : p.nodes[i].node->outputs)
      if (!out.empty()) producer[out] = i;

  std::vector<size_t> parent(p.nodes.size());
  std::iota(parent.begin(), parent.end(), 0);
  std::function<size_t(size_t)> find = [&](size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  std::set<std::pair<std::string, bool>> crossings;  // (value, read on the accelerator)
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const bool here = p.nodes[i].on_accelerator;
    for (const std::string& in : p.nodes[i].node->inputs) {
      if (in.empty() || graph.IsInitializer(in)) continue;
      auto it = producer.find(in);
      const bool is_graph_input =
          std::find(graph.inputs.begin(), graph.inputs.end(), in) != graph.inputs.end();
      if (it == producer.end() && !is_graph_input) continue;  // a Constant node's value
      const bool there = it != producer.end() && p.nodes[it->second].on_accelerator;
      if (here != there) crossings.insert({in, here});
      if (here && there) parent[find(i)] = find(it->second);
    }
  }
  for (const std::string& out : graph.outputs) {
    auto it = producer.find(out);
    if (it != producer.end() && p.nodes[it->second].on_accelerator) crossings.insert({out, false});
  }
  p.transitions = crossings.size();
  for (size_t i = 0; i < p.nodes.size(); ++i)
    if (p.nodes[i].on_accelerator && find(i) == i) ++p.segments;
  return p;
}

}  // namespace supernova::profiles

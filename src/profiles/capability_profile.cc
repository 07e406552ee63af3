#include "profiles/capability_profile.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>

#include "ir/shape_inference.h"
#include "optimizer/optimizer.h"
#include "optimizer/passes.h"
#include "profiles/embedded_profiles.h"

namespace supernova::profiles {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Parsing. Every error names the origin and the JSON path of the offending field, so a user
// editing a profile by hand finds the typo at once.

struct Reader {
  const std::string& origin;
  Status Error(const std::string& path, const std::string& what) const {
    return Status::InvalidArgument(origin + ": " + path + ": " + what);
  }
};

Result<DataType> ParseDtype(const Reader& r, const std::string& path, const json& v) {
  if (!v.is_string()) return r.Error(path, "expected a dtype name such as \"int8\"");
  const std::string name = v.get<std::string>();
  for (int32_t i = 1; i <= 16; ++i)
    if (IsKnownDataType(i) && DataTypeName(static_cast<DataType>(i)) == name)
      return static_cast<DataType>(i);
  return r.Error(path, "unknown dtype '" + name + "'");
}

Result<std::vector<DataType>> ParseDtypes(const Reader& r, const std::string& path, const json& v) {
  if (!v.is_array() || v.empty()) return r.Error(path, "expected a non-empty array of dtypes");
  std::vector<DataType> out;
  for (size_t i = 0; i < v.size(); ++i) {
    SN_ASSIGN_OR_RETURN(DataType t, ParseDtype(r, path + "[" + std::to_string(i) + "]", v[i]));
    out.push_back(t);
  }
  return out;
}

Status CheckKeys(const Reader& r, const std::string& path, const json& obj,
                 const std::set<std::string>& allowed) {
  for (const auto& [key, value] : obj.items())
    if (!allowed.count(key)) return r.Error(path, "unknown field '" + key + "'");
  return Status::Ok();
}

Result<std::string> GetString(const Reader& r, const std::string& path, const json& obj,
                              const std::string& key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return r.Error(path, "missing field '" + key + "'");
    return std::string();
  }
  if (!it->is_string()) return r.Error(path + "." + key, "expected a string");
  return it->get<std::string>();
}

Result<std::optional<double>> GetNumber(const Reader& r, const std::string& path, const json& obj,
                                        const std::string& key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return r.Error(path + "." + key, "expected a number");
  return std::optional<double>(it->get<double>());
}

Result<std::vector<int64_t>> GetInts(const Reader& r, const std::string& path, const json& obj,
                                     const std::string& key) {
  auto it = obj.find(key);
  if (it == obj.end()) return r.Error(path, "missing field '" + key + "'");
  if (!it->is_array()) return r.Error(path + "." + key, "expected an array of integers");
  std::vector<int64_t> out;
  for (const json& e : *it) {
    if (!e.is_number_integer()) return r.Error(path + "." + key, "expected an array of integers");
    out.push_back(e.get<int64_t>());
  }
  return out;
}

Result<int> GetInput(const Reader& r, const std::string& path, const json& obj) {
  auto it = obj.find("input");
  if (it == obj.end()) return r.Error(path, "missing field 'input'");
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 64)
    return r.Error(path + ".input", "expected an input index (0, 1, ...)");
  return static_cast<int>(it->get<int64_t>());
}

const std::map<std::string, Constraint::Kind>& KindNames() {
  static const std::map<std::string, Constraint::Kind> kNames = {
      {"attr_in", Constraint::Kind::kAttrIn},
      {"attr_range", Constraint::Kind::kAttrRange},
      {"attr_all_equal", Constraint::Kind::kAttrAllEqual},
      {"input_constant", Constraint::Kind::kInputConstant},
      {"input_rank", Constraint::Kind::kInputRank},
      {"input_effective_rank", Constraint::Kind::kInputEffectiveRank},
      {"input_max_elements", Constraint::Kind::kInputMaxElements},
      {"input_values_in", Constraint::Kind::kInputValuesIn},
      {"max_outputs", Constraint::Kind::kMaxOutputs},
      {"conv_group", Constraint::Kind::kConvGroup},
      {"axes_exclude", Constraint::Kind::kAxesExclude},
      {"pads_zero_on", Constraint::Kind::kPadsZeroOn},
      {"perm_fixed", Constraint::Kind::kPermFixed},
      {"clip_bounds", Constraint::Kind::kClipBounds},
  };
  return kNames;
}

std::string ScalarToString(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return v.dump();
}

Result<Constraint> ParseConstraint(const Reader& r, const std::string& path, const json& c) {
  if (!c.is_object()) return r.Error(path, "expected an object");
  SN_ASSIGN_OR_RETURN(std::string kind_name, GetString(r, path, c, "kind", true));
  auto kind = KindNames().find(kind_name);
  if (kind == KindNames().end()) return r.Error(path + ".kind", "unknown kind '" + kind_name + "'");
  Constraint out;
  out.kind = kind->second;
  using K = Constraint::Kind;
  // Each kind takes its own fields plus "kind" and a free-text "note".
  std::set<std::string> keys = {"kind", "note"};
  switch (out.kind) {
    case K::kAttrIn: {
      keys.insert({"attr", "values", "default"});
      SN_ASSIGN_OR_RETURN(out.attr, GetString(r, path, c, "attr", true));
      auto values = c.find("values");
      if (values == c.end() || !values->is_array() || values->empty())
        return r.Error(path, "missing field 'values' (a non-empty array)");
      for (const json& v : *values) {
        if (!v.is_string() && !v.is_number_integer())
          return r.Error(path + ".values", "expected strings or integers");
        out.values.push_back(ScalarToString(v));
      }
      if (auto d = c.find("default"); d != c.end()) out.default_value = ScalarToString(*d);
      break;
    }
    case K::kAttrRange:
    case K::kInputRank:
    case K::kInputEffectiveRank:
    case K::kInputMaxElements:
    case K::kMaxOutputs: {
      if (out.kind == K::kAttrRange) {
        keys.insert("attr");
        SN_ASSIGN_OR_RETURN(out.attr, GetString(r, path, c, "attr", true));
      } else if (out.kind != K::kMaxOutputs) {
        keys.insert("input");
        SN_ASSIGN_OR_RETURN(out.input, GetInput(r, path, c));
      }
      keys.insert({"min", "max"});
      SN_ASSIGN_OR_RETURN(out.min, GetNumber(r, path, c, "min"));
      SN_ASSIGN_OR_RETURN(out.max, GetNumber(r, path, c, "max"));
      if (!out.min && !out.max) return r.Error(path, "needs 'min', 'max' or both");
      if (out.kind != K::kAttrRange && out.kind != K::kInputRank && out.min)
        return r.Error(path + ".min", "this kind takes only 'max'");
      break;
    }
    case K::kAttrAllEqual: {
      keys.insert("attr");
      SN_ASSIGN_OR_RETURN(out.attr, GetString(r, path, c, "attr", true));
      break;
    }
    case K::kInputConstant: {
      keys.insert("input");
      SN_ASSIGN_OR_RETURN(out.input, GetInput(r, path, c));
      break;
    }
    case K::kInputValuesIn: {
      keys.insert({"input", "values"});
      SN_ASSIGN_OR_RETURN(out.input, GetInput(r, path, c));
      auto values = c.find("values");
      if (values == c.end() || !values->is_array() || values->empty())
        return r.Error(path, "missing field 'values' (a non-empty array of numbers)");
      for (const json& v : *values) {
        if (!v.is_number()) return r.Error(path + ".values", "expected numbers");
        out.numbers.push_back(v.get<double>());
      }
      break;
    }
    case K::kConvGroup: {
      keys.insert("allowed");
      auto allowed = c.find("allowed");
      if (allowed == c.end() || !allowed->is_array() || allowed->empty())
        return r.Error(path, "missing field 'allowed' (standard, depthwise, grouped)");
      for (const json& v : *allowed) {
        const std::string s = v.is_string() ? v.get<std::string>() : "";
        if (s != "standard" && s != "depthwise" && s != "grouped")
          return r.Error(path + ".allowed", "expected \"standard\", \"depthwise\" or \"grouped\"");
        out.values.push_back(s);
      }
      break;
    }
    case K::kAxesExclude:
    case K::kPadsZeroOn:
    case K::kPermFixed: {
      keys.insert("axes");
      SN_ASSIGN_OR_RETURN(out.axes, GetInts(r, path, c, "axes"));
      if (out.kind == K::kAxesExclude) {
        // The op's default when neither attribute nor input gives the axes (Split: 0,
        // Softmax: -1). Absent: the op acts on every axis, as Reduce* does.
        keys.insert("default_axes");
        if (c.contains("default_axes")) {
          SN_ASSIGN_OR_RETURN(std::vector<int64_t> d, GetInts(r, path, c, "default_axes"));
          for (int64_t a : d) out.numbers.push_back(static_cast<double>(a));
        }
      }
      break;
    }
    case K::kClipBounds: {
      keys.insert("allowed");
      auto allowed = c.find("allowed");
      if (allowed == c.end() || !allowed->is_array() || allowed->empty())
        return r.Error(path, "missing field 'allowed' (an array of [min, max] pairs)");
      for (const json& pair : *allowed) {
        if (!pair.is_array() || pair.size() != 2)
          return r.Error(path + ".allowed", "expected [min, max] pairs (null: unbounded)");
        auto side = [](const json& v) -> std::optional<double> {
          if (v.is_number()) return v.get<double>();
          return std::nullopt;
        };
        if ((!pair[0].is_number() && !pair[0].is_null()) ||
            (!pair[1].is_number() && !pair[1].is_null()))
          return r.Error(path + ".allowed", "expected numbers or null");
        out.bounds.emplace_back(side(pair[0]), side(pair[1]));
      }
      break;
    }
  }
  SN_RETURN_IF_ERROR(CheckKeys(r, path, c, keys));
  return out;
}

Result<OpRule> ParseOpRule(const Reader& r, const std::string& path, const json& o) {
  if (!o.is_object()) return r.Error(path, "expected an object with 'supported'");
  SN_RETURN_IF_ERROR(
      CheckKeys(r, path, o, {"supported", "maps_to", "note", "dtypes", "constraints"}));
  OpRule rule;
  auto supported = o.find("supported");
  if (supported == o.end() || !supported->is_boolean())
    return r.Error(path, "missing field 'supported' (true or false)");
  rule.supported = supported->get<bool>();
  SN_ASSIGN_OR_RETURN(rule.maps_to, GetString(r, path, o, "maps_to", false));
  SN_ASSIGN_OR_RETURN(rule.note, GetString(r, path, o, "note", false));
  if (auto d = o.find("dtypes"); d != o.end()) {
    SN_ASSIGN_OR_RETURN(rule.dtypes, ParseDtypes(r, path + ".dtypes", *d));
  }
  if (auto cs = o.find("constraints"); cs != o.end()) {
    if (!cs->is_array()) return r.Error(path + ".constraints", "expected an array");
    for (size_t i = 0; i < cs->size(); ++i) {
      SN_ASSIGN_OR_RETURN(
          Constraint c,
          ParseConstraint(r, path + ".constraints[" + std::to_string(i) + "]", (*cs)[i]));
      rule.constraints.push_back(std::move(c));
    }
  }
  return rule;
}

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

bool IsFloat(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat16 || t == DataType::kBFloat16 ||
         t == DataType::kFloat64;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<Profile> ParseProfile(std::string_view json_text, const std::string& origin) {
  const Reader r{origin};
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return r.Error("(file)", "not valid JSON");
  if (!doc.is_object()) return r.Error("(file)", "expected a JSON object");
  SN_RETURN_IF_ERROR(
      CheckKeys(r, "(top level)", doc,
                {"format", "name", "title", "source", "notes", "dtypes", "float_policy",
                 "static_shapes", "max_effective_rank", "partition", "ops"}));
  SN_ASSIGN_OR_RETURN(std::string format, GetString(r, "(top level)", doc, "format", true));
  if (format != "supernova-capability-profile/1")
    return r.Error("format", "expected \"supernova-capability-profile/1\", got \"" + format + "\"");
  Profile p;
  p.origin = origin;
  SN_ASSIGN_OR_RETURN(p.name, GetString(r, "(top level)", doc, "name", true));
  if (p.name.empty()) return r.Error("name", "must not be empty");
  SN_ASSIGN_OR_RETURN(p.title, GetString(r, "(top level)", doc, "title", true));

  auto source = doc.find("source");
  if (source == doc.end() || !source->is_object())
    return r.Error("(top level)", "missing field 'source' (document, url, version)");
  SN_RETURN_IF_ERROR(CheckKeys(r, "source", *source, {"document", "url", "version", "retrieved"}));
  SN_ASSIGN_OR_RETURN(p.source_document, GetString(r, "source", *source, "document", true));
  SN_ASSIGN_OR_RETURN(p.source_url, GetString(r, "source", *source, "url", true));
  SN_ASSIGN_OR_RETURN(p.source_version, GetString(r, "source", *source, "version", true));

  if (auto notes = doc.find("notes"); notes != doc.end() && !notes->is_array())
    return r.Error("notes", "expected an array of strings");
  auto dtypes = doc.find("dtypes");
  if (dtypes == doc.end()) return r.Error("(top level)", "missing field 'dtypes'");
  SN_ASSIGN_OR_RETURN(p.dtypes, ParseDtypes(r, "dtypes", *dtypes));

  SN_ASSIGN_OR_RETURN(std::string policy, GetString(r, "(top level)", doc, "float_policy", false));
  if (policy.empty() || policy == "native") {
    p.float_policy = FloatPolicy::kNative;
  } else if (policy == "convert") {
    p.float_policy = FloatPolicy::kConvert;
  } else if (policy == "quantize") {
    p.float_policy = FloatPolicy::kQuantize;
  } else {
    return r.Error("float_policy",
                   "expected \"native\", \"convert\" or \"quantize\", got \"" + policy + "\"");
  }
  if (p.float_policy == FloatPolicy::kConvert &&
      std::none_of(p.dtypes.begin(), p.dtypes.end(), IsFloat))
    return r.Error("float_policy", "\"convert\" needs a float type in dtypes");

  if (auto s = doc.find("static_shapes"); s != doc.end()) {
    if (!s->is_boolean()) return r.Error("static_shapes", "expected true or false");
    p.static_shapes = s->get<bool>();
  }
  if (auto m = doc.find("max_effective_rank"); m != doc.end()) {
    if (!m->is_number_integer() || m->get<int64_t>() < 0)
      return r.Error("max_effective_rank", "expected a non-negative integer");
    p.max_effective_rank = static_cast<int>(m->get<int64_t>());
  }
  SN_ASSIGN_OR_RETURN(std::string partition, GetString(r, "(top level)", doc, "partition", true));
  if (partition == "any") {
    p.partition = PartitionRule::kAny;
  } else if (partition == "prefix") {
    p.partition = PartitionRule::kPrefix;
  } else {
    return r.Error("partition", "expected \"any\" or \"prefix\", got \"" + partition + "\"");
  }

  auto ops = doc.find("ops");
  if (ops == doc.end() || !ops->is_object() || ops->empty())
    return r.Error("(top level)", "missing field 'ops' (an object keyed by ONNX op type)");
  for (const auto& [op, rule] : ops->items()) {
    SN_ASSIGN_OR_RETURN(OpRule parsed, ParseOpRule(r, "ops." + op, rule));
    p.ops.emplace(op, std::move(parsed));
  }
  return p;
}

Result<Profile> LoadProfileFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read profile file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseProfile(text.str(), path);
}

std::vector<std::string> BuiltinProfileNames() {
  std::vector<std::string> names;
  for (const EmbeddedProfile& e : EmbeddedProfiles()) names.emplace_back(e.name);
  std::sort(names.begin(), names.end());
  return names;
}

Result<Profile> ResolveTarget(const std::string& target) {
  for (const EmbeddedProfile& e : EmbeddedProfiles())
    if (target == e.name) {
      auto p = ParseProfile(e.json, std::string(e.name) + ".json (built in)");
      if (p.ok()) p->origin = "built-in";
      return p;
    }
  std::error_code ec;
  const bool looks_like_file = target.size() > 5 && target.ends_with(".json");
  if (looks_like_file || std::filesystem::is_regular_file(target, ec))
    return LoadProfileFile(target);
  std::string names;
  for (const std::string& n : BuiltinProfileNames()) names += (names.empty() ? "" : ", ") + n;
  return Status::NotFound("unknown target '" + target + "': built-in targets are " + names +
                          ", or give a profile file ending in .json");
}

Status PrepareGraph(ir::Graph& graph) {
  SN_RETURN_IF_ERROR(optimizer::Optimize(graph, OptimizationLevel::kBasic));
  // Every vendor converter folds BatchNormalization into the convolution before it maps ops;
  // a table without BatchNormalization does not mean the model's BN layers fall back.
  for (int round = 0; round < 4; ++round) {
    SN_ASSIGN_OR_RETURN(int folded, optimizer::FoldBatchNorm(graph));
    if (folded == 0) break;
    SN_RETURN_IF_ERROR(optimizer::EliminateDeadNodes(graph).status());
    ir::InferShapes(graph);
  }
  for (int pass = 0; pass < 4 && ir::InferShapes(graph) > 0; ++pass) {
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

const char* PartitionRuleName(PartitionRule rule) {
  return rule == PartitionRule::kPrefix ? "prefix" : "any";
}

const char* FloatPolicyName(FloatPolicy policy) {
  switch (policy) {
    case FloatPolicy::kConvert:
      return "convert";
    case FloatPolicy::kQuantize:
      return "quantize";
    case FloatPolicy::kNative:
      break;
  }
  return "native";
}

}  // namespace supernova::profiles

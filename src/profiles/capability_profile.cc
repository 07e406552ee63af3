// Capability profiles as data: the JSON parser, profile files and the built-in profiles
// (capability_profile.h). What a profile says of a graph is profile_evaluator.cc's.
#include "profiles/capability_profile.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "profiles/capability_profile_impl.h"
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

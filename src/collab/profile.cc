#include "collab/profile.h"

#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "collab/cut.h"

namespace supernova::collab {

namespace {

using nlohmann::json;

constexpr int kProfileVersion = 1;

Result<DataType> DataTypeFromName(const std::string& name) {
  for (int32_t code = 0; code <= 16; ++code)
    if (IsKnownDataType(code) && DataTypeName(static_cast<DataType>(code)) == name)
      return static_cast<DataType>(code);
  return Status::InvalidArgument("unknown dtype '" + name + "'");
}

}  // namespace

std::string ModelFingerprint(const ir::Graph& graph) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bits
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // a separator no name contains
  };
  for (const ir::Node& n : graph.nodes) {
    mix(NodeKey(n));
    mix(n.op_type);
  }
  return fmt::format("{:016x}", h);
}

Status CheckProfileMatches(const Profile& profile, const ir::Graph& graph,
                           const std::string& what) {
  if (profile.fingerprint == ModelFingerprint(graph) && profile.nodes.size() == graph.nodes.size())
    return Status::Ok();
  return Status::InvalidArgument(
      fmt::format("{} was measured on another model ('{}', {} nodes; this one has {})", what,
                  profile.model, profile.nodes.size(), graph.nodes.size()));
}

Status WriteProfile(const Profile& p, const std::string& path) {
  json j;
  j["version"] = kProfileVersion;
  j["model"] = p.model;
  j["fingerprint"] = p.fingerprint;
  j["threads"] = p.threads;
  j["slowdown"] = p.slowdown;
  j["iterations"] = p.iterations;
  j["total_ms"] = p.total_ms;
  j["measured_ms"] = p.measured_ms;
  j["attribution"] = p.attribution;
  j["inputs"] = json::object();
  for (const auto& [name, shape] : p.input_shapes) j["inputs"][name] = shape;
  j["nodes"] = json::array();
  for (const ProfiledNode& n : p.nodes)
    j["nodes"].push_back({{"name", n.key}, {"op_type", n.op_type}, {"ms", n.ms}, {"macs", n.macs}});
  j["tensors"] = json::object();
  for (const auto& [name, t] : p.tensors)
    j["tensors"][name] = {{"dtype", DataTypeName(t.dtype)}, {"shape", t.shape}, {"bytes", t.bytes}};
  std::ofstream out(path);
  out << j.dump(1) << "\n";
  out.close();
  if (!out) return Status::InvalidArgument("cannot write the profile '" + path + "'");
  return Status::Ok();
}

Result<Profile> ReadProfile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read the profile '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  Profile p;
  try {
    const json j = json::parse(text.str());
    if (j.at("version").get<int>() != kProfileVersion)
      return Status::InvalidArgument(fmt::format("profile '{}': version {}, expected {}", path,
                                                 j.at("version").get<int>(), kProfileVersion));
    p.model = j.at("model").get<std::string>();
    p.fingerprint = j.at("fingerprint").get<std::string>();
    p.threads = j.at("threads").get<int>();
    p.slowdown = j.at("slowdown").get<double>();
    p.iterations = j.at("iterations").get<int>();
    p.total_ms = j.at("total_ms").get<double>();
    p.measured_ms = j.at("measured_ms").get<double>();
    p.attribution = j.value("attribution", "");
    for (const auto& [name, shape] : j.at("inputs").items())
      p.input_shapes[name] = shape.get<Shape>();
    for (const json& n : j.at("nodes"))
      p.nodes.push_back({n.at("name").get<std::string>(), n.at("op_type").get<std::string>(),
                         n.at("ms").get<double>(), n.value("macs", 0.0)});
    for (const auto& [name, t] : j.at("tensors").items()) {
      auto dtype = DataTypeFromName(t.at("dtype").get<std::string>());
      if (!dtype.ok()) return dtype.status().WithContext("profile '" + path + "': " + name);
      p.tensors[name] = {*dtype, t.at("shape").get<Shape>(), t.at("bytes").get<size_t>()};
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument(fmt::format("profile '{}': {}", path, e.what()));
  }
  return p;
}

}  // namespace supernova::collab

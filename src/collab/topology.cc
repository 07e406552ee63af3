#include "collab/topology.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace supernova::collab {

namespace {

using json = nlohmann::json;

Status Bad(const std::string& what, const std::string& message) {
  return Status::InvalidArgument(fmt::format("{}: {}", what, message));
}

Result<json> ParseJson(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann's message names the byte; keep the part after its "[json.exception...]" tag.
    std::string m = e.what();
    const size_t tag = m.find("] ");
    return Bad(what, "not JSON: " + (tag == std::string::npos ? m : m.substr(tag + 2)));
  }
}

// Field readers: `where` is the path shown in errors ("devices[2].speed").
Status CheckKeys(const json& obj, const std::string& where, std::initializer_list<const char*> keys,
                 const std::string& what) {
  if (!obj.is_object()) return Bad(what, where + " must be an object");
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; }))
      return Bad(what, fmt::format("{}: unknown field '{}'", where, it.key()));
  return Status::Ok();
}

Result<double> Number(const json& obj, const char* key, const std::string& where,
                      const std::string& what, bool required, double fallback, double min_value,
                      bool min_exclusive) {
  if (!obj.contains(key)) {
    if (required) return Bad(what, fmt::format("{}.{} is missing", where, key));
    return fallback;
  }
  const json& v = obj.at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    return Bad(what, fmt::format("{}.{} must be a number", where, key));
  const double x = v.get<double>();
  if (min_exclusive ? x <= min_value : x < min_value)
    return Bad(what, fmt::format("{}.{} must be {} {:g}, not {:g}", where, key,
                                 min_exclusive ? "above" : "at least", min_value, x));
  return x;
}

Result<std::string> Text(const json& obj, const char* key, const std::string& where,
                         const std::string& what) {
  if (!obj.contains(key)) return Bad(what, fmt::format("{}.{} is missing", where, key));
  const json& v = obj.at(key);
  if (!v.is_string() || v.get<std::string>().empty())
    return Bad(what, fmt::format("{}.{} must be a non-empty string", where, key));
  return v.get<std::string>();
}

Result<const json*> Array(const json& root, const char* key, const std::string& what) {
  if (!root.contains(key)) return Bad(what, fmt::format("'{}' is missing", key));
  const json& v = root.at(key);
  if (!v.is_array() || v.empty())
    return Bad(what, fmt::format("'{}' must be a non-empty array", key));
  return &v;
}

Result<Device> ParseDevice(const json& d, const std::string& where, const std::string& what) {
  SN_RETURN_IF_ERROR(CheckKeys(
      d, where,
      {"name", "tier", "speed", "ms", "active_w", "idle_w", "cost_per_hour", "capacity", "load"},
      what));
  Device dev;
  SN_ASSIGN_OR_RETURN(dev.name, Text(d, "name", where, what));
  SN_ASSIGN_OR_RETURN(std::string tier, Text(d, "tier", where, what));
  if (tier == "end") {
    dev.tier = Tier::kEnd;
  } else if (tier == "edge") {
    dev.tier = Tier::kEdge;
  } else if (tier == "cloud") {
    dev.tier = Tier::kCloud;
  } else {
    return Bad(what, fmt::format("{}.tier '{}' is not end, edge or cloud", where, tier));
  }
  SN_ASSIGN_OR_RETURN(dev.speed, Number(d, "speed", where, what, false, 0, 0, false));
  if (d.contains("ms")) {
    const json& ms = d.at("ms");
    if (!ms.is_object()) return Bad(what, where + ".ms must be an object {model: ms}");
    for (auto it = ms.begin(); it != ms.end(); ++it) {
      SN_ASSIGN_OR_RETURN(double v,
                          Number(ms, it.key().c_str(), where + ".ms", what, true, 0, 0, true));
      dev.ms[it.key()] = v;
    }
  }
  if (dev.speed == 0 && dev.ms.empty())
    return Bad(what, where + " has neither a speed nor measured ms: it can run nothing");
  SN_ASSIGN_OR_RETURN(dev.active_w, Number(d, "active_w", where, what, true, 0, 0, false));
  SN_ASSIGN_OR_RETURN(dev.idle_w, Number(d, "idle_w", where, what, true, 0, 0, false));
  if (dev.idle_w > dev.active_w) return Bad(what, where + ".idle_w is above active_w");
  SN_ASSIGN_OR_RETURN(dev.cost_per_hour,
                      Number(d, "cost_per_hour", where, what, false, 0, 0, false));
  SN_ASSIGN_OR_RETURN(double capacity, Number(d, "capacity", where, what, false, 1, 1, false));
  if (capacity != std::floor(capacity) || capacity > 1e6)
    return Bad(what, where + ".capacity must be a whole number of items at once");
  dev.capacity = static_cast<int>(capacity);
  SN_ASSIGN_OR_RETURN(dev.load, Number(d, "load", where, what, false, 0, 0, false));
  if (dev.load >= 1) return Bad(what, where + ".load must be below 1");
  return dev;
}

Result<NetLink> ParseNetLink(const json& l, const std::string& where, const std::string& what,
                             const Topology& topo) {
  SN_RETURN_IF_ERROR(CheckKeys(
      l, where, {"from", "to", "bandwidth_mbit", "rtt_ms", "loss", "energy_nj_per_bit"}, what));
  NetLink link;
  for (const char* end : {"from", "to"}) {
    SN_ASSIGN_OR_RETURN(std::string name, Text(l, end, where, what));
    const int index = topo.FindDevice(name);
    if (index < 0) return Bad(what, fmt::format("{}.{}: no device named '{}'", where, end, name));
    (std::string(end) == "from" ? link.a : link.b) = index;
  }
  if (link.a == link.b) return Bad(what, where + " joins a device to itself");
  SN_ASSIGN_OR_RETURN(link.link.bandwidth_mbit,
                      Number(l, "bandwidth_mbit", where, what, true, 0, 0, true));
  SN_ASSIGN_OR_RETURN(link.link.rtt_ms, Number(l, "rtt_ms", where, what, true, 0, 0, false));
  SN_ASSIGN_OR_RETURN(link.link.loss, Number(l, "loss", where, what, false, 0, 0, false));
  if (link.link.loss >= 1) return Bad(what, where + ".loss must be below 1");
  SN_ASSIGN_OR_RETURN(link.energy_nj_per_bit,
                      Number(l, "energy_nj_per_bit", where, what, false, 0, 0, false));
  return link;
}

Result<Stage> ParseStage(const json& s, const std::string& where, const std::string& what,
                         const Stage* previous) {
  SN_RETURN_IF_ERROR(
      CheckKeys(s, where, {"name", "model", "ref_ms", "input_bytes", "output_bytes"}, what));
  Stage st;
  SN_ASSIGN_OR_RETURN(st.model, Text(s, "model", where, what));
  st.name = st.model;
  if (s.contains("name")) {
    SN_ASSIGN_OR_RETURN(st.name, Text(s, "name", where, what));
  }
  SN_ASSIGN_OR_RETURN(st.ref_ms, Number(s, "ref_ms", where, what, true, 0, 0, true));
  // A later stage receives what the one before it produced unless it says otherwise.
  SN_ASSIGN_OR_RETURN(st.input_bytes, Number(s, "input_bytes", where, what, previous == nullptr,
                                             previous ? previous->output_bytes : 0, 0, false));
  SN_ASSIGN_OR_RETURN(st.output_bytes, Number(s, "output_bytes", where, what, true, 0, 0, false));
  return st;
}

Result<Pipeline> ParsePipeline(const json& p, const std::string& where, const std::string& what,
                               const Topology& topo) {
  SN_RETURN_IF_ERROR(
      CheckKeys(p, where, {"name", "source", "sink", "rate", "slo_ms", "stages"}, what));
  Pipeline pipe;
  SN_ASSIGN_OR_RETURN(pipe.name, Text(p, "name", where, what));
  SN_ASSIGN_OR_RETURN(std::string source, Text(p, "source", where, what));
  pipe.source = topo.FindDevice(source);
  if (pipe.source < 0)
    return Bad(what, fmt::format("{}.source: no device named '{}'", where, source));
  pipe.sink = pipe.source;
  if (p.contains("sink")) {
    SN_ASSIGN_OR_RETURN(std::string sink, Text(p, "sink", where, what));
    pipe.sink = topo.FindDevice(sink);
    if (pipe.sink < 0) return Bad(what, fmt::format("{}.sink: no device named '{}'", where, sink));
  }
  SN_ASSIGN_OR_RETURN(pipe.rate, Number(p, "rate", where, what, true, 0, 0, true));
  SN_ASSIGN_OR_RETURN(pipe.slo_ms, Number(p, "slo_ms", where, what, false, 0, 0, false));
  SN_ASSIGN_OR_RETURN(const json* stages, Array(p, "stages", what + ": " + where));
  for (size_t i = 0; i < stages->size(); ++i) {
    SN_ASSIGN_OR_RETURN(Stage st,
                        ParseStage((*stages)[i], fmt::format("{}.stages[{}]", where, i), what,
                                   pipe.stages.empty() ? nullptr : &pipe.stages.back()));
    for (const Stage& other : pipe.stages)
      if (other.name == st.name)
        return Bad(what,
                   fmt::format("{}: two stages named '{}' (give them names)", where, st.name));
    pipe.stages.push_back(std::move(st));
  }
  return pipe;
}

}  // namespace

const char* TierName(Tier tier) {
  switch (tier) {
    case Tier::kEnd:
      return "end";
    case Tier::kEdge:
      return "edge";
    case Tier::kCloud:
      return "cloud";
  }
  return "?";
}

int Topology::FindDevice(const std::string& name) const {
  for (size_t i = 0; i < devices.size(); ++i)
    if (devices[i].name == name) return static_cast<int>(i);
  return -1;
}

int Topology::FindLink(int a, int b) const {
  for (size_t i = 0; i < links.size(); ++i)
    if ((links[i].a == a && links[i].b == b) || (links[i].a == b && links[i].b == a))
      return static_cast<int>(i);
  return -1;
}

std::vector<int> Topology::Route(int from, int to, bool* ok) const {
  *ok = true;
  if (from == to) return {};
  // Dijkstra on (hops, RTT sum) in lexicographic order; topologies are a few dozen devices.
  const size_t n = devices.size();
  std::vector<std::pair<int, double>> best(n, {1 << 30, HUGE_VAL});
  std::vector<int> via(n, -1);
  std::vector<bool> done(n, false);
  best[from] = {0, 0};
  for (size_t round = 0; round < n; ++round) {
    int u = -1;
    for (size_t i = 0; i < n; ++i)
      if (!done[i] && best[i].first < (1 << 30) && (u < 0 || best[i] < best[u]))
        u = static_cast<int>(i);
    if (u < 0) break;
    done[u] = true;
    for (size_t l = 0; l < links.size(); ++l) {
      const int v = links[l].a == u ? links[l].b : links[l].b == u ? links[l].a : -1;
      if (v < 0 || done[v]) continue;
      const std::pair<int, double> cand{best[u].first + 1, best[u].second + links[l].link.rtt_ms};
      if (cand < best[v]) {
        best[v] = cand;
        via[v] = static_cast<int>(l);
      }
    }
  }
  if (via[to] < 0) {
    *ok = false;
    return {};
  }
  std::vector<int> route;
  for (int at = to; at != from;) {
    const NetLink& l = links[via[at]];
    route.push_back(via[at]);
    at = l.a == at ? l.b : l.a;
  }
  std::reverse(route.begin(), route.end());
  return route;
}

int Workload::StageCount() const {
  int n = 0;
  for (const Pipeline& p : pipelines) n += static_cast<int>(p.stages.size());
  return n;
}

Result<Topology> ParseTopology(const std::string& text, const std::string& what) {
  SN_ASSIGN_OR_RETURN(json root, ParseJson(text, what));
  SN_RETURN_IF_ERROR(CheckKeys(root, "the topology", {"devices", "links"}, what));
  Topology topo;
  SN_ASSIGN_OR_RETURN(const json* devices, Array(root, "devices", what));
  for (size_t i = 0; i < devices->size(); ++i) {
    SN_ASSIGN_OR_RETURN(Device d, ParseDevice((*devices)[i], fmt::format("devices[{}]", i), what));
    if (topo.FindDevice(d.name) >= 0)
      return Bad(what, fmt::format("devices[{}]: a second device named '{}'", i, d.name));
    topo.devices.push_back(std::move(d));
  }
  if (root.contains("links")) {
    if (!root.at("links").is_array()) return Bad(what, "'links' must be an array");
    const json& links = root.at("links");
    for (size_t i = 0; i < links.size(); ++i) {
      SN_ASSIGN_OR_RETURN(NetLink l,
                          ParseNetLink(links[i], fmt::format("links[{}]", i), what, topo));
      if (topo.FindLink(l.a, l.b) >= 0)
        return Bad(what, fmt::format("links[{}]: a second link between '{}' and '{}'", i,
                                     topo.devices[l.a].name, topo.devices[l.b].name));
      topo.links.push_back(l);
    }
  }
  return topo;
}

Result<Workload> ParseWorkload(const std::string& text, const std::string& what,
                               const Topology& topology) {
  SN_ASSIGN_OR_RETURN(json root, ParseJson(text, what));
  SN_RETURN_IF_ERROR(CheckKeys(root, "the workload", {"pipelines"}, what));
  Workload work;
  SN_ASSIGN_OR_RETURN(const json* pipes, Array(root, "pipelines", what));
  for (size_t i = 0; i < pipes->size(); ++i) {
    SN_ASSIGN_OR_RETURN(
        Pipeline p, ParsePipeline((*pipes)[i], fmt::format("pipelines[{}]", i), what, topology));
    for (const Pipeline& other : work.pipelines)
      if (other.name == p.name)
        return Bad(what, fmt::format("pipelines[{}]: a second pipeline named '{}'", i, p.name));
    work.pipelines.push_back(std::move(p));
  }
  return work;
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open", path));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return Status::NotFound(fmt::format("{}: cannot read", path));
  return s.str();
}

Result<Topology> LoadTopology(const std::string& path) {
  SN_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseTopology(text, path);
}

Result<Workload> LoadWorkload(const std::string& path, const Topology& topology) {
  SN_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseWorkload(text, path, topology);
}

}  // namespace supernova::collab

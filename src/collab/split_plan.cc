#include "collab/split_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

namespace supernova::collab {

namespace {

// The profile matches the graph (CheckProfileMatches): its nodes are the graph's, in order.
double SumMs(const std::vector<int>& nodes, const Profile& profile) {
  double ms = 0;
  for (int i : nodes) ms += profile.nodes[i].ms;
  return ms;
}

Result<const TensorStat*> StatOf(const Profile& profile, const std::string& tensor) {
  auto it = profile.tensors.find(tensor);
  if (it == profile.tensors.end())
    return Status::InvalidArgument(
        fmt::format("the edge profile has no tensor '{}' (measured on another model?)", tensor));
  return &it->second;
}

double Score(const Candidate& c, CutObjective objective) {
  switch (objective) {
    case CutObjective::kEnergy:
      return c.energy_mj;
    case CutObjective::kBandwidth:
      return static_cast<double>(c.sent_bytes + c.result_bytes);
    case CutObjective::kLatency:
      break;
  }
  return c.total_ms;
}

// What a candidate costs apart from the link: compute on each side from the profiles (which
// match the graph), bytes from the edge profile's tensors. A cloud-only cut sends the inputs
// as they are (there is no head to encode them).
Result<Candidate> CostCut(const ir::Graph& graph, const std::vector<std::string>& tensors,
                          const std::string& kind, const Profile& edge, const Profile& cloud,
                          CutCodec codec) {
  Candidate c;
  c.kind = kind;
  c.tensors = tensors;
  if (kind != "cloud_only") c.edge_ms = SumMs(HeadNodes(graph, tensors), edge);
  if (kind != "edge_only") c.cloud_ms = SumMs(TailNodes(graph, tensors), cloud);
  for (const std::string& t : tensors) {
    SN_ASSIGN_OR_RETURN(const TensorStat* s, StatOf(edge, t));
    c.bytes += s->bytes;
    const CutCodec used = kind == "split" ? codec : CutCodec::kNone;
    c.sent_bytes += SentBytes(used, s->dtype, s->bytes);
    const SentTensor wire = WireNames(t, s->dtype, used);
    c.head_outputs.insert(c.head_outputs.end(), wire.names.begin(), wire.names.end());
  }
  if (kind == "edge_only") {
    c.sent_bytes = 0;  // results stay on the edge
    return c;
  }
  for (const std::string& out : graph.outputs) {
    SN_ASSIGN_OR_RETURN(const TensorStat* s, StatOf(edge, out));
    c.result_bytes += s->bytes;
  }
  return c;
}

}  // namespace

Result<Power> ParsePower(const std::string& text) {
  SN_ASSIGN_OR_RETURN(std::vector<double> parts,
                      ParseNumberList(text, "edge power", "ACTIVE_W,IDLE_W,RADIO_W"));
  for (double v : parts)
    if (v < 0)
      return Status::InvalidArgument(
          fmt::format("edge power '{}': a power cannot be negative", text));
  if (parts.size() != 3)
    return Status::InvalidArgument(
        fmt::format("edge power '{}': expected ACTIVE_W,IDLE_W,RADIO_W, as 5,1,2", text));
  return Power{parts[0], parts[1], parts[2]};
}

Result<CutObjective> ParseObjective(const std::string& text) {
  if (text == "latency") return CutObjective::kLatency;
  if (text == "energy") return CutObjective::kEnergy;
  if (text == "bandwidth") return CutObjective::kBandwidth;
  return Status::InvalidArgument("unknown objective '" + text + "' (latency, energy, bandwidth)");
}

const char* ObjectiveName(CutObjective objective) {
  switch (objective) {
    case CutObjective::kEnergy:
      return "energy";
    case CutObjective::kBandwidth:
      return "bandwidth";
    case CutObjective::kLatency:
      break;
  }
  return "latency";
}

void Price(Candidate& c, const Link& link, const Power& power) {
  c.transfer_ms = c.kind == "edge_only" ? 0.0 : link.TransferMs(c.sent_bytes, c.result_bytes);
  c.total_ms = c.edge_ms + c.transfer_ms + c.cloud_ms;
  c.energy_mj = power.edge_active_w * c.edge_ms + power.radio_w * c.transfer_ms +
                power.edge_idle_w * c.cloud_ms;
}

bool Better(const Candidate& a, const Candidate& b, CutObjective objective) {
  const double sa = Score(a, objective), sb = Score(b, objective);
  if (sa != sb) return sa < sb;
  if (a.total_ms != b.total_ms) return a.total_ms < b.total_ms;
  return a.id < b.id;
}

size_t Choose(const std::vector<Candidate>& candidates, CutObjective objective) {
  size_t best = 0;
  for (size_t i = 1; i < candidates.size(); ++i)
    if (Better(candidates[i], candidates[best], objective)) best = i;
  return best;
}

size_t ChooseKeepingEdge(const std::vector<Candidate>& candidates, CutObjective objective,
                         double edge_margin) {
  const size_t best = Choose(candidates, objective);
  for (size_t i = 0; i < candidates.size(); ++i)
    if (candidates[i].kind == "edge_only" &&
        Score(candidates[best], objective) * (1 + edge_margin) >= Score(candidates[i], objective))
      return i;
  return best;
}

std::vector<Link> SweepLinks() {
  std::vector<Link> links;
  for (double rtt : {5.0, 20.0, 50.0, 100.0, 200.0})
    for (int k = 0; k <= 16; ++k) links.push_back({std::pow(10.0, -1.0 + k / 4.0), rtt, 0});
  return links;
}

std::vector<size_t> SweepWinners(std::vector<Candidate> candidates, CutObjective objective,
                                 const Power& power) {
  std::set<size_t> winners;
  for (const Link& link : SweepLinks()) {
    for (Candidate& c : candidates) Price(c, link, power);
    winners.insert(Choose(candidates, objective));
  }
  return {winners.begin(), winners.end()};
}

Result<SplitPlan> PlanSplit(const ir::Graph& graph, const std::string& model_file,
                            const Profile& edge, const Profile& cloud, const Link& link,
                            CutCodec codec, CutObjective objective, const Power& power,
                            const std::optional<std::vector<std::string>>& user_cut,
                            double edge_margin) {
  SN_RETURN_IF_ERROR(CheckProfileMatches(edge, graph, "the edge profile"));
  SN_RETURN_IF_ERROR(CheckProfileMatches(cloud, graph, "the cloud profile"));
  if (user_cut) SN_RETURN_IF_ERROR(ValidateCut(graph, *user_cut));
  SN_RETURN_IF_ERROR(CheckCodec(graph, codec));
  SplitPlan plan;
  plan.model = std::filesystem::path(model_file).filename().string();
  plan.name = std::filesystem::path(model_file).stem().string();
  plan.inputs = graph.inputs;
  plan.outputs = graph.outputs;
  plan.objective = objective;
  plan.link = link;
  plan.codec = codec;
  plan.edge = &edge;
  plan.cloud = &cloud;
  plan.power = power;
  plan.edge_margin = edge_margin;

  const std::vector<CandidateCut> cuts = CandidateCuts(graph);
  if (cuts.empty()) return Status::InvalidArgument("the model has no cut");
  std::set<std::string> last(cuts.back().tensors.begin(), cuts.back().tensors.end());
  std::optional<size_t> user_index;
  std::set<std::string> user_set;
  if (user_cut) user_set.insert(user_cut->begin(), user_cut->end());
  for (size_t i = 0; i < cuts.size(); ++i) {
    const std::set<std::string> set(cuts[i].tensors.begin(), cuts[i].tensors.end());
    const std::string kind = i == 0 ? "cloud_only" : set == last ? "edge_only" : "split";
    SN_ASSIGN_OR_RETURN(Candidate c, CostCut(graph, cuts[i].tensors, kind, edge, cloud, codec));
    c.id = static_cast<int>(i);
    if (user_cut && set == user_set) user_index = i;
    plan.candidates.push_back(std::move(c));
  }
  if (user_cut && !user_index) {
    SN_ASSIGN_OR_RETURN(Candidate c, CostCut(graph, *user_cut, "split", edge, cloud, codec));
    c.id = static_cast<int>(plan.candidates.size());
    user_index = plan.candidates.size();
    plan.candidates.push_back(std::move(c));
  }
  for (Candidate& c : plan.candidates) Price(c, link, power);
  const size_t chosen =
      user_index ? *user_index : ChooseKeepingEdge(plan.candidates, objective, edge_margin);
  plan.chosen = plan.candidates[chosen].id;

  std::set<size_t> keep{chosen};
  for (size_t i = 0; i < plan.candidates.size(); ++i)
    if (plan.candidates[i].kind != "split") keep.insert(i);
  for (size_t i : SweepWinners(plan.candidates, objective, power)) keep.insert(i);
  for (size_t i : keep) {
    Candidate& c = plan.candidates[i];
    c.materialized = true;
    if (c.kind != "cloud_only") c.head = fmt::format("cuts/{}/head.onnx", c.id);
    if (c.kind != "edge_only") c.tail_model = fmt::format("{}_cut{}", plan.name, c.id);
  }
  return plan;
}

nlohmann::json PlanToJson(const SplitPlan& plan) {
  using nlohmann::json;
  auto summary = [](const Profile* p) {
    return json{{"threads", p->threads}, {"slowdown", p->slowdown}, {"total_ms", p->total_ms}};
  };
  json j;
  j["version"] = 1;
  j["model"] = plan.model;
  j["name"] = plan.name;
  j["inputs"] = plan.inputs;
  j["outputs"] = plan.outputs;
  j["objective"] = ObjectiveName(plan.objective);
  j["link"] = {{"bandwidth_mbit", plan.link.bandwidth_mbit},
               {"rtt_ms", plan.link.rtt_ms},
               {"loss", plan.link.loss}};
  j["codec"] = CutCodecName(plan.codec);
  j["edge"] = summary(plan.edge);
  j["cloud"] = summary(plan.cloud);
  j["power"] = {{"edge_active_w", plan.power.edge_active_w},
                {"edge_idle_w", plan.power.edge_idle_w},
                {"radio_w", plan.power.radio_w}};
  j["edge_margin"] = plan.edge_margin;
  j["chosen"] = plan.chosen;
  j["candidates"] = json::array();
  for (const Candidate& c : plan.candidates) {
    json cj = {{"id", c.id},
               {"kind", c.kind},
               {"tensors", c.tensors},
               {"head_outputs", c.head_outputs},
               {"edge_ms", c.edge_ms},
               {"cloud_ms", c.cloud_ms},
               {"bytes", c.bytes},
               {"sent_bytes", c.sent_bytes},
               {"result_bytes", c.result_bytes},
               {"transfer_ms", c.transfer_ms},
               {"total_ms", c.total_ms},
               {"energy_mj", c.energy_mj},
               {"materialized", c.materialized}};
    cj["head"] = c.head ? json(*c.head) : json(nullptr);
    cj["tail_model"] = c.tail_model ? json(*c.tail_model) : json(nullptr);
    j["candidates"].push_back(std::move(cj));
  }
  return j;
}

}  // namespace supernova::collab

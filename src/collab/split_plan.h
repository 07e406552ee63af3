// The split planner's cost model: for every candidate cut of a model, the predicted edge
// compute, transfer and cloud compute, their total and the edge's energy, from an edge and a
// cloud profile and a link; the objective picks one. plan.json (docs/collab.md) is this,
// written out.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "collab/cut.h"
#include "collab/link.h"
#include "collab/profile.h"
#include "collab/split.h"

namespace supernova::collab {

// The edge device's power draw, watts. The defaults are a small edge box (a Jetson Nano or
// a phone SoC: about 5 W busy, 1 W idle) with a cellular or Wi-Fi radio sending at about
// 2 W; `--edge-power ACTIVE,IDLE,RADIO` sets them.
struct Power {
  double edge_active_w = 5.0;
  double edge_idle_w = 1.0;
  double radio_w = 2.0;
};
Result<Power> ParsePower(const std::string& text);  // "5,1,2"

// What `split --objective` minimizes (placement has its own objectives: placement_model.h).
enum class CutObjective { kLatency, kEnergy, kBandwidth };
Result<CutObjective> ParseObjective(const std::string& text);
const char* ObjectiveName(CutObjective objective);

struct Candidate {
  int id = 0;
  std::string kind;  // "split", "edge_only", "cloud_only"
  std::vector<std::string> tensors;
  std::vector<std::string> head_outputs;  // as sent (the codec's names)
  double edge_ms = 0, cloud_ms = 0;
  size_t bytes = 0, sent_bytes = 0, result_bytes = 0;
  double transfer_ms = 0, total_ms = 0, energy_mj = 0;
  bool materialized = false;
  std::optional<std::string> head, tail_model;
};

// Fills transfer_ms, total_ms and energy_mj for `link`: total = edge + Link::TransferMs(sent,
// result) + cloud (edge-only sends nothing: transfer 0); energy (mJ) = active power x edge
// time + radio power x transfer time + idle power x cloud time.
void Price(Candidate& c, const Link& link, const Power& power);

// Whether priced `a` beats `b` for the objective: lower total_ms, energy_mj, or bytes on the
// link (sent + result); ties go to the lower total, then the lower id.
bool Better(const Candidate& a, const Candidate& b, CutObjective objective);
// The index of the best candidate (priced) for the objective.
size_t Choose(const std::vector<Candidate>& candidates, CutObjective objective);
// The same, but edge-only unless the best beats it by more than `edge_margin` (a share of
// edge-only's score): a cut that wins by less than the profiles' error may lose in practice,
// and running here sends nothing and cannot fail with the link.
size_t ChooseKeepingEdge(const std::vector<Candidate>& candidates, CutObjective objective,
                         double edge_margin);

// The links the runner may meet: bandwidths 0.1..1000 Mbit/s (four a decade) x RTT
// {5, 20, 50, 100, 200} ms.
std::vector<Link> SweepLinks();
// The candidates that are the best for some link of SweepLinks().
std::vector<size_t> SweepWinners(std::vector<Candidate> candidates, CutObjective objective,
                                 const Power& power);

struct SplitPlan {
  std::string model, name;
  std::vector<std::string> inputs, outputs;
  CutObjective objective = CutObjective::kLatency;
  Link link;
  CutCodec codec = CutCodec::kNone;
  const Profile* edge = nullptr;
  const Profile* cloud = nullptr;
  Power power;
  double edge_margin = 0;  // see ChooseKeepingEdge
  int chosen = 0;
  std::vector<Candidate> candidates;
};

// Costs and prices every candidate cut of `graph` (CandidateCuts) plus `user_cut` when
// given (the chosen one then), chooses (ChooseKeepingEdge with `edge_margin`), and marks the
// materialized ones (chosen, edge-only, cloud-only, sweep winners) with their file names.
Result<SplitPlan> PlanSplit(const ir::Graph& graph, const std::string& model_file,
                            const Profile& edge, const Profile& cloud, const Link& link,
                            CutCodec codec, CutObjective objective, const Power& power,
                            const std::optional<std::vector<std::string>>& user_cut,
                            double edge_margin = 0);

nlohmann::json PlanToJson(const SplitPlan& plan);

}  // namespace supernova::collab

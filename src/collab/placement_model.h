// The placement model: what a plan (each stage of each pipeline on a device) costs in
// latency, energy, bandwidth and money, and whether it is feasible. docs/placement.md states
// the formulas; in short, for a plan:
//
//   device d:  work W_d = sum over its stages of rate * ms / 1000 (busy seconds per second),
//              utilization rho_d = load_d + W_d / capacity_d; rho_d >= 1 is infeasible.
//   stage:     time = s * (1 + rho_d / (capacity_d * (1 - rho_d)))   (M/M/1 when capacity 1)
//   link hop:  time = rtt / 2 + bits / bandwidth / (1 - loss) / (1 - rho_link), per direction;
//              rho_link = bits/s carried in that direction / bandwidth; >= 1 is infeasible.
//   latency:   the worst pipeline's source -> stages -> sink sum of stage and hop times (ms).
//   energy:    W over devices the plan uses (idle + (active - idle) * W_d / capacity_d)
//              plus link energy (bits/s * nJ/bit).
//   bandwidth: Mbit/s summed over every link hop (an item crossing two links counts twice).
//   cost:      per hour, summed over the devices the plan uses.
// A device is used when it runs a stage or is a pipeline's source or sink.
//
//   SN_ASSIGN_OR_RETURN(PlacementProblem p, PlacementProblem::Create(topo, work, constraints));
//   Evaluation e = p.Evaluate(plan);  // plan[i]: device of stage i (pipelines in file order)
//
// Not thread-safe to mutate; Evaluate is const and may run on several threads.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "collab/topology.h"
#include "supernova/status.h"

namespace supernova::collab {

enum Objective { kLatency = 0, kEnergy = 1, kBandwidth = 2, kCost = 3 };
constexpr int kObjectiveCount = 4;
const char* ObjectiveName(int objective);  // "latency", ...
const char* ObjectiveUnit(int objective);  // "ms", "W", "Mbit/s", "/h"
// "latency" -> kLatency; -1 when no objective has that name.
int FindObjective(const std::string& name);

// `latency<=120ms`, `energy<=15W`, `bandwidth<=20Mbit/s`, `cost<=2/h`: an upper bound on one
// objective in its unit (latency also in s, energy in mW, bandwidth in bit/s, kbit/s, Gbit/s).
struct Constraint {
  int objective = kLatency;
  double limit = 0;  // in the objective's unit
  std::string text;  // as given
};
Result<Constraint> ParseConstraint(const std::string& text);

struct Evaluation {
  bool feasible = false;  // runnable, every SLO and every constraint met
  bool runnable = false;  // no device or link loaded to or past its capacity
  // How far from feasible: the sum of relative excesses (0 when feasible; overloads weigh
  // more than any SLO or constraint excess so that a search leaves them first).
  double violation = 0;
  std::array<double, kObjectiveCount> objectives{};  // infinite latency when not runnable
  std::vector<double> pipeline_ms;                   // end to end, per pipeline
  std::vector<double> device_utilization;            // rho_d, per device
  std::string why_infeasible;                        // the first failure, one line
};

class PlacementProblem {
 public:
  static Result<PlacementProblem> Create(Topology topology, Workload workload,
                                         std::vector<Constraint> constraints);

  int stage_count() const { return static_cast<int>(stages_.size()); }
  // Devices that can run stage i (a speed factor or a measured time for its model).
  const std::vector<int>& choices(int stage) const { return stages_[stage].choices; }
  // The number of distinct plans (a double: it can pass any integer's range).
  double PlanCount() const;
  Evaluation Evaluate(const std::vector<int>& plan) const;

  const Topology& topology() const { return topology_; }
  const Workload& workload() const { return workload_; }
  const std::vector<Constraint>& constraints() const { return constraints_; }
  // Whether some stage of the workload runs `model`.
  bool RunsModel(const std::string& model) const;
  // "pipeline/stage" of flattened stage i.
  std::string StageName(int stage) const;
  // "detect@edge1 embed@cloud" per pipeline, ';' between pipelines.
  std::string Describe(const std::vector<int>& plan) const;

  // Changes for re-planning; each recomputes what depends on it. Index checks are the
  // caller's (ParseUpdate resolves names).
  void SetLink(int link, const Link& figures);
  void SetDeviceLoad(int device, double load);
  Status SetDeviceSpeed(int device, double speed);
  Status SetDeviceModelMs(int device, const std::string& model, double ms);
  void SetPipelineRate(int pipeline, double rate);
  void SetConstraints(std::vector<Constraint> constraints) {
    constraints_ = std::move(constraints);
  }

 private:
  struct FlatStage {
    int pipeline = 0;
    int index = 0;                // within its pipeline
    std::vector<double> service;  // ms on each device; < 0 where it cannot run
    std::vector<int> choices;
  };
  // A link hop in one direction.
  struct Hop {
    int link;
    int direction;  // 0: a -> b, 1: b -> a
  };
  PlacementProblem() = default;
  void PrepareRoutes();    // routes_ from topology_
  Status PrepareStages();  // service times and choices from topology_ and workload_
  const std::vector<Hop>& Path(int from, int to) const {
    return routes_[from * topology_.devices.size() + to];
  }

  Topology topology_;
  Workload workload_;
  std::vector<Constraint> constraints_;
  std::vector<FlatStage> stages_;
  std::vector<std::vector<Hop>> routes_;  // from * devices + to
};

}  // namespace supernova::collab

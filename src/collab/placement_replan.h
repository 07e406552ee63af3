// Re-planning as measured figures change: a link's bandwidth, RTT or loss, a device's load,
// speed or measured time for a model, a pipeline's rate. The current plan is kept unless it
// has become infeasible or another plan is better by a margin (hysteresis), so that a noisy
// measurement does not move stages back and forth.
//
//   Replanner r(std::move(problem), options);
//   ReplanStep first = r.Start();
//   SN_ASSIGN_OR_RETURN(PlanUpdate u, ParsePlanUpdate(line, r.problem()));
//   SN_ASSIGN_OR_RETURN(ReplanStep next, r.Apply(u));  // next.switched: the plan moved
//
// Not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collab/placement_search.h"

namespace supernova::collab {

// One change, as a line of `supernova plan --updates` (docs/placement.md):
//   {"link": ["edge", "cloud"], "bandwidth_mbit": 2, "rtt_ms": 80}
//   {"device": "edge", "load": 0.5}   {"device": "edge", "speed": 0.5}
//   {"device": "edge", "ms": {"detector": 30}}   {"pipeline": "cam", "rate": 20}
struct PlanUpdate {
  enum class Target { kLink, kDevice, kPipeline } target = Target::kLink;
  int index = 0;                                       // of the link, device or pipeline
  std::optional<double> bandwidth_mbit, rtt_ms, loss;  // links
  std::optional<double> load, speed;                   // devices
  std::map<std::string, double> ms;                    // devices: measured model times
  std::optional<double> rate;                          // pipelines
  std::string text;                                    // the line as given
};
Result<PlanUpdate> ParsePlanUpdate(const std::string& line, const PlacementProblem& problem);

struct ReplanOptions {
  SearchOptions search;
  // Another plan replaces a feasible current one only when it is better by this share in the
  // first objective of search.order that differs by more than the tie tolerance.
  double margin = 0.1;
};

struct ReplanStep {
  std::string change;  // the update applied; empty for the first plan
  bool switched = false;
  std::string reason;
  SearchResult result;    // the search after the change
  std::vector<int> plan;  // the plan in force after the step; empty when none is feasible
  Evaluation eval;        // its figures after the change
};

class Replanner {
 public:
  Replanner(PlacementProblem problem, ReplanOptions options)
      : problem_(std::move(problem)), options_(std::move(options)) {}

  ReplanStep Start();
  // Applies the change and re-plans; a change the problem cannot take (a speed that leaves a
  // stage with no device) fails and leaves everything as it was.
  Result<ReplanStep> Apply(const PlanUpdate& update);

  const PlacementProblem& problem() const { return problem_; }
  const std::vector<int>& current() const { return current_; }

 private:
  ReplanStep Replan(std::string change);

  PlacementProblem problem_;
  ReplanOptions options_;
  std::vector<int> current_;
};

}  // namespace supernova::collab

// Searching the plans of a placement problem for the Pareto front, and choosing one from it.
//
//   SearchOptions o;  o.order = {kLatency, kEnergy};  // compared objectives, the first chooses
//   SearchResult r = SearchPlacement(problem, o);
//   if (r.chosen >= 0) use(r.front[r.chosen].plan);
//
// Exact enumeration while the plans number at most `exact_limit`, NSGA-II beyond (or as
// `method` says). The front holds feasible plans only, non-dominated in the objectives of
// `order`, sorted lexicographically in that order. The choice is lexicographic with ties:
// among the plans within `tie` (relative) of the best value of the first objective, those
// within `tie` of the best of the second, and so on; the lowest of the last wins.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "collab/nsga2.h"
#include "collab/placement_model.h"

namespace supernova::collab {

enum class SearchMethod { kAuto, kExact, kNsga2 };
Result<SearchMethod> ParseSearchMethod(const std::string& name);  // auto|exact|nsga2
const char* SearchMethodName(SearchMethod method);

// "latency,energy" -> {kLatency, kEnergy}; every name once.
Result<std::vector<int>> ParseObjectiveOrder(const std::string& text);

struct SearchOptions {
  SearchMethod method = SearchMethod::kAuto;
  double exact_limit = 200000;
  std::vector<int> order = {kLatency, kEnergy, kBandwidth, kCost};
  // NSGA-II's settings; the search counts a plan added to its front as progress, so
  // nsga.patience and nsga.max_generations extend the run while the front still grows.
  Nsga2Options nsga;
  double tie = 0.01;
};

struct PlanPoint {
  std::vector<int> plan;
  Evaluation eval;
};

struct SearchResult {
  SearchMethod method = SearchMethod::kExact;  // the one that ran
  double plan_count = 0;
  size_t evaluated = 0;
  std::vector<PlanPoint> front;
  int chosen = -1;  // index into front; -1 when no plan is feasible
  // With no feasible plan: the one closest to feasible (least violation), to say why.
  std::optional<PlanPoint> least_infeasible;
};

SearchResult SearchPlacement(const PlacementProblem& problem, const SearchOptions& options);

// The objectives of `order` of an evaluation, as the Pareto tools take them.
Point Objectives(const Evaluation& e, const std::vector<int>& order);

// The lexicographic-with-ties choice described above; -1 for an empty front.
int ChoosePlan(const std::vector<PlanPoint>& front, const std::vector<int>& order, double tie);

}  // namespace supernova::collab

// Why the planner chose what it chose: which constraints bind (the choice would differ without
// them) and what the other plans of the front trade against it.
//
//   SearchResult r = SearchPlacement(problem, options);
//   for (const std::string& line : ExplainChoice(problem, options, r).lines) print(line);
#pragma once

#include <string>
#include <vector>

#include "collab/placement_search.h"

namespace supernova::collab {

struct ConstraintStanding {
  std::string name;  // the constraint as given, or "SLOs"
  bool binds = false;
  // Binding: the plan that would be chosen without it and what it would give.
  std::vector<int> plan_without;
  Evaluation eval_without;
};

struct Explanation {
  std::vector<ConstraintStanding> constraints;
  std::vector<std::string> lines;  // one reason each, for people
};

// Searches again without each constraint (and without the SLOs) to see which bind, so it
// costs one search per constraint.
Explanation ExplainChoice(const PlacementProblem& problem, const SearchOptions& options,
                          const SearchResult& result);

// "latency 45.2 ms, energy 14.0 W" over the objectives of `order`.
std::string FormatObjectives(const Evaluation& e, const std::vector<int>& order);

}  // namespace supernova::collab

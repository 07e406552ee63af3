#include "collab/placement_explain.h"

#include <fmt/format.h>

#include <cmath>

namespace supernova::collab {

namespace {

std::string Value(int k, double v) { return fmt::format("{:.4g} {}", v, ObjectiveUnit(k)); }

// "latency 150 ms (+50), energy 2.1 W (-1.2)": `other` against `base`.
std::string Compare(const Evaluation& other, const Evaluation& base,
                    const std::vector<int>& order) {
  std::string out;
  for (int k : order) {
    if (!out.empty()) out += ", ";
    const double d = other.objectives[k] - base.objectives[k];
    out += fmt::format("{} {}", ObjectiveName(k), Value(k, other.objectives[k]));
    if (std::fabs(d) > 1e-9 * std::max(1.0, std::fabs(base.objectives[k])))
      out += fmt::format(" ({:+.3g})", d);
  }
  return out;
}

// Searches `problem` rebuilt from parts; the chosen plan and its evaluation under `judge`.
bool ChooseWithout(const Topology& topo, const Workload& work, std::vector<Constraint> cons,
                   const SearchOptions& options, const PlacementProblem& judge,
                   ConstraintStanding* standing) {
  auto relaxed = PlacementProblem::Create(topo, work, std::move(cons));
  if (!relaxed.ok()) return false;
  const SearchResult r = SearchPlacement(*relaxed, options);
  if (r.chosen < 0) return false;
  standing->plan_without = r.front[r.chosen].plan;
  standing->eval_without = judge.Evaluate(standing->plan_without);
  return true;
}

}  // namespace

std::string FormatObjectives(const Evaluation& e, const std::vector<int>& order) {
  std::string out;
  for (int k : order)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", ObjectiveName(k),
                       Value(k, e.objectives[k]));
  return out;
}

Explanation ExplainChoice(const PlacementProblem& problem, const SearchOptions& options,
                          const SearchResult& result) {
  Explanation x;
  const std::vector<int>& order = options.order;
  const PlanPoint* chosen = result.chosen >= 0 ? &result.front[result.chosen] : nullptr;
  if (chosen) {
    std::string rule = fmt::format("chosen: the lowest {}", ObjectiveName(order[0]));
    for (size_t i = 1; i < order.size(); ++i)
      rule +=
          fmt::format("{}{}", i == 1 ? ", ties broken by " : ", then ", ObjectiveName(order[i]));
    rule += fmt::format(
        " (values within {:g}% count as ties) among the {} feasible plan{} of the front",
        options.tie * 100, result.front.size(), result.front.size() == 1 ? "" : "s");
    x.lines.push_back(rule);
  } else if (result.least_infeasible) {
    x.lines.push_back(fmt::format("no feasible plan; the closest, {}, fails: {}",
                                  problem.Describe(result.least_infeasible->plan),
                                  result.least_infeasible->eval.why_infeasible));
  } else {
    x.lines.push_back("no feasible plan");
  }

  // Which constraints bind: the choice without one of them that breaks it.
  const std::vector<Constraint>& cons = problem.constraints();
  for (size_t i = 0; i < cons.size(); ++i) {
    ConstraintStanding s;
    s.name = cons[i].text;
    std::vector<Constraint> others = cons;
    others.erase(others.begin() + static_cast<long>(i));
    const int k = cons[i].objective;
    if (ChooseWithout(problem.topology(), problem.workload(), others, options, problem, &s) &&
        s.eval_without.objectives[k] > cons[i].limit) {
      s.binds = true;
      x.lines.push_back(fmt::format("{} binds: without it the choice would be {}: {}", s.name,
                                    problem.Describe(s.plan_without),
                                    chosen ? Compare(s.eval_without, chosen->eval, order)
                                           : FormatObjectives(s.eval_without, order)));
    } else if (chosen) {
      x.lines.push_back(fmt::format("{} holds with room: {} is {}", s.name, ObjectiveName(k),
                                    Value(k, chosen->eval.objectives[k])));
    }
    x.constraints.push_back(std::move(s));
  }
  bool any_slo = false;
  Workload no_slo = problem.workload();
  for (Pipeline& p : no_slo.pipelines) {
    any_slo |= p.slo_ms > 0;
    p.slo_ms = 0;
  }
  if (any_slo) {
    ConstraintStanding s;
    s.name = "SLOs";
    if (ChooseWithout(problem.topology(), no_slo, cons, options, problem, &s) &&
        !s.eval_without.feasible && s.eval_without.runnable) {
      s.binds = true;
      x.lines.push_back(fmt::format("the SLOs bind: without them the choice would be {}: {} ({})",
                                    problem.Describe(s.plan_without),
                                    chosen ? Compare(s.eval_without, chosen->eval, order)
                                           : FormatObjectives(s.eval_without, order),
                                    s.eval_without.why_infeasible));
    }
    x.constraints.push_back(std::move(s));
  }
  if (!chosen) return x;

  // What the rest of the front trades: the best plan on each later objective, and the
  // runner-up under the same rule.
  for (size_t i = 1; i < order.size(); ++i) {
    const int k = order[i];
    const PlanPoint* best = chosen;
    for (const PlanPoint& p : result.front)
      if (p.eval.objectives[k] < best->eval.objectives[k]) best = &p;
    if (best != chosen && best->eval.objectives[k] < chosen->eval.objectives[k] * (1 - options.tie))
      x.lines.push_back(fmt::format("for less {}: {}: {}", ObjectiveName(k),
                                    problem.Describe(best->plan),
                                    Compare(best->eval, chosen->eval, order)));
  }
  std::vector<PlanPoint> rest;
  for (size_t i = 0; i < result.front.size(); ++i)
    if (static_cast<int>(i) != result.chosen) rest.push_back(result.front[i]);
  const int next = ChoosePlan(rest, order, options.tie);
  if (next >= 0)
    x.lines.push_back(fmt::format("runner-up: {}: {}", problem.Describe(rest[next].plan),
                                  Compare(rest[next].eval, chosen->eval, order)));
  return x;
}

}  // namespace supernova::collab

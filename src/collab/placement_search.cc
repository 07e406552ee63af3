#include "collab/placement_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace supernova::collab {

Result<SearchMethod> ParseSearchMethod(const std::string& name) {
  if (name == "auto") return SearchMethod::kAuto;
  if (name == "exact") return SearchMethod::kExact;
  if (name == "nsga2") return SearchMethod::kNsga2;
  return Status::InvalidArgument(fmt::format("method '{}' is not auto, exact or nsga2", name));
}

const char* SearchMethodName(SearchMethod method) {
  switch (method) {
    case SearchMethod::kAuto:
      return "auto";
    case SearchMethod::kExact:
      return "exact";
    case SearchMethod::kNsga2:
      return "nsga2";
  }
  return "?";
}

Result<std::vector<int>> ParseObjectiveOrder(const std::string& text) {
  std::vector<int> order;
  std::stringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    const int k = FindObjective(name);
    if (k < 0)
      return Status::InvalidArgument(
          fmt::format("objective '{}' is not latency, energy, bandwidth or cost", name));
    if (std::find(order.begin(), order.end(), k) != order.end())
      return Status::InvalidArgument(fmt::format("objective '{}' named twice", name));
    order.push_back(k);
  }
  if (order.empty())
    return Status::InvalidArgument("--objective names no objective (latency,energy,...)");
  return order;
}

Point Objectives(const Evaluation& e, const std::vector<int>& order) {
  Point p;
  for (int k : order) p.push_back(e.objectives[k]);
  return p;
}

int ChoosePlan(const std::vector<PlanPoint>& front, const std::vector<int>& order, double tie) {
  std::vector<int> left(front.size());
  for (size_t i = 0; i < front.size(); ++i) left[i] = static_cast<int>(i);
  for (size_t level = 0; level < order.size() && left.size() > 1; ++level) {
    const int k = order[level];
    double best = HUGE_VAL;
    for (int i : left) best = std::min(best, front[i].eval.objectives[k]);
    const bool last = level + 1 == order.size();
    std::vector<int> kept;
    for (int i : left) {
      const double v = front[i].eval.objectives[k];
      if (last ? v == best : v <= best + tie * std::fabs(best)) kept.push_back(i);
    }
    left = std::move(kept);
  }
  return left.empty() ? -1 : left.front();
}

namespace {

// Keeps the feasible non-dominated plans and the least violating infeasible one.
class Collector {
 public:
  Collector(const PlacementProblem& problem, const std::vector<int>& order)
      : problem_(problem), order_(order) {}

  const Evaluation& Add(const std::vector<int>& plan) {
    ++evaluated_;
    last_ = problem_.Evaluate(plan);
    if (last_.feasible) {
      if (archive_.Insert(Objectives(last_, order_), plans_.size())) {
        plans_.push_back({plan, last_});
        ++gains_;
      }
    } else if (!least_ || last_.violation < least_->eval.violation) {
      least_ = PlanPoint{plan, last_};
    }
    return last_;
  }

  // Plans that entered the front so far (some since evicted by better ones).
  size_t gains() const { return gains_; }

  SearchResult Finish(SearchMethod method, const SearchOptions& options) {
    SearchResult r;
    r.method = method;
    r.plan_count = problem_.PlanCount();
    r.evaluated = evaluated_;
    for (size_t tag : archive_.tags()) r.front.push_back(plans_[tag]);
    std::sort(r.front.begin(), r.front.end(), [&](const PlanPoint& a, const PlanPoint& b) {
      return Objectives(a.eval, order_) < Objectives(b.eval, order_);
    });
    r.chosen = ChoosePlan(r.front, options.order, options.tie);
    if (r.front.empty()) r.least_infeasible = least_;
    return r;
  }

 private:
  const PlacementProblem& problem_;
  const std::vector<int>& order_;
  ParetoArchive archive_;
  std::vector<PlanPoint> plans_;  // by archive tag; evicted ones stay (memory grows with
                                  // insertions, at most once per improving plan)
  std::optional<PlanPoint> least_;
  Evaluation last_;
  size_t evaluated_ = 0;
  size_t gains_ = 0;
};

void Enumerate(const PlacementProblem& problem, Collector* collector) {
  const int n = problem.stage_count();
  std::vector<size_t> digit(n, 0);
  std::vector<int> plan(n);
  for (int i = 0; i < n; ++i) plan[i] = problem.choices(i)[0];
  while (true) {
    collector->Add(plan);
    int i = 0;
    for (; i < n; ++i) {  // the next plan, as an odometer
      if (++digit[i] < problem.choices(i).size()) {
        plan[i] = problem.choices(i)[digit[i]];
        break;
      }
      digit[i] = 0;
      plan[i] = problem.choices(i)[0];
    }
    if (i == n) return;
  }
}

}  // namespace

SearchResult SearchPlacement(const PlacementProblem& problem, const SearchOptions& options) {
  Collector collector(problem, options.order);
  SearchMethod method = options.method;
  if (method == SearchMethod::kAuto)
    method =
        problem.PlanCount() <= options.exact_limit ? SearchMethod::kExact : SearchMethod::kNsga2;
  if (method == SearchMethod::kExact) {
    Enumerate(problem, &collector);
  } else {
    std::vector<std::vector<int>> choices;
    for (int i = 0; i < problem.stage_count(); ++i) choices.push_back(problem.choices(i));
    // The plans that keep everything on one device, where it can run, are the extremes of
    // the front in bandwidth and often in cost and energy; random ones rarely hit them.
    Nsga2Options nsga = options.nsga;
    nsga.progress = [&collector] { return collector.gains(); };
    for (size_t d = 0; d < problem.topology().devices.size(); ++d) {
      std::vector<int> plan;
      for (const std::vector<int>& c : choices)
        plan.push_back(std::find(c.begin(), c.end(), static_cast<int>(d)) != c.end()
                           ? static_cast<int>(d)
                           : c[0]);
      nsga.initial.push_back(std::move(plan));
    }
    // Every plan NSGA-II evaluates goes through the collector, so the front reported is every
    // non-dominated feasible plan it met, not only those alive in the last generation.
    RunNsga2(
        choices,
        [&](const std::vector<int>& genes, Point* objectives, double* violation) {
          const Evaluation& e = collector.Add(genes);
          *objectives = Objectives(e, options.order);
          // Infinite objectives (an overloaded plan) must not reach the crowding arithmetic.
          *violation = e.feasible ? 0 : std::max(e.violation, 1e-12);
          if (!e.feasible)
            for (double& v : *objectives) v = 0;
        },
        nsga);
  }
  return collector.Finish(method, options);
}

}  // namespace supernova::collab

// Exact placement search against evaluating every plan and comparing all pairs; the
// lexicographic choice with ties; and the reasons: which constraints bind.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "collab/placement_explain.h"
#include "collab/placement_random.h"
#include "collab/placement_search.h"
#include "collab/placement_three.h"

namespace supernova::collab {
namespace {

// Every plan of the problem, as an odometer independent of the search's own.
std::vector<std::vector<int>> AllPlacementPlans(const PlacementProblem& p) {
  std::vector<std::vector<int>> plans = {{}};
  for (int s = 0; s < p.stage_count(); ++s) {
    std::vector<std::vector<int>> longer;
    for (const std::vector<int>& prefix : plans)
      for (int d : p.choices(s)) {
        longer.push_back(prefix);
        longer.back().push_back(d);
      }
    plans = std::move(longer);
  }
  return plans;
}

TEST(PlacementSearch, ExactFrontIsEveryFeasiblePlanNoOtherDominates) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const Instance inst = RandomInstance({5, 2, 2, seed});
    std::vector<Constraint> cons;
    if (seed % 2 == 0) cons.push_back({kCost, 2.5, "cost<=2.5/h"});
    auto p = PlacementProblem::Create(inst.topology, inst.workload, cons);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    SearchOptions o;
    o.method = SearchMethod::kExact;
    const SearchResult r = SearchPlacement(*p, o);
    EXPECT_EQ(r.evaluated, 625u);
    std::vector<Point> feasible;
    for (const std::vector<int>& plan : AllPlacementPlans(*p)) {
      const Evaluation e = p->Evaluate(plan);
      if (e.feasible) feasible.push_back(Objectives(e, o.order));
    }
    std::set<Point> expect;
    for (const Point& a : feasible)
      if (std::none_of(feasible.begin(), feasible.end(),
                       [&](const Point& b) { return Dominates(b, a); }))
        expect.insert(a);
    std::set<Point> got;
    for (const PlanPoint& pp : r.front) {
      EXPECT_TRUE(pp.eval.feasible);
      got.insert(Objectives(pp.eval, o.order));
    }
    EXPECT_EQ(got, expect) << "seed " << seed;
    EXPECT_EQ(got.size(), r.front.size()) << "one plan per point of the front";
  }
}

PlanPoint FrontPointAt(double latency, double energy) {
  PlanPoint p;
  p.eval.objectives = {latency, energy, 0, 0};
  return p;
}

TEST(PlacementSearch, ChoiceIsLexicographicWithTies) {
  const std::vector<PlanPoint> front = {FrontPointAt(100, 10), FrontPointAt(100.5, 5),
                                        FrontPointAt(120, 1)};
  EXPECT_EQ(ChoosePlan(front, {kLatency, kEnergy}, 0.01), 1);  // 100.5 ties 100 within 1%
  EXPECT_EQ(ChoosePlan(front, {kLatency, kEnergy}, 0), 0);
  EXPECT_EQ(ChoosePlan(front, {kEnergy, kLatency}, 0.01), 2);
  EXPECT_EQ(ChoosePlan({}, {kLatency}, 0.01), -1);
}

TEST(PlacementSearch, AutoEnumeratesSmallProblemsOnly) {
  const PlacementProblem p = Three();
  SearchOptions o;
  EXPECT_EQ(SearchPlacement(p, o).method, SearchMethod::kExact);
  o.exact_limit = 8;  // the example has 9 plans
  o.nsga.generations = 5;
  EXPECT_EQ(SearchPlacement(p, o).method, SearchMethod::kNsga2);
}

// Lowest energy first: the detector on the camera (16.5 W) takes 414.8 ms (400 ms of it the
// camera at 80% load: 80 ms / 0.2); everything on the edge box (18.4 W) 58 ms. An SLO of 90 ms
// is what keeps the detector off the camera.
TEST(PlacementExplain, SaysWhichConstraintBinds) {
  std::string w = kThreeWorkload;
  w.replace(w.find("\"slo_ms\": 200"), 13, "\"slo_ms\": 90");
  PlacementProblem p = Three({{kCost, 100, "cost<=100/h"}}, w);
  SearchOptions o;
  o.order = {kEnergy, kLatency};
  const SearchResult r = SearchPlacement(p, o);
  ASSERT_GE(r.chosen, 0);
  EXPECT_EQ(r.front[r.chosen].plan, (std::vector<int>{kEdge, kEdge}));
  const Explanation x = ExplainChoice(p, o, r);
  ASSERT_EQ(x.constraints.size(), 2u);
  EXPECT_EQ(x.constraints[0].name, "cost<=100/h");
  EXPECT_FALSE(x.constraints[0].binds);
  EXPECT_EQ(x.constraints[1].name, "SLOs");
  EXPECT_TRUE(x.constraints[1].binds);
  EXPECT_EQ(x.constraints[1].plan_without, (std::vector<int>{kCam, kEdge}));
  EXPECT_NEAR(x.constraints[1].eval_without.pipeline_ms[0], 414.78, 0.01);
  EXPECT_LT(x.constraints[1].eval_without.objectives[kEnergy],
            r.front[r.chosen].eval.objectives[kEnergy]);
  const std::string all = [&] {
    std::string s;
    for (const std::string& l : x.lines) s += l + "\n";
    return s;
  }();
  EXPECT_NE(all.find("the SLOs bind: without them the choice would be detect@cam embed@edge"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("cost<=100/h holds with room"), std::string::npos) << all;

  // A user constraint that excludes the unconstrained choice binds in the same way.
  const Evaluation best = r.front[r.chosen].eval;
  PlacementProblem q = Three({{kEnergy, best.objectives[kEnergy] - 0.1, "energy<=tight"}}, w);
  const SearchResult rq = SearchPlacement(q, o);
  const Explanation xq = ExplainChoice(q, o, rq);
  ASSERT_FALSE(xq.constraints.empty());
  EXPECT_TRUE(xq.constraints[0].binds);
  EXPECT_EQ(xq.constraints[0].plan_without, (std::vector<int>{kEdge, kEdge}));
}

TEST(PlacementExplain, WithNoFeasiblePlanNamesTheClosest) {
  PlacementProblem p = Three({{kLatency, 10, "latency<=10ms"}});
  const SearchResult r = SearchPlacement(p, SearchOptions());
  EXPECT_EQ(r.chosen, -1);
  ASSERT_TRUE(r.least_infeasible.has_value());
  EXPECT_EQ(r.least_infeasible->plan, (std::vector<int>{kEdge, kEdge}));  // 58 ms, the least over
  const Explanation x = ExplainChoice(p, SearchOptions(), r);
  ASSERT_FALSE(x.lines.empty());
  EXPECT_NE(x.lines[0].find("no feasible plan; the closest, detect@edge embed@edge"),
            std::string::npos)
      << x.lines[0];
  EXPECT_TRUE(x.constraints[0].binds);
}

}  // namespace
}  // namespace supernova::collab

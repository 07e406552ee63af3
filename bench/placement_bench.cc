// NSGA-II against exhaustive search on growing random placement instances (bench/placement.sh,
// table in docs/placement.md): the time each takes and how much of the true Pareto front
// NSGA-II finds (share of its points, hypervolume ratio). The exhaustive front is the truth.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "collab/nsga_quality.h"
#include "collab/placement_random.h"
#include "collab/placement_search.h"

namespace {

using namespace supernova::collab;  // NOLINT: a benchmark of this layer
using Clock = std::chrono::steady_clock;

struct Size {
  int devices, pipelines, stages;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs the search `runs` times; the median wall time in ms and the last result.
SearchResult Timed(const PlacementProblem& p, const SearchOptions& o, int runs, double* ms) {
  std::vector<double> times;
  SearchResult r;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    r = SearchPlacement(p, o);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  *ms = Median(times);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"NSGA-II against exhaustive placement search"};
  int seeds = 3, runs = 3, population = 100, generations = 150;
  const Nsga2Options defaults;
  int patience = defaults.patience, max_generations = defaults.max_generations;
  app.add_option("--seeds", seeds, "random instances per size (3)");
  app.add_option("--runs", runs, "timed runs of each search, median reported (3)");
  app.add_option("--population", population, "NSGA-II population (100)");
  app.add_option("--generations", generations, "NSGA-II generations (150)");
  app.add_option("--patience", patience,
                 "NSGA-II: generations without a new front point before it stops");
  app.add_option("--max-generations", max_generations, "NSGA-II: at most this many");
  std::vector<std::string> custom;
  app.add_option("--size", custom, "an instance size DEVICES,PIPELINES,STAGES (repeatable)");
  int first_seed = 1;
  app.add_option("--first-seed", first_seed, "seed of the first instance of each size (1)");
  CLI11_PARSE(app, argc, argv);

  std::vector<Size> sizes = {{4, 2, 2}, {5, 2, 3}, {6, 2, 3}, {7, 2, 3},
                             {6, 2, 4}, {7, 2, 4}, {8, 2, 4}};
  if (!custom.empty()) sizes.clear();
  for (const std::string& text : custom) {
    Size s{};
    if (std::sscanf(text.c_str(), "%d,%d,%d", &s.devices, &s.pipelines, &s.stages) != 3) {
      fmt::print(stderr, "--size {}: expected DEVICES,PIPELINES,STAGES\n", text);
      return 1;
    }
    sizes.push_back(s);
  }
  fmt::print("{:>7} {:>9} {:>5} {:>10} {:>10} {:>7} {:>10} {:>8} {:>9} {:>8}\n", "devices",
             "pipelines", "stages", "plans", "exact ms", "front", "nsga2 ms", "evals", "found",
             "hv ratio");
  for (const Size& size : sizes) {
    for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
      const Instance inst =
          RandomInstance({size.devices, size.pipelines, size.stages, static_cast<uint64_t>(seed)});
      auto problem = PlacementProblem::Create(inst.topology, inst.workload, {});
      if (!problem.ok()) {
        fmt::print(stderr, "instance: {}\n", problem.status().ToString());
        return 1;
      }
      SearchOptions exact, nsga;
      exact.method = SearchMethod::kExact;
      nsga.method = SearchMethod::kNsga2;
      nsga.nsga.population = population;
      nsga.nsga.generations = generations;
      nsga.nsga.patience = patience;
      nsga.nsga.max_generations = max_generations;
      double exact_ms = 0, nsga_ms = 0;
      const SearchResult truth = Timed(*problem, exact, runs, &exact_ms);
      const SearchResult found = Timed(*problem, nsga, runs, &nsga_ms);
      std::vector<Point> t, f;
      for (const PlanPoint& p : truth.front) t.push_back(Objectives(p.eval, exact.order));
      for (const PlanPoint& p : found.front) f.push_back(Objectives(p.eval, nsga.order));
      if (t.empty()) {  // nothing to compare with: every plan overloads something
        fmt::print(
            "{:>7} {:>9} {:>5} {:>10.0f} {:>10.1f} {:>7} {:>10.1f} {:>8}   no feasible plan\n",
            size.devices, size.pipelines, size.stages * size.pipelines, truth.plan_count, exact_ms,
            0, nsga_ms, found.evaluated);
        continue;
      }
      const FrontQuality q = CompareFronts(t, f);
      fmt::print("{:>7} {:>9} {:>5} {:>10.0f} {:>10.1f} {:>7} {:>10.1f} {:>8} {:>8.1f}% {:>8.4f}\n",
                 size.devices, size.pipelines, size.stages * size.pipelines, truth.plan_count,
                 exact_ms, t.size(), nsga_ms, found.evaluated, q.found_share * 100,
                 q.hypervolume_ratio);
      std::fflush(stdout);
    }
  }
  return 0;
}

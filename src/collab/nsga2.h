// NSGA-II (Deb et al., 2002) over vectors of discrete genes: gene i takes one of choices[i].
// Constraints are handled by constrained domination: a feasible individual beats an infeasible
// one, two infeasible ones compare by their violation, two feasible ones by Pareto rank and
// then crowding distance. Reproducible: the same seed and inputs give the same generations
// (the generator is std::mt19937_64, whose sequence the standard fixes, and no library
// distribution is used).
//
//   Nsga2Options o;  o.seed = 7;
//   std::vector<Nsga2Individual> last = RunNsga2(choices, evaluate, o);
//
// `evaluate` is called once per new individual, on the calling thread; a caller that wants
// every feasible point ever seen (not only the last population) collects them there.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "collab/nsga_front.h"

namespace supernova::collab {

struct Nsga2Options {
  int population = 100;  // rounded up to an even number
  int generations = 150;
  double crossover = 0.9;  // chance that a pair of parents is recombined (uniform crossover)
  double mutation = -1;    // chance per gene of a new random choice; < 0: 1 / number of genes
  uint64_t seed = 1;
};

struct Nsga2Individual {
  std::vector<int> genes;
  Point objectives;
  double violation = 0;  // 0: feasible
};

// Fills `objectives` (minimized) and `violation` (0 when feasible, else > 0) for `genes`.
using Nsga2Evaluate =
    std::function<void(const std::vector<int>& genes, Point* objectives, double* violation)>;

// Returns the last population, sorted by (violation, rank, -crowding distance).
// Every choices[i] must be non-empty.
std::vector<Nsga2Individual> RunNsga2(const std::vector<std::vector<int>>& choices,
                                      const Nsga2Evaluate& evaluate, const Nsga2Options& options);

}  // namespace supernova::collab

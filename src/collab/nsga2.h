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
#include <random>
#include <vector>

#include "collab/nsga_front.h"

namespace supernova::collab {

// Random draws from std::mt19937_64 alone (no std distribution, whose results differ between
// standard libraries), so that a seed gives the same numbers everywhere.
class SeededDraw {
 public:
  explicit SeededDraw(uint64_t seed) : rng_(seed) {}
  size_t Below(size_t n) { return static_cast<size_t>(rng_() % n); }       // bias < n / 2^64
  double Unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Between(double lo, double hi) { return lo + (hi - lo) * Unit(); }

 private:
  std::mt19937_64 rng_;
};

struct Nsga2Options {
  int population = 100;  // rounded up to an even number
  int generations = 150;
  // Beyond `generations`, keep going while `progress` (when set) has grown within the last
  // `patience` generations, up to `max_generations`: a large problem whose front is still
  // being found gets more time, a solved one none. `progress` is the caller's count of
  // improvements (e.g. points added to its archive), read once per generation.
  int patience = 50;
  int max_generations = 1000;
  std::function<size_t()> progress;
  double crossover = 0.9;  // chance that a pair of parents is recombined (uniform crossover)
  double mutation = -1;    // chance per gene of a new random choice; < 0: 1 / number of genes
  uint64_t seed = 1;
  // Individuals of the first population (each gene one of its choices); random ones fill the
  // rest. Extreme solutions known in advance (everything on one device) go here.
  std::vector<std::vector<int>> initial;
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

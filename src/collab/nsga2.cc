#include "collab/nsga2.h"

#include <algorithm>
#include <numeric>
#include <set>

namespace supernova::collab {

namespace {

// Rank and crowding distance of each individual; infeasible ones rank after every feasible
// front, one rank per distinct violation, least first.
struct Standing {
  int rank = 0;
  double crowding = 0;
};

std::vector<Standing> Rank(const std::vector<Nsga2Individual>& pop) {
  std::vector<Standing> standing(pop.size());
  std::vector<int> feasible, infeasible;
  for (size_t i = 0; i < pop.size(); ++i)
    (pop[i].violation > 0 ? infeasible : feasible).push_back(static_cast<int>(i));
  std::vector<Point> points;
  for (int i : feasible) points.push_back(pop[i].objectives);
  const std::vector<std::vector<int>> fronts = NonDominatedSort(points);
  for (size_t f = 0; f < fronts.size(); ++f) {
    const std::vector<double> crowd = CrowdingDistance(points, fronts[f]);
    for (size_t k = 0; k < fronts[f].size(); ++k)
      standing[feasible[fronts[f][k]]] = {static_cast<int>(f), crowd[k]};
  }
  std::stable_sort(infeasible.begin(), infeasible.end(),
                   [&](int a, int b) { return pop[a].violation < pop[b].violation; });
  int rank = static_cast<int>(fronts.size());
  for (size_t k = 0; k < infeasible.size(); ++k) {
    if (k > 0 && pop[infeasible[k]].violation > pop[infeasible[k - 1]].violation) ++rank;
    standing[infeasible[k]] = {rank, 0};
  }
  return standing;
}

bool Better(const Standing& a, const Standing& b) {
  return a.rank != b.rank ? a.rank < b.rank : a.crowding > b.crowding;
}

}  // namespace

std::vector<Nsga2Individual> RunNsga2(const std::vector<std::vector<int>>& choices,
                                      const Nsga2Evaluate& evaluate, const Nsga2Options& options) {
  const size_t genes = choices.size();
  const size_t n = static_cast<size_t>(std::max(2, options.population + options.population % 2));
  const double mutation = options.mutation >= 0
                              ? options.mutation
                              : 1.0 / static_cast<double>(std::max<size_t>(genes, 1));
  SeededDraw draw(options.seed);
  auto make = [&](std::vector<int> g) {
    Nsga2Individual ind;
    ind.genes = std::move(g);
    evaluate(ind.genes, &ind.objectives, &ind.violation);
    return ind;
  };

  std::vector<Nsga2Individual> pop;
  for (const std::vector<int>& g : options.initial)
    if (pop.size() < n && g.size() == genes) pop.push_back(make(g));
  while (pop.size() < n) {
    std::vector<int> g(genes);
    for (size_t k = 0; k < genes; ++k) g[k] = choices[k][draw.Below(choices[k].size())];
    pop.push_back(make(std::move(g)));
  }
  std::vector<Standing> standing = Rank(pop);

  size_t last_progress = options.progress ? options.progress() : 0;
  int last_gain = 0;  // the generation that last saw progress
  for (int gen = 0;; ++gen) {
    if (gen >= options.generations) {
      if (!options.progress || gen >= options.max_generations ||
          gen - last_gain >= options.patience)
        break;
    }
    auto tournament = [&]() -> const Nsga2Individual& {
      const size_t a = draw.Below(n), b = draw.Below(n);
      return Better(standing[b], standing[a]) ? pop[b] : pop[a];
    };
    std::vector<Nsga2Individual> next = pop;
    while (next.size() < 2 * n) {
      std::vector<int> c1 = tournament().genes, c2 = tournament().genes;
      if (draw.Unit() < options.crossover)
        for (size_t k = 0; k < genes; ++k)
          if (draw.Unit() < 0.5) std::swap(c1[k], c2[k]);
      for (std::vector<int>* c : {&c1, &c2})
        for (size_t k = 0; k < genes; ++k)
          if (draw.Unit() < mutation) (*c)[k] = choices[k][draw.Below(choices[k].size())];
      next.push_back(make(std::move(c1)));
      next.push_back(make(std::move(c2)));
    }
    // Survival: the best n of parents and children by rank, the last front cut by crowding.
    const std::vector<Standing> all = Rank(next);
    std::vector<size_t> order(next.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return Better(all[a], all[b]); });
    // Duplicates survive only when there are not n distinct individuals: copies of one good
    // plan would otherwise crowd out the rest of a discrete front.
    std::vector<bool> taken(next.size(), false);
    std::set<std::vector<int>> seen;
    pop.clear();
    for (size_t i : order)
      if (pop.size() < n && seen.insert(next[i].genes).second) {
        taken[i] = true;
        pop.push_back(next[i]);
      }
    for (size_t i : order)
      if (pop.size() < n && !taken[i]) pop.push_back(next[i]);
    standing = Rank(pop);
    if (options.progress) {
      const size_t now = options.progress();
      if (now != last_progress) last_gain = gen + 1;
      last_progress = now;
    }
  }
  std::vector<size_t> order(pop.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return Better(standing[a], standing[b]); });
  std::vector<Nsga2Individual> sorted;
  for (size_t i : order) sorted.push_back(std::move(pop[i]));
  return sorted;
}

}  // namespace supernova::collab

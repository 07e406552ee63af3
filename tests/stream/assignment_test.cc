#include "stream/assignment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

namespace supernova::stream {
namespace {

double TotalCost(const std::vector<double>& cost, int cols, const std::vector<int>& match) {
  double total = 0;
  for (size_t r = 0; r < match.size(); ++r)
    if (match[r] >= 0) total += cost[r * cols + match[r]];
  return total;
}

// The best total over every way of giving min(rows, cols) rows distinct columns.
double BruteForce(const std::vector<double>& cost, int rows, int cols) {
  const bool transpose = rows > cols;
  const int n = transpose ? cols : rows, m = transpose ? rows : cols;
  auto at = [&](int i, int j) { return transpose ? cost[j * cols + i] : cost[i * cols + j]; };
  std::vector<int> perm(m);
  std::iota(perm.begin(), perm.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  do {
    double total = 0;
    for (int i = 0; i < n; ++i) total += at(i, perm[i]);
    best = std::min(best, total);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

void ExpectValid(const std::vector<int>& match, int rows, int cols) {
  ASSERT_EQ(static_cast<int>(match.size()), rows);
  std::vector<int> seen(cols, 0);
  int assigned = 0;
  for (int c : match) {
    if (c < 0) continue;
    ASSERT_LT(c, cols);
    EXPECT_EQ(seen[c]++, 0) << "column " << c << " given twice";
    ++assigned;
  }
  EXPECT_EQ(assigned, std::min(rows, cols));
}

TEST(MinCostAssignment, SmallKnownCase) {
  // The greedy choice (row 0 takes column 0 at cost 1) is not optimal.
  const std::vector<double> cost = {1, 2, 3,  //
                                    1, 9, 9,  //
                                    9, 9, 1};
  const std::vector<int> match = MinCostAssignment(cost, 3, 3);
  EXPECT_EQ(match, (std::vector<int>{1, 0, 2}));
  EXPECT_EQ(TotalCost(cost, 3, match), 4);
}

TEST(MinCostAssignment, MatchesBruteForceOnRandomMatrices) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  for (auto [rows, cols] : std::vector<std::pair<int, int>>{
           {1, 1}, {3, 3}, {6, 6}, {4, 7}, {7, 4}, {2, 8}, {8, 1}, {5, 5}}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<double> cost(rows * cols);
      for (double& c : cost) c = trial % 2 ? u(rng) : std::floor(u(rng) * 4);  // ties too
      const std::vector<int> match = MinCostAssignment(cost, rows, cols);
      ExpectValid(match, rows, cols);
      EXPECT_NEAR(TotalCost(cost, cols, match), BruteForce(cost, rows, cols), 1e-9)
          << rows << "x" << cols << " trial " << trial;
    }
  }
}

TEST(MinCostAssignment, EmptySides) {
  EXPECT_TRUE(MinCostAssignment({}, 0, 5).empty());
  EXPECT_EQ(MinCostAssignment({}, 3, 0), (std::vector<int>{-1, -1, -1}));
}

}  // namespace
}  // namespace supernova::stream

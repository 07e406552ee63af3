#include "stream/assignment.h"

#include <cstddef>
#include <limits>

namespace supernova::stream {
namespace {

// n ≤ m. Rows and columns are numbered from 1 inside; index 0 is the virtual start column.
std::vector<int> Solve(const std::vector<double>& a, int n, int m) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(m + 1, 0);
  std::vector<int> match(m + 1, 0), way(m + 1, 0);  // match[j]: the row holding column j
  for (int i = 1; i <= n; ++i) {
    match[0] = i;
    int j0 = 0;
    std::vector<double> minv(m + 1, inf);
    std::vector<char> used(m + 1, 0);
    do {  // grow an alternating tree from row i until it reaches a free column
      used[j0] = 1;
      const int i0 = match[j0];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = a[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= m; ++j) {
        if (used[j]) {
          u[match[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (match[j0] != 0);
    do {  // flip the augmenting path
      const int j1 = way[j0];
      match[j0] = match[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> row_to_col(n, -1);
  for (int j = 1; j <= m; ++j)
    if (match[j] != 0) row_to_col[match[j] - 1] = j - 1;
  return row_to_col;
}

}  // namespace

std::vector<int> MinCostAssignment(const std::vector<double>& cost, int rows, int cols) {
  if (rows == 0) return {};
  if (cols == 0) return std::vector<int>(rows, -1);
  if (rows <= cols) return Solve(cost, rows, cols);
  std::vector<double> t(static_cast<size_t>(rows) * cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) t[c * rows + r] = cost[r * cols + c];
  const std::vector<int> col_to_row = Solve(t, cols, rows);
  std::vector<int> row_to_col(rows, -1);
  for (int c = 0; c < cols; ++c)
    if (col_to_row[c] >= 0) row_to_col[col_to_row[c]] = c;
  return row_to_col;
}

}  // namespace supernova::stream

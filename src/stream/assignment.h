// Minimum-cost assignment (the Hungarian method, Kuhn–Munkres with potentials, O(n²·m)) for
// a rectangular cost matrix: each row gets at most one column and each column at most one
// row, as many pairs as min(rows, cols), with the least total cost.
//
// Written here rather than taken from a package: dlib's max_cost_assignment takes integer
// costs only, and OpenCV has none; the method is forty lines.
#pragma once

#include <vector>

namespace supernova::stream {

// `cost` is row-major, rows × cols. Returns, for each row, its column or -1 (when there are
// more rows than columns). Costs must be finite.
std::vector<int> MinCostAssignment(const std::vector<double>& cost, int rows, int cols);

}  // namespace supernova::stream

// Which materialized cut the edge uses for the next request, from the measured link: the one
// with the lowest predicted total, where a switch needs the better cut to win by a margin for
// several requests in a row (hysteresis), so that noise in the estimate does not make the
// runner flap between two cuts of nearly equal cost.
#pragma once

#include <cstddef>
#include <vector>

#include "collab/link.h"
#include "collab/remote/split_plan.h"

namespace supernova::collab {

struct Hysteresis {
  double margin = 0.2;  // a challenger must predict at most (1 - margin) x the current total
  int patience = 3;     // ... on this many consecutive requests
};

class CutChooser {
 public:
  // `candidates` are the materialized ones; `initial` indexes the one to start with.
  CutChooser(std::vector<PlanCandidate> candidates, size_t initial, Hysteresis h = {});

  // Predicted total of candidate i on `link` with the edge running `edge_factor` times the
  // profile's prediction: edge_ms x factor + Link::TransferMs(sent, result) + cloud_ms; the
  // edge-only cut sends nothing and pays no transfer.
  double Predict(size_t i, const Link& link, double edge_factor) const;
  // The cheapest candidate on `link`, ignoring hysteresis.
  size_t Best(const Link& link, double edge_factor) const;
  // The candidate for the next request: the current one unless another has won by the
  // margin for `patience` requests in a row, then the best one.
  size_t Choose(const Link& link, double edge_factor);

  // Makes candidate i the current one, forgetting any streak.
  void Reset(size_t i) {
    current_ = i;
    streak_ = 0;
  }

  size_t current() const { return current_; }
  const PlanCandidate& candidate(size_t i) const { return candidates_[i]; }
  const std::vector<PlanCandidate>& candidates() const { return candidates_; }

 private:
  std::vector<PlanCandidate> candidates_;
  size_t current_;
  Hysteresis h_;
  int streak_ = 0;  // consecutive requests on which some other cut won by the margin
};

}  // namespace supernova::collab

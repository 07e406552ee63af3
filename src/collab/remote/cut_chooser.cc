#include "collab/remote/cut_chooser.h"

#include <utility>

namespace supernova::collab {

CutChooser::CutChooser(std::vector<PlanCandidate> candidates, size_t initial, Hysteresis h)
    : candidates_(std::move(candidates)), current_(initial), h_(h) {}

double CutChooser::Predict(size_t i, const Link& link, double edge_factor) const {
  const PlanCandidate& c = candidates_[i];
  const double edge = c.edge_ms * edge_factor;
  if (c.kind == CutKind::kEdgeOnly) return edge;  // the results stay on the edge
  return edge + link.TransferMs(c.sent_bytes, c.result_bytes) + c.cloud_ms;
}

size_t CutChooser::Best(const Link& link, double edge_factor) const {
  size_t best = current_;
  double best_ms = Predict(current_, link, edge_factor);
  for (size_t i = 0; i < candidates_.size(); ++i) {
    const double ms = Predict(i, link, edge_factor);
    if (ms < best_ms) {
      best = i;
      best_ms = ms;
    }
  }
  return best;
}

size_t CutChooser::Choose(const Link& link, double edge_factor) {
  const size_t best = Best(link, edge_factor);
  const bool wins = best != current_ && Predict(best, link, edge_factor) <=
                                            (1 - h_.margin) * Predict(current_, link, edge_factor);
  streak_ = wins ? streak_ + 1 : 0;
  if (streak_ >= h_.patience) {
    current_ = best;
    streak_ = 0;
  }
  return current_;
}

}  // namespace supernova::collab

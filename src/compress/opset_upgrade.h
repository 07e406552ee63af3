// Raising a model's default-domain opset, so that a rewrite can add ops the old opset lacks
// (DynamicQuantizeLinear needs 11; exported recognisers are often opset 9).
//
// Most ops read the same way from opset 9 to 11. The ones whose form changed are rewritten to
// the newer form: Slice (10: starts, ends, axes become inputs), TopK (10: k becomes an input),
// Clip (11: min and max become inputs), Pad (11: pads and value become inputs). Ops whose
// meaning changed in ways not rewritten here (Upsample and Resize: coordinates and inputs;
// Scatter: deprecated) make the upgrade fail, naming the op.
#pragma once

#include <cstdint>

#include "ir/graph.h"
#include "supernova/status.h"

namespace supernova::compress {

struct OpsetUpgrade {
  int64_t before = 0, after = 0;
  int rewritten = 0;  // nodes rewritten into the newer form
};

// Sets `g`'s default-domain opset (and its subgraphs') to `target` when it is lower, rewriting
// the nodes listed above. Targets above 11 are refused (opsets 12 and 13 changed more ops). On
// failure `g` may be half rewritten: work on a copy.
Result<OpsetUpgrade> UpgradeOpset(ir::Graph& g, int64_t target);

}  // namespace supernova::compress

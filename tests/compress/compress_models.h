// The real models the compress tests prune and fold (where they are: see test_models.h).
#pragma once

#include <string>

#include "ir/graph.h"
#include "test_models.h"

namespace supernova::testing {

struct CompressModelCase {
  std::string path;
  ModelRoot root;
};

// The shape of a model's first input with unknown dims (the batch) as 1.
inline Shape FirstInputShape(const ir::Graph& g) {
  Shape s;
  for (const ir::Dim& d : *g.TypeOf(g.inputs[0])->dims) s.push_back(d.known() ? d.value : 1);
  return s;
}

}  // namespace supernova::testing

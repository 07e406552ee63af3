// Runs a model and hands back values from inside it, not only its outputs: calibration reads
// the activations it will quantize, bias correction the activations before and after pruning.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/onnx_import.h"
#include "supernova/session.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::compress {

// Feeds of one inference: every graph input by name.
using Feeds = std::vector<std::pair<std::string, Tensor>>;

class Probe {
 public:
  // A session over `model` whose outputs are `values` (names of tensors of model.graph: graph
  // inputs, initializers excluded, node outputs or graph outputs), in that order.
  static Result<Probe> Open(const ir::Model& model, const std::vector<std::string>& values,
                            int threads);
  // The values, in the order given to Open().
  Result<std::vector<Tensor>> Run(const Feeds& feeds) const;

 private:
  std::shared_ptr<Session> session_;
  std::vector<int> index_;  // values[i] is the session's output index_[i], or -(k+1): feed k
  std::vector<std::string> feed_names_;
};

}  // namespace supernova::compress

// Runs a piece's nodes with the cpu reference kernels, on host tensors.
//
// A host provider that hands pieces to another library (opencv) uses it when that library
// rejects a piece only at run time (a shape it cannot take), so the run still succeeds; the
// tests' device provider uses it as its "device".
#pragma once

#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "providers/provider.h"

namespace supernova::providers {

class ReferenceRunner {
 public:
  // Keeps the piece's nodes and copies handles to the constants they read (the graph may drop
  // its initializers once the session is prepared). Fails when a node has no cpu kernel.
  static Result<ReferenceRunner> Make(const Piece& piece);

  // `inputs` follow Piece::inputs, host tensors; `outputs` receives Piece::outputs.
  // Thread-safe.
  Status Run(std::span<const Tensor* const> inputs, std::vector<Tensor>* outputs) const;

 private:
  std::vector<ir::Node> nodes_;
  std::vector<int64_t> opsets_;
  std::vector<std::string> inputs_, outputs_;
  std::unordered_map<std::string, Tensor> constants_;
};

}  // namespace supernova::providers

// The imprinted model (docs/learn.md): the embedding model (embedder.h) followed by a cosine
// classifier whose rows are the classes' normalised prototypes, written as a plain ONNX file
// that any runtime runs (weight imprinting, Qi et al., CVPR 2018; what Coral's Edge TPU
// ImprintingEngine does). Outputs:
//   scores       float32 [N, C]: cosine similarity to each class (the original classes first
//                when kept)
//   class_index  int64 [N]: the argmax
// The class names, in order, are in the model's metadata_props ("supernova.classes", a JSON
// array), with the embedder's identity ("supernova.embedder").
#pragma once

#include <string>
#include <vector>

#include "ir/onnx_import.h"
#include "learn/classifier.h"
#include "supernova/status.h"

namespace supernova::learn {

struct ImprintOptions {
  // Keep the original model's classes: the final classifier that consumes the embedding layer
  // (a Gemm or MatMul, ChooseLayer's default) has its weight rows normalised and put before the
  // imprinted ones, named "original:<i>" (or by `original_names` when given). Fails when the
  // layer feeds no such classifier.
  bool keep_original = false;
  std::vector<std::string> original_names;
};

// `source` is the model the embedder was opened on, `embedding` the embedder's cut model.
Result<ir::Model> BuildImprintedModel(const ir::Model& source, const ir::Model& embedding,
                                      const std::string& layer, const Classifier& classes,
                                      const std::string& embedder_identity,
                                      const ImprintOptions& options);

inline constexpr const char* kScoresOutput = "scores";
inline constexpr const char* kClassIndexOutput = "class_index";

}  // namespace supernova::learn

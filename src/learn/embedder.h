// Embeddings for on-device learning (docs/learn.md): a model cut at one of its tensors, that
// tensor global-average-pooled when it is spatial, then L2-normalised. The cut model is built
// in the IR (BuildEmbeddingModel) and run by a Session, so what the embedder computes and what
// the imprinted export (imprint.h) writes are the same graph.
//
//   auto embedder = Embedder::Open("face.onnx", {});          // layer: the default choice
//   Result<Tensor> e = (*embedder)->Embed(input);               // [N, dim], unit rows
//
// The default layer is the input of the model's final classifier (a Gemm, MatMul or 1x1 Conv
// whose output, through Softmax/Flatten/Reshape-like ops, is the model's first output and has
// 1000 or more classes, or is followed by a Softmax/LogSoftmax/Sigmoid); for any other model
// (an embedding model, ending in its descriptor) it is the first output.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/onnx_import.h"
#include "supernova/session.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::learn {

// Which tensor embeds, and why that one ("input of Gemm 'fc' (1000 classes)", "--layer").
struct LayerChoice {
  std::string tensor;
  std::string reason;
};
// The default layer of `model` (see above); `layer` non-empty: that tensor, checked to be a
// float activation of the graph (not an initializer), else a clear error naming the model's
// outputs and a few candidate tensors.
Result<LayerChoice> ChooseLayer(const ir::Model& model, const std::string& layer);

// `model` with one output, "embedding" (float32 [N, dim]): the chosen tensor, pooled over
// every axis after the second when its rank is above 2 (NCHW and the like), flattened, divided
// by its L2 norm (ReduceL2 + Div, with a tiny floor so a zero vector stays finite). Nodes the
// embedding does not need are gone. The model's one image input is kept as it is; a model with
// more than one input is refused.
Result<ir::Model> BuildEmbeddingModel(const ir::Model& model, const LayerChoice& layer);
inline constexpr const char* kEmbeddingOutput = "embedding";

struct EmbedderOptions {
  std::string layer;  // "" = ChooseLayer's default
  SessionOptions session;
};

class Embedder {
 public:
  static Result<std::unique_ptr<Embedder>> Open(const std::string& model_path,
                                                const EmbedderOptions& options);
  static Result<std::unique_ptr<Embedder>> Open(const ir::Model& model,
                                                std::string model_bytes_hash,
                                                const EmbedderOptions& options);
  // The model's image input (the tensor Embed takes).
  const TensorInfo& input() const;
  const LayerChoice& layer() const { return layer_; }
  int64_t dim() const { return dim_; }
  // Who made these embeddings: the model file's content hash (FNV-1a 64, hex) and the layer,
  // "3f2a...9c:fc_input". A class store records it and refuses another (class_store.h).
  const std::string& identity() const { return identity_; }
  // The cut model (BuildEmbeddingModel), for the imprinted export.
  const ir::Model& embedding_model() const { return *model_; }

  // `input` as the model's input wants it ([N, ...], any N the model allows); returns
  // float32 [N, dim] with unit rows. Thread-safe.
  Result<Tensor> Embed(const Tensor& input) const;

 private:
  Embedder() = default;
  std::unique_ptr<Session> session_;
  std::unique_ptr<ir::Model> model_;
  LayerChoice layer_;
  int64_t dim_ = 0;
  std::string identity_;
};

// FNV-1a 64 of `bytes`, 16 hex digits: identifies a model file's content.
std::string ContentHash(std::string_view bytes);

// An identity (Embedder::identity) taken apart: the model's content hash and the layer; both
// empty when `identity` has no ':'.
struct IdentityParts {
  std::string model_hash, layer;
};
IdentityParts SplitIdentity(const std::string& identity);

}  // namespace supernova::learn

// What the `supernova learn` subcommands share (docs/learn.md): the model and image flags, the
// embedder opened on the layer a store was built with, and files embedded in batches.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "ir/onnx_import.h"
#include "learn/embedder.h"
#include "learn/refine.h"
#include "supernova/status.h"
#include "supernova/tensor_io.h"

namespace supernova::tools {

struct LearnModelFlags {
  std::string model;
  std::string layer;   // --layer; "" = the store's layer, or the embedder's default
  InputOptions input;  // --preprocess, --size, --bgr: as `supernova run` reads images
  int threads = 0;
  int batch = 16;  // images per embedding run where the model's batch axis is free
};
// --model (required), --layer, --preprocess, --size, --bgr, --threads, --batch.
void AddLearnModelFlags(CLI::App* cmd, LearnModelFlags* flags);

// --min-score, --min-margin, --max-drift: the rules of online refinement (learn/refine.h).
void AddRefineFlags(CLI::App* cmd, learn::RefineOptions* options);

// A class store is at `dir`: it exists and is not an empty directory.
bool StoreExists(const std::string& dir);
// The embedder identity of the store at `dir` ("<model hash>:<layer>", embedder.h), or "" when
// there is no store there to say.
std::string StoredIdentity(const std::string& dir);

// The embedder of `flags.model` on --layer if given; else, when the model is the one
// `store_identity` names (the same content hash), on the store's layer, so a store enrolled
// with --layer needs it only once; else on the default layer. `source`, when given, receives
// the model as read (the imprinted export extends it).
Result<std::unique_ptr<learn::Embedder>> OpenEmbedder(const LearnModelFlags& flags,
                                                      const std::string& store_identity,
                                                      ir::Model* source = nullptr);

// The unit embeddings of `files` (one example each: an image, or a .npy/.pb tensor with a batch
// of one), [files.size() * dim] in file order. Runs `flags.batch` files at a time when the
// model's batch axis allows (a fixed batch larger than one is padded). Fails on the first file
// that cannot be read, naming it, before anything is written anywhere. `ms_per_image`, when
// given, receives each run's milliseconds (reading the files included) divided by its images.
Result<std::vector<float>> EmbedFiles(const learn::Embedder& embedder,
                                      const std::vector<std::string>& files,
                                      const LearnModelFlags& flags,
                                      std::vector<double>* ms_per_image = nullptr);

}  // namespace supernova::tools

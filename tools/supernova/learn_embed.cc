#include "supernova/learn_embed.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "ir/tensor_proto.h"
#include "learn/class_store.h"
#include "supernova/commands.h"

namespace supernova::tools {

namespace fs = std::filesystem;

void AddLearnModelFlags(CLI::App* cmd, LearnModelFlags* flags) {
  cmd->add_option("--model", flags->model, "ONNX model whose layer embeds the images")->required();
  cmd->add_option("--layer", flags->layer,
                  "tensor that embeds (default: the store's, else the input of the final "
                  "classifier, or the output of an embedding model)");
  AddImageFlags(cmd, &flags->input.preprocess, &flags->input.size, &flags->input.bgr);
  cmd->add_option("--threads", flags->threads, "kernel threads (0: one per core)");
  cmd->add_option("--batch", flags->batch,
                  "images per embedding run where the model's batch axis is free (default 16)")
      ->check(CLI::PositiveNumber);
}

void AddRefineFlags(CLI::App* cmd, learn::RefineOptions* options) {
  cmd->add_option("--min-score", options->min_score,
                  "refinement: the least score that updates (default 0.8)");
  cmd->add_option("--min-margin", options->min_margin,
                  "refinement: the least margin over the runner-up (default 0.05)");
  cmd->add_option("--max-drift", options->max_drift,
                  "refinement: how far (1 - cos) a prototype may move from its enrolment "
                  "(default 0.15)");
}

bool StoreExists(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return false;
  return !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec));
}

std::string StoredIdentity(const std::string& dir) {
  if (!StoreExists(dir)) return "";
  auto store = learn::ClassStore::OpenExisting(dir);
  return store.ok() ? (*store)->embedder() : "";  // else the Open that follows says why
}

Result<std::unique_ptr<learn::Embedder>> OpenEmbedder(const LearnModelFlags& flags,
                                                      const std::string& store_identity,
                                                      ir::Model* source) {
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ReadFileBytes(flags.model));
  Result<ir::Model> model =
      ir::ImportOnnxBytes(bytes, fs::path(flags.model).parent_path().string());
  if (!model.ok()) return model.status().WithContext(flags.model);
  const std::string hash = learn::ContentHash(bytes);
  learn::EmbedderOptions options;
  options.session.num_threads = flags.threads;
  options.layer = flags.layer;
  // Another model's layer would only fail to be found here; with the default layer, the
  // store's Open says the store is another model's.
  const learn::IdentityParts stored = learn::SplitIdentity(store_identity);
  if (options.layer.empty() && stored.model_hash == hash) options.layer = stored.layer;
  SN_ASSIGN_OR_RETURN(auto embedder, learn::Embedder::Open(*model, hash, options));
  if (source) *source = std::move(*model);
  return embedder;
}

Result<std::vector<float>> EmbedFiles(const learn::Embedder& embedder,
                                      const std::vector<std::string>& files,
                                      const LearnModelFlags& flags,
                                      std::vector<double>* ms_per_image) {
  const TensorInfo& info = embedder.input();
  const int64_t fixed = info.rank_known && !info.dims.empty() ? info.dims[0] : -1;
  const size_t batch =
      fixed > 0 ? static_cast<size_t>(fixed) : static_cast<size_t>(std::max(1, flags.batch));
  const size_t dim = static_cast<size_t>(embedder.dim());
  std::vector<float> rows;
  rows.reserve(files.size() * dim);
  for (size_t start = 0; start < files.size(); start += batch) {
    const auto t0 = std::chrono::steady_clock::now();
    const size_t n = std::min(batch, files.size() - start);
    std::vector<Tensor> parts;
    for (size_t i = 0; i < n; ++i) {
      const std::string& file = files[start + i];
      SN_ASSIGN_OR_RETURN(Tensor t, LoadInputFile(file, info, flags.input));
      if (t.rank() == 0 || t.dim(0) != 1)
        return Status::InvalidArgument(file + " holds " + ShapeToString(t.shape()) +
                                       ": give one example per file (a batch of 1)");
      if (!parts.empty() && (t.shape() != parts[0].shape() || t.dtype() != parts[0].dtype()))
        return Status::InvalidArgument(file + " reads as " + ShapeToString(t.shape()) + ", " +
                                       files[start] + " as " + ShapeToString(parts[0].shape()) +
                                       ": give --size HxW so every image has the same size");
      parts.push_back(std::move(t));
    }
    // A model whose batch is fixed above 1 gets copies of the last example; their rows go.
    const size_t run = fixed > 0 ? batch : n;
    Shape shape = parts[0].shape();
    shape[0] = static_cast<int64_t>(run);
    Tensor input(parts[0].dtype(), shape);
    const size_t bytes = parts[0].nbytes();
    for (size_t k = 0; k < run; ++k)
      std::memcpy(static_cast<char*>(input.raw_data()) + k * bytes,
                  parts[std::min(k, n - 1)].raw_data(), bytes);
    SN_ASSIGN_OR_RETURN(Tensor out, embedder.Embed(input));
    if (out.dtype() != DataType::kFloat32 || out.rank() != 2 ||
        out.dim(0) != static_cast<int64_t>(run) || out.dim(1) != embedder.dim())
      return Status::Internal("the embedder returned " + DataTypeName(out.dtype()) +
                              ShapeToString(out.shape()) + " for " + std::to_string(run) +
                              " examples of dimension " + std::to_string(dim));
    rows.insert(rows.end(), out.data<float>(), out.data<float>() + n * dim);
    if (ms_per_image)
      ms_per_image->push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
          static_cast<double>(n));
  }
  return rows;
}

}  // namespace supernova::tools

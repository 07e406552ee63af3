// The model repository on disk, in Triton's layout:
//
//   <repository>/<model>/config.pbtxt          optional (inferred from the ONNX file if absent)
//   <repository>/<model>/<version>/model.onnx  versions are positive integers
//
// These functions only read the directory; loading and serving are InferenceServer's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model_config.pb.h"
#include "supernova/status.h"

namespace supernova::server {

struct ModelSource {
  std::string name;
  std::string dir;
  bool has_config = false;
  std::string config_text;
  std::vector<int64_t> versions;  // numeric subdirectories, ascending
  // Changes whenever config.pbtxt or a version's model file changes (sizes and times).
  std::string fingerprint;
};

// Names of the model directories (not hidden, not files), sorted.
Result<std::vector<std::string>> ListModels(const std::string& repository);
// Reads one model directory. NotFound when it does not exist.
Result<ModelSource> ReadModelSource(const std::string& repository, const std::string& name);
// The versions `config`'s version_policy selects from `available` (latest 1 by default).
std::vector<int64_t> SelectVersions(const inference::ModelConfig& config,
                                    const std::vector<int64_t>& available);
// The model file of a version: config.default_model_filename, or model.onnx.
std::string ModelFile(const ModelSource& source, const inference::ModelConfig& config,
                      int64_t version);
// A model name is a single path component: no '/', not "." or "..", not empty.
bool ValidModelName(const std::string& name);

}  // namespace supernova::server

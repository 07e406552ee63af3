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
// A model name is a single path component: no '/', '\\' or NUL, not hidden, not empty.
bool ValidModelName(const std::string& name);
// A file name the config may give (default_model_filename): the same rule.
bool ValidFileName(const std::string& name);
// Ok when `path` (which need not exist yet) resolves, through every symlink, to a place inside
// `repository`; InvalidModel naming `what` otherwise, without the target (the message reaches
// clients through the repository index). Symlinks inside the repository are fine: what a
// repository may not do is make the server read files beside it.
Status CheckInsideRepository(const std::string& repository, const std::string& path,
                             const std::string& what);

}  // namespace supernova::server

// ONNX model <-> IR graph.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "supernova/status.h"

namespace supernova::ir {

struct ModelMetadata {
  int64_t ir_version = 0;
  std::string producer_name;
  std::string producer_version;
  std::string doc_string;
  // ModelProto.metadata_props, in file order.
  std::vector<std::pair<std::string, std::string>> props;
};

struct Model {
  Graph graph;
  ModelMetadata metadata;
};

// Parses an ONNX ModelProto file. External-data tensors are read relative to the file's
// directory. The graph comes back topologically sorted and validated.
Result<Model> ImportOnnxFile(const std::string& path);
// Same from bytes in memory; `base_dir` resolves external data ("" = current directory).
Result<Model> ImportOnnxBytes(std::string_view bytes, const std::string& base_dir = "");

// Serializes a model as ONNX ModelProto bytes (initializers inline as raw_data).
Result<std::string> ExportOnnxBytes(const Model& model);
Status ExportOnnxFile(const Model& model, const std::string& path);

}  // namespace supernova::ir

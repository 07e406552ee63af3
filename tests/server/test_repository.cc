#include "server/test_repository.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ir/graph.h"
#include "ir/onnx_import.h"
#include "supernova/tensor.h"

namespace fs = std::filesystem;

namespace supernova::testing {

std::string BundledRepositoryDir() { return SUPERNOVA_EXAMPLES_DIR "/model_repository"; }

double MetricSample(const std::string& text, const std::string& name, const std::string& labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + "{", 0) == 0 && line.find(labels) != std::string::npos)
      return std::stod(line.substr(line.rfind(' ') + 1));
  return -1;
}

TempRepository::TempRepository() {
  std::string tmpl = (fs::temp_directory_path() / "supernova-repo-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = tmpl;
}

TempRepository::~TempRepository() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void TempRepository::AddBundled(const std::string& model) {
  fs::copy(fs::path(BundledRepositoryDir()) / model, fs::path(path_) / model,
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

void TempRepository::AddIdentityChain(const std::string& model, int64_t width, int depth,
                                      const std::string& config, int version) {
  ir::Model m;
  m.graph.name = model;
  m.graph.opsets[""] = 13;
  m.graph.inputs.push_back("x");
  ir::ValueType io;
  io.dtype = DataType::kFloat32;
  io.dims = std::vector<ir::Dim>{ir::Dim::Symbol("batch"), ir::Dim::Known(width)};
  m.graph.value_types["x"] = io;
  Tensor eye(DataType::kFloat32, {width, width});
  std::fill(eye.data<float>(), eye.data<float>() + eye.numel(), 0.0f);
  for (int64_t i = 0; i < width; ++i) eye.data<float>()[i * width + i] = 1.0f;
  m.graph.initializers["eye"] = eye;
  m.graph.value_types["eye"] = ir::ValueType::Static(DataType::kFloat32, {width, width});
  std::string prev = "x";
  for (int i = 0; i < depth; ++i) {
    ir::Node n;
    n.name = "matmul_" + std::to_string(i);
    n.op_type = "MatMul";
    n.inputs = {prev, "eye"};
    prev = i + 1 == depth ? "y" : "h" + std::to_string(i);
    n.outputs = {prev};
    m.graph.nodes.push_back(std::move(n));
  }
  m.graph.value_types["y"] = io;
  m.graph.outputs.push_back("y");
  const fs::path dir = fs::path(path_) / model / std::to_string(version);
  fs::create_directories(dir);
  Status s = ir::ExportOnnxFile(m, (dir / "model.onnx").string());
  ASSERT_TRUE(s.ok()) << s.ToString();
  if (!config.empty()) WriteFile(model + "/config.pbtxt", config);
}

void TempRepository::WriteFile(const std::string& relative_path, const std::string& contents) {
  const fs::path p = fs::path(path_) / relative_path;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << contents;
}

void TempRepository::Remove(const std::string& relative_path) {
  std::error_code ec;
  fs::remove_all(fs::path(path_) / relative_path, ec);
}

}  // namespace supernova::testing

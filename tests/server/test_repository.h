// Model repositories for the server tests, written into a fresh temporary directory:
//
//   TempRepository repo;
//   repo.AddBundled("simple");                       // examples/model_repository/simple
//   repo.AddIdentityChain("slow", 1024, 16, config);  // y = x through 16 MatMuls (slow, exact)
//   ServerOptions opts; opts.model_repository = repo.path();
#pragma once

#include <cstdint>
#include <string>

namespace supernova::testing {

class TempRepository {
 public:
  TempRepository();
  ~TempRepository();
  TempRepository(const TempRepository&) = delete;
  TempRepository& operator=(const TempRepository&) = delete;

  const std::string& path() const { return path_; }

  // Copies a model directory of the bundled repository (examples/model_repository).
  void AddBundled(const std::string& model);
  // Writes <model>/<version>/model.onnx: "x" float32 [batch, width] -> "y" = x times the
  // identity matrix `depth` times, so y == x exactly while each row costs depth*width^2 MACs:
  // a model as slow as a test needs, with a known answer. `config` (may be empty) is written
  // as <model>/config.pbtxt.
  void AddIdentityChain(const std::string& model, int64_t width, int depth,
                        const std::string& config, int version = 1);
  // Writes a file under the repository (config.pbtxt, a broken model, ...).
  void WriteFile(const std::string& relative_path, const std::string& contents);
  void Remove(const std::string& relative_path);

 private:
  std::string path_;
};

// The bundled repository's directory (examples/model_repository).
std::string BundledRepositoryDir();

// In Prometheus text, the value of the first sample of metric `name` whose line contains
// `labels` (e.g. `model="simple"`); -1 when there is none.
double MetricSample(const std::string& text, const std::string& name, const std::string& labels);

}  // namespace supernova::testing

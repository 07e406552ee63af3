// A model's bytes, as a user or a model repository could hand the runtime any: the ONNX
// importer, then Session::OpenBytes with the cpu provider and the optimizer on (shape
// inference, the rewrites, the memory planner, kernel preparation), then, when every input
// has a small static shape, one run on zeros. Each stage may refuse the model with a Status;
// a crash, a leak, undefined behaviour, a hang or an allocation beyond the fuzzer's RSS limit
// is a finding.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "ir/onnx_import.h"
#include "supernova/session.h"

namespace {

// Inputs larger than this are not run: the run is there to reach the kernels with the shapes
// inference promised, not to time them (libFuzzer's -timeout would call a slow one a hang).
constexpr int64_t kMaxRunElements = 100000;

// Zeros for each input, or false when one is not a tensor of small static shape.
bool ZeroInputs(const supernova::Session& session,
                std::vector<std::pair<std::string, supernova::Value>>* inputs) {
  int64_t total = 0;
  for (const supernova::TensorInfo& info : session.inputs()) {
    if (info.kind != supernova::ValueKind::kTensor || !info.rank_known ||
        info.dtype == supernova::DataType::kUndefined)
      return false;
    int64_t n = 1;
    for (int64_t d : info.dims) {
      if (d < 0 || (d > 0 && n > kMaxRunElements / d)) return false;
      n *= d;
    }
    total += n;
    if (total > kMaxRunElements) return false;
    supernova::Tensor t(info.dtype, info.dims);
    if (info.dtype != supernova::DataType::kString && t.nbytes() > 0)
      std::memset(t.raw_data(), 0, t.nbytes());
    inputs->emplace_back(info.name, supernova::Value(std::move(t)));
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The importer alone first: the session repeats it, but a model the importer refuses
  // never reaches the rest.
  if (!supernova::ir::ImportOnnxBytes(bytes).ok()) return 0;
  supernova::SessionOptions options;
  options.providers = {"cpu"};
  options.num_threads = 1;
  auto session = supernova::Session::OpenBytes(bytes, options);
  if (!session.ok()) return 0;
  std::vector<std::pair<std::string, supernova::Value>> inputs;
  if (!ZeroInputs(**session, &inputs)) return 0;
  std::vector<supernova::Value> outputs;
  (void)(*session)->Run(inputs, &outputs);
  return 0;
}

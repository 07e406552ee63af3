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

// A model may ask at run time for more memory than the host has (Tile, Expand, ConstantOfShape
// with sizes under 2^40 elements): the runtime turns a failed allocation into a Status, which
// is what is under test, but ASan by default aborts on one instead of returning null.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

namespace {

// Inputs larger than this are not run: the run is there to reach the kernels with the shapes
// inference promised, not to time them (libFuzzer's -timeout would call a slow one a hang).
constexpr int64_t kMaxRunElements = 100000;

// SessionOptions::max_run_bytes for the run: far under the fuzzer's 2048 MB RSS limit.
constexpr size_t kMaxRunBytes = size_t{256} << 20;

// A Loop runs as many times as its model asks (up to 2^63, or forever on a condition), and
// the runtime has no deadline to stop it: a run is left out unless every Loop, in any body,
// has a constant trip count of at most kMaxTrips. Each such hang would be the model's, not a
// defect; libFuzzer's -timeout would report it as one.
constexpr int64_t kMaxTrips = 16;

bool LoopsAreBounded(const supernova::ir::Graph& g) {
  for (const supernova::ir::Node& n : g.nodes) {
    if (n.op_type == "Loop") {
      if (n.inputs.empty() || n.inputs[0].empty()) return false;
      auto it = g.initializers.find(n.inputs[0]);
      if (it == g.initializers.end() || it->second.numel() != 1 ||
          it->second.dtype() != supernova::DataType::kInt64 ||
          it->second.data<int64_t>()[0] > kMaxTrips)
        return false;
    }
    for (const auto& [key, a] : n.attributes)
      if (a.kind == supernova::ir::Attribute::Kind::kGraph && a.g && !LoopsAreBounded(*a.g))
        return false;
  }
  return true;
}

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
  auto model = supernova::ir::ImportOnnxBytes(bytes);
  if (!model.ok()) return 0;
  const bool runnable = LoopsAreBounded(model->graph);
  supernova::SessionOptions options;
  options.providers = {"cpu"};
  options.num_threads = 1;
  // A model may ask at run time for gigabytes within the 2^40-element bound (a mutated Tile or
  // Expand): the session's own limit refuses that run, as a server would configure it, so
  // that libFuzzer's RSS limit is left to find memory the runtime does not account for.
  options.max_run_bytes = kMaxRunBytes;
  auto session = supernova::Session::OpenBytes(bytes, options);
  if (!session.ok()) return 0;
  std::vector<std::pair<std::string, supernova::Value>> inputs;
  if (!runnable || !ZeroInputs(**session, &inputs)) return 0;
  std::vector<supernova::Value> outputs;
  (void)(*session)->Run(inputs, &outputs);
  return 0;
}

// Session: a loaded model, ready to run.
//
//   supernova::SessionOptions opts;
//   opts.num_threads = 2;
//   auto session = supernova::Session::Open("model.onnx", opts);
//   if (!session.ok()) return fail(session.status());
//   std::vector<supernova::Tensor> outputs;
//   supernova::Status s = (*session)->Run({{"x", input}}, &outputs);
//
// Open() parses, validates and prepares the model; every operator the model uses must have
// a kernel, or Open() fails naming the missing ones. Run() may be called from several
// threads at once: each call has its own intermediate buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "supernova/optimization.h"
#include "supernova/status.h"
#include "supernova/tensor.h"
#include "supernova/value.h"

namespace supernova {

// The arithmetic of float convolutions and matrix products. kModel follows the model: a file
// whose metadata_props say "supernova.precision" = "bf16" (what `supernova compress --bf16`
// writes) computes in bfloat16, any other in float32. bf16 runs on the cpu provider where
// the host has native bf16 instructions (AVX512-BF16, AMX) and falls back to float elsewhere.
enum class Precision { kModel, kFloat32, kBFloat16 };

// The metadata key and value that ask for bf16 compute.
inline constexpr std::string_view kPrecisionKey = "supernova.precision";
inline constexpr std::string_view kPrecisionBf16 = "bf16";

// What Precision::kBFloat16 does on this host: native bf16 arithmetic, or float.
struct Bf16Support {
  bool native = false;
  std::string isa;  // the instruction set oneDNN dispatches to ("avx512_core_bf16")
};
Bf16Support CpuBf16Support();

// Where plugins are looked for: "supernova" beside the libsupernova this process runs
// (build/lib/supernova in the build tree, <libdir>/supernova installed). The provider plugins
// are found there by the runtime; a program's own plugins (supernova serve's video sources) go
// there too.
const std::string& PluginDirectory();

struct SessionOptions {
  // Execution providers in order of preference (see PlacementReport): each takes the nodes it
  // supports that earlier ones did not; "cpu" (oneDNN and the reference kernels) takes the
  // rest and is implied at the end when absent; "cpu_reference" is the reference kernels
  // alone. A provider that is built in but cannot run here (no device) is skipped and noted.
  std::vector<std::string> providers = {"cpu"};
  // Threads for kernels; 0 means one per hardware thread.
  int num_threads = 0;
  // Graph rewrites Open() applies before planning (supernova/optimization.h).
  OptimizationLevel optimization = OptimizationLevel::kAll;
  // Record per-node times of each Run() (see Session::LastProfile()).
  bool profiling = false;
  Precision precision = Precision::kModel;
  // The most bytes of intermediate and output tensors one Run() may hold at once (what
  // RunStats::peak_bytes measures, rounded to the buffer pool's size classes); 0: no limit.
  // A run that would pass it fails with ResourceExhausted and frees what it took. It bounds a
  // model that asks at run time for more than the device should give (an Expand or Tile to
  // gigabytes); weights and the caller's inputs are not counted, nor kernels' scratch except
  // where its size is the model's to choose (Resize's maps).
  size_t max_run_bytes = 0;
};

// A model input or output as declared: dims are -1 where unknown, with the symbol if named.
// A sequence or optional (`kind`) has its elements' dtype and no rank.
struct TensorInfo {
  std::string name;
  DataType dtype = DataType::kUndefined;
  ValueKind kind = ValueKind::kTensor;
  bool rank_known = false;
  std::vector<int64_t> dims;
  std::vector<std::string> symbols;  // same length as dims; "" where none
  std::string ToString() const;      // "x: float32[N,3,224,224]", "s: sequence(float32)"
};

struct NodeProfile {
  std::string name;
  std::string op_type;
  double ms = 0;
  // The values the node (or fused group) read and wrote, in the optimized graph: most are
  // the model's own tensor names, which maps a fused group back to the nodes it stands for.
  std::vector<std::string> inputs, outputs;
};

// Where each node runs. A seam is a value made under one provider and read under another;
// where the two sides are on different devices the session copies the value across.
struct NodePlacement {
  std::string node;  // "Conv 'conv1'"
  std::string op_type;
  std::string provider;  // "cuda", "opencv", "cpu"
  int piece = -1;        // index into PlacementReport::pieces; -1 on the cpu
  std::string reason;    // why the providers before it declined it ("cuda: dtype int64")
};
struct PlacementReport {
  std::vector<std::string> providers;  // in the order asked, those that took part
  std::vector<NodePlacement> nodes;    // the optimized graph's nodes, in model order
  std::vector<std::string> pieces;     // "cuda: 12 nodes (Conv x4, Relu x4, ...)"
  int seams = 0;
  int copies = 0;                  // device copies per run inserted at the seams
  std::vector<std::string> notes;  // providers skipped and why
};

struct RunStats {
  // Bytes of intermediate and output tensors alive at the worst moment of the run
  // (weights and caller-owned inputs not included).
  size_t peak_bytes = 0;
  // Bytes served from buffers freed earlier in the same run (lifetime reuse).
  size_t reused_bytes = 0;
  size_t allocations = 0;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> Open(const std::string& path,
                                               const SessionOptions& options = {});
  static Result<std::unique_ptr<Session>> OpenBytes(std::string_view model_bytes,
                                                    const SessionOptions& options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  const SessionOptions& options() const;
  // Bytes held by the model's constant tensors.
  size_t weights_bytes() const;
  // Where the nodes run, as decided when the session opened.
  const PlacementReport& placement() const;

  // Runs the model. `inputs` names every graph input once; `outputs` receives the model's
  // outputs in declaration order. Thread-safe. Fails without side effects on a missing,
  // unknown, mistyped or misshapen input. An output may share memory with an input or with
  // a model constant (an Identity or Reshape of it): treat outputs as read-only, or Clone().
  // A model with a sequence or optional among its outputs fails here: it runs with values.
  Status Run(const std::vector<std::pair<std::string, Tensor>>& inputs,
             std::vector<Tensor>* outputs, RunStats* stats = nullptr) const;
  // The same with values: any input or output may be a tensor, a sequence or an optional's
  // None, as the model declares it (inputs()[i].kind).
  Status Run(const std::vector<std::pair<std::string, Value>>& inputs, std::vector<Value>* outputs,
             RunStats* stats = nullptr) const;

  // The largest RunStats::peak_bytes seen over all runs so far.
  size_t peak_memory_bytes() const;
  // Per-node times of the most recent run (empty unless options.profiling).
  std::vector<NodeProfile> LastProfile() const;

  class Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace supernova

// Pieces shared by `supernova bench` and the benchmark's peers in bench/: input shapes from
// a model's declared inputs plus --batch / --shape, random inputs with a fixed seed, latency
// statistics and the process's peak resident memory. Every runtime measured by bench/run.sh
// goes through the same rules, so their numbers describe the same work.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "supernova/session.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::tools::bench {

// The seed of every benchmark input: a rerun feeds the same numbers.
inline constexpr uint32_t kInputSeed = 20260;

// Parses "--shape NAME=d0xd1x..." into (NAME, dims). A dim written N (or B) stands for
// --batch and comes back as -1.
Result<std::pair<std::string, std::vector<int64_t>>> ParseShapeFlag(const std::string& spec);

// --precision: "model" (what the file asks for), "fp32" or "bf16".
Result<Precision> ParsePrecision(const std::string& name);
inline constexpr const char* kPrecisionHelp =
    "arithmetic of convolutions and products: model (as the file asks; compress --bf16 marks "
    "it), fp32, or bf16 (native bf16 where the CPU has it, float elsewhere)";
// Every --shape flag, by input name; an input named twice is an error.
Result<std::map<std::string, std::vector<int64_t>>> ParseShapeFlags(
    const std::vector<std::string>& specs);

// The concrete shape of every input, in the order of `inputs`. Unknown or symbolic dims take
// `batch` for the first dim and the user's --shape (from `given`, by input name) for the rest.
// Fails with kFailedPrecondition ("model input NAME has fixed batch 1") when a known first
// dim differs from `batch` (the model cannot run at that batch: not applicable), and with
// kInvalidArgument naming the input and its dims when a dim stays unknown, when --shape
// contradicts the model or names no input.
Result<std::vector<Shape>> ResolveInputShapes(
    const std::vector<TensorInfo>& inputs, int64_t batch,
    const std::map<std::string, std::vector<int64_t>>& given);

// A tensor of `shape`: floating types uniform in [0, 1), every other type zero.
Result<Tensor> RandomInput(DataType dtype, const Shape& shape, std::mt19937& rng);

struct LatencyStats {
  double median_ms = 0;
  double p90_ms = 0;  // nearest rank: the smallest time at least 90% of runs do not exceed
  double mean_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
};
// Statistics of `times_ms` (must not be empty).
LatencyStats Summarize(std::vector<double> times_ms);

// The process's peak resident set size so far, in MiB: VmHWM of /proc/self/status (what
// every runtime of the benchmark reports), else getrusage's ru_maxrss.
double PeakRssMb();

// Bytes of the model's constant tensors as the file stores them: initializers plus the
// values of Constant nodes (exporters such as paddle2onnx keep every weight in one). The
// same figure for every runtime, whatever each does with constants after loading.
size_t ModelWeightBytes(const ir::Graph& graph);
// The same constants counted in numbers: a model's parameters.
int64_t ModelParameterCount(const ir::Graph& graph);

// The graph inputs the caller feeds, as Session::inputs() describes them, for runtimes that
// read a model through Supernova's importer without opening a Session.
std::vector<TensorInfo> DeclaredInputs(const ir::Graph& graph);

// "1x3x640x640"
std::string DimsToString(const std::vector<int64_t>& dims);

}  // namespace supernova::tools::bench

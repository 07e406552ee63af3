// Measuring a Profile: the model's tensors from one real run, its time per source node from
// profiled runs of the optimized session.
//
// The session runs an optimized graph: folded constants, fused nodes, and oneDNN regions that
// run many nodes as one step (SessionOptions::profiling times steps, not source nodes). Each
// step names the values it read and wrote, which are mostly the source model's tensors, so a
// step stands for the source nodes between them: walking back from its outputs through the
// source graph, stopping at its inputs and at nodes earlier steps took. A step's time is
// spread over its nodes in proportion to their work: by default each node's own time under
// the reference kernels (which run every node as a step of its own), else MACs plus one per
// output element (so that element-wise nodes without MACs are not free); a step whose
// outputs the source does not name passes its time on to the next step that does. Finally
// every node time is scaled so that they add up to the whole model's median run (the
// difference is the session's own overhead between steps).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "collab/profile.h"
#include "ir/onnx_import.h"
#include "supernova/session.h"

namespace supernova::collab {

using Feeds = std::vector<std::pair<std::string, Tensor>>;

// Every tensor the model computes (and its inputs), from one run with every node output made
// a graph output, unoptimized so that each exists. Tensors inside subgraphs are not listed.
Result<std::map<std::string, TensorStat>> ProbeTensors(const ir::Model& model, const Feeds& feeds,
                                                       int threads);

// One step of a profiled run (Session::LastProfile()), with its time (a median).
struct StepTime {
  std::vector<std::string> inputs, outputs;
  double ms = 0;
};
// The time of each node of `source` (in its order): the steps' times spread as the header
// says, then scaled to add up to `total_ms`. `weights` (one per source node) is each node's
// work; nodes no step stands for get no time.
std::vector<double> AttributeTimes(const ir::Graph& source, const std::vector<StepTime>& steps,
                                   const std::vector<double>& weights, double total_ms);

using ShapeOf = std::function<std::optional<Shape>(const std::string&)>;
// What a fused step's time is spread by. kReference measures the relative cost of nodes
// where kMacs assumes it; on the benchmark's models it predicts a head's share of the whole
// run about twice as well (docs/collab.md), for a few runs of the reference kernels.
enum class Weights { kReference, kMacs };
Result<Weights> ParseWeights(const std::string& text);  // "reference", "macs"

struct MeasureOptions {
  int threads = 1;
  int iterations = 20;
  int warmup = 2;
  double slowdown = 1;
  Weights weights = Weights::kReference;
  int reference_runs = 3;  // runs of the reference kernels whose median weighs each node
  // Multiply-accumulates of a node at the given shapes (0 when the op is not counted).
  std::function<double(const ir::Node&, const ShapeOf&)> macs;
};
// Profiles the model at `path` on `feeds` (one tensor per model input).
Result<Profile> MeasureProfile(const std::string& path, const Feeds& feeds,
                               const MeasureOptions& options);

}  // namespace supernova::collab

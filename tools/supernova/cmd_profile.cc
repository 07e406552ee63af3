// supernova profile MODEL --threads N [--shape NAME=d0,d1,...] [--iterations K] [--slowdown F]
//                   -o PROFILE.json
//
// Measures the time of every node of the model as the ONNX file has it, and the dtype, shape
// and bytes of every tensor, on this machine: what `supernova split` needs from an edge and a
// cloud (docs/collab.md says how fused nodes' times are attributed). --slowdown F records
// every time multiplied by F, to stand for an edge device F times slower than this machine.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <random>

#include "collab/measure.h"
#include "ir/onnx_import.h"
#include "supernova/bench_util.h"
#include "supernova/commands.h"
#include "supernova/flops.h"

namespace supernova::tools {
namespace {

struct ProfileArgs {
  std::string model;
  std::string output;
  int threads = 1;
  std::vector<std::string> shapes;
  int iterations = 20;
  int warmup = 2;
  double slowdown = 1;
  std::string attribution = "reference";
};

int RunProfile(const ProfileArgs& args) {
  if (args.threads < 1) return Fail("--threads must be at least 1");
  if (args.warmup < 0) return Fail("--warmup must be >= 0");
  // --shape takes NAME=1,3,48,192 as well as bench's NAME=1x3x48x192.
  std::vector<std::string> specs = args.shapes;
  for (std::string& s : specs)
    if (auto eq = s.find('='); eq != std::string::npos)
      std::replace(s.begin() + static_cast<std::ptrdiff_t>(eq), s.end(), ',', 'x');
  auto given = bench::ParseShapeFlags(specs);
  if (!given.ok()) return Fail(given.status().message());
  auto model = ir::ImportOnnxFile(args.model);
  if (!model.ok()) return Fail(model.status().ToString());
  const std::vector<TensorInfo> inputs = bench::DeclaredInputs(model->graph);
  auto shapes = bench::ResolveInputShapes(inputs, 1, *given);
  if (!shapes.ok()) return Fail(shapes.status().message());
  std::mt19937 rng(bench::kInputSeed);
  collab::Feeds feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const DataType dtype =
        inputs[i].dtype == DataType::kUndefined ? DataType::kFloat32 : inputs[i].dtype;
    auto t = bench::RandomInput(dtype, (*shapes)[i], rng);
    if (!t.ok()) return Fail("input '" + inputs[i].name + "': " + t.status().message());
    feeds.emplace_back(inputs[i].name, std::move(t).value());
  }

  collab::MeasureOptions options;
  options.threads = args.threads;
  options.iterations = args.iterations;
  options.warmup = args.warmup;
  options.slowdown = args.slowdown;
  auto weights = collab::ParseWeights(args.attribution);
  if (!weights.ok()) return Fail(weights.status().message());
  options.weights = *weights;
  options.macs = [](const ir::Node& node, const collab::ShapeOf& shape_of) {
    return NodeMacs(node, shape_of).value_or(0.0);
  };
  auto profile = collab::MeasureProfile(args.model, feeds, options);
  if (!profile.ok()) return Fail(profile.status().ToString());
  if (Status s = collab::WriteProfile(*profile, args.output); !s.ok()) return Fail(s.message());
  fmt::print("{}: {} nodes, {} tensors; median {:.3f} ms at {} thread{}{} -> {}\n", profile->model,
             profile->nodes.size(), profile->tensors.size(), profile->measured_ms, args.threads,
             args.threads == 1 ? "" : "s",
             args.slowdown != 1 ? fmt::format(" (x{:g} slowdown: {:.3f} ms recorded)",
                                              args.slowdown, profile->total_ms)
                                : "",
             args.output);
  return 0;
}

}  // namespace

void AddProfileCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ProfileArgs>();
  auto* cmd = app.add_subcommand(
      "profile", "Measure the time of every node and the size of every tensor, for split");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("-o,--output", args->output, "the profile to write (JSON)")->required();
  cmd->add_option("--threads", args->threads, "kernel threads (default 1)");
  cmd->add_option("--shape", args->shapes,
                  "NAME=d0,d1,... for an input with dynamic dims (repeat for several inputs)");
  cmd->add_option("--iterations", args->iterations, "profiled runs (default 20)");
  cmd->add_option("--warmup", args->warmup, "untimed runs after the first (default 2)");
  cmd->add_option("--slowdown", args->slowdown,
                  "record times multiplied by this: an edge device this many times slower");
  cmd->add_option("--attribution", args->attribution,
                  "what a fused step's time is spread by: reference (each node's time under the "
                  "reference kernels, default) or macs (MACs + output elements)");
  cmd->final_callback([args, exit_code] { *exit_code = RunProfile(*args); });
}

}  // namespace supernova::tools

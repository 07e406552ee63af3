// supernova bench MODEL --threads N --batch B [--shape NAME=d0xd1x...] --iterations K
//
// Measures one model the way bench/run.sh compares runtimes (docs/benchmark.md): load time
// (Session::Open to the end of the first Run), W warm-up runs, K timed runs on random inputs
// with a fixed seed, then prints one JSON object on stdout. Errors are one line on stderr:
// exit 2 when the model cannot run at --batch (a fixed batch: "not applicable"), 1 otherwise.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "ir/onnx_import.h"
#include "supernova/bench_util.h"
#include "supernova/commands.h"
#include "supernova/flops.h"
#include "supernova/session.h"

namespace supernova::tools {
namespace {

struct BenchArgs {
  std::string model;
  int threads = 0;
  int64_t batch = 1;
  std::vector<std::string> shapes;
  int iterations = 50;
  int warmup = 3;
  std::string optimization = "all";
  std::string precision = "model";
  std::vector<std::string> providers = {"cpu"};
  bool flops = true;
};

using Clock = std::chrono::steady_clock;
double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

using Feeds = std::vector<std::pair<std::string, Tensor>>;

int RunBench(const BenchArgs& args) {
  if (args.iterations < 1) return Fail("--iterations must be at least 1");
  if (args.warmup < 0) return Fail("--warmup must be >= 0");
  if (args.threads < 0) return Fail("--threads must be >= 0 (0: one per core)");
  auto shape_flags = bench::ParseShapeFlags(args.shapes);
  if (!shape_flags.ok()) return Fail(shape_flags.status().message());
  const std::map<std::string, std::vector<int64_t>>& given = *shape_flags;
  SessionOptions opts;
  opts.num_threads = args.threads;
  if (args.optimization == "none")
    opts.optimization = OptimizationLevel::kNone;
  else if (args.optimization == "basic")
    opts.optimization = OptimizationLevel::kBasic;
  else if (args.optimization == "all")
    opts.optimization = OptimizationLevel::kAll;
  else
    return Fail("unknown --optimization '" + args.optimization + "' (none, basic, all)");
  auto precision = bench::ParsePrecision(args.precision);
  if (!precision.ok()) return Fail(precision.status().message());
  opts.precision = *precision;
  opts.providers.clear();
  for (const std::string& p : args.providers)  // "--providers cpu,cuda" or repeated
    if (!p.empty()) opts.providers.push_back(p);
  if (opts.providers.empty()) return Fail("--providers names no provider");

  // Load: Open, then the first Run (which pays for first-touch allocations). Making the
  // random inputs in between is not counted.
  const Clock::time_point t_open = Clock::now();
  auto opened = Session::Open(args.model, opts);
  if (!opened.ok()) return Fail(opened.status().ToString());
  const double open_ms = MsSince(t_open);
  const Session& session = **opened;

  auto shapes = bench::ResolveInputShapes(session.inputs(), args.batch, given);
  if (!shapes.ok()) {
    Fail(shapes.status().message());
    return shapes.status().code() == Status::Code::kFailedPrecondition ? 2 : 1;
  }
  std::mt19937 rng(bench::kInputSeed);
  Feeds feeds;
  nlohmann::json shapes_json = nlohmann::json::object();
  for (size_t i = 0; i < shapes->size(); ++i) {
    const TensorInfo& info = session.inputs()[i];
    auto t = bench::RandomInput(
        info.dtype == DataType::kUndefined ? DataType::kFloat32 : info.dtype, (*shapes)[i], rng);
    if (!t.ok()) return Fail("input '" + info.name + "': " + t.status().message());
    feeds.emplace_back(info.name, std::move(t).value());
    shapes_json[info.name] = (*shapes)[i];
  }

  std::vector<Tensor> outputs;
  const Clock::time_point t_first = Clock::now();
  if (Status s = session.Run(feeds, &outputs); !s.ok()) return Fail(s.ToString());
  const double first_run_ms = MsSince(t_first);
  for (int i = 0; i < args.warmup; ++i)
    if (Status s = session.Run(feeds, &outputs); !s.ok()) return Fail(s.ToString());
  std::vector<double> times;
  times.reserve(args.iterations);
  for (int i = 0; i < args.iterations; ++i) {
    const Clock::time_point t0 = Clock::now();
    Status s = session.Run(feeds, &outputs);
    times.push_back(MsSince(t0));
    if (!s.ok()) return Fail(s.ToString());
  }
  const double peak_rss_mb = bench::PeakRssMb();
  const bench::LatencyStats st = bench::Summarize(times);
  const int threads =
      args.threads > 0 ? args.threads : static_cast<int>(std::thread::hardware_concurrency());

  nlohmann::json j;
  j["runtime"] = "supernova";
  j["model"] = args.model;
  j["threads"] = threads;
  j["batch"] = args.batch;
  j["shapes"] = shapes_json;
  j["iterations"] = args.iterations;
  j["warmup"] = args.warmup;
  j["optimization"] = args.optimization;
  j["precision"] = args.precision;
  j["providers"] = opts.providers;
  j["median_ms"] = st.median_ms;
  j["p90_ms"] = st.p90_ms;
  j["mean_ms"] = st.mean_ms;
  j["min_ms"] = st.min_ms;
  j["max_ms"] = st.max_ms;
  j["throughput_per_s"] = static_cast<double>(args.batch) * 1000.0 / st.median_ms;
  j["peak_rss_mb"] = peak_rss_mb;
  j["load_ms"] = open_ms + first_run_ms;
  j["open_ms"] = open_ms;
  j["first_run_ms"] = first_run_ms;
  j["arena_peak_mb"] = static_cast<double>(session.peak_memory_bytes()) / (1 << 20);
  // The model is read a second time only now, after the peak RSS was taken.
  auto model = ir::ImportOnnxFile(args.model);
  if (!model.ok()) return Fail(model.status().ToString());
  j["weights_mb"] = static_cast<double>(bench::ModelWeightBytes(model->graph)) / (1 << 20);
  j["gflop"] = nullptr;
  j["gflops_achieved"] = nullptr;
  if (args.flops) {
    auto flops = CountModelFlops(std::move(model).value(), *shapes, feeds, opts);
    if (flops.ok()) {
      j["gflop"] = flops->count.flops / 1e9;
      j["gflops_achieved"] = flops->count.flops / 1e9 / (st.median_ms / 1000.0);
      j["gflop_method"] = flops->method;
      j["gflop_nodes"] = flops->count.counted_nodes;
      if (!flops->count.unresolved.empty()) j["gflop_unresolved"] = flops->count.unresolved.size();
    } else {
      j["gflop_error"] = flops.status().ToString();
    }
  }
  fmt::print("{}\n", j.dump());
  return 0;
}

}  // namespace

void AddBenchCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand(
      "bench", "Time a model on random inputs and print one JSON object (docs/benchmark.md)");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--threads", args->threads, "kernel threads (0: one per core)");
  cmd->add_option("--batch", args->batch, "the first dim of inputs whose first dim is dynamic");
  cmd->add_option("--shape", args->shapes,
                  "NAME=d0xd1x... for an input with dynamic dims besides the batch; "
                  "N stands for --batch (repeat for several inputs)");
  cmd->add_option("--iterations", args->iterations, "timed runs (default 50)");
  cmd->add_option("--warmup", args->warmup, "untimed runs after the first (default 3)");
  cmd->add_option("--optimization", args->optimization, "graph optimization: none, basic, all");
  cmd->add_option("--precision", args->precision, bench::kPrecisionHelp);
  cmd->add_option("--providers", args->providers,
                  "execution providers in order of preference (default cpu)")
      ->delimiter(',');
  cmd->add_flag("!--no-flops", args->flops, "skip counting the model's FLOPs");
  cmd->final_callback([args, exit_code] { *exit_code = RunBench(*args); });
}

}  // namespace supernova::tools

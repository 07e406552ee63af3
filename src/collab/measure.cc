#include "collab/measure.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "collab/cut.h"

namespace supernova::collab {

namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double Elements(const Shape& shape) {
  double n = 1;
  for (int64_t d : shape) n *= static_cast<double>(std::max<int64_t>(d, 0));
  return n;
}

// Each source node's median time under the reference kernels, unoptimized: every node is
// then a step of its own, named by its outputs.
Result<std::vector<double>> ReferenceTimes(const std::string& path, const ir::Graph& g,
                                           const Feeds& feeds, const MeasureOptions& options) {
  SessionOptions so;
  so.num_threads = options.threads;
  so.profiling = true;
  so.optimization = OptimizationLevel::kNone;
  so.providers = {"cpu_reference"};
  SN_ASSIGN_OR_RETURN(auto session, Session::Open(path, so));
  std::unordered_map<std::string, size_t> producer;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const std::string& v : g.nodes[i].outputs)
      if (!v.empty()) producer[v] = i;
  std::vector<std::vector<double>> times(g.nodes.size());
  std::vector<Tensor> outputs;
  for (int r = 0; r < std::max(1, options.reference_runs); ++r) {
    SN_RETURN_IF_ERROR(session->Run(feeds, &outputs));
    for (const NodeProfile& step : session->LastProfile())
      for (const std::string& v : step.outputs)
        if (auto it = producer.find(v); it != producer.end()) {
          times[it->second].push_back(step.ms);
          break;
        }
  }
  std::vector<double> medians;
  for (const std::vector<double>& t : times) medians.push_back(Median(t));
  return medians;
}

}  // namespace

Result<Weights> ParseWeights(const std::string& text) {
  if (text == "reference") return Weights::kReference;
  if (text == "macs") return Weights::kMacs;
  return Status::InvalidArgument("unknown attribution '" + text + "' (reference, macs)");
}

Result<std::map<std::string, TensorStat>> ProbeTensors(const ir::Model& model, const Feeds& feeds,
                                                       int threads) {
  ir::Model probe = model;
  std::unordered_set<std::string> listed(probe.graph.outputs.begin(), probe.graph.outputs.end());
  for (const ir::Node& n : probe.graph.nodes)
    for (const std::string& v : n.outputs)
      if (!v.empty() && listed.insert(v).second) probe.graph.outputs.push_back(v);
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(probe));
  SessionOptions options;
  options.num_threads = threads;
  options.optimization = OptimizationLevel::kNone;  // every value is computed as written
  SN_ASSIGN_OR_RETURN(auto session, Session::OpenBytes(bytes, options));
  std::vector<std::pair<std::string, Value>> inputs;
  for (const auto& [name, t] : feeds) inputs.emplace_back(name, t);
  std::vector<Value> outputs;
  SN_RETURN_IF_ERROR(session->Run(inputs, &outputs));
  std::map<std::string, TensorStat> stats;
  for (const auto& [name, t] : feeds) stats[name] = {t.dtype(), t.shape(), t.nbytes()};
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].is_tensor()) continue;
    const Tensor& t = outputs[i].tensor();
    stats[probe.graph.outputs[i]] = {t.dtype(), t.shape(), t.nbytes()};
  }
  return stats;
}

std::vector<double> AttributeTimes(const ir::Graph& source, const std::vector<StepTime>& steps,
                                   const std::vector<double>& weights, double total_ms) {
  const size_t n = source.nodes.size();
  std::unordered_map<std::string, size_t> producer;
  for (size_t i = 0; i < n; ++i)
    for (const std::string& v : source.nodes[i].outputs)
      if (!v.empty()) producer[v] = i;
  const std::vector<bool> constant = ConstantNodes(source);
  std::vector<bool> taken(n, false);
  std::vector<double> ms(n, 0);
  auto spread = [&](const std::vector<size_t>& nodes, double time) {
    double w = 0;
    for (size_t i : nodes) w += weights[i];
    for (size_t i : nodes)
      ms[i] += time * (w > 0 ? weights[i] / w : 1.0 / static_cast<double>(nodes.size()));
  };

  double pending = 0;  // time of steps that named no source tensor
  for (const StepTime& step : steps) {
    pending += step.ms;
    const std::unordered_set<std::string> stop(step.inputs.begin(), step.inputs.end());
    std::vector<std::string> todo(step.outputs.begin(), step.outputs.end());
    std::vector<size_t> found;
    while (!todo.empty()) {
      const std::string v = std::move(todo.back());
      todo.pop_back();
      if (v.empty() || stop.count(v)) continue;
      auto it = producer.find(v);
      if (it == producer.end() || constant[it->second] || taken[it->second]) continue;
      taken[it->second] = true;
      found.push_back(it->second);
      for (const std::string& r : source.nodes[it->second].inputs) todo.push_back(r);
    }
    if (found.empty()) continue;
    spread(found, pending);
    pending = 0;
  }
  std::vector<size_t> runnable;
  for (size_t i = 0; i < n; ++i)
    if (!constant[i]) runnable.push_back(i);
  if (runnable.empty()) return ms;
  if (pending > 0) spread(runnable, pending);
  const double sum = std::accumulate(ms.begin(), ms.end(), 0.0);
  if (sum <= 0) {
    spread(runnable, total_ms);
    return ms;
  }
  for (double& t : ms) t *= total_ms / sum;
  return ms;
}

Result<Profile> MeasureProfile(const std::string& path, const Feeds& feeds,
                               const MeasureOptions& options) {
  if (options.iterations < 1) return Status::InvalidArgument("iterations must be at least 1");
  if (!(options.slowdown >= 1))
    return Status::InvalidArgument("the slowdown must be at least 1 (the edge is not faster)");
  SN_ASSIGN_OR_RETURN(ir::Model model, ir::ImportOnnxFile(path));
  const ir::Graph& g = model.graph;
  SN_ASSIGN_OR_RETURN(auto tensors, ProbeTensors(model, feeds, options.threads));

  const ShapeOf shape_of = [&](const std::string& v) -> std::optional<Shape> {
    if (auto it = tensors.find(v); it != tensors.end()) return it->second.shape;
    if (auto it = g.initializers.find(v); it != g.initializers.end()) return it->second.shape();
    return std::nullopt;
  };
  std::vector<double> macs(g.nodes.size(), 0), weights(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    macs[i] = options.macs ? options.macs(g.nodes[i], shape_of) : 0;
    weights[i] = macs[i];
    for (const std::string& v : g.nodes[i].outputs)
      if (auto s = shape_of(v)) weights[i] += Elements(*s);
  }
  if (options.weights == Weights::kReference) {
    SN_ASSIGN_OR_RETURN(weights, ReferenceTimes(path, g, feeds, options));
  }

  SessionOptions so;
  so.num_threads = options.threads;
  so.profiling = true;
  SN_ASSIGN_OR_RETURN(auto session, Session::Open(path, so));
  std::vector<Tensor> outputs;
  for (int i = 0; i < 1 + options.warmup; ++i) SN_RETURN_IF_ERROR(session->Run(feeds, &outputs));
  std::vector<double> whole;
  std::vector<std::vector<double>> per_step;
  std::vector<NodeProfile> layout;
  for (int i = 0; i < options.iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    SN_RETURN_IF_ERROR(session->Run(feeds, &outputs));
    whole.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    std::vector<NodeProfile> prof = session->LastProfile();
    if (i == 0) {
      layout = prof;
      per_step.resize(prof.size());
    }
    if (prof.size() != layout.size())
      return Status::Internal("profile: the session ran different steps from run to run");
    for (size_t k = 0; k < prof.size(); ++k) per_step[k].push_back(prof[k].ms);
  }
  std::vector<StepTime> steps;
  double steps_ms = 0;
  for (size_t k = 0; k < layout.size(); ++k) {
    steps.push_back({layout[k].inputs, layout[k].outputs, Median(per_step[k])});
    steps_ms += steps.back().ms;
  }
  const double measured = Median(whole);
  const std::vector<double> node_ms = AttributeTimes(g, steps, weights, measured);

  Profile p;
  p.model = std::filesystem::path(path).filename().string();
  p.fingerprint = ModelFingerprint(g);
  p.threads = options.threads;
  p.slowdown = options.slowdown;
  p.iterations = options.iterations;
  p.measured_ms = measured;
  p.total_ms = measured * options.slowdown;
  p.attribution = fmt::format(
      "medians of {} profiled runs of the optimized session ({} steps); each step's time spread "
      "over the source nodes between its inputs and outputs by {}; scaled by {:.3f} so that "
      "the nodes add up to the whole run's median; times x{:g} (slowdown)",
      options.iterations, steps.size(),
      options.weights == Weights::kReference
          ? fmt::format("their own times under the reference kernels (medians of {} runs)",
                        std::max(1, options.reference_runs))
          : "MACs + output elements",
      steps_ms > 0 ? measured / steps_ms : 0.0, options.slowdown);
  for (const auto& [name, t] : feeds) p.input_shapes[name] = t.shape();
  for (size_t i = 0; i < g.nodes.size(); ++i)
    p.nodes.push_back(
        {NodeKey(g.nodes[i]), g.nodes[i].op_type, node_ms[i] * options.slowdown, macs[i]});
  p.tensors = std::move(tensors);
  return p;
}

}  // namespace supernova::collab

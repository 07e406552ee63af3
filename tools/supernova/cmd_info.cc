// supernova info MODEL: inputs, outputs, operator histogram, parameters.
#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "ir/onnx_import.h"
#include "ir/shape_inference.h"
#include "optimizer/optimizer.h"
#include "providers/cpu/kernel.h"
#include "supernova/commands.h"

namespace supernova::tools {
namespace {

struct InfoArgs {
  std::string model;
  std::string optimization = "none";
};

std::string HumanBytes(double b) {
  if (b >= 1 << 20) return fmt::format("{:.1f} MiB", b / (1 << 20));
  if (b >= 1 << 10) return fmt::format("{:.1f} KiB", b / (1 << 10));
  return fmt::format("{:.0f} B", b);
}

int RunInfo(const InfoArgs& args) {
  auto model = ir::ImportOnnxFile(args.model);
  if (!model.ok()) return Fail(model.status().ToString());
  ir::Graph& g = model->graph;
  auto level = optimizer::ParseOptimizationLevel(args.optimization);
  if (!level.ok()) return Fail(level.status().message());
  const size_t nodes_before = g.nodes.size();
  std::vector<optimizer::PassStats> stats;
  if (Status s = optimizer::Optimize(g, *level, &stats); !s.ok()) return Fail(s.ToString());
  ir::InferShapes(g);

  std::error_code ec;
  fmt::print("model      {} ({})\n", args.model,
             HumanBytes(static_cast<double>(std::filesystem::file_size(args.model, ec))));
  const auto& md = model->metadata;
  std::string opsets;
  for (const auto& [domain, v] : g.opsets)
    opsets +=
        fmt::format("{}{} {}", opsets.empty() ? "" : ", ", domain.empty() ? "ai.onnx" : domain, v);
  fmt::print("producer   {} {} (ONNX IR {}), opset {}\n",
             md.producer_name.empty() ? "?" : md.producer_name, md.producer_version, md.ir_version,
             opsets);
  fmt::print("inputs\n");
  for (const auto& in : g.inputs) {
    const ir::ValueType* t = g.TypeOf(in);
    fmt::print("  {}: {}\n", in, t ? t->ToString() : "?");
  }
  fmt::print("outputs\n");
  for (const auto& out : g.outputs) {
    const ir::ValueType* t = g.TypeOf(out);
    fmt::print("  {}: {}\n", out, t ? t->ToString() : "?");
  }
  int64_t params = 0;
  size_t bytes = 0;
  for (const auto& [name, t] : g.initializers) {
    params += t.numel();
    bytes += t.nbytes();
  }
  for (const auto& n : g.nodes)  // weights folded into Constant nodes count too
    if (n.op_type == "Constant")
      if (const ir::Attribute* a = n.FindAttr("value"); a && a->t.defined()) {
        params += a->t.numel();
        bytes += a->t.nbytes();
      }
  fmt::print("parameters {} ({})\n", params, HumanBytes(static_cast<double>(bytes)));
  std::map<std::string, int> hist;
  std::map<std::string, int> unsupported;
  for (const auto& n : g.nodes) {
    const std::string key = n.domain.empty() ? n.op_type : n.domain + "." + n.op_type;
    ++hist[key];
    if (!cpu::FindKernel(n.domain, n.op_type)) ++unsupported[key];
  }
  std::vector<std::pair<std::string, int>> sorted(hist.begin(), hist.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (*level != OptimizationLevel::kNone) {
    fmt::print("optimized  level {}: {} nodes -> {}\n", optimizer::OptimizationLevelName(*level),
               nodes_before, g.nodes.size());
    for (const auto& p : stats)
      fmt::print("  {:<24} {:4} changes {:8.2f} ms\n", p.name, p.changes, p.ms);
  }
  fmt::print("nodes      {} ({} operator types)\n", g.nodes.size(), hist.size());
  for (const auto& [op, n] : sorted) fmt::print("  {:<24} {}\n", op, n);
  if (unsupported.empty()) {
    fmt::print("cpu        every operator has a kernel\n");
  } else {
    std::string list;
    for (const auto& [op, n] : unsupported)
      list += fmt::format("{}{} ({})", list.empty() ? "" : ", ", op, n);
    fmt::print("cpu        no kernel for: {}\n", list);
  }
  return 0;
}

}  // namespace

void AddInfoCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<InfoArgs>();
  auto* cmd =
      app.add_subcommand("info", "Print a model's inputs, outputs, operators and parameters");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--optimization", args->optimization,
                  "describe the graph after optimization at this level: none (default, the "
                  "model as written), basic or all; prints what each pass changed");
  cmd->final_callback([args, exit_code] { *exit_code = RunInfo(*args); });
}

}  // namespace supernova::tools

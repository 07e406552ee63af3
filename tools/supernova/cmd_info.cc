// supernova info MODEL: inputs, outputs, operator histogram, parameters.
#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "ir/onnx_import.h"
#include "ops/op.h"
#include "ops/shape_inference.h"
#include "optimizer/optimizer.h"
#include "providers/provider.h"
#include "runtime/placement.h"
#include "runtime/provider_registry.h"
#include "supernova/commands.h"

namespace supernova::tools {
namespace {

struct InfoArgs {
  std::string model;
  std::string optimization;  // "" : none, or all with --providers (what a session runs)
  std::vector<std::string> providers;
};

std::string HumanBytes(double b) {
  if (b >= 1 << 20) return fmt::format("{:.1f} MiB", b / (1 << 20));
  if (b >= 1 << 10) return fmt::format("{:.1f} KiB", b / (1 << 10));
  return fmt::format("{:.0f} B", b);
}

// The placement a session would make with these providers, planned statically: a provider
// without its device here still says what it supports, so a plan for a GPU can be read on a
// machine without one. Pieces are not compiled (a session returns a piece its provider cannot
// compile to the cpu, and says so in Session::placement()).
int PrintPlacement(ir::Graph& g, const std::vector<std::string>& names) {
  runtime::ProviderSet set = runtime::MakeProviders(names, {}, true);
  const std::vector<const providers::ExecutionProvider*>& eps = set.asked;
  const std::vector<std::string>& notes = set.notes;
  if (Status s = runtime::PrepareForPlacement(g); !s.ok()) return Fail(s.ToString());
  const runtime::Placement pl = runtime::PlanPlacement(g, eps);
  const int copies = runtime::Lower(g, pl, eps).copies;
  const PlacementReport r = runtime::Describe(g, pl, eps, copies);

  std::string list;
  for (const auto& p : r.providers) list += (list.empty() ? "" : ", ") + p;
  fmt::print("providers  {}\n", list);
  for (const auto& n : notes) fmt::print("  note: {}\n", n);
  std::map<std::string, int> per_provider;
  for (const auto& n : r.nodes) ++per_provider[n.provider];
  std::string counts;
  for (const auto& p : r.providers)
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", p, per_provider[p]);
  fmt::print("placement  {} nodes: {}; {} pieces, {} seams, {} device copies per run\n",
             r.nodes.size(), counts, r.pieces.size(), r.seams, r.copies);
  for (size_t k = 0; k < r.pieces.size(); ++k) fmt::print("  piece #{} {}\n", k, r.pieces[k]);
  size_t width = 4;
  for (const auto& n : r.nodes) width = std::max(width, n.node.size());
  width = std::min<size_t>(width, 60);
  for (const auto& n : r.nodes) {
    const std::string where =
        n.piece >= 0 ? fmt::format("{} #{}", n.provider, n.piece) : n.provider;
    std::string line = fmt::format("  {:<{}}  {:<10}", n.node, width, where);
    if (!n.reason.empty()) line += "  " + n.reason;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print("{}\n", line);
  }
  return 0;
}

int RunInfo(const InfoArgs& args) {
  auto model = ir::ImportOnnxFile(args.model);
  if (!model.ok()) return Fail(model.status().ToString());
  ir::Graph& g = model->graph;
  const std::string level_name = !args.optimization.empty() ? args.optimization
                                 : args.providers.empty()   ? "none"
                                                            : "all";
  auto level = optimizer::ParseOptimizationLevel(level_name);
  if (!level.ok()) return Fail(level.status().message());
  const size_t nodes_before = g.nodes.size();
  std::vector<optimizer::PassStats> stats;
  // With providers, as a session does: the fusions into the cpu's own ops come after
  // placement, on the cpu's nodes, so the providers see standard ONNX.
  const auto pass_set =
      args.providers.empty() ? optimizer::PassSet::kEvery : optimizer::PassSet::kPortable;
  if (Status s = optimizer::Optimize(g, *level, &stats, pass_set); !s.ok())
    return Fail(s.ToString());
  ops::InferShapes(g);

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
    if (!ops::FindOp(n)) ++unsupported[key];
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
  if (!args.providers.empty()) return PrintPlacement(g, args.providers);
  return 0;
}

}  // namespace

void AddInfoCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<InfoArgs>();
  auto* cmd =
      app.add_subcommand("info", "Print a model's inputs, outputs, operators and parameters");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--optimization", args->optimization,
                  "describe the graph after optimization at this level: none (the model as "
                  "written; the default without --providers), basic or all (the default with "
                  "--providers, as a session runs); prints what each pass changed");
  cmd->add_option("--providers", args->providers,
                  "also print where each node would run with these execution providers, in "
                  "order of preference (e.g. cuda,cpu), why the others declined it, and the "
                  "seams between providers")
      ->delimiter(',');
  cmd->final_callback([args, exit_code] { *exit_code = RunInfo(*args); });
}

}  // namespace supernova::tools

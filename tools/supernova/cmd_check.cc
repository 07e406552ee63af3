// supernova check --target NAME MODEL: which nodes an accelerator described by a capability
// profile (profiles/*.json) would run, which fall back to the CPU and why, and the share of the
// multiply-accumulates that stays on the accelerator. Plans only: no device is needed.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "ir/onnx_import.h"
#include "profiles/capability_profile.h"
#include "supernova/bench_util.h"
#include "supernova/commands.h"
#include "supernova/flops.h"

namespace supernova::tools {
namespace {

struct CheckArgs {
  std::string model;
  std::string target;
  std::vector<std::string> shapes;
  bool assume_int8 = false;
  bool json = false;
  bool list_targets = false;
};

std::string NodeName(const ir::Node& n, size_t index) {
  return n.name.empty() ? fmt::format("#{}", index) : n.name;
}

int ListTargets() {
  for (const std::string& name : profiles::BuiltinProfileNames()) {
    auto p = profiles::ResolveTarget(name);
    if (!p.ok()) return Fail(p.status().message());  // a broken built-in file: a build bug
    fmt::print("{:<14} {} ({}; {})\n", name, p->title, p->source_version,
               profiles::PartitionRuleName(p->partition));
  }
  return 0;
}

// Gives each graph input a concrete shape where it can: the declared dims, --shape, and 1 for a
// symbolic batch. An input whose other dims stay unknown keeps them, and is reported: MACs and
// static-shape rules then see a dynamic shape, which is the truth about such a model.
Result<std::vector<std::string>> FixInputShapes(ir::Graph& g,
                                                const std::vector<std::string>& shape_flags) {
  SN_ASSIGN_OR_RETURN(auto given, bench::ParseShapeFlags(shape_flags));
  const std::vector<TensorInfo> inputs = bench::DeclaredInputs(g);
  for (const auto& [name, dims] : given) {
    if (std::none_of(inputs.begin(), inputs.end(),
                     [&](const TensorInfo& t) { return t.name == name; })) {
      std::string list;
      for (const TensorInfo& in : inputs) list += (list.empty() ? "" : ", ") + in.ToString();
      return Status::InvalidArgument("--shape " + name + "=" + bench::DimsToString(dims) +
                                     ": the model has no input named '" + name +
                                     "' (inputs: " + list + ")");
    }
  }
  std::vector<std::string> dynamic;
  for (const TensorInfo& in : inputs) {
    std::map<std::string, std::vector<int64_t>> mine;
    if (auto it = given.find(in.name); it != given.end()) mine.insert(*it);
    const int64_t batch = in.rank_known && !in.dims.empty() && in.dims[0] > 0 ? in.dims[0] : 1;
    auto shapes = bench::ResolveInputShapes({in}, batch, mine);
    if (shapes.ok()) {
      g.value_types[in.name] = ir::ValueType::Static(in.dtype, (*shapes)[0]);
      continue;
    }
    if (!mine.empty()) return shapes.status();
    ir::ValueType& t = g.value_types[in.name];
    if (t.dims && !t.dims->empty() && !(*t.dims)[0].known()) (*t.dims)[0] = ir::Dim::Known(1);
    dynamic.push_back(in.name);
  }
  return dynamic;
}

struct Reason {
  std::map<std::string, int> ops;  // op type -> nodes
  std::vector<std::string> names;
  size_t count = 0;
};

int RunCheck(const CheckArgs& args) {
  if (args.list_targets) return ListTargets();
  if (args.target.empty()) return Fail("--target is required (see --list-targets)");
  if (args.model.empty()) return Fail("a model file is required");
  auto profile = profiles::ResolveTarget(args.target);
  if (!profile.ok()) return Fail(profile.status().message());
  auto model = ir::ImportOnnxFile(args.model);
  if (!model.ok()) return Fail(model.status().ToString());
  ir::Graph& g = model->graph;
  auto dynamic = FixInputShapes(g, args.shapes);
  if (!dynamic.ok()) return Fail(dynamic.status().message());
  if (Status s = profiles::PrepareGraph(g); !s.ok()) return Fail(s.ToString());

  const profiles::EvalOptions options{args.assume_int8};
  const profiles::Placement placement = profiles::Evaluate(*profile, g, options);

  auto shape_of = [&](const std::string& name) -> std::optional<Shape> {
    if (auto it = g.initializers.find(name); it != g.initializers.end()) return it->second.shape();
    const ir::ValueType* t = g.TypeOf(name);
    if (t && t->HasStaticShape()) return t->StaticShape();
    return std::nullopt;
  };
  double macs_total = 0, macs_acc = 0;
  std::vector<std::string> unresolved;
  std::vector<std::optional<double>> node_macs;
  std::map<std::string, Reason> reasons;
  bool float_dtype_fallback = false;
  for (size_t i = 0; i < placement.nodes.size(); ++i) {
    const profiles::NodePlacement& np = placement.nodes[i];
    std::optional<double> macs = NodeMacs(*np.node, shape_of);
    node_macs.push_back(macs);
    if (!macs) {
      unresolved.push_back(np.node->Label());
    } else {
      macs_total += *macs;
      if (np.on_accelerator) macs_acc += *macs;
    }
    if (np.on_accelerator) continue;
    Reason& r = reasons[np.reason];
    ++r.count;
    ++r.ops[np.node->op_type];
    r.names.push_back(NodeName(*np.node, i));
    if (np.reason.starts_with("dtype float")) float_dtype_fallback = true;
  }
  const size_t total = placement.nodes.size();
  const double node_fraction =
      total ? static_cast<double>(placement.accelerator_nodes) / static_cast<double>(total) : 1.0;
  // No counted work at all (no Conv/Gemm/MatMul, or none resolved) has no fraction.
  const bool has_macs = macs_total > 0;
  const double mac_fraction = has_macs ? macs_acc / macs_total : 0.0;
  const bool suggest_int8 = float_dtype_fallback && !args.assume_int8 &&
                            profile->float_policy == profiles::FloatPolicy::kQuantize;

  std::vector<std::string> dtypes;
  for (DataType t : profile->dtypes) dtypes.push_back(DataTypeName(t));
  if (args.json) {
    nlohmann::ordered_json out;
    out["target"] = {{"name", profile->name},
                     {"title", profile->title},
                     {"origin", profile->origin},
                     {"source",
                      {{"document", profile->source_document},
                       {"url", profile->source_url},
                       {"version", profile->source_version}}},
                     {"dtypes", dtypes},
                     {"float_policy", profiles::FloatPolicyName(profile->float_policy)},
                     {"partition", profiles::PartitionRuleName(profile->partition)}};
    out["model"] = args.model;
    out["assume_int8"] = args.assume_int8;
    nlohmann::ordered_json inputs = nlohmann::ordered_json::object();
    for (const std::string& in : g.inputs)
      if (const ir::ValueType* t = g.TypeOf(in)) inputs[in] = t->ToString();
    out["inputs"] = inputs;
    out["dynamic_inputs"] = *dynamic;
    out["nodes"] = {{"total", total},
                    {"accelerator", placement.accelerator_nodes},
                    {"cpu", placement.cpu_nodes},
                    {"accelerator_fraction", node_fraction}};
    out["macs"] = {{"total", macs_total},
                   {"accelerator", macs_acc},
                   {"cpu", macs_total - macs_acc},
                   {"accelerator_fraction", has_macs ? nlohmann::ordered_json(mac_fraction)
                                                     : nlohmann::ordered_json(nullptr)},
                   {"unresolved", unresolved}};
    out["segments"] = placement.segments;
    out["transitions"] = placement.transitions;
    nlohmann::ordered_json by_reason = nlohmann::ordered_json::object();
    for (const auto& [why, r] : reasons) by_reason[why] = r.count;
    out["fallback_reasons"] = by_reason;
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (size_t i = 0; i < placement.nodes.size(); ++i) {
      const profiles::NodePlacement& np = placement.nodes[i];
      nodes.push_back({{"name", NodeName(*np.node, i)},
                       {"op_type", np.node->op_type},
                       {"device", np.on_accelerator ? "accelerator" : "cpu"},
                       {"reason", np.reason},
                       {"macs", node_macs[i] ? nlohmann::ordered_json(*node_macs[i])
                                             : nlohmann::ordered_json(nullptr)}});
    }
    out["placement"] = nodes;
    fmt::print("{}\n", out.dump(1));
    return 0;
  }

  fmt::print("target     {}: {} ({})\n", profile->name, profile->title, profile->origin);
  fmt::print("source     {}, {}\n           {}\n", profile->source_document,
             profile->source_version, profile->source_url);
  std::string rules = "dtypes " + fmt::format("{}", fmt::join(dtypes, ", "));
  if (profile->float_policy != profiles::FloatPolicy::kNative)
    rules += fmt::format(" (float32: {})", profiles::FloatPolicyName(profile->float_policy));
  if (profile->static_shapes) rules += "; static shapes";
  if (profile->max_effective_rank > 0)
    rules += fmt::format("; effective rank <= {}", profile->max_effective_rank);
  rules += fmt::format("; partition {}", profiles::PartitionRuleName(profile->partition));
  fmt::print("rules      {}\n", rules);
  std::string shapes;
  for (const std::string& in : g.inputs)
    if (const ir::ValueType* t = g.TypeOf(in))
      shapes += fmt::format("{}{}: {}", shapes.empty() ? "" : ", ", in, t->ToString());
  fmt::print("model      {} ({}){}\n", args.model, shapes,
             args.assume_int8 ? ", as if quantized to int8" : "");
  for (const std::string& in : *dynamic)
    fmt::print("note       input {} keeps dynamic dims: give --shape {}=... for a static plan\n",
               in, in);
  if (suggest_int8)
    fmt::print(
        "note       {} runs int8/uint8 only: every float node falls back for its dtype. Pass "
        "--assume-int8 to evaluate the model as if post-training quantized.\n",
        profile->name);
  fmt::print("nodes      {} of {} on the accelerator ({:.1f}%), {} on the CPU\n",
             placement.accelerator_nodes, total, 100 * node_fraction, placement.cpu_nodes);
  if (has_macs)
    fmt::print("MACs       {:.3f} G of {:.3f} G on the accelerator ({:.1f}%)\n", macs_acc / 1e9,
               macs_total / 1e9, 100 * mac_fraction);
  else
    fmt::print("MACs       none resolved\n");
  if (!unresolved.empty())
    fmt::print(
        "           {} Conv/Gemm/MatMul nodes with unknown shapes are not counted (first: "
        "{})\n",
        unresolved.size(), unresolved.front());
  fmt::print("segments   {} on the accelerator, {} transitions between CPU and accelerator\n",
             placement.segments, placement.transitions);
  if (reasons.empty()) {
    fmt::print("fallback   none: every node runs on the accelerator\n");
    return 0;
  }
  fmt::print("fallback   {} nodes, by reason:\n", placement.cpu_nodes);
  for (const auto& [why, r] : reasons) {
    std::string ops;
    for (const auto& [op, n] : r.ops)
      ops += fmt::format("{}{} x{}", ops.empty() ? "" : ", ", op, n);
    constexpr size_t kNames = 3;
    std::string names;
    for (size_t i = 0; i < r.names.size() && i < kNames; ++i) names += (i ? ", " : "") + r.names[i];
    if (r.names.size() > kNames) names += fmt::format(", ... (+{})", r.names.size() - kNames);
    fmt::print("  {} [{}]\n    {}: {}\n", why, r.count, ops, names);
  }
  return 0;
}

}  // namespace

void AddCheckCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<CheckArgs>();
  auto* cmd = app.add_subcommand(
      "check", "Plan a model on an accelerator described by a capability profile: what falls back");
  cmd->add_option("model", args->model, "ONNX model file");
  cmd->add_option("--target", args->target,
                  "a built-in profile (see --list-targets) or a profile file ending in .json");
  cmd->add_option("--shape", args->shapes,
                  "NAME=d0xd1x...: a concrete shape for an input with dynamic dims (repeatable); "
                  "a symbolic batch is 1 otherwise");
  cmd->add_flag("--assume-int8", args->assume_int8,
                "evaluate a float model as if post-training quantized to int8");
  cmd->add_flag("--json", args->json, "print one JSON object: totals and per-node placement");
  cmd->add_flag("--list-targets", args->list_targets, "list the built-in profiles and exit");
  cmd->final_callback([args, exit_code] { *exit_code = RunCheck(*args); });
}

}  // namespace supernova::tools

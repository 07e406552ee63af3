// supernova split MODEL -o DIR --cut auto|T1[,T2...] --edge-profile E.json
//                 --cloud-profile C.json --link BW_MBIT,RTT_MS[,LOSS]
//                 [--objective latency|energy|bandwidth] [--cut-codec none|fp16|int8]
//                 [--edge-power ACTIVE_W,IDLE_W,RADIO_W] [--json]
//
// Cuts a model between an edge and a cloud: prices every candidate cut from the two profiles
// and the link, picks one for the objective (or takes the user's), and writes the split
// directory (docs/collab.md): plan.json, head.onnx, tail.onnx and the materialized cuts.
// Every error (an unknown tensor, a cut that does not separate, a profile of another model,
// a bad link) is one line and exit 1, with nothing written.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "collab/split_dir.h"
#include "collab/split_plan.h"
#include "ir/onnx_import.h"
#include "supernova/commands.h"

namespace supernova::tools {
namespace {

struct SplitArgs {
  std::string model;
  std::string output;
  std::string cut = "auto";
  std::string edge_profile, cloud_profile;
  std::string link;
  std::string objective = "latency";
  std::string codec = "none";
  std::string power;
  bool json = false;
  int rows = 8;
  double edge_margin = 0.1;
};

std::string CutLabel(const collab::Candidate& c) {
  if (c.kind != "split") return c.kind == "edge_only" ? "(edge only)" : "(cloud only)";
  std::string s = c.tensors.empty() ? "" : c.tensors[0];
  if (s.size() > 28) s = s.substr(0, 25) + "...";
  if (c.tensors.size() > 1) s += fmt::format(" +{}", c.tensors.size() - 1);
  return s;
}

void PrintTable(const collab::SplitPlan& plan, int rows, const std::string& dir) {
  std::vector<const collab::Candidate*> order;
  for (const collab::Candidate& c : plan.candidates) order.push_back(&c);
  std::sort(order.begin(), order.end(),
            [&](const collab::Candidate* a, const collab::Candidate* b) {
              return collab::Better(*a, *b, plan.objective);
            });
  fmt::print("{}: {} candidate cuts; link {}; codec {}; objective {}\n", plan.model,
             plan.candidates.size(), plan.link.ToString(), collab::CutCodecName(plan.codec),
             collab::ObjectiveName(plan.objective));
  fmt::print("{:>4}  {:<32} {:>9} {:>10} {:>11} {:>9} {:>9} {:>10}\n", "id", "cut", "edge_ms",
             "sent_KiB", "transfer_ms", "cloud_ms", "total_ms", "energy_mJ");
  int shown = 0;
  for (const collab::Candidate* c : order) {
    const bool chosen = c->id == plan.chosen;
    if (shown >= rows && !chosen && c->kind == "split") continue;
    ++shown;
    fmt::print("{:>4}  {:<32} {:>9.2f} {:>10.1f} {:>11.2f} {:>9.2f} {:>9.2f} {:>10.1f}{}\n", c->id,
               CutLabel(*c), c->edge_ms, static_cast<double>(c->sent_bytes) / 1024, c->transfer_ms,
               c->cloud_ms, c->total_ms, c->energy_mj, chosen ? "  <- chosen" : "");
  }
  int materialized = 0;
  for (const collab::Candidate& c : plan.candidates) materialized += c.materialized ? 1 : 0;
  fmt::print("wrote {}: plan.json, the chosen cut {} and {} materialized cuts\n", dir, plan.chosen,
             materialized);
}

int RunSplit(const SplitArgs& args) {
  auto model = ir::ImportOnnxFile(args.model);
  if (!model.ok()) return Fail(model.status().ToString());
  auto link = collab::ParseLink(args.link);
  if (!link.ok()) return Fail(link.status().message());
  auto codec = collab::ParseCutCodec(args.codec);
  if (!codec.ok()) return Fail(codec.status().message());
  auto objective = collab::ParseObjective(args.objective);
  if (!objective.ok()) return Fail(objective.status().message());
  collab::Power power;
  if (!args.power.empty()) {
    auto parsed = collab::ParsePower(args.power);
    if (!parsed.ok()) return Fail(parsed.status().message());
    power = *parsed;
  }
  auto edge = collab::ReadProfile(args.edge_profile);
  if (!edge.ok()) return Fail(edge.status().message());
  auto cloud = collab::ReadProfile(args.cloud_profile);
  if (!cloud.ok()) return Fail(cloud.status().message());
  const ir::Graph& g = model->graph;
  for (const auto& [profile, what] : {std::pair{&*edge, "edge profile " + args.edge_profile},
                                      std::pair{&*cloud, "cloud profile " + args.cloud_profile}})
    if (Status s = collab::CheckProfileMatches(*profile, g, what); !s.ok())
      return Fail(s.message());
  std::optional<std::vector<std::string>> user_cut;
  if (args.cut != "auto") user_cut = SplitCommaList(args.cut);

  if (!(args.edge_margin >= 0))
    return Fail(fmt::format("--edge-margin {}: must be 0 or more", args.edge_margin));
  auto plan = collab::PlanSplit(g, args.model, *edge, *cloud, *link, *codec, *objective, power,
                                user_cut, args.edge_margin);
  if (!plan.ok()) return Fail(plan.status().message());
  if (Status s = collab::WriteSplitDirectory(*model, *plan, *edge, args.output); !s.ok())
    return Fail(s.message());
  if (args.json)
    fmt::print("{}\n", collab::PlanToJson(*plan).dump(1));
  else
    PrintTable(*plan, args.rows, args.output);
  return 0;
}

}  // namespace

void AddSplitCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SplitArgs>();
  auto* cmd = app.add_subcommand(
      "split", "Cut a model between edge and cloud from two profiles and a link (docs/collab.md)");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("-o,--output", args->output, "the split directory to write")->required();
  cmd->add_option("--cut", args->cut,
                  "auto (the best for the objective) or the cut's tensors, comma-separated");
  cmd->add_option("--edge-profile", args->edge_profile, "supernova profile of the edge")
      ->required();
  cmd->add_option("--cloud-profile", args->cloud_profile, "supernova profile of the cloud")
      ->required();
  cmd->add_option("--link", args->link, "BW_MBIT,RTT_MS[,LOSS], as 10,20")->required();
  cmd->add_option("--edge-margin", args->edge_margin,
                  "keep the whole model on the edge unless a cut beats it by more than this "
                  "share (default 0.1: within the profiles' error)");
  cmd->add_option("--objective", args->objective, "latency (default), energy or bandwidth");
  cmd->add_option("--cut-codec", args->codec, "none (default), fp16 or int8");
  cmd->add_option("--edge-power", args->power,
                  "ACTIVE_W,IDLE_W,RADIO_W of the edge for energy (default 5,1,2)");
  cmd->add_option("--rows", args->rows, "candidates shown besides the chosen one (default 8)");
  cmd->add_flag("--json", args->json, "print plan.json instead of the table");
  cmd->final_callback([args, exit_code] { *exit_code = RunSplit(*args); });
}

}  // namespace supernova::tools

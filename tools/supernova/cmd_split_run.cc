// supernova run INPUTS... --split DIR --remote HOST:PORT [--timeout-ms T]
//     [--emulate-link BW,RTT[,LOSS] | --link-schedule REQ:BW,RTT;REQ:off;...] [--slowdown F]
//     [--requests N] [--json] [-o OUTDIR]
//
// Runs a split model (DIR as `supernova split` writes it): the head here, the tail on a remote
// `supernova serve`, or the whole model here when the remote cannot answer (docs/collab.md).
// Inputs are read and outputs written as `supernova run` does, so the two compare.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "collab/remote/split_runner.h"
#include "ir/value_proto.h"
#include "kserve/emulated_link.h"
#include "kserve/kserve_client.h"
#include "supernova/commands.h"
#include "supernova/tensor_io.h"

namespace supernova::tools {
namespace {

struct SplitRunArgs {
  std::vector<std::string> inputs;
  std::string output_dir;
  InputOptions input;
  std::string split_dir;
  std::string remote;
  double timeout_ms = 1000;
  std::string emulate_link;
  std::string link_schedule;
  uint64_t seed = 1;
  double slowdown = 1;
  int threads = 0;
  int requests = 1;
  int probe_every = 5;
  int cut = -1;
  bool json = false;
  std::string compression = "gzip";
};

Result<kserve::NamedTensors> LoadInputs(const SplitRunArgs& args,
                                        const std::vector<TensorInfo>& infos) {
  SN_ASSIGN_OR_RETURN(std::vector<InputSpec> specs, MatchInputSpecs(args.inputs, infos));
  kserve::NamedTensors feeds;
  for (const InputSpec& spec : specs) {
    SN_ASSIGN_OR_RETURN(Tensor t, LoadInputFile(spec.file, *spec.info, args.input));
    feeds.emplace_back(spec.info->name, std::move(t));
  }
  return feeds;
}

Result<std::unique_ptr<kserve::Transport>> MakeTransport(const SplitRunArgs& args) {
  if (args.compression != "gzip" && args.compression != "none")
    return Status::InvalidArgument("--compression " + args.compression + ": gzip or none");
  SN_ASSIGN_OR_RETURN(std::unique_ptr<kserve::KServeClient> client,
                      kserve::KServeClient::Create(args.remote, args.compression == "gzip"));
  if (!args.emulate_link.empty() && !args.link_schedule.empty())
    return Status::InvalidArgument("give --emulate-link or --link-schedule, not both");
  std::unique_ptr<kserve::Transport> wire = std::move(client);
  if (args.emulate_link.empty() && args.link_schedule.empty()) return wire;
  kserve::LinkSchedule schedule;
  if (!args.emulate_link.empty()) {
    SN_ASSIGN_OR_RETURN(collab::Link link, collab::ParseLink(args.emulate_link));
    schedule = kserve::LinkSchedule::Constant(link);
  } else {
    SN_ASSIGN_OR_RETURN(schedule, kserve::LinkSchedule::Parse(args.link_schedule));
  }
  return std::unique_ptr<kserve::Transport>(
      std::make_unique<kserve::EmulatedLink>(std::move(wire), std::move(schedule), args.seed));
}

std::string Describe(const collab::RequestRecord& r) {
  std::string s =
      fmt::format("request {}: cut {} ({}), tail on the {}: {:.2f} ms (head {:.2f}", r.request,
                  r.candidate, collab::CutKindName(r.kind), r.tail_at, r.total_ms, r.head_ms);
  if (r.remote_ms > 0)
    s += fmt::format(", remote {:.2f}, {} bytes sent", r.remote_ms, r.sent_bytes);
  if (r.tail_ms > 0) s += fmt::format(", tail {:.2f}", r.tail_ms);
  s += fmt::format("; predicted {:.2f})", r.predicted_ms);
  if (r.explore) s += " [measuring the link]";
  if (!r.fallback.empty()) s += "\n  fallback: " + r.fallback;
  return s;
}

Status WriteOutputs(const std::string& dir, const std::vector<Tensor>& outputs,
                    const std::vector<TensorInfo>& infos) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::InvalidArgument("cannot create " + dir + ": " + ec.message());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string path = (std::filesystem::path(dir) / fmt::format("output_{}.pb", i)).string();
    SN_RETURN_IF_ERROR(
        ir::WriteValueFile(path, Value(outputs[i]), ValueKind::kTensor, infos[i].name));
  }
  return Status::Ok();
}

int RunSplit(const SplitRunArgs& args) {
  auto plan = collab::ReadSplitPlan(args.split_dir);
  if (!plan.ok()) return Fail(plan.status().ToString());
  if (plan->edge_slowdown != args.slowdown)
    std::fprintf(stderr,
                 "note: %s/plan.json predicts an edge %g times slower than its profile's host; "
                 "this run emulates %g (--slowdown)\n",
                 args.split_dir.c_str(), plan->edge_slowdown, args.slowdown);
  auto transport = MakeTransport(args);
  if (!transport.ok()) return Fail(transport.status().ToString());
  collab::SplitOptions opts;
  opts.timeout_ms = args.timeout_ms;
  opts.slowdown = args.slowdown;
  opts.threads = args.threads;
  opts.probe_every = std::max(1, args.probe_every);
  opts.pin = args.cut;
  auto runner =
      collab::SplitRunner::Open(std::move(plan).value(), std::move(transport).value(), opts);
  if (!runner.ok()) return Fail(runner.status().ToString());
  auto feeds = LoadInputs(args, (*runner)->inputs());
  if (!feeds.ok()) return Fail(feeds.status().ToString());

  std::vector<Tensor> outputs;
  std::map<std::string, int> used;
  int fallbacks = 0;
  for (int r = 0; r < std::max(1, args.requests); ++r) {
    collab::RequestRecord rec;
    auto out = (*runner)->Run(*feeds, &rec);
    if (!out.ok()) return Fail(fmt::format("request {}: {}", r, out.status().ToString()));
    outputs = std::move(out).value();
    ++used[fmt::format("{} ({}, tail on the {})", rec.candidate, collab::CutKindName(rec.kind),
                       rec.tail_at)];
    fallbacks += rec.fallback.empty() ? 0 : 1;
    fmt::print("{}\n", args.json ? rec.ToJson() : Describe(rec));
  }
  if (!args.json) {
    fmt::print("{} requests, {} ran their tail on the edge for want of the remote\n",
               std::max(1, args.requests), fallbacks);
    for (const auto& [what, n] : used) fmt::print("  cut {}: {} requests\n", what, n);
  }
  if (!args.output_dir.empty()) {
    Status s = WriteOutputs(args.output_dir, outputs, (*runner)->outputs());
    if (!s.ok()) return Fail(s.ToString());
  }
  return 0;
}

}  // namespace

void AddSplitRunCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SplitRunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Run a split model: the head here, the tail on a remote supernova serve");
  cmd->add_option("inputs", args->inputs, "NAME=FILE, or FILE alone for a single-input model");
  cmd->add_option("--input,-i", args->inputs, "NAME=FILE (.pb, .npy, or an image)");
  cmd->add_option("--output-dir,-o", args->output_dir,
                  "where output_<i>.pb of the last request are written");
  cmd->add_option("--preprocess", args->input.preprocess,
                  "image normalisation: raw, unit, signed, imagenet, paddle");
  cmd->add_option("--size", args->input.size, "HxW for image inputs of dynamic size");
  cmd->add_flag("--bgr", args->input.bgr, "feed images as BGR instead of RGB");
  cmd->add_option("--split", args->split_dir, "the directory `supernova split` wrote")->required();
  cmd->add_option("--remote", args->remote, "HOST:PORT of the supernova serve holding the tails")
      ->required();
  cmd->add_option("--timeout-ms", args->timeout_ms,
                  "deadline of each remote call; past it the tail runs here");
  cmd->add_option("--emulate-link", args->emulate_link,
                  "BW_MBIT,RTT_MS[,LOSS]: delay and drop messages as such a link would");
  cmd->add_option("--link-schedule", args->link_schedule,
                  "REQ:BW,RTT[,LOSS];REQ:off;...: the emulated link from each request number on");
  cmd->add_option("--seed", args->seed, "seed of the emulated link's losses");
  cmd->add_option("--slowdown", args->slowdown,
                  "emulate an edge this many times slower than this host");
  cmd->add_option("--threads", args->threads, "kernel threads (0: one per core)");
  cmd->add_option("--requests", args->requests, "run the inputs this many times");
  cmd->add_option("--probe-every", args->probe_every,
                  "requests between liveness probes and link measurements");
  cmd->add_option("--cut", args->cut, "use this candidate id of plan.json on every request");
  cmd->add_flag("--json", args->json, "one JSON record per request");
  cmd->add_option("--compression", args->compression,
                  "gzip (default) or none: how the messages to the remote are compressed");
  cmd->final_callback([args, exit_code] { *exit_code = RunSplit(*args); });
}

}  // namespace supernova::tools

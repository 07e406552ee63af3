// supernova plan --topology T.json --workload W.json [--objective latency,energy,...]
//                [--constraint 'latency<=120ms' ...] [--method auto|exact|nsga2]
//                [--updates U.jsonl] [--json]
//
// Places the stages of the workload's pipelines on the topology's devices: prints the Pareto
// front of feasible plans, the plan chosen (lexicographically in the --objective order) and
// why; with --updates, the plan after each measured change (docs/placement.md).
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "collab/placement_explain.h"
#include "collab/placement_replan.h"
#include "supernova/commands.h"

namespace supernova::tools {
namespace {

using namespace collab;  // NOLINT: this file is the collab layer's command
using ordered_json = nlohmann::ordered_json;

struct PlanArgs {
  std::string topology, workload;
  std::string objective = "latency,energy,bandwidth,cost";
  std::vector<std::string> constraints;
  std::string method = "auto";
  double exact_limit = 200000;
  int population = 100, generations = 150, patience = 50, max_generations = 1000;
  uint64_t seed = 1;
  double margin = 0.1;
  std::string updates;
  bool json = false;
};

const char* kJsonKeys[kObjectiveCount] = {"latency_ms", "energy_w", "bandwidth_mbit_s",
                                          "cost_per_hour"};

ordered_json PlanJson(const PlacementProblem& p, const std::vector<int>& plan,
                      const Evaluation& e) {
  ordered_json j;
  ordered_json where = ordered_json::object();
  for (int i = 0; i < p.stage_count(); ++i)
    where[p.StageName(i)] = p.topology().devices[plan[i]].name;
  j["placement"] = where;
  for (int k = 0; k < kObjectiveCount; ++k)
    j[kJsonKeys[k]] = std::isfinite(e.objectives[k]) ? ordered_json(e.objectives[k]) : nullptr;
  ordered_json pipes = ordered_json::object();
  for (size_t i = 0; i < e.pipeline_ms.size(); ++i)
    pipes[p.workload().pipelines[i].name] =
        std::isfinite(e.pipeline_ms[i]) ? ordered_json(e.pipeline_ms[i]) : nullptr;
  j["pipeline_ms"] = pipes;
  j["feasible"] = e.feasible;
  if (!e.feasible) j["why_infeasible"] = e.why_infeasible;
  return j;
}

std::string Header(const PlacementProblem& p, const SearchResult& r) {
  return fmt::format(
      "placement: {} devices, {} links, {} pipelines, {} stages: {:.0f} plans, {} search "
      "({} evaluated)",
      p.topology().devices.size(), p.topology().links.size(), p.workload().pipelines.size(),
      p.stage_count(), r.plan_count, SearchMethodName(r.method), r.evaluated);
}

void PrintFront(const PlacementProblem& p, const SearchResult& r) {
  fmt::print("Pareto front: {} feasible plan{}\n", r.front.size(), r.front.size() == 1 ? "" : "s");
  fmt::print("{:>4}  {:>10}  {:>9}  {:>10}  {:>7}  {}\n", "#", "latency ms", "energy W",
             "bw Mbit/s", "cost/h", "placement");
  for (size_t i = 0; i < r.front.size(); ++i) {
    const auto& o = r.front[i].eval.objectives;
    fmt::print("{:>3}{}  {:>10.2f}  {:>9.2f}  {:>10.3f}  {:>7.2f}  {}\n", i + 1,
               static_cast<int>(i) == r.chosen ? "*" : " ", o[kLatency], o[kEnergy], o[kBandwidth],
               o[kCost], p.Describe(r.front[i].plan));
  }
}

void PrintPlan(const PlacementProblem& p, const std::vector<int>& plan, const Evaluation& e,
               const std::vector<int>& order) {
  fmt::print("  {}\n  {}\n", p.Describe(plan), FormatObjectives(e, order));
  for (size_t i = 0; i < e.pipeline_ms.size(); ++i) {
    const Pipeline& pipe = p.workload().pipelines[i];
    fmt::print("  pipeline {}: {:.2f} ms{}\n", pipe.name, e.pipeline_ms[i],
               pipe.slo_ms > 0 ? fmt::format(" (SLO {:g} ms)", pipe.slo_ms) : "");
  }
  if (!e.feasible) fmt::print("  infeasible: {}\n", e.why_infeasible);
}

Status Plan(const PlanArgs& args, bool* found) {
  SN_ASSIGN_OR_RETURN(Topology topo, LoadTopology(args.topology));
  SN_ASSIGN_OR_RETURN(Workload work, LoadWorkload(args.workload, topo));
  std::vector<Constraint> constraints;
  for (const std::string& text : args.constraints) {
    SN_ASSIGN_OR_RETURN(Constraint c, ParseConstraint(text));
    constraints.push_back(c);
  }
  ReplanOptions options;
  SN_ASSIGN_OR_RETURN(options.search.method, ParseSearchMethod(args.method));
  SN_ASSIGN_OR_RETURN(options.search.order, ParseObjectiveOrder(args.objective));
  options.search.exact_limit = args.exact_limit;
  options.search.nsga.population = args.population;
  options.search.nsga.generations = args.generations;
  options.search.nsga.patience = args.patience;
  options.search.nsga.max_generations = args.max_generations;
  options.search.nsga.seed = args.seed;
  options.margin = args.margin;
  SN_ASSIGN_OR_RETURN(PlacementProblem problem,
                      PlacementProblem::Create(std::move(topo), std::move(work), constraints));
  if (options.search.method == SearchMethod::kExact && problem.PlanCount() > 1e8)
    return Status::InvalidArgument(fmt::format(
        "{:.3g} plans are too many to enumerate; use --method nsga2 or auto", problem.PlanCount()));
  // Updates are read whole before planning so that a malformed line fails before any output.
  // Names resolve against the problem as parsed; updates change figures, never names.
  std::vector<PlanUpdate> updates;
  if (!args.updates.empty()) {
    std::ifstream in(args.updates);
    if (!in) return Status::NotFound(args.updates + ": cannot open");
    int number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto u = ParsePlanUpdate(line, problem);
      if (!u.ok()) return u.status().WithContext(fmt::format("{}:{}", args.updates, number));
      updates.push_back(*u);
    }
  }

  Replanner replanner(problem, options);
  std::vector<ReplanStep> steps;
  steps.push_back(replanner.Start());
  const SearchResult first_result = steps[0].result;
  const Explanation why = ExplainChoice(problem, options.search, first_result);
  for (const PlanUpdate& u : updates) {
    auto step = replanner.Apply(u);
    if (!step.ok()) return step.status().WithContext("update '" + u.text + "'");
    steps.push_back(std::move(step).value());
  }
  *found = first_result.chosen >= 0;

  if (args.json) {
    ordered_json j;
    j["method"] = SearchMethodName(first_result.method);
    // Exact while it fits a double's integers, which is as far as anyone will enumerate.
    if (first_result.plan_count < 9e15)
      j["plans"] = static_cast<uint64_t>(first_result.plan_count);
    else
      j["plans"] = first_result.plan_count;
    j["evaluated"] = first_result.evaluated;
    j["objectives"] = ordered_json::array();
    for (int k : options.search.order) j["objectives"].push_back(ObjectiveName(k));
    j["constraints"] = args.constraints;
    j["front"] = ordered_json::array();
    for (const PlanPoint& pp : first_result.front)
      j["front"].push_back(PlanJson(problem, pp.plan, pp.eval));
    j["chosen"] = first_result.chosen >= 0 ? ordered_json(first_result.chosen) : nullptr;
    if (first_result.least_infeasible)
      j["closest"] = PlanJson(problem, first_result.least_infeasible->plan,
                              first_result.least_infeasible->eval);
    j["binding"] = ordered_json::array();
    for (const ConstraintStanding& c : why.constraints)
      if (c.binds) j["binding"].push_back(c.name);
    j["reasons"] = why.lines;
    j["updates"] = ordered_json::array();
    for (size_t i = 1; i < steps.size(); ++i) {
      ordered_json s;
      s["change"] = ordered_json::parse(steps[i].change);
      s["switched"] = steps[i].switched;
      s["reason"] = steps[i].reason;
      s["plan"] = steps[i].plan.empty()
                      ? ordered_json(nullptr)
                      : PlanJson(replanner.problem(), steps[i].plan, steps[i].eval);
      j["updates"].push_back(s);
    }
    fmt::print("{}\n", j.dump(2));
    return Status::Ok();
  }

  fmt::print("{}\n", Header(problem, first_result));
  PrintFront(problem, first_result);
  if (first_result.chosen >= 0) {
    fmt::print("chosen: plan {}\n", first_result.chosen + 1);
    const PlanPoint& c = first_result.front[first_result.chosen];
    PrintPlan(problem, c.plan, c.eval, options.search.order);
  }
  fmt::print("why:\n");
  for (const std::string& line : why.lines) fmt::print("  - {}\n", line);
  for (size_t i = 1; i < steps.size(); ++i) {
    const ReplanStep& s = steps[i];
    fmt::print("update {}: {}\n  {}: {}\n", i, s.change, s.switched ? "switched" : "kept",
               s.reason);
    if (!s.plan.empty()) PrintPlan(replanner.problem(), s.plan, s.eval, options.search.order);
  }
  return Status::Ok();
}

}  // namespace

void AddPlanCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<PlanArgs>();
  auto* cmd = app.add_subcommand(
      "plan",
      "Place pipelines of models across end, edge and cloud devices: the Pareto front over "
      "latency, energy, bandwidth and cost, and the plan chosen under constraints");
  cmd->add_option("--topology", args->topology, "devices and links (JSON)")->required();
  cmd->add_option("--workload", args->workload, "pipelines of stages (JSON)")->required();
  cmd->add_option("--objective", args->objective,
                  "objectives compared, in order of precedence: the chosen plan has the lowest "
                  "first one, ties (within 1%) broken by the next (default "
                  "latency,energy,bandwidth,cost)");
  cmd->add_option("--constraint", args->constraints,
                  "an upper bound: latency<=120ms, energy<=15W, bandwidth<=20Mbit/s, cost<=2/h "
                  "(repeatable)");
  cmd->add_option("--method", args->method,
                  "auto (exact up to --exact-limit plans, NSGA-II beyond), exact, nsga2");
  cmd->add_option("--exact-limit", args->exact_limit, "most plans auto enumerates (200000)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--population", args->population, "NSGA-II population (100)")
      ->check(CLI::Range(2, 100000));
  cmd->add_option("--generations", args->generations, "NSGA-II generations (150)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--patience", args->patience,
                  "NSGA-II: beyond --generations, go on while a generation within the last "
                  "this many found a new front point (50)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--max-generations", args->max_generations, "NSGA-II: at most (1000)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--seed", args->seed, "NSGA-II seed (1): the same seed, the same plans");
  cmd->add_option("--margin", args->margin,
                  "re-planning hysteresis: share by which another plan must be better (0.1)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--updates", args->updates,
                  "JSON lines of measured changes; the plan is printed after each");
  cmd->add_flag("--json", args->json, "print the result as JSON");
  cmd->final_callback([args, exit_code] {
    bool found = false;
    const Status s = Plan(*args, &found);
    if (!s.ok()) {
      *exit_code = Fail(s.message());
    } else if (!found) {
      *exit_code = Fail("no feasible plan (see why above)");
    } else {
      *exit_code = 0;
    }
  });
}

}  // namespace supernova::tools

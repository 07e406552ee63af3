#include "collab/placement_replan.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace supernova::collab {

namespace {

using json = nlohmann::json;

Status Bad(const std::string& line, const std::string& why) {
  return Status::InvalidArgument(fmt::format("update '{}': {}", line, why));
}

// A number field of the update, if present, at least `min` (above it when `exclusive`).
Result<std::optional<double>> Figure(const json& j, const char* key, double min, bool exclusive,
                                     const std::string& line) {
  if (!j.contains(key)) return std::optional<double>();
  const json& v = j.at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    return Bad(line, fmt::format("{} must be a number", key));
  const double x = v.get<double>();
  if (exclusive ? x <= min : x < min)
    return Bad(line, fmt::format("{} must be {} {:g}", key, exclusive ? "above" : "at least", min));
  return std::optional<double>(x);
}

Status OnlyKeys(const json& j, std::initializer_list<const char*> keys, const std::string& line) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known |= it.key() == k;
    if (!known) return Bad(line, fmt::format("unknown field '{}'", it.key()));
  }
  return Status::Ok();
}

}  // namespace

Result<PlanUpdate> ParsePlanUpdate(const std::string& line, const PlacementProblem& problem) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::parse_error&) {
    return Bad(line, "not a JSON object");
  }
  if (!j.is_object()) return Bad(line, "not a JSON object");
  PlanUpdate u;
  u.text = line;
  const Topology& topo = problem.topology();
  if (j.contains("link")) {
    SN_RETURN_IF_ERROR(OnlyKeys(j, {"link", "bandwidth_mbit", "rtt_ms", "loss"}, line));
    const json& ends = j.at("link");
    if (!ends.is_array() || ends.size() != 2 || !ends[0].is_string() || !ends[1].is_string())
      return Bad(line, "link must name its two devices: [\"edge\", \"cloud\"]");
    const int a = topo.FindDevice(ends[0].get<std::string>());
    const int b = topo.FindDevice(ends[1].get<std::string>());
    if (a < 0 || b < 0)
      return Bad(line, fmt::format("no device named '{}'", ends[a < 0 ? 0 : 1].get<std::string>()));
    u.target = PlanUpdate::Target::kLink;
    u.index = topo.FindLink(a, b);
    if (u.index < 0) return Bad(line, "no link joins those devices");
    SN_ASSIGN_OR_RETURN(u.bandwidth_mbit, Figure(j, "bandwidth_mbit", 0, true, line));
    SN_ASSIGN_OR_RETURN(u.rtt_ms, Figure(j, "rtt_ms", 0, false, line));
    SN_ASSIGN_OR_RETURN(u.loss, Figure(j, "loss", 0, false, line));
    if (u.loss && *u.loss >= 1) return Bad(line, "loss must be below 1");
    if (!u.bandwidth_mbit && !u.rtt_ms && !u.loss)
      return Bad(line, "changes nothing (give bandwidth_mbit, rtt_ms or loss)");
  } else if (j.contains("device")) {
    SN_RETURN_IF_ERROR(OnlyKeys(j, {"device", "load", "speed", "ms"}, line));
    if (!j.at("device").is_string()) return Bad(line, "device must be a name");
    u.target = PlanUpdate::Target::kDevice;
    u.index = topo.FindDevice(j.at("device").get<std::string>());
    if (u.index < 0)
      return Bad(line, fmt::format("no device named '{}'", j.at("device").get<std::string>()));
    SN_ASSIGN_OR_RETURN(u.load, Figure(j, "load", 0, false, line));
    if (u.load && *u.load >= 1) return Bad(line, "load must be below 1");
    SN_ASSIGN_OR_RETURN(u.speed, Figure(j, "speed", 0, false, line));
    if (j.contains("ms")) {
      if (!j.at("ms").is_object()) return Bad(line, "ms must be an object {model: ms}");
      for (auto it = j.at("ms").begin(); it != j.at("ms").end(); ++it) {
        if (!problem.RunsModel(it.key()))
          return Bad(line, fmt::format("no stage runs model '{}'", it.key()));
        SN_ASSIGN_OR_RETURN(std::optional<double> ms,
                            Figure(j.at("ms"), it.key().c_str(), 0, true, line));
        u.ms[it.key()] = *ms;
      }
    }
    if (!u.load && !u.speed && u.ms.empty())
      return Bad(line, "changes nothing (give load, speed or ms)");
  } else if (j.contains("pipeline")) {
    SN_RETURN_IF_ERROR(OnlyKeys(j, {"pipeline", "rate"}, line));
    if (!j.at("pipeline").is_string()) return Bad(line, "pipeline must be a name");
    const std::string name = j.at("pipeline").get<std::string>();
    u.target = PlanUpdate::Target::kPipeline;
    u.index = -1;
    for (size_t i = 0; i < problem.workload().pipelines.size(); ++i)
      if (problem.workload().pipelines[i].name == name) u.index = static_cast<int>(i);
    if (u.index < 0) return Bad(line, fmt::format("no pipeline named '{}'", name));
    SN_ASSIGN_OR_RETURN(u.rate, Figure(j, "rate", 0, true, line));
    if (!u.rate) return Bad(line, "changes nothing (give rate)");
  } else {
    return Bad(line, "names no link, device or pipeline");
  }
  return u;
}

ReplanStep Replanner::Start() { return Replan(""); }

Result<ReplanStep> Replanner::Apply(const PlanUpdate& u) {
  switch (u.target) {
    case PlanUpdate::Target::kLink: {
      Link l = problem_.topology().links[u.index].link;
      if (u.bandwidth_mbit) l.bandwidth_mbit = *u.bandwidth_mbit;
      if (u.rtt_ms) l.rtt_ms = *u.rtt_ms;
      if (u.loss) l.loss = *u.loss;
      problem_.SetLink(u.index, l);
      break;
    }
    case PlanUpdate::Target::kDevice:
      if (u.speed) SN_RETURN_IF_ERROR(problem_.SetDeviceSpeed(u.index, *u.speed));
      for (const auto& [model, ms] : u.ms)
        SN_RETURN_IF_ERROR(problem_.SetDeviceModelMs(u.index, model, ms));
      if (u.load) problem_.SetDeviceLoad(u.index, *u.load);
      break;
    case PlanUpdate::Target::kPipeline:
      problem_.SetPipelineRate(u.index, *u.rate);
      break;
  }
  return Replan(u.text);
}

ReplanStep Replanner::Replan(std::string change) {
  ReplanStep step;
  step.change = std::move(change);
  step.result = SearchPlacement(problem_, options_.search);
  const std::vector<int>& order = options_.search.order;
  const PlanPoint* best =
      step.result.chosen >= 0 ? &step.result.front[step.result.chosen] : nullptr;
  auto take = [&](const std::string& why) {
    current_ = best->plan;
    step.switched = true;
    step.reason = why;
  };
  if (current_.empty()) {
    if (best)
      take("first plan");
    else
      step.reason = "no feasible plan";
  } else {
    const Evaluation now = problem_.Evaluate(current_);
    if (!now.feasible) {
      const std::optional<PlanPoint>& closest = step.result.least_infeasible;
      if (best) {
        take("the current plan is no longer feasible: " + now.why_infeasible);
      } else if (closest && closest->eval.violation < now.violation) {
        // Nothing meets every constraint: the plan that misses them least beats one that
        // misses them more (an overloaded device drops items; a missed SLO only delays them).
        current_ = closest->plan;
        step.switched = true;
        step.reason =
            "no feasible plan; moved to the closest (" + closest->eval.why_infeasible + ")";
      } else {
        step.reason = "no feasible plan; keeping the current one (" + now.why_infeasible + ")";
      }
    } else if (!best || best->plan == current_) {
      step.reason = "the current plan is still the best";
    } else {
      step.reason =
          fmt::format("kept: no plan is better by the {:g}% margin", options_.margin * 100);
      for (int k : order) {
        const double c = now.objectives[k], n = best->eval.objectives[k];
        if (n < c * (1 - options_.margin)) {
          take(fmt::format("{} improves by {:.0f}% (margin {:g}%)", ObjectiveName(k),
                           (c - n) / c * 100, options_.margin * 100));
          break;
        }
        if (std::fabs(n - c) > options_.search.tie * std::fabs(c)) {
          step.reason =
              fmt::format("kept: the best plan's {} gain of {:.1f}% is within the {:g}% margin",
                          ObjectiveName(k), (c - n) / c * 100, options_.margin * 100);
          break;
        }
      }
    }
  }
  step.plan = current_;
  if (!current_.empty()) step.eval = problem_.Evaluate(current_);
  return step;
}

}  // namespace supernova::collab

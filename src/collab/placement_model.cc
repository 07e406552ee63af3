#include "collab/placement_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace supernova::collab {

namespace {

constexpr const char* kNames[kObjectiveCount] = {"latency", "energy", "bandwidth", "cost"};
constexpr const char* kUnits[kObjectiveCount] = {"ms", "W", "Mbit/s", "/h"};

// An overload outweighs any excess over an SLO or a constraint, so a search that meets one
// leaves it before anything else.
constexpr double kOverloadWeight = 1000;

struct Unit {
  const char* suffix;
  double scale;  // to the objective's unit
};

}  // namespace

const char* ObjectiveName(int objective) { return kNames[objective]; }
const char* ObjectiveUnit(int objective) { return kUnits[objective]; }

int FindObjective(const std::string& name) {
  for (int i = 0; i < kObjectiveCount; ++i)
    if (name == kNames[i]) return i;
  return -1;
}

Result<Constraint> ParseConstraint(const std::string& text) {
  const size_t op = text.find("<=");
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(fmt::format(
        "constraint '{}': {} (write as latency<=120ms, energy<=15W, bandwidth<=20Mbit/s or "
        "cost<=2/h)",
        text, why));
  };
  if (op == std::string::npos) return bad("no '<='");
  Constraint c;
  c.text = text;
  c.objective = FindObjective(text.substr(0, op));
  if (c.objective < 0)
    return bad(fmt::format("'{}' is not latency, energy, bandwidth or cost", text.substr(0, op)));
  const std::string value = text.substr(op + 2);
  char* end = nullptr;
  errno = 0;
  const double number = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || errno != 0 || !std::isfinite(number) || number < 0)
    return bad(fmt::format("'{}' is not a non-negative number", value));
  const std::string unit(end);
  static const std::vector<Unit> kAccepted[kObjectiveCount] = {
      {{"ms", 1}, {"s", 1000}},
      {{"W", 1}, {"mW", 1e-3}},
      {{"Mbit/s", 1}, {"bit/s", 1e-6}, {"kbit/s", 1e-3}, {"Gbit/s", 1e3}},
      {{"/h", 1}, {"", 1}}};
  for (const Unit& u : kAccepted[c.objective])
    if (unit == u.suffix) {
      c.limit = number * u.scale;
      return c;
    }
  return bad(fmt::format("unit '{}' is not one {} takes", unit, kNames[c.objective]));
}

Result<PlacementProblem> PlacementProblem::Create(Topology topology, Workload workload,
                                                  std::vector<Constraint> constraints) {
  PlacementProblem p;
  p.topology_ = std::move(topology);
  p.workload_ = std::move(workload);
  p.constraints_ = std::move(constraints);
  // A measured time for a model no stage runs is most likely a misspelt name, which would
  // otherwise leave the device on its speed factor without a word.
  for (const Device& d : p.topology_.devices)
    for (const auto& [model, ms] : d.ms)
      if (!p.RunsModel(model))
        return Status::InvalidArgument(
            fmt::format("device '{}' lists ms for model '{}', which no stage of the workload runs",
                        d.name, model));
  p.PrepareRoutes();
  SN_RETURN_IF_ERROR(p.PrepareStages());
  return p;
}

bool PlacementProblem::RunsModel(const std::string& model) const {
  for (const Pipeline& pipe : workload_.pipelines)
    for (const Stage& st : pipe.stages)
      if (st.model == model) return true;
  return false;
}

void PlacementProblem::PrepareRoutes() {
  const size_t n = topology_.devices.size();
  routes_.assign(n * n, {});
  for (size_t from = 0; from < n; ++from)
    for (size_t to = 0; to < n; ++to) {
      bool ok = false;
      int at = static_cast<int>(from);  // the end the item is at before each hop
      for (int l : topology_.Route(static_cast<int>(from), static_cast<int>(to), &ok)) {
        const NetLink& link = topology_.links[l];
        routes_[from * n + to].push_back({l, link.a == at ? 0 : 1});
        at = link.a == at ? link.b : link.a;
      }
    }
}

Status PlacementProblem::PrepareStages() {
  const size_t n = topology_.devices.size();
  stages_.clear();
  for (size_t pi = 0; pi < workload_.pipelines.size(); ++pi) {
    const Pipeline& pipe = workload_.pipelines[pi];
    for (size_t si = 0; si < pipe.stages.size(); ++si) {
      const Stage& st = pipe.stages[si];
      FlatStage flat;
      flat.pipeline = static_cast<int>(pi);
      flat.index = static_cast<int>(si);
      flat.service.assign(n, -1);
      for (size_t d = 0; d < n; ++d) {
        const Device& dev = topology_.devices[d];
        auto measured = dev.ms.find(st.model);
        if (measured != dev.ms.end()) {
          flat.service[d] = measured->second;
        } else if (dev.speed > 0) {
          flat.service[d] = st.ref_ms / dev.speed;
        }
        if (flat.service[d] >= 0) flat.choices.push_back(static_cast<int>(d));
      }
      if (flat.choices.empty())
        return Status::InvalidArgument(
            fmt::format("stage '{}/{}': no device can run model '{}' (none has a speed factor or a "
                        "measured time for it)",
                        pipe.name, st.name, st.model));
      stages_.push_back(std::move(flat));
    }
  }
  return Status::Ok();
}

double PlacementProblem::PlanCount() const {
  double count = 1;
  for (const FlatStage& s : stages_) count *= static_cast<double>(s.choices.size());
  return count;
}

std::string PlacementProblem::StageName(int stage) const {
  const FlatStage& s = stages_[stage];
  const Pipeline& p = workload_.pipelines[s.pipeline];
  return p.name + "/" + p.stages[s.index].name;
}

std::string PlacementProblem::Describe(const std::vector<int>& plan) const {
  std::string out;
  for (size_t i = 0; i < stages_.size(); ++i) {
    const FlatStage& s = stages_[i];
    if (i > 0) out += s.index == 0 ? "; " : " ";
    out += workload_.pipelines[s.pipeline].stages[s.index].name + "@" +
           topology_.devices[plan[i]].name;
  }
  return out;
}

Evaluation PlacementProblem::Evaluate(const std::vector<int>& plan) const {
  const size_t n = topology_.devices.size();
  Evaluation e;
  e.runnable = true;
  // `why` formats only the first failure: enumeration meets millions of infeasible plans.
  auto fail = [&](double amount, auto why) {
    e.violation += amount;
    if (e.why_infeasible.empty()) e.why_infeasible = why();
  };

  // Loads: device work and the bits each link direction carries; which devices are used.
  std::vector<double> work(n, 0);
  std::vector<bool> used(n, false);
  std::vector<double> link_bits(topology_.links.size() * 2, 0);
  // Every transfer the plan makes: (pipeline, from, to, bytes).
  struct Transfer {
    int pipeline, from, to;
    double bytes;
  };
  std::vector<Transfer> transfers;
  for (size_t i = 0; i < stages_.size(); ++i) {
    const FlatStage& s = stages_[i];
    const Pipeline& pipe = workload_.pipelines[s.pipeline];
    const Stage& st = pipe.stages[s.index];
    const int d = plan[i];
    if (s.service[d] < 0) {
      // A plan made before a device's figures changed may name one that cannot run it now.
      e.runnable = false;
      fail(kOverloadWeight,
           [&] { return fmt::format("{} cannot run {}", topology_.devices[d].name, st.model); });
      continue;
    }
    work[d] += pipe.rate * s.service[d] / 1000;
    used[d] = used[pipe.source] = used[pipe.sink] = true;
    const int from = s.index == 0 ? pipe.source : plan[i - 1];
    transfers.push_back({s.pipeline, from, d, st.input_bytes});
    if (s.index + 1 == static_cast<int>(pipe.stages.size()))
      transfers.push_back({s.pipeline, d, pipe.sink, st.output_bytes});
  }
  for (const Transfer& t : transfers) {
    if (t.from == t.to) continue;
    const std::vector<Hop>& path = Path(t.from, t.to);
    if (path.empty()) {
      e.runnable = false;
      fail(kOverloadWeight, [&] {
        return fmt::format("no route from {} to {}", topology_.devices[t.from].name,
                           topology_.devices[t.to].name);
      });
      continue;
    }
    for (const Hop& h : path)
      link_bits[h.link * 2 + h.direction] += workload_.pipelines[t.pipeline].rate * t.bytes * 8;
  }

  e.device_utilization.assign(n, 0);
  double energy = 0, cost = 0;
  for (size_t d = 0; d < n; ++d) {
    const Device& dev = topology_.devices[d];
    const double rho = dev.load + work[d] / dev.capacity;
    e.device_utilization[d] = rho;
    if (rho >= 1) {
      e.runnable = false;
      fail(kOverloadWeight * rho, [&] {
        return fmt::format("{} loaded to {:.0f}% of its capacity", dev.name, rho * 100);
      });
    }
    if (!used[d]) continue;
    energy += dev.idle_w + (dev.active_w - dev.idle_w) * std::min(1.0, work[d] / dev.capacity);
    cost += dev.cost_per_hour;
  }
  double bandwidth_bits = 0;
  std::vector<double> link_rho(link_bits.size(), 0);
  for (size_t k = 0; k < link_bits.size(); ++k) {
    const NetLink& l = topology_.links[k / 2];
    bandwidth_bits += link_bits[k];
    energy += link_bits[k] * l.energy_nj_per_bit * 1e-9;
    link_rho[k] = link_bits[k] / (l.link.bandwidth_mbit * 1e6);
    if (link_rho[k] >= 1) {
      e.runnable = false;
      const int from = k % 2 == 0 ? l.a : l.b, to = k % 2 == 0 ? l.b : l.a;
      fail(kOverloadWeight * link_rho[k], [&] {
        return fmt::format("link {} -> {} loaded to {:.0f}% of its bandwidth",
                           topology_.devices[from].name, topology_.devices[to].name,
                           link_rho[k] * 100);
      });
    }
  }

  // Latency per pipeline, only meaningful when nothing is overloaded.
  e.pipeline_ms.assign(workload_.pipelines.size(), e.runnable ? 0 : HUGE_VAL);
  if (e.runnable) {
    for (size_t i = 0; i < stages_.size(); ++i) {
      const FlatStage& s = stages_[i];
      const int d = plan[i];
      const Device& dev = topology_.devices[d];
      const double rho = e.device_utilization[d];
      e.pipeline_ms[s.pipeline] += s.service[d] * (1 + rho / (dev.capacity * (1 - rho)));
    }
    for (const Transfer& t : transfers) {
      if (t.from == t.to) continue;
      for (const Hop& h : Path(t.from, t.to)) {
        const Link& link = topology_.links[h.link].link;
        const double serial_ms = t.bytes * 8 / (link.bandwidth_mbit * 1e3) / (1 - link.loss);
        e.pipeline_ms[t.pipeline] +=
            link.rtt_ms / 2 + serial_ms / (1 - link_rho[h.link * 2 + h.direction]);
      }
    }
  }
  e.objectives = {
      e.runnable ? *std::max_element(e.pipeline_ms.begin(), e.pipeline_ms.end()) : HUGE_VAL, energy,
      bandwidth_bits / 1e6, cost};
  if (e.runnable) {
    for (size_t p = 0; p < workload_.pipelines.size(); ++p) {
      const Pipeline& pipe = workload_.pipelines[p];
      if (pipe.slo_ms > 0 && e.pipeline_ms[p] > pipe.slo_ms)
        fail((e.pipeline_ms[p] - pipe.slo_ms) / pipe.slo_ms, [&] {
          return fmt::format("pipeline {} takes {:.1f} ms, over its SLO of {:g} ms", pipe.name,
                             e.pipeline_ms[p], pipe.slo_ms);
        });
    }
    for (const Constraint& c : constraints_) {
      const double v = e.objectives[c.objective];
      if (v > c.limit)
        fail(c.limit > 0 ? (v - c.limit) / c.limit : v, [&] {
          return fmt::format("{} is {:.4g} {}, over {}", kNames[c.objective], v,
                             kUnits[c.objective], c.text);
        });
    }
  }
  e.feasible = e.runnable && e.violation == 0;
  return e;
}

void PlacementProblem::SetLink(int link, const Link& figures) {
  topology_.links[link].link = figures;
  PrepareRoutes();  // routes prefer the lower RTT among equally short ones
}

void PlacementProblem::SetDeviceLoad(int device, double load) {
  topology_.devices[device].load = load;
}

Status PlacementProblem::SetDeviceSpeed(int device, double speed) {
  const Device before = topology_.devices[device];
  topology_.devices[device].speed = speed;
  Status s = PrepareStages();
  if (!s.ok()) {  // leave the problem as it was
    topology_.devices[device] = before;
    (void)PrepareStages();
  }
  return s;
}

Status PlacementProblem::SetDeviceModelMs(int device, const std::string& model, double ms) {
  topology_.devices[device].ms[model] = ms;
  return PrepareStages();  // adding a measured time only adds choices: it cannot fail
}

void PlacementProblem::SetPipelineRate(int pipeline, double rate) {
  workload_.pipelines[pipeline].rate = rate;
}

}  // namespace supernova::collab

// `supernova plan` run as a user would on examples/placement: the JSON it prints agrees with the
// model evaluated here, the front is non-dominated and respects the constraints, updates
// re-plan; every bad input is exit 1 with one error line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include "collab/placement_model.h"
#include "collab/placement_search.h"
#include "tools/cli_util.h"

namespace supernova::collab {
namespace {

namespace fs = std::filesystem;

const std::string kPlacementExamples = std::string(SUPERNOVA_EXAMPLES_DIR) + "/placement/";
const std::string kPlacementFiles = "--topology " + kPlacementExamples +
                                    "topology.json --workload " + kPlacementExamples +
                                    "workload.json";

nlohmann::json PlanCliJson(const std::string& args, int expect_code = 0) {
  const testing::CliOutput o =
      testing::Cli("plan " + kPlacementFiles + " --json " + args, "/dev/null");
  EXPECT_EQ(o.code, expect_code) << o.text;
  return nlohmann::json::parse(o.text, nullptr, false);
}

PlacementProblem ExamplePlacement(std::vector<Constraint> constraints = {}) {
  auto topo = LoadTopology(kPlacementExamples + "topology.json");
  EXPECT_TRUE(topo.ok()) << topo.status().ToString();
  auto work = LoadWorkload(kPlacementExamples + "workload.json", *topo);
  EXPECT_TRUE(work.ok()) << work.status().ToString();
  auto p = PlacementProblem::Create(*topo, *work, std::move(constraints));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return std::move(p).value();
}

// The plan of a JSON front entry as device indices, stage by stage.
std::vector<int> PlanOfEntry(const PlacementProblem& p, const nlohmann::json& entry) {
  std::vector<int> plan;
  for (int i = 0; i < p.stage_count(); ++i)
    plan.push_back(p.topology().FindDevice(entry["placement"][p.StageName(i)].get<std::string>()));
  return plan;
}

TEST(PlacementCli, FrontAgreesWithTheModelAndIsNonDominated) {
  const nlohmann::json j = PlanCliJson("");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["method"], "exact");
  EXPECT_EQ(j["plans"], 256);  // 4 devices, 4 stages
  const PlacementProblem p = ExamplePlacement();
  std::vector<Point> points;
  for (const nlohmann::json& entry : j["front"]) {
    const Evaluation e = p.Evaluate(PlanOfEntry(p, entry));
    EXPECT_TRUE(e.feasible);
    EXPECT_DOUBLE_EQ(entry["latency_ms"].get<double>(), e.objectives[kLatency]);
    EXPECT_DOUBLE_EQ(entry["energy_w"].get<double>(), e.objectives[kEnergy]);
    EXPECT_DOUBLE_EQ(entry["bandwidth_mbit_s"].get<double>(), e.objectives[kBandwidth]);
    EXPECT_DOUBLE_EQ(entry["cost_per_hour"].get<double>(), e.objectives[kCost]);
    points.push_back({e.objectives[0], e.objectives[1], e.objectives[2], e.objectives[3]});
  }
  ASSERT_GE(points.size(), 2u);
  for (const Point& a : points)
    for (const Point& b : points) EXPECT_FALSE(Dominates(a, b));
  // Latency first: the chosen plan has the lowest latency of the front.
  const size_t chosen = j["chosen"].get<size_t>();
  for (const Point& a : points) EXPECT_LE(points[chosen][0], a[0]);
}

TEST(PlacementCli, ObjectiveOrderChoosesAndBoundsTheFront) {
  const nlohmann::json j = PlanCliJson("--objective cost,latency");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["objectives"], nlohmann::json::array({"cost", "latency"}));
  std::vector<Point> points;
  for (const nlohmann::json& e : j["front"])
    points.push_back({e["cost_per_hour"].get<double>(), e["latency_ms"].get<double>()});
  ASSERT_FALSE(points.empty());
  // Non-dominated in cost and latency alone, and the choice is the cheapest.
  for (const Point& a : points)
    for (const Point& b : points) EXPECT_FALSE(Dominates(a, b));
  const Point& chosen = points[j["chosen"].get<size_t>()];
  for (const Point& a : points) EXPECT_LE(chosen[0], a[0]);
}

TEST(PlacementCli, ConstraintsBoundTheFrontAndTheOneThatBindsIsNamed) {
  const nlohmann::json j = PlanCliJson("--constraint 'energy<=135W' --constraint 'cost<=1/h'");
  ASSERT_TRUE(j.is_object());
  ASSERT_FALSE(j["front"].empty());
  for (const nlohmann::json& entry : j["front"]) {
    EXPECT_LE(entry["energy_w"].get<double>(), 135);
    EXPECT_LE(entry["cost_per_hour"].get<double>(), 1);
  }
  EXPECT_EQ(j["binding"], nlohmann::json::array({"energy<=135W"}));
  // The same choice with --method nsga2 (256 plans: NSGA-II sees them all).
  const nlohmann::json n = PlanCliJson(
      "--constraint 'energy<=135W' --constraint 'cost<=1/h' "
      "--method nsga2");
  EXPECT_EQ(n["method"], "nsga2");
  EXPECT_EQ(n["front"][n["chosen"].get<size_t>()]["placement"],
            j["front"][j["chosen"].get<size_t>()]["placement"]);
}

TEST(PlacementCli, UpdatesReplanAfterEachChange) {
  const nlohmann::json j = PlanCliJson("--updates " + kPlacementExamples + "updates.jsonl");
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j["updates"].size(), 4u);
  // A 10% slower WAN keeps the plan; a loaded edge box moves a stage; a WAN too slow for the
  // archive's frames makes the plan infeasible and moves it at once.
  EXPECT_FALSE(j["updates"][0]["switched"].get<bool>());
  EXPECT_TRUE(j["updates"][1]["switched"].get<bool>());
  EXPECT_TRUE(j["updates"][2]["switched"].get<bool>());
  EXPECT_NE(j["updates"][2]["reason"].get<std::string>().find("no longer feasible"),
            std::string::npos);
  for (const nlohmann::json& u : j["updates"]) EXPECT_TRUE(u["plan"]["feasible"].get<bool>());
}

TEST(PlacementCli, TextOutputShowsFrontChoiceAndReasons) {
  const testing::CliOutput o =
      testing::Cli("plan " + kPlacementFiles + " --constraint 'energy<=135W'");
  EXPECT_EQ(o.code, 0) << o.text;
  for (const char* part : {"Pareto front: ", "chosen: plan 1", "why:", "energy<=135W binds"})
    EXPECT_NE(o.text.find(part), std::string::npos) << part << "\n" << o.text;
}

std::string WritePlanTemp(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / ("sn_plan_cli_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / name) << text;
  return (dir / name).string();
}

TEST(PlacementCli, BadInputIsOneErrorLine) {
  const std::string topo = kPlacementExamples + "topology.json",
                    work = kPlacementExamples + "workload.json";
  const std::string broken = WritePlanTemp("broken.json", "{\"devices\": [");
  const std::string stranger =
      WritePlanTemp("stranger.json", R"({"pipelines": [{"name": "p", "source": "phone", "rate": 1,
        "stages": [{"model": "m", "ref_ms": 1, "input_bytes": 1, "output_bytes": 1}]}]})");
  const std::string updates = WritePlanTemp("updates.jsonl",
                                            "{\"device\": \"edge\", \"load\": 0.2}\n"
                                            "{\"device\": \"toaster\", \"load\": 0.2}\n");
  const std::pair<std::string, std::string> cases[] = {
      {"--topology nope.json --workload " + work, "nope.json: cannot open"},
      {"--topology " + broken + " --workload " + work, "broken.json: not JSON"},
      {"--topology " + topo + " --workload " + stranger, "source: no device named 'phone'"},
      {kPlacementFiles + " --constraint 'latency<120ms'", "constraint 'latency<120ms': no '<='"},
      {kPlacementFiles + " --method random", "method 'random' is not auto, exact or nsga2"},
      {kPlacementFiles + " --objective latency,speed", "objective 'speed' is not latency"},
      {kPlacementFiles + " --updates " + updates, "updates.jsonl:2: update"},
      {kPlacementFiles + " --constraint 'latency<=10ms'", "no feasible plan"},
  };
  for (const auto& [args, expect] : cases) {
    const testing::CliOutput o = testing::Cli("plan " + args, "&1 >/dev/null");
    EXPECT_EQ(o.code, 1) << args << "\n" << o.text;
    EXPECT_EQ(o.text.rfind("supernova: error: ", 0), 0u) << o.text;
    EXPECT_NE(o.text.find(expect), std::string::npos) << expect << "\n" << o.text;
    EXPECT_EQ(o.text.find('\n'), o.text.size() - 1) << "one line:\n" << o.text;
  }
  fs::remove_all(fs::path(broken).parent_path());
}

}  // namespace
}  // namespace supernova::collab

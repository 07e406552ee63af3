// The placement model's arithmetic on a three-device example worked by hand (camera, edge box,
// cloud), its feasibility rules, and the parsing of topology, workload and constraints.
#include <gtest/gtest.h>

#include <cmath>

#include "collab/placement_model.h"
#include "collab/placement_three.h"

namespace supernova::collab {
namespace {

TEST(PlacementModel, DetectAtTheEdgeEmbedInTheCloudByHand) {
  const PlacementProblem p = Three();
  EXPECT_EQ(p.PlanCount(), 9);
  const Evaluation e = p.Evaluate({kEdge, kCloud});
  ASSERT_TRUE(e.feasible) << e.why_infeasible;
  // Edge: 20 ms per item at 10/s is rho 0.2, so M/M/1 gives 20 / 0.8 = 25 ms.
  const double detect = 25;
  // Cloud: 10 / 4 = 2.5 ms, rho = 10 * 0.0025 / 4 = 0.00625 over 4 workers.
  const double embed = 2.5 * (1 + 0.00625 / (4 * (1 - 0.00625)));
  // cam -> edge, 800,000 bits: 8 ms at 100 Mbit/s, the direction 8% busy, plus half the RTT.
  const double up1 = 1 + 8 / (1 - 0.08);
  // edge -> cloud, 160,000 bits: 8 ms at 20 Mbit/s, 8% busy, plus 20 ms.
  const double up2 = 20 + 8 / (1 - 0.08);
  // The 512-byte result back to the camera, cloud -> edge -> cam: 4,096 bits per hop.
  const double down = 20 + 0.2048 / (1 - 40960 / 20e6) + 1 + 0.04096 / (1 - 40960 / 100e6);
  EXPECT_NEAR(e.pipeline_ms[0], detect + embed + up1 + up2 + down, 1e-9);
  EXPECT_NEAR(e.objectives[kLatency], 87.1414, 1e-3);  // the same sum, once by calculator
  // Power: camera idle (it only sends), edge 10 + 20 * 0.2, cloud 100 + 100 * 0.025 / 4,
  // link bits/s (both directions) times their energy per bit.
  const double cam_edge_bits = 10 * (800000 + 4096.0), edge_cloud_bits = 10 * (160000 + 4096.0);
  EXPECT_NEAR(e.objectives[kEnergy],
              2 + 14 + 100.625 + cam_edge_bits * 50e-9 + edge_cloud_bits * 10e-9, 1e-9);
  EXPECT_NEAR(e.objectives[kBandwidth], (cam_edge_bits + edge_cloud_bits) / 1e6, 1e-12);
  EXPECT_DOUBLE_EQ(e.objectives[kCost], 3.5);
  EXPECT_NEAR(e.device_utilization[kEdge], 0.2, 1e-12);
}

TEST(PlacementModel, EverythingAtTheEdgeSendsOnlyTheFrameAndTheResult) {
  const Evaluation e = Three().Evaluate({kEdge, kEdge});
  ASSERT_TRUE(e.feasible) << e.why_infeasible;
  // Edge work 10 * (0.020 + 0.010) = 0.3: both stages wait with rho 0.3.
  const double compute = (20 + 10) / (1 - 0.3);
  const double up = 1 + 8 / (1 - 0.08);
  const double down = 1 + 0.04096 / (1 - 40960 / 100e6);
  EXPECT_NEAR(e.objectives[kLatency], compute + up + down, 1e-9);
  EXPECT_NEAR(e.objectives[kEnergy], 2 + 10 + 20 * 0.3 + 10 * (800000 + 4096.0) * 50e-9, 1e-9);
  EXPECT_DOUBLE_EQ(e.objectives[kCost], 0.5);  // the cloud is not used
}

TEST(PlacementModel, AnOverloadedDeviceOrLinkIsInfeasible) {
  const PlacementProblem p = Three();
  // The camera would need 10 * (80 + 40) ms = 1.2 s of compute per second.
  Evaluation e = p.Evaluate({kCam, kCam});
  EXPECT_FALSE(e.runnable);
  EXPECT_FALSE(e.feasible);
  EXPECT_TRUE(std::isinf(e.objectives[kLatency]));
  EXPECT_NE(e.why_infeasible.find("cam loaded to 120%"), std::string::npos) << e.why_infeasible;
  EXPECT_GE(e.violation, 1000);
  // 100 kB frames at 10/s are 8 Mbit/s; at 5 Mbit/s the edge -> cloud direction is overloaded.
  PlacementProblem slow = Three();
  slow.SetLink(1, Link{1, 40, 0});
  e = slow.Evaluate({kEdge, kCloud});  // 1.6 Mbit/s of crops over 1 Mbit/s
  EXPECT_FALSE(e.runnable);
  EXPECT_NE(e.why_infeasible.find("link edge -> cloud loaded to 160%"), std::string::npos)
      << e.why_infeasible;
}

TEST(PlacementModel, SloAndConstraintsMakeAPlanInfeasibleByTheirExcess) {
  auto c = ParseConstraint("latency<=80ms");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const Evaluation e = Three({*c}).Evaluate({kEdge, kCloud});
  EXPECT_TRUE(e.runnable);
  EXPECT_FALSE(e.feasible);
  EXPECT_NEAR(e.violation, (87.14143 - 80) / 80, 1e-5);
  EXPECT_NE(e.why_infeasible.find("over latency<=80ms"), std::string::npos) << e.why_infeasible;
  // A 60 ms SLO on the pipeline: the same plan breaks it.
  auto topo = ParseTopology(kThreeTopology, "t");
  std::string w = kThreeWorkload;
  w.replace(w.find("\"slo_ms\": 200"), 13, "\"slo_ms\": 60");
  auto work = ParseWorkload(w, "w", *topo);
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  auto p = PlacementProblem::Create(*topo, *work, {});
  ASSERT_TRUE(p.ok());
  const Evaluation s = p->Evaluate({kEdge, kCloud});
  EXPECT_FALSE(s.feasible);
  EXPECT_NE(s.why_infeasible.find("over its SLO of 60 ms"), std::string::npos);
  EXPECT_TRUE(p->Evaluate({kEdge, kEdge}).feasible);  // 58 ms
}

TEST(PlacementModel, ConstraintsInTheirUnits) {
  struct Case {
    const char* text;
    int objective;
    double limit;
  };
  for (const Case& c :
       {Case{"latency<=120ms", kLatency, 120}, Case{"latency<=0.5s", kLatency, 500},
        Case{"energy<=15W", kEnergy, 15}, Case{"energy<=500mW", kEnergy, 0.5},
        Case{"bandwidth<=20Mbit/s", kBandwidth, 20}, Case{"bandwidth<=300kbit/s", kBandwidth, 0.3},
        Case{"bandwidth<=1Gbit/s", kBandwidth, 1000}, Case{"cost<=2/h", kCost, 2},
        Case{"cost<=1.5", kCost, 1.5}}) {
    auto parsed = ParseConstraint(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->objective, c.objective) << c.text;
    EXPECT_DOUBLE_EQ(parsed->limit, c.limit) << c.text;
  }
  for (const char* bad : {"latency<120ms", "speed<=3", "latency<=fast", "latency<=120W",
                          "energy<=-1W", "latency<=", "<=5ms"}) {
    auto parsed = ParseConstraint(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find(bad), std::string::npos) << bad;
  }
}

TEST(PlacementModel, RoutesTakeTheFewestHopsThenTheLowestRtt) {
  auto topo = ParseTopology(R"({"devices": [
      {"name": "a", "tier": "end", "speed": 1, "active_w": 1, "idle_w": 0},
      {"name": "b", "tier": "edge", "speed": 1, "active_w": 1, "idle_w": 0},
      {"name": "c", "tier": "edge", "speed": 1, "active_w": 1, "idle_w": 0},
      {"name": "d", "tier": "cloud", "speed": 1, "active_w": 1, "idle_w": 0},
      {"name": "lone", "tier": "cloud", "speed": 1, "active_w": 1, "idle_w": 0}],
    "links": [
      {"from": "a", "to": "b", "bandwidth_mbit": 1, "rtt_ms": 10},
      {"from": "a", "to": "c", "bandwidth_mbit": 1, "rtt_ms": 1},
      {"from": "b", "to": "d", "bandwidth_mbit": 1, "rtt_ms": 10},
      {"from": "c", "to": "d", "bandwidth_mbit": 1, "rtt_ms": 5}]})",
                            "t");
  ASSERT_TRUE(topo.ok()) << topo.status().ToString();
  bool ok = false;
  EXPECT_EQ(topo->Route(0, 3, &ok), (std::vector<int>{1, 3}));  // a-c-d: 6 ms against 20
  EXPECT_TRUE(ok);
  EXPECT_EQ(topo->Route(3, 0, &ok), (std::vector<int>{3, 1}));
  EXPECT_TRUE(topo->Route(2, 2, &ok).empty());
  EXPECT_TRUE(ok);
  topo->Route(0, 4, &ok);
  EXPECT_FALSE(ok);
}

// Each malformed file is refused with one line that names the field.
TEST(PlacementModel, MalformedFilesAreOneClearLine) {
  struct Case {
    const char* topology;
    const char* expect;
  };
  const Case cases[] = {
      {"{", "not JSON"},
      {"[]", "must be an object"},
      {R"({"devices": []})", "'devices' must be a non-empty array"},
      {R"({"devices": [{"name": "x", "tier": "fog", "speed": 1, "active_w": 1, "idle_w": 0}]})",
       "devices[0].tier 'fog' is not end, edge or cloud"},
      {R"({"devices": [{"name": "x", "tier": "end", "speed": -1, "active_w": 1, "idle_w": 0}]})",
       "devices[0].speed must be at least 0"},
      {R"({"devices": [{"name": "x", "tier": "end", "active_w": 1, "idle_w": 0}]})",
       "neither a speed nor measured ms"},
      {R"({"devices": [{"name": "x", "tier": "end", "speed": 1, "active_w": 1}]})",
       "devices[0].idle_w is missing"},
      {R"({"devices": [{"name": "x", "tier": "end", "speed": 1, "active_w": 1, "idle_w": 0,
           "colour": "red"}]})",
       "devices[0]: unknown field 'colour'"},
      {R"({"devices": [{"name": "x", "tier": "end", "speed": 1, "active_w": 1, "idle_w": 0,
           "capacity": 1.5}]})",
       "capacity must be a whole number"},
      {R"({"devices": [{"name": "x", "tier": "end", "speed": 1, "active_w": 1, "idle_w": 0},
                       {"name": "x", "tier": "edge", "speed": 1, "active_w": 1, "idle_w": 0}]})",
       "a second device named 'x'"},
      {R"({"devices": [{"name": "x", "tier": "end", "speed": 1, "active_w": 1, "idle_w": 0}],
           "links": [{"from": "x", "to": "y", "bandwidth_mbit": 1, "rtt_ms": 1}]})",
       "links[0].to: no device named 'y'"},
      {R"({"devices": [{"name": "x", "tier": "end", "speed": 1, "active_w": 1, "idle_w": 0},
                       {"name": "y", "tier": "end", "speed": 1, "active_w": 1, "idle_w": 0}],
           "links": [{"from": "x", "to": "y", "bandwidth_mbit": 0, "rtt_ms": 1}]})",
       "links[0].bandwidth_mbit must be above 0"},
  };
  for (const Case& c : cases) {
    auto t = ParseTopology(c.topology, "t.json");
    ASSERT_FALSE(t.ok()) << c.topology;
    const std::string& m = t.status().message();
    EXPECT_EQ(m.rfind("t.json: ", 0), 0u) << m;
    EXPECT_NE(m.find(c.expect), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  auto topo = ParseTopology(kThreeTopology, "t");
  ASSERT_TRUE(topo.ok());
  const std::pair<const char*, const char*> workloads[] = {
      {R"({"pipelines": [{"name": "p", "source": "phone", "rate": 1, "stages": [
          {"model": "m", "ref_ms": 1, "input_bytes": 1, "output_bytes": 1}]}]})",
       "pipelines[0].source: no device named 'phone'"},
      {R"({"pipelines": [{"name": "p", "source": "cam", "rate": 0, "stages": [
          {"model": "m", "ref_ms": 1, "input_bytes": 1, "output_bytes": 1}]}]})",
       "pipelines[0].rate must be above 0"},
      {R"({"pipelines": [{"name": "p", "source": "cam", "rate": 1, "stages": [
          {"model": "m", "ref_ms": 1, "output_bytes": 1}]}]})",
       "pipelines[0].stages[0].input_bytes is missing"},
      {R"({"pipelines": [{"name": "p", "source": "cam", "rate": 1, "stages": [
          {"model": "m", "ref_ms": 1, "input_bytes": 1, "output_bytes": 1},
          {"model": "m", "ref_ms": 1, "output_bytes": 1}]}]})",
       "two stages named 'm'"},
      {R"({"pipelines": [{"name": "p", "source": "cam", "rate": 1, "stages": []}]})",
       "'stages' must be a non-empty array"},
  };
  for (const auto& [text, expect] : workloads) {
    auto w = ParseWorkload(text, "w.json", *topo);
    ASSERT_FALSE(w.ok()) << text;
    EXPECT_NE(w.status().message().find(expect), std::string::npos) << w.status().message();
    EXPECT_EQ(w.status().message().find('\n'), std::string::npos);
  }
}

TEST(PlacementModel, AMeasuredTimeForAModelNoStageRunsIsRefused) {
  auto topo = ParseTopology(R"({"devices": [
      {"name": "npu", "tier": "edge", "speed": 1, "ms": {"detector": 3}, "active_w": 2,
       "idle_w": 1}]})",
                            "t");
  ASSERT_TRUE(topo.ok()) << topo.status().ToString();
  auto work = ParseWorkload(R"({"pipelines": [{"name": "p", "source": "npu", "rate": 1,
      "stages": [{"model": "det", "ref_ms": 9, "input_bytes": 1, "output_bytes": 1}]}]})",
                            "w", *topo);
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  auto p = PlacementProblem::Create(*topo, *work, {});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "device 'npu' lists ms for model 'detector', which no stage of the workload runs");
}

TEST(PlacementModel, AStageNoDeviceCanRunIsRefused) {
  auto topo = ParseTopology(R"({"devices": [
      {"name": "npu", "tier": "edge", "ms": {"det": 3}, "active_w": 2, "idle_w": 1}]})",
                            "t");
  ASSERT_TRUE(topo.ok()) << topo.status().ToString();
  auto work = ParseWorkload(R"({"pipelines": [{"name": "p", "source": "npu", "rate": 1,
      "stages": [{"model": "det", "ref_ms": 9, "input_bytes": 1, "output_bytes": 1},
                 {"model": "ocr", "ref_ms": 9, "output_bytes": 1}]}]})",
                            "w", *topo);
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  auto p = PlacementProblem::Create(*topo, *work, {});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("no device can run model 'ocr'"), std::string::npos);
}

}  // namespace
}  // namespace supernova::collab

// The split cost model against numbers worked out by hand on a made-up profile of a chain
// x -> A -> B -> C (= y), where A is larger than the input (as early layers of a CNN are).
#include "collab/split_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "optimizer/graph_builder.h"

namespace supernova::collab {
namespace {

using supernova::testing::GraphBuilder;

struct Chain {
  GraphBuilder b;
  std::string x, a, bb, y;
  Profile edge, cloud;

  Chain() {
    x = b.Input("x", {1, 250});
    a = b.Op("Relu", {x});
    bb = b.Op("Relu", {a});
    y = b.Op("Relu", {bb});
    b.Output(y);
    const ir::Graph& g = b.model().graph;
    for (Profile* p : {&edge, &cloud}) {
      p->model = "chain.onnx";
      p->fingerprint = ModelFingerprint(g);
    }
    // Edge: 10, 20, 30 ms; cloud ten times faster.
    const double edge_ms[] = {10, 20, 30};
    for (size_t i = 0; i < 3; ++i) {
      edge.nodes.push_back({NodeKey(g.nodes[i]), "Relu", edge_ms[i], 0});
      cloud.nodes.push_back({NodeKey(g.nodes[i]), "Relu", edge_ms[i] / 10, 0});
    }
    edge.total_ms = 60;
    cloud.total_ms = 6;
    // Made-up sizes (the cost model reads the profile's bytes, not the shapes).
    edge.tensors[x] = {DataType::kFloat32, {1, 250}, 1000};
    edge.tensors[a] = {DataType::kFloat32, {1, 500}, 2000};
    edge.tensors[bb] = {DataType::kFloat32, {1, 25}, 100};
    edge.tensors[y] = {DataType::kFloat32, {1, 10}, 40};
  }
  Result<SplitPlan> Plan(const Link& link, CutObjective objective, CutCodec codec = CutCodec::kNone,
                         std::optional<std::vector<std::string>> cut = std::nullopt) {
    return PlanSplit(b.model().graph, "models/chain.onnx", edge, cloud, link, codec, objective,
                     Power{}, cut);
  }
};

// 8 Mbit/s moves 1000 bytes a millisecond.
const Link kFast{8, 10, 0};
const Link kSlow{0.08, 10, 0};  // 10 bytes a millisecond

TEST(SplitPlan, CostsEveryCutAsWorkedOutByHand) {
  Chain c;
  auto plan = c.Plan(kFast, CutObjective::kLatency);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->candidates.size(), 4u);
  const auto& k = plan->candidates;
  EXPECT_EQ(k[0].kind, "cloud_only");
  EXPECT_EQ(k[1].kind, "split");
  EXPECT_EQ(k[3].kind, "edge_only");
  // Cloud only: sends x (1000 B), gets y (40 B): 10 + 1.04 ms; cloud 6 ms.
  EXPECT_DOUBLE_EQ(k[0].edge_ms, 0);
  EXPECT_DOUBLE_EQ(k[0].cloud_ms, 6);
  EXPECT_EQ(k[0].sent_bytes, 1000u);
  EXPECT_EQ(k[0].result_bytes, 40u);
  EXPECT_DOUBLE_EQ(k[0].transfer_ms, 11.04);
  EXPECT_DOUBLE_EQ(k[0].total_ms, 17.04);
  // Energy at the default 5 W active, 1 W idle, 2 W radio: 2 x 11.04 + 1 x 6.
  EXPECT_DOUBLE_EQ(k[0].energy_mj, 28.08);
  // After A: edge 10, sends 2000 B: 12.04 ms, cloud 2 + 3.
  EXPECT_EQ(k[1].tensors, std::vector<std::string>{c.a});
  EXPECT_DOUBLE_EQ(k[1].edge_ms, 10);
  EXPECT_DOUBLE_EQ(k[1].cloud_ms, 5);
  EXPECT_DOUBLE_EQ(k[1].transfer_ms, 12.04);
  EXPECT_DOUBLE_EQ(k[1].total_ms, 27.04);
  EXPECT_DOUBLE_EQ(k[1].energy_mj, 50 + 24.08 + 5);
  // After B: 30 + 10.14 + 3.
  EXPECT_DOUBLE_EQ(k[2].total_ms, 43.14);
  // Edge only: nothing sent, results stay.
  EXPECT_DOUBLE_EQ(k[3].edge_ms, 60);
  EXPECT_DOUBLE_EQ(k[3].transfer_ms, 0);
  EXPECT_DOUBLE_EQ(k[3].total_ms, 60);
  EXPECT_DOUBLE_EQ(k[3].energy_mj, 300);
  EXPECT_EQ(plan->chosen, 0);  // the fast link favours the cloud
}

TEST(SplitPlan, TheObjectiveAndTheLinkPickTheCut) {
  Chain c;
  // Slow link: cloud only 6 + 10 + 104 = 120; after A 10 + 214 + 5 = 229; after B 30 + 24 +
  // 3 = 57; edge only 60.
  auto slow = c.Plan(kSlow, CutObjective::kLatency);
  ASSERT_TRUE(slow.ok());
  EXPECT_DOUBLE_EQ(slow->candidates[2].total_ms, 57);
  EXPECT_EQ(slow->chosen, 2);
  // Energy on the fast link: cloud only 28.08 beats the rest.
  auto energy = c.Plan(kFast, CutObjective::kEnergy);
  ASSERT_TRUE(energy.ok());
  EXPECT_EQ(energy->chosen, 0);
  // Energy on the slow link: cloud only 2 x 114 + 6 = 234; after B 150 + 48 + 3 = 201;
  // edge only 300.
  auto slow_energy = c.Plan(kSlow, CutObjective::kEnergy);
  ASSERT_TRUE(slow_energy.ok());
  EXPECT_DOUBLE_EQ(slow_energy->candidates[2].energy_mj, 201);
  EXPECT_EQ(slow_energy->chosen, 2);
  // Bandwidth: the edge alone sends nothing.
  auto bandwidth = c.Plan(kFast, CutObjective::kBandwidth);
  ASSERT_TRUE(bandwidth.ok());
  EXPECT_EQ(bandwidth->chosen, 3);
}

TEST(SplitPlan, TheCodecShrinksWhatASplitSendsButNotTheInputs) {
  Chain c;
  auto plan = c.Plan(kFast, CutObjective::kLatency, CutCodec::kFp16);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->candidates[0].sent_bytes, 1000u);  // no head to encode the inputs
  EXPECT_EQ(plan->candidates[1].sent_bytes, 1000u);
  EXPECT_EQ(plan->candidates[1].head_outputs, std::vector<std::string>{c.a + ".fp16"});
  EXPECT_DOUBLE_EQ(plan->candidates[1].transfer_ms, 10 + 1.04);
  auto int8 = c.Plan(kFast, CutObjective::kLatency, CutCodec::kInt8);
  ASSERT_TRUE(int8.ok());
  EXPECT_EQ(int8->candidates[1].sent_bytes, 500u + 4 + 1);  // values, scale, zero point
  EXPECT_EQ(int8->candidates[1].head_outputs,
            (std::vector<std::string>{c.a + ".q", c.a + ".scale", c.a + ".zero_point"}));
}

TEST(SplitPlan, MaterializesTheChosenTheEndsAndEachLinksBest) {
  Chain c;
  auto plan = c.Plan(kFast, CutObjective::kLatency);
  ASSERT_TRUE(plan.ok());
  // Over the sweep the cloud wins fast links, the cut after B slow ones with short round
  // trips, the edge alone the slowest with long ones (0.1 Mbit/s, 20 ms: 44.2 + 20 > 60);
  // after A wins none, as it sends more than the cloud alone does.
  std::vector<bool> materialized;
  for (const Candidate& k : plan->candidates) materialized.push_back(k.materialized);
  EXPECT_EQ(materialized, (std::vector<bool>{true, false, true, true}));
  EXPECT_FALSE(plan->candidates[0].head);
  EXPECT_EQ(*plan->candidates[0].tail_model, "chain_cut0");
  EXPECT_EQ(*plan->candidates[2].head, "cuts/2/head.onnx");
  EXPECT_EQ(*plan->candidates[2].tail_model, "chain_cut2");
  EXPECT_FALSE(plan->candidates[3].tail_model);
  EXPECT_FALSE(plan->candidates[1].head);
}

TEST(SplitPlan, TakesTheUsersCutAndRefusesABadOne) {
  Chain c;
  auto plan = c.Plan(kFast, CutObjective::kLatency, CutCodec::kNone, std::vector<std::string>{c.a});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->chosen, 1);
  EXPECT_TRUE(plan->candidates[1].materialized);
  auto bad = c.Plan(kFast, CutObjective::kLatency, CutCodec::kNone, std::vector<std::string>{"w"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("'w' is not a tensor"));
}

TEST(SplitPlan, RefusesAProfileOfAnotherModel) {
  Chain c;
  c.cloud.nodes.pop_back();
  auto plan = c.Plan(kFast, CutObjective::kLatency);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(),
              ::testing::HasSubstr("the cloud profile was measured on another model"));
}

// Edge-only unless a cut beats it by more than the margin; the objective decides what "beats"
// means, and with no margin the plain best wins.
TEST(SplitPlan, KeepsTheWholeModelOnTheEdgeUnlessACutWinsByTheMargin) {
  auto make = [](int id, const char* kind, double total) {
    Candidate c;
    c.id = id;
    c.kind = kind;
    c.total_ms = total;
    return c;
  };
  std::vector<Candidate> close = {make(0, "cloud_only", 120), make(1, "split", 95),
                                  make(2, "edge_only", 100)};
  EXPECT_EQ(Choose(close, CutObjective::kLatency), 1u);
  EXPECT_EQ(ChooseKeepingEdge(close, CutObjective::kLatency, 0.0), 1u);
  EXPECT_EQ(ChooseKeepingEdge(close, CutObjective::kLatency, 0.1), 2u);   // 95 x 1.1 >= 100
  EXPECT_EQ(ChooseKeepingEdge(close, CutObjective::kLatency, 0.05), 1u);  // 99.75 < 100
  std::vector<Candidate> clear = {make(0, "cloud_only", 120), make(1, "split", 85),
                                  make(2, "edge_only", 100)};
  EXPECT_EQ(ChooseKeepingEdge(clear, CutObjective::kLatency, 0.1), 1u);  // 93.5 < 100
}

TEST(SplitPlan, ParsesPowerAndObjective) {
  auto p = ParsePower("4,0.5,1.5");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->edge_active_w, 4);
  EXPECT_EQ(p->edge_idle_w, 0.5);
  EXPECT_EQ(p->radio_w, 1.5);
  EXPECT_FALSE(ParsePower("4,1").ok());
  EXPECT_FALSE(ParsePower("4,-1,2").ok());
  EXPECT_FALSE(ParsePower("4,x,2").ok());
  EXPECT_FALSE(ParseObjective("speed").ok());
  EXPECT_EQ(*ParseObjective("energy"), CutObjective::kEnergy);
}

}  // namespace
}  // namespace supernova::collab

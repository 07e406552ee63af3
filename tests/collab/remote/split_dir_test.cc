// Reading a split directory: plan.json's fields, and one clear error for a directory that
// cannot be run (no plan.json, a head missing, a plan.json of another model).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "collab/remote/split_fixture.h"
#include "collab/remote/split_runner.h"
#include "kserve/kserve_client.h"

namespace supernova::collab {
namespace {

namespace fs = std::filesystem;
using namespace supernova::collab::testing;  // NOLINT
using kserve::KServeClient;

// Opens DIR as the runner does, with a client that is never called.
Status OpenDir(const std::string& dir) {
  auto plan = ReadSplitPlan(dir);
  if (!plan.ok()) return plan.status();
  auto client = KServeClient::Create("127.0.0.1:1");
  if (!client.ok()) return client.status();
  auto runner = SplitRunner::Open(std::move(plan).value(), std::move(client).value());
  return runner.status();
}

void EditPlan(const SplitDir& d, const std::function<void(nlohmann::json&)>& edit) {
  const std::string path = d.dir + "/plan.json";
  nlohmann::json j = nlohmann::json::parse(ReadText(path));
  edit(j);
  WriteText(path, j.dump());
}

TEST(SplitPlanFile, ReadsTheCandidatesAndTheirFiles) {
  SplitDir d = MakeSplitDir(3, kCutResidual);
  auto plan = ReadSplitPlan(d.dir);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->name, "net");
  EXPECT_EQ(plan->inputs, std::vector<std::string>{"x"});
  EXPECT_EQ(plan->outputs, (std::vector<std::string>{"y", "m"}));
  EXPECT_EQ(plan->chosen, kCutResidual);
  EXPECT_EQ(plan->edge_slowdown, 3);
  EXPECT_EQ(plan->link.bandwidth_mbit, 100);
  ASSERT_EQ(plan->candidates.size(), 5u);
  const PlanCandidate* res = plan->Find(kCutResidual);
  ASSERT_NE(res, nullptr);
  EXPECT_EQ(res->kind, CutKind::kSplit);
  EXPECT_EQ(res->tensors, (std::vector<std::string>{"r2", "p1"}));
  EXPECT_EQ(res->sent_bytes, 2u * 32 * 8 * 8 * 4);  // both branches of the residual block
  EXPECT_EQ(res->result_bytes, 2u * 128 * 4);
  EXPECT_TRUE(fs::exists(plan->HeadPath(*res)));
  EXPECT_EQ(plan->TailPath(*res), d.dir + "/repository/net_cut3/1/model.onnx");
  EXPECT_EQ(plan->Find(kCloudOnly)->head, "");
  EXPECT_EQ(plan->Find(kEdgeOnly)->tail_model, "");
  EXPECT_FALSE(plan->Find(kCutR1)->materialized);
  EXPECT_TRUE(OpenDir(d.dir).ok());
}

TEST(SplitPlanFile, ADirectoryWithoutPlanJsonIsOneClearError) {
  SplitDir d = MakeSplitDir();
  fs::remove(d.dir + "/plan.json");
  Status s = OpenDir(d.dir);
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find("no plan.json"), std::string::npos) << s.ToString();
  EXPECT_EQ(OpenDir(d.dir + "/nowhere").code(), Status::Code::kNotFound);
}

TEST(SplitPlanFile, AMissingHeadOrTailIsNamed) {
  SplitDir d = MakeSplitDir();
  fs::remove(d.dir + "/cuts/2/head.onnx");
  Status s = OpenDir(d.dir);
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find("cuts/2/head.onnx is missing"), std::string::npos) << s.ToString();

  SplitDir t = MakeSplitDir();
  fs::remove_all(t.dir + "/repository/net_cut3");
  s = OpenDir(t.dir);
  EXPECT_NE(s.message().find("net_cut3/1/model.onnx is missing"), std::string::npos)
      << s.ToString();
}

TEST(SplitPlanFile, APlanOfAnotherModelIsRefusedNamingTheMismatch) {
  SplitDir d = MakeSplitDir();
  EditPlan(d, [](nlohmann::json& j) {
    j["inputs"] = {"images"};
    j["outputs"] = {"boxes", "scores"};
  });
  Status s = OpenDir(d.dir);
  EXPECT_EQ(s.code(), Status::Code::kInvalidModel);
  EXPECT_NE(s.message().find("plan.json of another model"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("[images]"), std::string::npos) << s.ToString();

  // The same model's plan with a cut's tensors swapped for another cut's.
  SplitDir e = MakeSplitDir();
  EditPlan(e, [](nlohmann::json& j) {
    for (auto& c : j["candidates"])
      if (c["id"] == kCutP1) c["head_outputs"] = {"r1"};
  });
  s = OpenDir(e.dir);
  EXPECT_EQ(s.code(), Status::Code::kInvalidModel);
  EXPECT_NE(s.message().find("cuts/2/head.onnx has outputs [p1]"), std::string::npos)
      << s.ToString();
}

TEST(SplitPlanFile, MalformedPlansSayWhatIsWrong) {
  SplitDir d = MakeSplitDir();
  WriteText(d.dir + "/plan.json", "{\"version\": 1,");
  EXPECT_NE(OpenDir(d.dir).message().find("not a JSON object"), std::string::npos);
  SplitDir v = MakeSplitDir();
  EditPlan(v, [](nlohmann::json& j) { j["version"] = 2; });
  EXPECT_EQ(OpenDir(v.dir).code(), Status::Code::kUnimplemented);
  SplitDir k = MakeSplitDir();
  EditPlan(k, [](nlohmann::json& j) { j["candidates"][0].erase("sent_bytes"); });
  EXPECT_NE(OpenDir(k.dir).message().find("sent_bytes"), std::string::npos);
  SplitDir e = MakeSplitDir();
  EditPlan(e, [](nlohmann::json& j) {
    for (auto& c : j["candidates"])
      if (c["kind"] == "edge_only") c["materialized"] = false;
  });
  EXPECT_NE(OpenDir(e.dir).message().find("edge_only"), std::string::npos);
  SplitDir c = MakeSplitDir();
  EditPlan(c, [](nlohmann::json& j) { j["chosen"] = kCutR1; });
  EXPECT_NE(OpenDir(c.dir).message().find("chosen candidate 4"), std::string::npos);
}

}  // namespace
}  // namespace supernova::collab

// Online refinement: what an accepted sample does to the prototype (a running mean), what is
// refused and why, the drift cap, the reset, and the log's one line per decision.
#include "learn/refine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "learn/store_test_util.h"

namespace supernova::learn {
namespace {

using store_test::CosineOf;
using store_test::FileBytes;
using store_test::Normalized;
using store_test::ScratchDir;
using store_test::Snapshot;

struct RefineFixture {
  ScratchDir dir;
  std::unique_ptr<ClassStore> store;
  std::string path() const { return dir / "s"; }

  explicit RefineFixture(const std::vector<std::vector<float>>& examples) {
    Result<std::unique_ptr<ClassStore>> s = ClassStore::Open(path(), "test:emb", 4);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    store = std::move(s).value();
    for (const auto& e : examples) EXPECT_TRUE(store->Add("cat", e).ok());
  }
  std::vector<nlohmann::json> LogLines() const {
    std::vector<nlohmann::json> lines;
    std::istringstream in(FileBytes(dir / "s/refine.log"));
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }
};

Prediction Confident(const std::string& label, float score = 0.9f, float runner_up = 0.2f) {
  return Prediction{0, label, score, runner_up, true};
}

TEST(Refiner, AnAcceptedSampleMovesThePrototypeByOneOverNPlusOne) {
  const std::vector<float> a1 = {1, 0, 0, 0}, a2 = Normalized({1, 0.1f, 0, 0}),
                           a3 = Normalized({1, -0.1f, 0, 0});
  RefineFixture f({a1, a2, a3});
  Refiner refiner(f.store.get(), {});
  const std::vector<float> e = Normalized({1, 0, 0.2f, 0});
  const ClassRecord before = *f.store->Get("cat");

  Result<RefineResult> r = refiner.Offer(e, Confident("cat"), "image a.jpg");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->accepted);
  EXPECT_EQ(r->why, "updated");
  EXPECT_NEAR(r->drift_before, 0, 1e-6);
  ClassRecord after = *f.store->Get("cat");
  // Three enrolled samples and this one: (3 p + e) / 4.
  std::vector<float> expected(4);
  for (int i = 0; i < 4; ++i) expected[i] = (3 * before.prototype[i] + e[i]) / 4;
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(after.prototype[i], expected[i], 1e-6) << i;
  EXPECT_EQ(after.anchor, before.anchor);
  EXPECT_EQ(after.examples, before.examples);
  EXPECT_EQ(after.refinements, 1);
  EXPECT_EQ(after.version, before.version + 1);
  EXPECT_NEAR(r->drift_after, 1 - CosineOf(after.prototype, after.anchor), 1e-6);

  // The refined prototype now counts as four samples: (4 p' + e) / 5.
  ASSERT_TRUE(refiner.Offer(e, Confident("cat"), "image b.jpg").ok());
  const ClassRecord again = *f.store->Get("cat");
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(again.prototype[i], (4 * expected[i] + e[i]) / 5, 1e-6) << i;
  EXPECT_EQ(again.refinements, 2);

  // learn reset: back to the anchor.
  ASSERT_TRUE(f.store->Reset("cat").ok());
  const ClassRecord reset = *f.store->Get("cat");
  EXPECT_EQ(reset.prototype, before.anchor);
  EXPECT_EQ(reset.refinements, 0);

  const auto lines = f.LogLines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["class"], "cat");
  EXPECT_EQ(lines[0]["accepted"], true);
  EXPECT_EQ(lines[0]["why"], "updated");
  EXPECT_EQ(lines[0]["source"], "image a.jpg");
  EXPECT_NEAR(lines[0]["score"].get<double>(), 0.9, 1e-6);
  EXPECT_NEAR(lines[0]["drift_after"].get<double>(), r->drift_after, 1e-6);
  EXPECT_EQ(lines[1]["source"], "image b.jpg");
  EXPECT_EQ(lines[1]["refinements"], 2);
}

TEST(Refiner, RefusesUnsureOrFarSamplesAndLogsEachDecision) {
  RefineFixture f({{1, 0, 0, 0}});
  Refiner refiner(f.store.get(), {.min_score = 0.8f, .min_margin = 0.05f, .max_drift = 0.15f});
  const auto classes_before = Snapshot(f.dir / "s/classes");
  const std::vector<float> near = Normalized({1, 0.1f, 0, 0});
  // 1 - cos = 0.4 from the anchor: beyond twice the cap.
  const std::vector<float> far = {0.6f, 0.8f, 0, 0};
  struct Case {
    std::vector<float> embedding;
    Prediction prediction;
    const char* why;
  };
  const std::vector<Case> cases = {
      {near, Confident("cat", 0.7f), "below min_score"},
      {near, Confident("cat", 0.9f, 0.88f), "margin"},
      {near, Prediction{}, "no prediction"},
      {far, Confident("cat"), "too far from the anchor"},
      {near, Confident("ghost"), "class not in the store"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.why);
    Result<RefineResult> r = refiner.Offer(c.embedding, c.prediction, "src");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->accepted);
    EXPECT_EQ(r->why, c.why);
    EXPECT_EQ(classes_before, Snapshot(f.dir / "s/classes"));
  }
  // A wrong-sized embedding is the caller's error, not a decision: no line for it.
  Result<RefineResult> bad = refiner.Offer({1, 0}, Confident("cat"), "src");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("dimension 4"), std::string::npos);

  const auto lines = f.LogLines();
  ASSERT_EQ(lines.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(lines[i]["why"], cases[i].why);
    EXPECT_EQ(lines[i]["accepted"], false);
  }
  // The class was read only where the scores passed: the drifts are known there alone.
  EXPECT_TRUE(lines[0]["drift_before"].is_null());
  EXPECT_NEAR(lines[3]["drift_before"].get<double>(), 0, 1e-6);
}

// Samples a little outside the cap pull the prototype to the cap's edge and no further: the
// clipped prototype keeps the running mean's length and its direction of travel.
TEST(Refiner, APrototypeThatWouldLeaveTheConeIsClippedToItsEdge) {
  RefineFixture f({{1, 0, 0, 0}});
  constexpr float kCap = 0.05f;
  Refiner refiner(f.store.get(), {.max_drift = kCap});
  // 1 - cos(e, anchor) = 0.09: inside twice the cap, outside the cap.
  const float s = std::sqrt(1 - 0.91f * 0.91f);
  const std::vector<float> e = {0.91f, 0.6f * s, 0.8f * s, 0};
  int clipped = 0;
  for (int offer = 0; offer < 6; ++offer) {
    SCOPED_TRACE(offer);
    const ClassRecord before = *f.store->Get("cat");
    Result<RefineResult> r = refiner.Offer(e, Confident("cat"), "frame");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->accepted);
    const ClassRecord after = *f.store->Get("cat");
    EXPECT_LE(1 - CosineOf(after.prototype, after.anchor), kCap + 1e-5);
    if (r->why != "clipped to max_drift") {
      EXPECT_EQ(r->why, "updated");
      continue;
    }
    ++clipped;
    EXPECT_NEAR(r->drift_after, kCap, 1e-5);
    // Where the running mean would have gone, computed here from its definition.
    const double n = static_cast<double>(before.count + before.refinements);
    std::vector<float> mean(4);
    for (int i = 0; i < 4; ++i)
      mean[i] = static_cast<float>(before.prototype[i] + (e[i] - before.prototype[i]) / (n + 1));
    EXPECT_GT(1 - CosineOf(mean, after.anchor), kCap);
    auto norm = [](const std::vector<float>& v) {
      return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]);
    };
    EXPECT_NEAR(norm(after.prototype), norm(mean), 1e-5);
    // In the plane of the anchor and e, on e's side.
    EXPECT_NEAR(after.prototype[1] / after.prototype[2], 0.75f, 1e-4);
    EXPECT_GT(after.prototype[1], 0);
    EXPECT_EQ(after.prototype[3], 0);
  }
  // The mean of the anchor and k copies of e leaves the cone at the third sample.
  EXPECT_EQ(clipped, 4);
}

}  // namespace
}  // namespace supernova::learn

#include "learn/classifier.h"

#include <gtest/gtest.h>

#include <cmath>

namespace supernova::learn {
namespace {

ClassRecord Proto(const std::string& name, std::vector<float> p) {
  ClassRecord r;
  r.name = name;
  r.prototype = std::move(p);
  return r;
}

std::vector<float> Unit(std::vector<float> v) {
  double sq = 0;
  for (float x : v) sq += double{x} * x;
  for (float& x : v) x = static_cast<float>(x / std::sqrt(sq));
  return v;
}

TEST(Classifier, ImprintPicksTheLargestCosineAndRejectsBelowTheThreshold) {
  // b's mean is short (a spread-out class): imprinting ignores the length.
  Classifier c({Proto("a", {1, 0, 0}), Proto("b", {0, 0.5f, 0})}, 3, Method::kImprint, 0.8f);
  Prediction p = *c.Classify(Unit({0.3f, 1, 0}));
  EXPECT_EQ(p.label, "b");
  EXPECT_EQ(p.index, 1);
  EXPECT_NEAR(p.score, 1 / std::sqrt(1.09f), 1e-6);
  EXPECT_NEAR(p.runner_up, 0.3f / std::sqrt(1.09f), 1e-6);
  EXPECT_TRUE(p.known);
  Prediction q = *c.Classify(Unit({1, 1, 1}));
  EXPECT_FALSE(q.known);  // cos 0.577 to either
}

TEST(Classifier, PrototypeRanksByEuclideanDistanceToTheMeanAsStored) {
  // The two methods disagree: a long mean near e, a short mean nearer in angle.
  Classifier proto({Proto("a", {0.9f, 0.3f, 0}), Proto("b", {0, 0.2f, 0})}, 3, Method::kPrototype,
                   0);
  Classifier imprint({Proto("a", {0.9f, 0.3f, 0}), Proto("b", {0, 0.2f, 0})}, 3, Method::kImprint,
                     0);
  const std::vector<float> e = Unit({0.5f, 0.9f, 0});
  // |e - a|^2 and |e - b|^2 from the definitions.
  auto dist = [&](std::vector<float> m) {
    double s = 0;
    for (int i = 0; i < 3; ++i) s += (e[i] - m[i]) * (e[i] - m[i]);
    return s;
  };
  ASSERT_LT(dist({0.9f, 0.3f, 0}), dist({0, 0.2f, 0}));
  EXPECT_EQ(proto.Classify(e)->label, "a");
  EXPECT_EQ(imprint.Classify(e)->label, "b");  // cos 0.874 to b, 0.737 to a
}

TEST(Classifier, AWrongSizedEmbeddingIsAnError) {
  Classifier c({Proto("a", {1, 0})}, 2, Method::kImprint, 0.5f);
  Result<Prediction> p = c.Classify(std::vector<float>{1, 0, 0});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("dimension 2"), std::string::npos);
  EXPECT_EQ(Classifier({}, 2, Method::kImprint, 0).Classify(std::vector<float>{1, 0})->index, -1);
}

TEST(Classifier, MethodNamesRoundTrip) {
  EXPECT_EQ(*ParseMethod("prototype"), Method::kPrototype);
  EXPECT_EQ(*ParseMethod("imprint"), Method::kImprint);
  EXPECT_FALSE(ParseMethod("knn").ok());
}

}  // namespace
}  // namespace supernova::learn

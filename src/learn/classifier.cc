#include "learn/classifier.h"

#include <cmath>
#include <limits>

namespace supernova::learn {

Result<Method> ParseMethod(const std::string& name) {
  if (name == "prototype") return Method::kPrototype;
  if (name == "imprint") return Method::kImprint;
  return Status::InvalidArgument("unknown method '" + name + "' (prototype, imprint)");
}

const char* MethodName(Method m) { return m == Method::kPrototype ? "prototype" : "imprint"; }

Classifier::Classifier(const std::vector<ClassRecord>& classes, int64_t dim, Method method,
                       float threshold)
    : dim_(dim), method_(method), threshold_(threshold) {
  const size_t d = static_cast<size_t>(dim);
  for (const ClassRecord& c : classes) {
    if (c.prototype.size() != d) continue;  // the store checks sizes; never index past one
    names_.push_back(c.name);
    double sq = 0;
    for (float v : c.prototype) sq += double{v} * v;
    sq_norms_.push_back(static_cast<float>(sq));
    const float inv = sq > 0 ? static_cast<float>(1.0 / std::sqrt(sq)) : 0.0f;
    means_.insert(means_.end(), c.prototype.begin(), c.prototype.end());
    for (float v : c.prototype) unit_.push_back(v * inv);
  }
}

std::vector<float> Classifier::Scores(const float* e) const {
  const size_t d = static_cast<size_t>(dim_);
  std::vector<float> scores(names_.size());
  for (size_t c = 0; c < names_.size(); ++c) {
    const float* w = unit_.data() + c * d;
    double dot = 0;
    for (size_t i = 0; i < d; ++i) dot += double{w[i]} * e[i];
    scores[c] = static_cast<float>(dot);
  }
  return scores;
}

Prediction Classifier::Classify(const float* e) const {
  Prediction p;
  if (names_.empty()) return p;
  const size_t d = static_cast<size_t>(dim_);
  const std::vector<float> cos = Scores(e);
  // Each method ranks by its own measure; both report the cosine of the winner.
  std::vector<double> rank(names_.size());
  for (size_t c = 0; c < names_.size(); ++c) {
    if (method_ == Method::kImprint) {
      rank[c] = cos[c];
      continue;
    }
    // -|e - m|^2 = 2 e.m - |m|^2 - |e|^2; |e| is the same for every class.
    const float* m = means_.data() + c * d;
    double dot = 0;
    for (size_t i = 0; i < d; ++i) dot += double{m[i]} * e[i];
    rank[c] = 2 * dot - sq_norms_[c];
  }
  size_t best = 0;
  for (size_t c = 1; c < rank.size(); ++c)
    if (rank[c] > rank[best]) best = c;
  float second = 0;
  bool any = false;
  for (size_t c = 0; c < cos.size(); ++c)
    if (c != best && (!any || cos[c] > second)) second = cos[c], any = true;
  p.index = static_cast<int>(best);
  p.label = names_[best];
  p.score = cos[best];
  p.runner_up = any ? second : 0.0f;
  p.known = p.score >= threshold_;
  return p;
}

Result<Prediction> Classifier::Classify(const std::vector<float>& embedding) const {
  if (static_cast<int64_t>(embedding.size()) != dim_)
    return Status::InvalidArgument("embedding has " + std::to_string(embedding.size()) +
                                   " values, the classes are of dimension " + std::to_string(dim_));
  return Classify(embedding.data());
}

}  // namespace supernova::learn

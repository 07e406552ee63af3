// Classifying embeddings against the class store's prototypes (docs/learn.md), two ways:
//   kPrototype  nearest class mean by squared Euclidean distance (Snell et al., prototypical
//               networks), the means as stored (not renormalised);
//   kImprint    weight imprinting (Qi et al., CVPR 2018): each class's normalised prototype is a
//               row of a cosine classifier, the class the largest dot product with the unit
//               embedding; what the imprinted ONNX export (imprint.h) computes.
// Both report the cosine similarity of the embedding to the chosen class's normalised
// prototype as `score`; below `threshold` the answer is unknown (known = false).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "learn/class_store.h"
#include "supernova/status.h"

namespace supernova::learn {

enum class Method { kPrototype, kImprint };

// What `supernova learn classify`, the served classifier and the stream use unless told: the
// imprinting rule (the exported model's), and a cosine below 0.5 answers unknown. What an
// unrelated image scores depends on the backbone (the face descriptor gives 0.9 and more to
// pictures that are not faces at all), so 0.5 rejects only embeddings unlike every class;
// `learn eval` prints, per model, the threshold that 95% of its right answers pass.
inline constexpr Method kDefaultMethod = Method::kImprint;
inline constexpr float kDefaultThreshold = 0.5f;
Result<Method> ParseMethod(const std::string& name);  // "prototype", "imprint"
const char* MethodName(Method m);

struct Prediction {
  int index = -1;       // into the classifier's classes; -1 when there are none
  std::string label;    // the class's name ("" when there are none)
  float score = 0;      // cosine similarity to that class's normalised prototype
  float runner_up = 0;  // the same for the second-best class (0 when only one)
  bool known = false;   // score >= threshold
};

class Classifier {
 public:
  // From the store's classes (their prototypes, each [dim]); names in the order given.
  Classifier(const std::vector<ClassRecord>& classes, int64_t dim, Method method, float threshold);
  int64_t dim() const { return dim_; }
  size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  // The normalised prototypes, [size * dim]: the imprinted rows.
  const std::vector<float>& weights() const { return unit_; }

  // One unit embedding of dim() floats; fails on a wrong size.
  Result<Prediction> Classify(const std::vector<float>& embedding) const;
  Prediction Classify(const float* embedding) const;
  // Cosine similarity to every class, in names() order.
  std::vector<float> Scores(const float* embedding) const;

 private:
  int64_t dim_;
  Method method_;
  float threshold_;
  std::vector<std::string> names_;
  std::vector<float> means_;  // as stored
  std::vector<float> unit_;   // normalised
  std::vector<float> sq_norms_;
};

}  // namespace supernova::learn

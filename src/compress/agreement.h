// How closely a compressed model's outputs follow the original's, measured over the same
// inputs: top-1 agreement for classifiers, box match for detectors, cosine similarity for
// embeddings, and the largest and mean absolute error of every output in any case.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "supernova/session.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::compress {

enum class Task {
  kAuto,      // from the outputs: see Agreement::Open
  kClassify,  // one [N, C] output: the best class of each row
  kDetect,    // CenterNet: a class heatmap and box extents, NHWC or NCHW
  kEmbed,     // one [N, D] output: a vector per row
  kRaw,       // element-wise errors only
};
Result<Task> ParseTask(const std::string& name);
const char* TaskName(Task t);

// kDetect's boxes: those scored at least kScoreThreshold count, and an unmatched one below
// kWeakScore is reported as weak.
inline constexpr float kScoreThreshold = 0.3f;
inline constexpr float kWeakScore = 0.4f;

struct AgreementSummary {
  Task task = Task::kRaw;
  int samples = 0;
  double max_abs = 0, mean_abs = 0;  // over every float output element
  bool elementwise = true;  // false when no output kept its shape: the two above mean nothing
  double top1 = 0;          // kClassify: share of rows with the same best class
  double cosine_mean = 0, cosine_min = 0;  // kEmbed
  // kDetect: reference boxes (score >= 0.3) matched one to one by a candidate box of the same
  // class with IoU >= 0.5, over the larger of the two box counts (a missed box and an extra
  // box both count against it).
  double box_match = 0;
  int64_t reference_boxes = 0, candidate_boxes = 0;
  // kDetect: the boxes of either model left without a match, and how many of them scored less
  // than kWeakScore: weak boxes, most often one whose score moved across the threshold.
  int64_t unmatched_boxes = 0, unmatched_weak = 0;
  // The headline: the measure of the task ("top-1", "box match", "cosine", "max abs error")
  // and its value.
  std::string measure;
  double value = 0;
};

class Agreement {
 public:
  // kAuto picks kDetect for a CenterNet pair of 4-D outputs (one with 4 channels), kClassify
  // for one [N, C] output of 1000 or 1001 classes or whose rows are probabilities, kEmbed for
  // another single [N, D] output, kRaw otherwise. The choice is made on the first Add().
  // `candidate_inputs`, where the candidate reads another input size (compress
  // --input-size): its boxes are scaled to the reference's input pixels, and outputs whose
  // shapes differ leave the element-wise errors.
  Agreement(Task task, std::vector<TensorInfo> inputs, std::vector<TensorInfo> outputs,
            std::vector<TensorInfo> candidate_inputs = {});
  Status Add(const std::vector<Tensor>& reference, const std::vector<Tensor>& candidate);
  AgreementSummary Summary() const;

 private:
  Task task_;
  std::vector<TensorInfo> inputs_, outputs_, candidate_inputs_;
  AgreementSummary s_;
  double abs_sum_ = 0;
  int64_t abs_count_ = 0, rows_ = 0, top1_hits_ = 0, matched_ = 0, worst_count_ = 0;
  double cosine_sum_ = 0;
};

}  // namespace supernova::compress

#include "compress/agreement.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "stream/postprocess.h"

namespace supernova::compress {

Result<Task> ParseTask(const std::string& name) {
  if (name == "auto") return Task::kAuto;
  if (name == "classify") return Task::kClassify;
  if (name == "detect") return Task::kDetect;
  if (name == "embed") return Task::kEmbed;
  if (name == "raw") return Task::kRaw;
  return Status::InvalidArgument("unknown task '" + name +
                                 "' (auto, classify, detect, embed, raw)");
}

const char* TaskName(Task t) {
  switch (t) {
    case Task::kAuto:
      return "auto";
    case Task::kClassify:
      return "classify";
    case Task::kDetect:
      return "detect";
    case Task::kEmbed:
      return "embed";
    case Task::kRaw:
      return "raw";
  }
  return "?";
}

namespace {

constexpr float kMatchIoU = 0.5f;

// The CenterNet heatmap and extents among two 4-D float outputs: which is which, and whether
// channels are last. False when the outputs are not such a pair.
bool CenterNetPair(const std::vector<Tensor>& out, int* heatmap, int* extents, bool* nhwc) {
  if (out.size() != 2) return false;
  for (const Tensor& t : out)
    if (t.dtype() != DataType::kFloat32 || t.rank() != 4 || t.dim(0) != 1) return false;
  for (int last = 1; last >= 0; --last) {
    const size_t c = last ? 3 : 1;
    for (int e = 0; e < 2; ++e) {
      const Tensor& ext = out[static_cast<size_t>(e)];
      const Tensor& hm = out[static_cast<size_t>(1 - e)];
      const size_t h = last ? 1 : 2, w = last ? 2 : 3;
      if (ext.dim(c) == 4 && hm.dim(c) != 4 && ext.dim(h) == hm.dim(h) && ext.dim(w) == hm.dim(w)) {
        *heatmap = 1 - e;
        *extents = e;
        *nhwc = last;
        return true;
      }
    }
  }
  return false;
}

bool Probabilities(const Tensor& t) {
  const int64_t c = t.dim(1);
  const float* p = t.data<float>();
  for (int64_t r = 0; r < t.dim(0); ++r) {
    double sum = 0;
    for (int64_t j = 0; j < c; ++j) {
      const float v = p[r * c + j];
      if (v < 0 || v > 1) return false;
      sum += v;
    }
    if (std::fabs(sum - 1) > 1e-3) return false;
  }
  return true;
}

// The model input's width, for CenterNet's output stride.
int InputWidth(const std::vector<TensorInfo>& inputs) {
  if (inputs.empty() || inputs[0].dims.size() != 4) return 0;
  const auto& d = inputs[0].dims;
  return static_cast<int>(d[3] == 3 ? d[2] : d[3]);
}

int InputHeight(const std::vector<TensorInfo>& inputs) {
  if (inputs.empty() || inputs[0].dims.size() != 4) return 0;
  const auto& d = inputs[0].dims;
  return static_cast<int>(d[3] == 3 ? d[1] : d[2]);
}

}  // namespace

Agreement::Agreement(Task task, std::vector<TensorInfo> inputs, std::vector<TensorInfo> outputs,
                     std::vector<TensorInfo> candidate_inputs)
    : task_(task),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      candidate_inputs_(candidate_inputs.empty() ? inputs_ : std::move(candidate_inputs)) {}

Status Agreement::Add(const std::vector<Tensor>& ref, const std::vector<Tensor>& cand) {
  if (ref.size() != cand.size())
    return Status::InvalidArgument("the models give " + std::to_string(ref.size()) + " and " +
                                   std::to_string(cand.size()) + " outputs");
  const bool resized = InputWidth(inputs_) != InputWidth(candidate_inputs_) ||
                       InputHeight(inputs_) != InputHeight(candidate_inputs_);
  for (size_t i = 0; i < ref.size(); ++i)
    if ((ref[i].shape() != cand[i].shape() && !(resized && ref[i].rank() == cand[i].rank())) ||
        ref[i].dtype() != cand[i].dtype())
      return Status::InvalidArgument("output " + std::to_string(i) + " is " +
                                     ShapeToString(ref[i].shape()) + " in the original and " +
                                     ShapeToString(cand[i].shape()) + " after compression");
  int heatmap = 0, extents = 1;
  bool nhwc = true;
  const bool pair = CenterNetPair(ref, &heatmap, &extents, &nhwc);
  const bool single2d =
      ref.size() == 1 && ref[0].dtype() == DataType::kFloat32 && ref[0].rank() == 2;
  if (task_ == Task::kAuto) {
    if (pair)
      task_ = Task::kDetect;
    else if (single2d && (ref[0].dim(1) == 1000 || ref[0].dim(1) == 1001 || Probabilities(ref[0])))
      task_ = Task::kClassify;
    else if (single2d)
      task_ = Task::kEmbed;
    else
      task_ = Task::kRaw;
  }
  if ((task_ == Task::kClassify || task_ == Task::kEmbed) && !single2d)
    return Status::InvalidArgument(std::string("--task ") + TaskName(task_) +
                                   " needs one [N, C] float output");
  if (task_ == Task::kDetect && !pair)
    return Status::InvalidArgument(
        "--task detect reads a CenterNet heatmap and box extents (two 4-D outputs)");
  ++s_.samples;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (ref[i].dtype() != DataType::kFloat32 || ref[i].shape() != cand[i].shape()) continue;
    const float* a = ref[i].data<float>();
    const float* b = cand[i].data<float>();
    for (int64_t k = 0; k < ref[i].numel(); ++k) {
      const double d = std::fabs(static_cast<double>(a[k]) - b[k]);
      s_.max_abs = std::max(s_.max_abs, d);
      abs_sum_ += d;
    }
    abs_count_ += ref[i].numel();
  }
  if (task_ == Task::kClassify || task_ == Task::kEmbed) {
    const int64_t n = ref[0].dim(0), c = ref[0].dim(1);
    for (int64_t r = 0; r < n; ++r) {
      const float* a = ref[0].data<float>() + r * c;
      const float* b = cand[0].data<float>() + r * c;
      if (task_ == Task::kClassify) {
        top1_hits_ += std::max_element(a, a + c) - a == std::max_element(b, b + c) - b;
      } else {
        double ab = 0, aa = 0, bb = 0;
        for (int64_t j = 0; j < c; ++j) {
          ab += static_cast<double>(a[j]) * b[j];
          aa += static_cast<double>(a[j]) * a[j];
          bb += static_cast<double>(b[j]) * b[j];
        }
        const double cos = aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
        cosine_sum_ += cos;
        s_.cosine_min = rows_ == 0 ? cos : std::min(s_.cosine_min, cos);
      }
      ++rows_;
    }
  }
  if (task_ == Task::kDetect) {
    const int w = InputWidth(inputs_), cw = InputWidth(candidate_inputs_);
    if (w <= 0 || cw <= 0) return Status::InvalidArgument("--task detect needs a 4-D image input");
    auto decode = [&](const std::vector<Tensor>& out, int width) {
      return stream::DecodeCenterNet(out[static_cast<size_t>(heatmap)],
                                     out[static_cast<size_t>(extents)], nhwc, width,
                                     kScoreThreshold);
    };
    SN_ASSIGN_OR_RETURN(std::vector<stream::Detection> a, decode(ref, w));
    SN_ASSIGN_OR_RETURN(std::vector<stream::Detection> b, decode(cand, cw));
    // Both models see the whole image, stretched to their input: a box scales with it.
    const float sx = static_cast<float>(w) / static_cast<float>(cw);
    const float sy = static_cast<float>(InputHeight(inputs_)) /
                     static_cast<float>(InputHeight(candidate_inputs_));
    for (stream::Detection& d : b)
      d.box = {d.box.x1 * sx, d.box.y1 * sy, d.box.x2 * sx, d.box.y2 * sy};
    // Greedy one-to-one matching, best IoU first.
    std::vector<std::tuple<float, size_t, size_t>> pairs;
    for (size_t i = 0; i < a.size(); ++i)
      for (size_t j = 0; j < b.size(); ++j) {
        if (a[i].class_id != b[j].class_id) continue;
        const float iou = stream::IoU(a[i].box, b[j].box);
        if (iou >= kMatchIoU) pairs.emplace_back(iou, i, j);
      }
    std::sort(pairs.begin(), pairs.end(),
              [](const auto& x, const auto& y) { return std::get<0>(x) > std::get<0>(y); });
    std::vector<bool> used_a(a.size()), used_b(b.size());
    for (const auto& [iou, i, j] : pairs) {
      if (used_a[i] || used_b[j]) continue;
      used_a[i] = used_b[j] = true;
      ++matched_;
    }
    for (size_t i = 0; i < a.size(); ++i)
      s_.unmatched_weak += !used_a[i] && a[i].score < kWeakScore;
    for (size_t j = 0; j < b.size(); ++j)
      s_.unmatched_weak += !used_b[j] && b[j].score < kWeakScore;
    s_.reference_boxes += static_cast<int64_t>(a.size());
    s_.candidate_boxes += static_cast<int64_t>(b.size());
    worst_count_ += static_cast<int64_t>(std::max(a.size(), b.size()));
  }
  return Status::Ok();
}

AgreementSummary Agreement::Summary() const {
  AgreementSummary s = s_;
  s.task = task_;
  s.mean_abs = abs_count_ ? abs_sum_ / static_cast<double>(abs_count_) : 0;
  s.elementwise = abs_count_ > 0 || s_.samples == 0;
  s.top1 = rows_ ? static_cast<double>(top1_hits_) / static_cast<double>(rows_) : 0;
  s.cosine_mean = rows_ ? cosine_sum_ / static_cast<double>(rows_) : 0;
  s.unmatched_boxes = s.reference_boxes + s.candidate_boxes - 2 * matched_;
  s.box_match = worst_count_ ? static_cast<double>(matched_) / static_cast<double>(worst_count_)
                             : 1.0;  // neither model found a box: they agree
  switch (task_) {
    case Task::kClassify:
      s.measure = "top-1 agreement";
      s.value = s.top1;
      break;
    case Task::kDetect:
      s.measure = "box match";
      s.value = s.box_match;
      break;
    case Task::kEmbed:
      s.measure = "cosine (mean)";
      s.value = s.cosine_mean;
      break;
    default:
      s.measure = "max abs error";
      s.value = s.max_abs;
  }
  return s;
}

}  // namespace supernova::compress

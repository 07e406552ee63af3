#include "stream/escalation.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "stream/thumbnail.h"

namespace supernova::stream {
namespace {

Status Bad(std::string_view part, std::string_view why) {
  return Status::InvalidArgument("--escalate '" + std::string(part) + "': " + std::string(why));
}

// The whole of `text` as a number, or false.
bool ParseNumber(std::string_view text, double* out) {
  if (text.empty()) return false;
  const std::string s(text);
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*out);
}

Status ParseCount(std::string_view part, std::string_view value, int lowest, int* out) {
  double v = 0;
  if (!ParseNumber(value, &v) || v != std::floor(v) || v < lowest || v > 1e6)
    return Bad(part, "wants a whole number of frames, at least " + std::to_string(lowest));
  *out = static_cast<int>(v);
  return Status::Ok();
}

// A threshold in (0, high]: 0 would mean "off", which is leaving the policy out.
Status ParseThreshold(std::string_view part, std::string_view value, int high, double* out) {
  if (!ParseNumber(value, out) || *out <= 0 || *out > high)
    return Bad(part, "wants a number above 0 and at most " + std::to_string(high));
  return Status::Ok();
}

}  // namespace

std::string EscalationReasonNames(unsigned reasons) {
  static constexpr struct {
    unsigned bit;
    const char* name;
  } kNames[] = {{kEscalateEvery, "every"}, {kEscalateKey, "key"},         {kEscalateScene, "scene"},
                {kEscalateScore, "score"}, {kEscalateEntropy, "entropy"}, {kEscalateIbt, "ibt"}};
  std::string out;
  for (const auto& n : kNames) {
    if ((reasons & n.bit) == 0) continue;
    if (!out.empty()) out += '+';
    out += n.name;
  }
  return out;
}

Result<EscalationOptions> ParseEscalation(std::string_view spec) {
  static constexpr char kForms[] =
      "expected comma-separated key=N, scene=T (0-255), score=T, entropy=T, ibt=IMAGE:BOX, "
      "min-gap=N, every; or none";
  EscalationOptions o;
  if (spec.empty()) return Status::InvalidArgument(std::string("--escalate is empty; ") + kForms);
  bool none = false, any = false;
  unsigned seen = 0;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string_view part = spec.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? spec.size() + 1 : comma + 1;
    if (part.empty()) return Bad(spec, std::string("an empty policy; ") + kForms);
    any = true;
    const size_t eq = part.find('=');
    const std::string_view name = part.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    static constexpr const char* kNames[] = {"every", "none",    "key", "scene",
                                             "score", "entropy", "ibt", "min-gap"};
    unsigned bit = 0;
    for (unsigned i = 0; i < 8; ++i)
      if (name == kNames[i]) bit = 1u << i;
    if (bit == 0) return Bad(part, std::string("unknown policy; ") + kForms);
    if (seen & bit) return Bad(part, "given twice");
    seen |= bit;
    const bool takes_value = bit > 2;
    if (takes_value && eq == std::string_view::npos) return Bad(part, "wants a value (NAME=VALUE)");
    if (!takes_value && eq != std::string_view::npos) return Bad(part, "takes no value");
    Status s = Status::Ok();
    if (name == "every") {
      o.every = true;
    } else if (name == "none") {
      none = true;
    } else if (name == "key") {
      s = ParseCount(part, value, 1, &o.key_interval);
    } else if (name == "scene") {
      s = ParseThreshold(part, value, 255, &o.scene);
    } else if (name == "score") {
      s = ParseThreshold(part, value, 1, &o.score);
    } else if (name == "entropy") {
      s = ParseThreshold(part, value, 1, &o.entropy);
    } else if (name == "min-gap") {
      s = ParseCount(part, value, 0, &o.min_gap);
    } else {  // ibt=IMAGE:BOX, Sedna's order (threshold_img, threshold_box)
      const size_t colon = value.find(':');
      if (colon == std::string_view::npos)
        return Bad(part,
                   "wants IMAGE:BOX, e.g. ibt=0.5:0.3 (hard when over half the boxes "
                   "score under 0.3)");
      s = ParseThreshold(part, value.substr(0, colon), 1, &o.ibt_image);
      if (s.ok()) s = ParseThreshold(part, value.substr(colon + 1), 1, &o.ibt_box);
      // The share must be able to pass the threshold: at 1 no frame would ever be hard.
      if (s.ok() && o.ibt_image >= 1) return Bad(part, "IMAGE must be under 1");
    }
    if (!s.ok()) return s;
  }
  if (!any) return Status::InvalidArgument(std::string("--escalate is empty; ") + kForms);
  if (none && seen != 2) return Bad(spec, "'none' sends nothing and takes no other policy");
  if (!none && !o.sends())
    return Bad(spec, "no policy that sends (min-gap alone sends nothing; say 'none' for that)");
  return o;
}

double MeanScore(const std::vector<Detection>& boxes) {
  if (boxes.empty()) return 0;
  double sum = 0;
  for (const Detection& d : boxes) sum += d.score;
  return sum / static_cast<double>(boxes.size());
}

double MeanBinaryEntropy(const std::vector<Detection>& boxes) {
  if (boxes.empty()) return 0;
  double sum = 0;
  for (const Detection& d : boxes) {
    const double p = std::clamp(static_cast<double>(d.score), 0.0, 1.0);
    if (p > 0 && p < 1) sum -= p * std::log2(p) + (1 - p) * std::log2(1 - p);
  }
  return sum / static_cast<double>(boxes.size());
}

double LowScoreShare(const std::vector<Detection>& boxes, double box_threshold) {
  if (boxes.empty()) return 0;
  size_t low = 0;
  for (const Detection& d : boxes) low += d.score < box_threshold ? 1 : 0;
  return static_cast<double>(low) / static_cast<double>(boxes.size());
}

Escalator::Escalator(EscalationOptions options) : options_(options) {}

unsigned Escalator::Decide(const Frame& frame, const std::vector<Detection>& detections) {
  ++since_sent_;
  if (options_.scene > 0) current_ = Thumbnail(frame);
  if (sent_any_ && since_sent_ <= options_.min_gap) return 0;
  unsigned why = 0;
  if (options_.every) why |= kEscalateEvery;
  if (options_.key_interval > 0 && (!sent_any_ || since_sent_ >= options_.key_interval))
    why |= kEscalateKey;
  if (options_.scene > 0 && MeanAbsDifference(current_, last_sent_) > options_.scene)
    why |= kEscalateScene;
  if (!detections.empty()) {
    if (options_.score > 0 && MeanScore(detections) < options_.score) why |= kEscalateScore;
    if (options_.entropy > 0 && MeanBinaryEntropy(detections) > options_.entropy)
      why |= kEscalateEntropy;
    if (options_.ibt_box > 0 && LowScoreShare(detections, options_.ibt_box) > options_.ibt_image)
      why |= kEscalateIbt;
  }
  return why;
}

void Escalator::Sent() {
  since_sent_ = 0;
  sent_any_ = true;
  if (options_.scene > 0) last_sent_ = std::move(current_);
}

}  // namespace supernova::stream

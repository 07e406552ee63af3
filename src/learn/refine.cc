#include "learn/refine.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

namespace supernova::learn {
namespace {

using json = nlohmann::json;

// Another writer changing the class between the read and the write: re-read, decide afresh.
constexpr int kAttempts = 8;

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double{a[i]} * b[i];
  return s;
}

// 1 - cos(a, b); a zero vector is as far as orthogonal.
float CosineDistance(const std::vector<float>& a, const std::vector<float>& b) {
  const double na = std::sqrt(Dot(a, a)), nb = std::sqrt(Dot(b, b));
  if (na == 0 || nb == 0) return 1.0f;
  return static_cast<float>(1 - std::clamp(Dot(a, b) / (na * nb), -1.0, 1.0));
}

// `x` turned toward `axis` (in the plane of the two) until 1 - cos(x, axis) = max_drift,
// keeping its length: the nearest point of the cone's edge, whatever side x left it on.
std::vector<float> ClipToCone(const std::vector<float>& x, const std::vector<float>& axis,
                              float max_drift) {
  const double axis_norm = std::sqrt(Dot(axis, axis));
  const double along = Dot(x, axis) / axis_norm;
  std::vector<double> perp(x.size());
  double perp_sq = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    perp[i] = x[i] - along * axis[i] / axis_norm;
    perp_sq += perp[i] * perp[i];
  }
  const double perp_norm = std::sqrt(perp_sq);
  if (perp_norm == 0) return x;  // on the axis: no drift to clip
  const double length = std::sqrt(Dot(x, x));
  const double c = std::clamp(1.0 - double{max_drift}, -1.0, 1.0);
  const double s = std::sqrt(1 - c * c);
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    out[i] = static_cast<float>(length * (c * axis[i] / axis_norm + s * perp[i] / perp_norm));
  return out;
}

double NowUnix() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// One line per decision. O_APPEND makes each line one append, so the lines of several
// processes refining one store interleave whole. Not fsync'ed: the log explains the store, the
// store is the truth, and a line lost to a power loss costs no data.
Status AppendLog(const std::string& dir, const json& line) {
  const std::string path = dir + "/refine.log";
  const std::string text =
      line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";  // names may be any bytes
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Unavailable("cannot open '" + path + "': " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Status::Unavailable("cannot append to '" + path + "': " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

}  // namespace

Refiner::Refiner(ClassStore* store, RefineOptions options) : store_(store), options_(options) {}

Result<RefineResult> Refiner::Offer(const std::vector<float>& embedding,
                                    const Prediction& prediction, const std::string& source) {
  if (static_cast<int64_t>(embedding.size()) != store_->dim())
    return Status::InvalidArgument("embedding has " + std::to_string(embedding.size()) +
                                   " values, the store is of dimension " +
                                   std::to_string(store_->dim()));
  for (float v : embedding)
    if (!std::isfinite(v)) return Status::InvalidArgument("embedding has a non-finite value");

  RefineResult result;
  bool consulted = false;  // whether the class was read, so the drifts mean something
  std::optional<ClassRecord> written;
  if (prediction.index < 0 || prediction.label.empty()) {
    result.why = "no prediction";
  } else if (prediction.score < options_.min_score) {
    result.why = "below min_score";
  } else if (prediction.score - prediction.runner_up < options_.min_margin) {
    result.why = "margin";
  } else {
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      Result<ClassRecord> got = store_->Get(prediction.label);
      if (!got.ok() && got.status().code() == Status::Code::kNotFound) {
        result.why = "class not in the store";
        break;
      }
      if (!got.ok()) return got.status();
      const ClassRecord& c = *got;
      consulted = true;
      result.drift_before = result.drift_after = CosineDistance(c.prototype, c.anchor);
      if (CosineDistance(embedding, c.anchor) > 2 * options_.max_drift) {
        result.why = "too far from the anchor";
        break;
      }
      // The prototype stands for count + refinements samples; the new one joins them.
      const double n = static_cast<double>(c.count + c.refinements);
      std::vector<float> next(c.prototype.size());
      for (size_t i = 0; i < next.size(); ++i)
        next[i] = static_cast<float>(c.prototype[i] + (embedding[i] - c.prototype[i]) / (n + 1));
      result.why = "updated";
      if (CosineDistance(next, c.anchor) > options_.max_drift) {
        next = ClipToCone(next, c.anchor, options_.max_drift);
        result.why = "clipped to max_drift";
      }
      Result<ClassRecord> w = store_->UpdatePrototype(c.name, next, c.version);
      if (!w.ok() && w.status().code() == Status::Code::kFailedPrecondition &&
          attempt + 1 < kAttempts)
        continue;
      if (!w.ok() && w.status().code() == Status::Code::kNotFound) {
        result.why = "class not in the store";
        break;
      }
      if (!w.ok()) return w.status();
      result.accepted = true;
      result.drift_after = CosineDistance(w->prototype, w->anchor);
      written = std::move(w).value();
      break;
    }
  }

  json line = {{"time", NowUnix()},
               {"class", prediction.label},
               {"score", prediction.score},
               {"runner_up", prediction.runner_up},
               {"drift_before", consulted ? json(result.drift_before) : json(nullptr)},
               {"drift_after", consulted ? json(result.drift_after) : json(nullptr)},
               {"accepted", result.accepted},
               {"why", result.why},
               {"source", source}};
  if (written) {
    line["version"] = written->version;
    line["refinements"] = written->refinements;
  }
  Status logged = AppendLog(store_->dir(), line);
  if (!logged.ok())
    return logged.WithContext(result.accepted ? "the prototype was updated, but its log line"
                                              : "refinement log");
  return result;
}

}  // namespace supernova::learn

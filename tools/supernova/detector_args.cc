#include "supernova/detector_args.h"

#include <fmt/format.h>

#include <algorithm>

namespace supernova::tools {

Status ApplyDetectorArgs(const DetectorArgs& a, stream::DetectorOptions* d) {
  SN_ASSIGN_OR_RETURN(d->decoder, stream::ParseDecoderKind(a.decoder));
  // Thresholds outside [0, 1] would silently keep everything or nothing.
  if (!(a.score >= 0 && a.score <= 1))
    return Status::InvalidArgument(fmt::format("score threshold {} is not in [0, 1]", a.score));
  if (!(a.iou > 0 && a.iou <= 1))
    return Status::InvalidArgument(fmt::format("IoU threshold {} is not in (0, 1]", a.iou));
  if (a.max_detections < 1)
    return Status::InvalidArgument(
        fmt::format("max detections must be at least 1, not {}", a.max_detections));
  if (!(a.scale >= 0)) return Status::InvalidArgument(fmt::format("scale {} is negative", a.scale));
  if (!a.mean.empty() && a.mean.size() != 3)
    return Status::InvalidArgument("mean takes three values, one per channel");
  if (!a.std.empty() && a.std.size() != 3)
    return Status::InvalidArgument("std takes three values, one per channel");
  if (std::any_of(a.std.begin(), a.std.end(), [](float v) { return !(v != 0); }))
    return Status::InvalidArgument("std has a zero: the input would be divided by it");
  if (a.input_width < 0 || a.input_height < 0)
    return Status::InvalidArgument("input width and height must not be negative");
  d->score_threshold = a.score;
  d->iou_threshold = a.iou;
  d->max_detections = a.max_detections;
  if (a.scale > 0) d->scale = a.scale;
  if (!a.mean.empty()) std::copy_n(a.mean.begin(), 3, d->mean.begin());
  if (!a.std.empty()) std::copy_n(a.std.begin(), 3, d->std.begin());
  d->bgr = a.bgr;
  d->letterbox = !a.stretch;
  if (a.input_width > 0) d->input_width = a.input_width;
  if (a.input_height > 0) d->input_height = a.input_height;
  if (a.anchors == "blazeface") {
    d->ssd.anchors = stream::GridAnchors(128, 128, {8, 16}, {2, 6}, {0, 0});
    d->ssd.center_scale = d->ssd.size_scale = 128;
    d->ssd.linear_size = true;
  } else if (!a.anchors.empty()) {
    return Status::InvalidArgument("anchors must be blazeface, not '" + a.anchors + "'");
  }
  return Status::Ok();
}

Result<stream::SkipMode> ParseSkipMode(const std::string& name, const std::string& flag) {
  if (name == "adaptive") return stream::SkipMode::kAdaptive;
  if (name == "fixed") return stream::SkipMode::kFixed;
  if (name == "none") return stream::SkipMode::kNone;
  return Status::InvalidArgument(
      fmt::format("{} must be adaptive, fixed or none, not '{}'", flag, name));
}

}  // namespace supernova::tools

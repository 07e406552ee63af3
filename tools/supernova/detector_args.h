// The detector's options as a user writes them: `supernova stream`'s flags and the parameters
// of a `supernova serve` model of the platform supernova_detector (serve_detect.cc). One
// translation into stream::DetectorOptions, so that both accept the same values and reject
// the same bad ones with the same words.
//
//   DetectorArgs a;
//   a.decoder = "centernet";
//   a.mean = {0.5f, 0.5f, 0.5f};
//   stream::DetectorOptions d;
//   if (Status s = ApplyDetectorArgs(a, &d); !s.ok()) return s;
#pragma once

#include <string>
#include <vector>

#include "stream/detector.h"
#include "stream/frame_skip.h"
#include "supernova/status.h"

namespace supernova::tools {

struct DetectorArgs {
  std::string decoder = "auto";  // auto, yolov5, yolov8, ssd, centernet
  std::string anchors;           // SSD anchors: "" or blazeface
  float score = 0.3f, iou = 0.45f;
  float scale = 0;  // 0: the decoder family's usual scale
  int max_detections = 100;
  std::vector<float> mean, std;  // three each, or none
  bool bgr = false;
  bool stretch = false;                   // stretch to the input instead of letterboxing
  int input_width = 0, input_height = 0;  // 0: the detector's default (free input dims only)
};

// Fills the detection and pre-processing fields of `d` (not its session) from `a`; fails,
// leaving `d` partly filled, on a value the detector cannot use.
Status ApplyDetectorArgs(const DetectorArgs& a, stream::DetectorOptions* d);

// The frame-skip mode as `--skip` takes it: adaptive, fixed or none; an error names `flag`.
Result<stream::SkipMode> ParseSkipMode(const std::string& name, const std::string& flag);

}  // namespace supernova::tools

// The int8 step of `supernova compress` (static, post-training, QDQ): what cmd_compress.cc runs
// for --int8 between the standard rewrites and the export.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compress/agreement.h"
#include "compress/calibration.h"
#include "compress/probe.h"
#include "compress/qdq.h"
#include "ir/onnx_import.h"
#include "supernova/status.h"

namespace supernova::tools {

struct Int8StepOptions {
  std::string model;  // the input's path, for messages
  compress::CalibMethod method = compress::CalibMethod::kMinMax;
  double percentile = 99.99;
  bool per_channel = false;
  bool bias_correction = true;
  std::string sensitive = "auto";  // --keep-sensitive: auto, none or a count
  double target_agreement = 0;     // 0: none
  std::vector<std::string> exclude;
  compress::Task task = compress::Task::kAuto;
  int threads = 0;
};

// Quantizes `model` in place, calibrated on `calib`; appends the step to `steps` (the JSON
// report) and `text_steps`, and the nodes left float, each with why, to `float_nodes`.
// InvalidArgument (one line) for a model with nothing to quantize or a calibration input the
// model cannot run.
Status Int8Step(const Int8StepOptions& o, const std::vector<compress::Feeds>& calib,
                ir::Model& model, nlohmann::json& steps, std::vector<std::string>& text_steps,
                std::vector<compress::NodeDecision>& float_nodes);

}  // namespace supernova::tools

// An object detector over the runtime: pre-processing (letterbox or stretch, colour order,
// scale and normalization, NCHW or NHWC as the model's input says), one Session run for a
// batch of frames, and decoding of the outputs (YOLO v5/v8, SSD, CenterNet) with
// class-aware NMS, boxes back in frame pixels.
//
//   DetectorOptions opts;                       // decoder kAuto: chosen from the outputs
//   auto det = Detector::Open("yolov8n.onnx", opts);
//   if (!det.ok()) return det.status();
//   auto boxes = (*det)->Detect({frame});       // boxes[0]: the frame's detections
//
// Detect() is thread-safe (the session is). A model whose batch dimension is free takes
// several frames in one run (max_batch()); a batch-1 model runs them one after another.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stream/frame.h"
#include "stream/postprocess.h"
#include "supernova/session.h"
#include "supernova/status.h"

namespace supernova::stream {

enum class DecoderKind { kAuto, kYoloV5, kYoloV8, kSsd, kCenterNet };
Result<DecoderKind> ParseDecoderKind(
    const std::string& name);  // auto, yolov5, yolov8, ssd, centernet
const char* DecoderKindName(DecoderKind kind);

struct DetectorOptions {
  DecoderKind decoder = DecoderKind::kAuto;
  float score_threshold = 0.3f;
  float iou_threshold = 0.45f;
  int max_detections = 100;
  // Pre-processing: input = (pixel * scale - mean[c]) / std[c] per channel, in RGB order
  // unless `bgr`. Unset scale: the decoder family's usual one (YOLO 1/255, CenterNet 1 for
  // 0-255 input, SSD 1/127.5 with mean 1, where no mean is set, for [-1, 1]).
  std::optional<float> scale;
  std::array<float, 3> mean{0, 0, 0};
  std::array<float, 3> std{1, 1, 1};
  bool bgr = false;
  bool letterbox = true;  // keep the aspect ratio and pad; false: stretch to the input size
  float pad_value = 114;  // letterbox padding, in pixel units (before scale)
  // For models whose spatial input dimensions are free; ignored where the model fixes them.
  int input_width = 640, input_height = 640;
  SsdOptions ssd;  // anchors (model-input pixels) and box coding, for DecoderKind::kSsd
  // Open() runs the model once on a grey frame, so that the first real frame does not pay
  // for the kernels' set-up, and a decoder that cannot read the outputs fails at Open().
  bool warmup = true;
  SessionOptions session;
};

// Time spent in each stage of one Detect() call, seconds.
struct DetectTimes {
  double preprocess = 0, inference = 0, postprocess = 0;
  int batch = 0;
};

class Detector {
 public:
  static Result<std::unique_ptr<Detector>> Open(const std::string& model_path,
                                                DetectorOptions options);
  // Detections of each frame, after NMS, in that frame's pixels. Fails (for all frames) on a
  // frame without pixels or outputs the decoder cannot read.
  Result<std::vector<std::vector<Detection>>> Detect(const std::vector<FramePtr>& frames,
                                                     DetectTimes* times = nullptr) const;

  int max_batch() const { return max_batch_; }
  int input_width() const { return width_; }
  int input_height() const { return height_; }
  DecoderKind decoder() const { return options_.decoder; }
  // "centernet, nhwc 512x512, batch 1, scale 1"
  std::string Describe() const;

 private:
  Detector() = default;
  Status Preprocess(const Frame& frame, float* dst, Letterbox* box) const;
  Result<std::vector<Detection>> Decode(const std::vector<Tensor>& outputs, int64_t image) const;

  DetectorOptions options_;
  std::unique_ptr<Session> session_;
  std::string input_name_;
  bool nhwc_ = false;
  int width_ = 0, height_ = 0;
  int max_batch_ = 1;
  float scale_ = 1;
};

}  // namespace supernova::stream

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
#include <string_view>
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
  // Outputs of the model that are not the detector's: Detect() hands them back per frame,
  // the decoder reads the others. Feature-level joint inference names the cut tensors the
  // model was made to return (collab::AddCutOutputs) here.
  std::vector<std::string> feature_outputs;
  // The model is a split's tail (collab/split.h): it reads a head's cut tensors, not an
  // image, and DetectFeatures() runs it; input_width and input_height are the source model's.
  bool tail = false;
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
  // The same from an ONNX model in memory; `label` names it in messages.
  static Result<std::unique_ptr<Detector>> OpenBytes(std::string_view model_bytes,
                                                     const std::string& label,
                                                     DetectorOptions options);
  // Detections of each frame, after NMS, in that frame's pixels. Fails (for all frames) on a
  // frame without pixels or outputs the decoder cannot read. With `features`, also each
  // frame's DetectorOptions::feature_outputs, by name, as [1, ...] tensors of its own.
  Result<std::vector<std::vector<Detection>>> Detect(
      const std::vector<FramePtr>& frames, DetectTimes* times = nullptr,
      std::vector<FrameFeatures>* features = nullptr) const;
  // Decodes outputs this model's decoder reads that were computed elsewhere for `frame`
  // (a split's tail in the cloud, batch 1), found by name: detections in its pixels, as
  // Detect() gives them.
  Result<std::vector<Detection>> DecodeOutputs(const FrameFeatures& outputs,
                                               const Frame& frame) const;
  // Boxes in the model input's pixels (as a tail's DetectFeatures() gives them) in `frame`'s.
  std::vector<Detection> InputToFrame(std::vector<Detection> boxes, const Frame& frame) const;
  // A tail's detections (DetectorOptions::tail) from the cut tensors its inputs name, after
  // NMS, in the model input's pixels: the cloud does not know the frame's size.
  Result<std::vector<Detection>> DetectFeatures(const FrameFeatures& inputs) const;
  // The session's inputs (a tail's: the cut tensors it reads, as they travel).
  const std::vector<TensorInfo>& inputs() const { return session_->inputs(); }

  int max_batch() const { return max_batch_; }
  int input_width() const { return width_; }
  int input_height() const { return height_; }
  DecoderKind decoder() const { return options_.decoder; }
  // "centernet, nhwc 512x512, batch 1, scale 1"
  std::string Describe() const;

 private:
  Detector() = default;
  static Result<std::unique_ptr<Detector>> Init(std::unique_ptr<Session> session,
                                                const std::string& label, DetectorOptions options);
  // NMS and the boxes from the model's input back to the frame's pixels.
  std::vector<Detection> ToFrame(std::vector<Detection> found, const Letterbox& box,
                                 const Frame& frame) const;
  std::vector<Detection> MapToFrame(std::vector<Detection> found, const Letterbox& box,
                                    const Frame& frame) const;
  // One image's outputs, found by name, decoded and NMS'd: in the model input's pixels.
  Result<std::vector<Detection>> DecodeOne(const FrameFeatures& outputs) const;
  Status Preprocess(const Frame& frame, float* dst, Letterbox* box) const;
  Result<std::vector<Detection>> Decode(const std::vector<Tensor>& outputs, int64_t image) const;

  DetectorOptions options_;
  std::unique_ptr<Session> session_;
  std::string input_name_;
  std::vector<size_t> decoded_, featured_;  // the session's outputs the decoder reads; features
  std::vector<std::string> decoded_names_;
  bool nhwc_ = false;
  int width_ = 0, height_ = 0;
  int max_batch_ = 1;
  float scale_ = 1;
};

}  // namespace supernova::stream

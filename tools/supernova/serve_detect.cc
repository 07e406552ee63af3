// An object detector as a model of `supernova serve`'s repository, the cloud side of joint
// inference (docs/server.md):
//
//   platform: "supernova_detector"
//   max_batch_size: 0
//   parameters { key: "decoder"         value { string_value: "centernet" } }
//   parameters { key: "score_threshold" value { string_value: "0.3" } }
//
// <version>/model.onnx (or the file the parameter `model` names in that directory) runs in a
// stream::Detector whose options are the other parameters, named as `supernova stream`'s
// flags are (detector_args.h). A request carries one encoded image and gets its detections
// back in the image's own pixels; the client never resizes or normalizes anything, so one
// edge client serves any detector the cloud runs.
//
// With the parameter `input` "features", the model is a split's tail (supernova split): a
// request carries the head's coded cut tensors, as the tail's inputs name them, and gets
// DETECTIONS in the source model's input pixels (input_width x input_height, parameters it
// then needs): the edge, which letterboxed the frame, maps them back. Feature-level joint
// inference (docs/joint.md) so gets a few hundred bytes back, not the model's raw outputs.
#include "serve_detect.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "serve_params.h"
#include "server/model_config.h"
#include "stream/detector.h"
#include "supernova/detector_args.h"
#include "supernova/tensor_io.h"

namespace supernova::tools {
namespace {

constexpr char kInput[] = "IMAGE";
constexpr char kOutput[] = "DETECTIONS";

// The request's image as the detector's BGR frame: tensor_io decodes it (as `learn` and the
// served classifier do), within the server's bound on its size.
Result<stream::FramePtr> DecodeFrame(std::string_view bytes) {
  const std::string what = fmt::format("input {}", kInput);
  SN_RETURN_IF_ERROR(CheckEncodedImage(bytes, what));
  SN_ASSIGN_OR_RETURN(RgbImage rgb, DecodeImage(bytes, what));
  if (rgb.width > kMaxImageSide || rgb.height > kMaxImageSide)  // header and data disagreed
    return ImageTooLarge(what, rgb.width, rgb.height);
  auto frame = std::make_shared<stream::Frame>();
  frame->width = rgb.width;
  frame->height = rgb.height;
  frame->bgr.resize(rgb.pixels.size());
  const uint8_t* src = rgb.pixels.data();
  uint8_t* dst = frame->bgr.data();
  for (size_t i = 0; i < rgb.pixels.size(); i += 3) {
    dst[i] = src[i + 2];
    dst[i + 1] = src[i + 1];
    dst[i + 2] = src[i];
  }
  return stream::FramePtr(std::move(frame));
}

class DetectorModel final : public server::ModelBackend {
 public:
  explicit DetectorModel(std::unique_ptr<stream::Detector> detector, bool tail)
      : detector_(std::move(detector)), tail_(tail) {
    if (tail_)
      inputs_ = detector_->inputs();
    else
      inputs_.push_back({kInput, DataType::kString, ValueKind::kTensor, true, {1}, {""}});
    outputs_.push_back({kOutput, DataType::kFloat32, ValueKind::kTensor, true, {-1, 6}, {"", ""}});
  }
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }

  // The detector is thread-safe: instances run requests side by side.
  Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
             std::vector<Tensor>* outputs) const override {
    std::vector<stream::Detection> boxes;
    if (tail_) {
      SN_ASSIGN_OR_RETURN(boxes, detector_->DetectFeatures(feeds));
    } else {
      SN_ASSIGN_OR_RETURN(std::string_view bytes, OneBytesElement(feeds, kInput));
      SN_ASSIGN_OR_RETURN(stream::FramePtr frame, DecodeFrame(bytes));
      SN_ASSIGN_OR_RETURN(std::vector<std::vector<stream::Detection>> found,
                          detector_->Detect({frame}));
      boxes = std::move(found.front());
    }
    Tensor out(DataType::kFloat32, {static_cast<int64_t>(boxes.size()), 6});
    float* row = out.data<float>();
    for (const stream::Detection& d : boxes) {
      const float values[6] = {d.box.x1, d.box.y1, d.box.x2,
                               d.box.y2, d.score,  static_cast<float>(d.class_id)};
      std::memcpy(row, values, sizeof(values));
      row += 6;
    }
    outputs->clear();
    outputs->push_back(std::move(out));
    return Status::Ok();
  }

 private:
  std::unique_ptr<stream::Detector> detector_;
  const bool tail_;
  std::vector<TensorInfo> inputs_, outputs_;
};

// The config's parameters as the detector's arguments and the model file's name, under the
// names of `supernova stream`'s flags. num_threads and optimization are the server's, already
// in the context's session options.
Status ReadDetectorParameters(const inference::ModelConfig& config, DetectorArgs* a,
                              std::string* file, std::string* input) {
  SN_RETURN_IF_ERROR(ReadParameters(config, {{"model", Text(file)},
                                             {"input", Text(input)},
                                             {"decoder", Text(&a->decoder)},
                                             {"score_threshold", Number(&a->score)},
                                             {"iou_threshold", Number(&a->iou)},
                                             {"max_detections", Number(&a->max_detections)},
                                             {"scale", Number(&a->scale)},
                                             {"mean", Triple(&a->mean)},
                                             {"std", Triple(&a->std)},
                                             {"bgr", Bool(&a->bgr)},
                                             {"letterbox", Bool(&a->stretch, /*negate=*/true)},
                                             {"input_width", Number(&a->input_width)},
                                             {"input_height", Number(&a->input_height)},
                                             {"anchors", Text(&a->anchors)}}));
  return CheckFileName("model", *file);
}

}  // namespace

server::BackendFactory DetectorBackendFactory() {
  return [](const server::BackendContext& context)
             -> Result<std::shared_ptr<const server::ModelBackend>> {
    const inference::ModelConfig& config = *context.config;
    // A batch of images gives each its own number of detections, which no [batch, N, 6]
    // tensor holds.
    SN_RETURN_IF_ERROR(
        RequireNoBatching(config, "answers each image with its own number of detections"));
    DetectorArgs args;
    std::string file = "model.onnx", input = "image";
    SN_RETURN_IF_ERROR(ReadDetectorParameters(config, &args, &file, &input));
    if (input != "image" && input != "features")
      return Status::InvalidArgument("parameter input: '" + input +
                                     "' is neither image nor features");
    stream::DetectorOptions options;
    if (Status s = ApplyDetectorArgs(args, &options); !s.ok())
      return Status::InvalidArgument("parameters: " + s.message());
    options.tail = input == "features";
    if (options.tail && (args.input_width <= 0 || args.input_height <= 0))
      return Status::InvalidArgument(
          "parameters: a split's tail (input features) needs input_width and input_height, the "
          "source model's input size");
    options.session = context.session_options;
    SN_ASSIGN_OR_RETURN(
        std::string path,
        InsideRepository(context, context.version_dir + "/" + file, "parameter model"));
    SN_ASSIGN_OR_RETURN(std::unique_ptr<stream::Detector> detector,
                        stream::Detector::Open(path, options));
    return std::shared_ptr<const server::ModelBackend>(
        std::make_shared<DetectorModel>(std::move(detector), options.tail));
  };
}

}  // namespace supernova::tools

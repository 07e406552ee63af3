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
#include "serve_detect.h"

#include <fmt/format.h>
#include <stb/stb_image.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "server/model_config.h"
#include "stream/detector.h"
#include "supernova/detector_args.h"

namespace supernova::tools {
namespace {

constexpr char kInput[] = "IMAGE";
constexpr char kOutput[] = "DETECTIONS";
// A bound on what one request may make the server allocate: 8192 x 8192 is 64 Mpixel, 192 MiB
// of BGR, checked from the image's header before its pixels are decoded.
constexpr int kMaxImageSide = 8192;

// Only the formats an edge client sends: stb_image also guesses at headerless formats (TGA),
// which would take arbitrary bytes for an image.
bool LooksLikeJpegPngOrBmp(std::string_view b) {
  auto starts = [&](std::string_view magic) { return b.substr(0, magic.size()) == magic; };
  return starts("\xFF\xD8\xFF") || starts("\x89PNG\r\n\x1A\n") || starts("BM");
}

Result<stream::FramePtr> DecodeImage(std::string_view bytes) {
  if (!LooksLikeJpegPngOrBmp(bytes))
    return Status::InvalidArgument(fmt::format(
        "input {}: the {} bytes are not a JPEG, PNG or BMP image", kInput, bytes.size()));
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    return Status::InvalidArgument(fmt::format("input {}: over 2 GiB", kInput));
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  auto failure = [&](const char* what) {
    const char* why = stbi_failure_reason();
    return Status::InvalidArgument(
        fmt::format("input {}: {}: {}", kInput, what, why ? why : "unknown reason"));
  };
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(data, length, &w, &h, &channels))
    return failure("cannot read the image's header");
  auto too_large = [&] {
    return Status::InvalidArgument(
        fmt::format("input {}: the image is {}x{}, over the bound of {} "
                    "pixels a side",
                    kInput, w, h, kMaxImageSide));
  };
  if (w > kMaxImageSide || h > kMaxImageSide) return too_large();
  std::unique_ptr<unsigned char, void (*)(void*)> rgb(
      stbi_load_from_memory(data, length, &w, &h, &channels, 3), stbi_image_free);
  if (!rgb) return failure("cannot decode the image");
  if (w > kMaxImageSide || h > kMaxImageSide) return too_large();  // header and data disagreed
  auto frame = std::make_shared<stream::Frame>();
  frame->width = w;
  frame->height = h;
  const size_t pixels = static_cast<size_t>(w) * static_cast<size_t>(h);
  frame->bgr.resize(pixels * 3);
  const unsigned char* src = rgb.get();
  uint8_t* dst = frame->bgr.data();
  for (size_t i = 0; i < pixels; ++i, src += 3, dst += 3) {
    dst[0] = src[2];
    dst[1] = src[1];
    dst[2] = src[0];
  }
  return stream::FramePtr(std::move(frame));
}

class DetectorModel final : public server::ModelBackend {
 public:
  explicit DetectorModel(std::unique_ptr<stream::Detector> detector)
      : detector_(std::move(detector)) {
    inputs_.push_back({kInput, DataType::kString, ValueKind::kTensor, true, {1}, {""}});
    outputs_.push_back({kOutput, DataType::kFloat32, ValueKind::kTensor, true, {-1, 6}, {"", ""}});
  }
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }

  // The detector is thread-safe: instances run requests side by side.
  Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
             std::vector<Tensor>* outputs) const override {
    const Tensor* image = nullptr;
    for (const auto& [name, t] : feeds)
      if (name == kInput) image = &t;
    if (!image || image->dtype() != DataType::kString || image->numel() != 1)
      return Status::InvalidArgument(
          fmt::format("input {} must be one BYTES element: an encoded image", kInput));
    SN_ASSIGN_OR_RETURN(stream::FramePtr frame, DecodeImage(image->data<std::string>()[0]));
    SN_ASSIGN_OR_RETURN(std::vector<std::vector<stream::Detection>> found,
                        detector_->Detect({frame}));
    const std::vector<stream::Detection>& boxes = found.front();
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
  std::vector<TensorInfo> inputs_, outputs_;
};

// Each parameter's reader stores its value into the detector's arguments.
using ParameterReader = std::function<Status(const std::string& key, const std::string& text)>;

// The whole of `text` as one number.
template <typename T>
bool ParseWhole(std::string_view text, T* v) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *v);
  return ec == std::errc() && end == text.data() + text.size();
}

template <typename T>
ParameterReader Number(T* v) {
  return [v](const std::string& key, const std::string& text) {
    if (!ParseWhole(text, v))
      return Status::InvalidArgument(
          fmt::format("parameter {} must be a number, not '{}'", key, text));
    return Status::Ok();
  };
}

ParameterReader Text(std::string* v) {
  return [v](const std::string&, const std::string& text) {
    *v = text;
    return Status::Ok();
  };
}

// "a,b,c": one value per colour channel.
ParameterReader Triple(std::vector<float>* v) {
  return [v](const std::string& key, const std::string& text) {
    v->clear();
    std::string_view rest = text;
    bool ok = true;
    while (ok) {
      const size_t comma = rest.find(',');
      float x = 0;
      ok = ParseWhole(rest.substr(0, comma), &x);
      v->push_back(x);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (!ok || v->size() != 3)
      return Status::InvalidArgument(
          fmt::format("parameter {} must be three numbers a,b,c, not '{}'", key, text));
    return Status::Ok();
  };
}

ParameterReader Bool(bool* v, bool negate = false) {
  return [v, negate](const std::string& key, const std::string& text) {
    if (text != "true" && text != "false")
      return Status::InvalidArgument(
          fmt::format("parameter {} must be true or false, not '{}'", key, text));
    *v = (text == "true") != negate;
    return Status::Ok();
  };
}

// The config's parameters as the detector's arguments and the model file's name, under the
// names of `supernova stream`'s flags. num_threads and optimization are the server's, already
// in the context's session options.
Status ReadParameters(const inference::ModelConfig& config, DetectorArgs* a, std::string* file) {
  const std::vector<std::pair<std::string, ParameterReader>> readers = {
      {"model", Text(file)},
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
      {"anchors", Text(&a->anchors)}};
  for (const auto& [key, p] : config.parameters()) {
    if (key == "num_threads" || key == "optimization") continue;
    auto it =
        std::find_if(readers.begin(), readers.end(), [&](const auto& r) { return r.first == key; });
    if (it == readers.end()) {
      std::string known;
      for (const auto& r : readers) known += r.first + ", ";
      return Status::InvalidArgument("unknown parameter '" + key + "' (known: " + known +
                                     "num_threads, optimization)");
    }
    SN_RETURN_IF_ERROR(it->second(key, p.string_value()));
  }
  // The file stays in the version's directory: a name, not a path.
  if (file->empty() || file->find('/') != std::string::npos || *file == "." || *file == "..")
    return Status::InvalidArgument(
        "parameter model must name a file of the version's directory, not '" + *file + "'");
  return Status::Ok();
}

}  // namespace

server::BackendFactory DetectorBackendFactory() {
  return [](const server::BackendContext& context)
             -> Result<std::shared_ptr<const server::ModelBackend>> {
    const inference::ModelConfig& config = *context.config;
    // A batch of images gives each its own number of detections, which no [batch, N, 6]
    // tensor holds.
    if (config.max_batch_size() != 0)
      return Status::InvalidArgument(fmt::format(
          "platform supernova_detector answers each image with its own number of detections: "
          "max_batch_size must be 0, not {}",
          config.max_batch_size()));
    DetectorArgs args;
    std::string file = "model.onnx";
    SN_RETURN_IF_ERROR(ReadParameters(config, &args, &file));
    stream::DetectorOptions options;
    if (Status s = ApplyDetectorArgs(args, &options); !s.ok())
      return Status::InvalidArgument("parameters: " + s.message());
    options.session = context.session_options;
    SN_ASSIGN_OR_RETURN(std::unique_ptr<stream::Detector> detector,
                        stream::Detector::Open(context.version_dir + "/" + file, options));
    return std::shared_ptr<const server::ModelBackend>(
        std::make_shared<DetectorModel>(std::move(detector)));
  };
}

}  // namespace supernova::tools

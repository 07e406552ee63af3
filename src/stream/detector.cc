#include "stream/detector.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

namespace supernova::stream {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Image `b` of a batched output, as a [1, ...] view that shares the output's memory.
Tensor Slice(const Tensor& t, int64_t b) {
  Shape shape = t.shape();
  const int64_t n = shape[0];
  shape[0] = 1;
  const size_t bytes = t.nbytes() / static_cast<size_t>(n);
  auto* base = static_cast<char*>(const_cast<void*>(t.raw_data()));
  return Tensor::Wrap(t.dtype(), shape, base + static_cast<size_t>(b) * bytes, nullptr);
}

// Rank-3 outputs [n, N, k] paired by N in order of appearance: box deltas (the wider) and
// scores; heads of one SSD (BlazeFace has two) concatenated along N.
Status ConcatSsdHeads(const std::vector<Tensor>& outputs, int64_t image, Tensor* deltas,
                      Tensor* scores) {
  std::vector<std::pair<Tensor, Tensor>> heads;  // (deltas, scores)
  std::vector<bool> used(outputs.size(), false);
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (used[i] || outputs[i].rank() != 3) continue;
    for (size_t j = i + 1; j < outputs.size(); ++j) {
      if (used[j] || outputs[j].rank() != 3 || outputs[j].dim(1) != outputs[i].dim(1)) continue;
      used[i] = used[j] = true;
      const bool i_wider = outputs[i].dim(2) > outputs[j].dim(2);
      heads.emplace_back(Slice(outputs[i_wider ? i : j], image),
                         Slice(outputs[i_wider ? j : i], image));
      break;
    }
  }
  if (heads.empty())
    return Status::InvalidArgument(
        "an SSD model needs rank-3 outputs in pairs: box deltas [1, N, 4+] and scores [1, N, C]");
  int64_t n = 0;
  const int64_t fields = heads[0].first.dim(2), classes = heads[0].second.dim(2);
  for (const auto& [d, s] : heads) {
    if (d.dim(2) != fields || s.dim(2) != classes || d.dtype() != DataType::kFloat32 ||
        s.dtype() != DataType::kFloat32)
      return Status::InvalidArgument("the SSD heads' box and score outputs differ in layout");
    n += d.dim(1);
  }
  *deltas = Tensor(DataType::kFloat32, {1, n, fields});
  *scores = Tensor(DataType::kFloat32, {1, n, classes});
  float* dd = deltas->data<float>();
  float* sd = scores->data<float>();
  for (const auto& [d, s] : heads) {
    std::memcpy(dd, d.data<float>(), d.nbytes());
    std::memcpy(sd, s.data<float>(), s.nbytes());
    dd += d.numel();
    sd += s.numel();
  }
  return Status::Ok();
}

}  // namespace

Result<DecoderKind> ParseDecoderKind(const std::string& name) {
  for (DecoderKind k : {DecoderKind::kAuto, DecoderKind::kYoloV5, DecoderKind::kYoloV8,
                        DecoderKind::kSsd, DecoderKind::kCenterNet})
    if (name == DecoderKindName(k)) return k;
  return Status::InvalidArgument(
      fmt::format("unknown decoder '{}' (expected auto, yolov5, yolov8, ssd or centernet)", name));
}

const char* DecoderKindName(DecoderKind kind) {
  switch (kind) {
    case DecoderKind::kAuto:
      return "auto";
    case DecoderKind::kYoloV5:
      return "yolov5";
    case DecoderKind::kYoloV8:
      return "yolov8";
    case DecoderKind::kSsd:
      return "ssd";
    case DecoderKind::kCenterNet:
      return "centernet";
  }
  return "?";
}

Result<std::unique_ptr<Detector>> Detector::Open(const std::string& model_path,
                                                 DetectorOptions options) {
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Open(model_path, options.session));
  return Init(std::move(session), model_path, std::move(options));
}

Result<std::unique_ptr<Detector>> Detector::OpenBytes(std::string_view model_bytes,
                                                      const std::string& label,
                                                      DetectorOptions options) {
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                      Session::OpenBytes(model_bytes, options.session));
  return Init(std::move(session), label, std::move(options));
}

Result<std::unique_ptr<Detector>> Detector::Init(std::unique_ptr<Session> session,
                                                 const std::string& model_path,
                                                 DetectorOptions options) {
  std::unique_ptr<Detector> d(new Detector());
  d->session_ = std::move(session);
  const auto& inputs = d->session_->inputs();
  std::vector<TensorInfo> outputs;  // the decoder's
  const auto& all_outputs = d->session_->outputs();
  for (const std::string& name : options.feature_outputs)
    if (std::none_of(all_outputs.begin(), all_outputs.end(),
                     [&](const TensorInfo& o) { return o.name == name; }))
      return Status::InvalidArgument(
          fmt::format("{}: the model has no output '{}' to hand back", model_path, name));
  for (size_t i = 0; i < all_outputs.size(); ++i) {
    const auto& f = options.feature_outputs;
    if (std::find(f.begin(), f.end(), all_outputs[i].name) != f.end()) {
      d->featured_.push_back(i);
    } else {
      d->decoded_.push_back(i);
      d->decoded_names_.push_back(all_outputs[i].name);
      outputs.push_back(all_outputs[i]);
    }
  }
  if (options.tail) {
    // A split's tail reads a head's cut tensors: the image it never sees has the size the
    // options give, and CenterNet's layout shows in its box extents ([1, h, w, 4] in NHWC).
    if (options.input_width <= 0 || options.input_height <= 0)
      return Status::InvalidArgument(fmt::format(
          "{}: a split's tail needs the source model's input size (input_width, input_height)",
          model_path));
    d->width_ = options.input_width;
    d->height_ = options.input_height;
    d->nhwc_ = std::any_of(outputs.begin(), outputs.end(), [](const TensorInfo& o) {
      return o.dims.size() == 4 && o.dims[3] == 4 && o.dims[1] != 4;
    });
    d->max_batch_ = 1;
  } else {
    if (inputs.size() != 1 || inputs[0].dims.size() != 4 || inputs[0].dtype != DataType::kFloat32)
      return Status::InvalidArgument(
          fmt::format("{}: a detector takes one float32 image input of rank 4, this model takes {}",
                      model_path, inputs.empty() ? "none" : inputs[0].ToString()));
    const TensorInfo& in = inputs[0];
    d->input_name_ = in.name;
    d->nhwc_ = in.dims[3] == 3;
    if (!d->nhwc_ && in.dims[1] != 3)
      return Status::InvalidArgument(
          fmt::format("{}: the input {} has 3 channels neither second (NCHW) nor last (NHWC)",
                      model_path, in.ToString()));
    const int64_t h = d->nhwc_ ? in.dims[1] : in.dims[2], w = d->nhwc_ ? in.dims[2] : in.dims[3];
    d->height_ = h > 0 ? static_cast<int>(h) : options.input_height;
    d->width_ = w > 0 ? static_cast<int>(w) : options.input_width;
    if (d->width_ <= 0 || d->height_ <= 0)
      return Status::InvalidArgument("the detector's input size must be positive");
    d->max_batch_ = in.dims[0] > 0 ? static_cast<int>(in.dims[0]) : 16;
    if (in.dims[0] > 1)
      return Status::InvalidArgument(fmt::format(
          "{}: a fixed batch of {} is not supported (1 or free)", model_path, in.dims[0]));
  }
  if (options.decoder == DecoderKind::kAuto) {
    auto rank_count = [&](size_t r) {
      return std::count_if(outputs.begin(), outputs.end(),
                           [&](const TensorInfo& o) { return o.dims.size() == r; });
    };
    if (outputs.size() == 1 && outputs[0].dims.size() == 3) {
      const int64_t a = outputs[0].dims[1], b = outputs[0].dims[2];
      // v8: [1, 4 + C, N] with N anchors >> fields; v5: [1, N, 5 + C].
      options.decoder = (a > 0 && b > 0 && a < b) ? DecoderKind::kYoloV8 : DecoderKind::kYoloV5;
    } else if (outputs.size() == 2 && rank_count(4) == 2) {
      options.decoder = DecoderKind::kCenterNet;
    } else if (outputs.size() >= 2 && outputs.size() % 2 == 0 &&
               rank_count(3) == static_cast<long>(outputs.size())) {
      options.decoder = DecoderKind::kSsd;
    } else {
      return Status::InvalidArgument(
          fmt::format("{}: cannot tell the detector's output layout from its {} outputs; name one "
                      "(yolov5, yolov8, ssd, centernet)",
                      model_path, outputs.size()));
    }
  }
  if (options.decoder == DecoderKind::kSsd && options.ssd.anchors.empty())
    return Status::InvalidArgument(
        fmt::format("{}: SSD decoding needs anchors (e.g. --anchors blazeface)", model_path));
  if (!options.scale) {
    switch (options.decoder) {
      case DecoderKind::kCenterNet:
        options.scale = 1.0f;
        break;
      case DecoderKind::kSsd:
        options.scale = 1.0f / 127.5f;
        if (options.mean == std::array<float, 3>{0, 0, 0}) options.mean = {1, 1, 1};
        break;
      default:
        options.scale = 1.0f / 255.0f;
    }
  }
  d->scale_ = *options.scale;
  d->options_ = std::move(options);
  if (d->options_.warmup && !d->options_.tail) {
    // The first run creates oneDNN's primitives (100-300 ms on the ASSETS CenterNet): done
    // here, it is not the first frame's lag; and a decoder that cannot read the model's
    // outputs fails now, not on the first frame.
    auto grey = std::make_shared<Frame>();
    grey->width = d->width_;
    grey->height = d->height_;
    grey->bgr.assign(static_cast<size_t>(d->width_) * d->height_ * 3, 114);
    auto warm = d->Detect({grey});
    if (!warm.ok())
      return Status(warm.status().code(), fmt::format("{}: a first run on a grey frame failed: {}",
                                                      model_path, warm.status().message()));
  }
  return d;
}

std::string Detector::Describe() const {
  return fmt::format("{}, {} {}x{}, batch {}, scale {:g}", DecoderKindName(options_.decoder),
                     nhwc_ ? "nhwc" : "nchw", width_, height_,
                     max_batch_ == 1 ? std::string("1") : fmt::format("up to {}", max_batch_),
                     scale_);
}

// Bilinear resampling of the frame into the input's content area (letterboxed or
// stretched), colour order, scale and normalization in one pass.
Status Detector::Preprocess(const Frame& frame, float* dst, Letterbox* box) const {
  const int sw = frame.width, sh = frame.height;
  if (sw <= 0 || sh <= 0 || frame.bgr.size() != static_cast<size_t>(sw) * sh * 3)
    return Status::InvalidArgument(fmt::format("frame {} has no pixels ({}x{}, {} bytes)",
                                               frame.index, sw, sh, frame.bgr.size()));
  Letterbox lb = Letterbox::Fit(sw, sh, width_, height_);
  float sx = lb.scale, sy = lb.scale;
  if (!options_.letterbox) {
    sx = static_cast<float>(width_) / static_cast<float>(sw);
    sy = static_cast<float>(height_) / static_cast<float>(sh);
    lb.pad_x = lb.pad_y = 0;
  }
  *box = lb;
  float mul[3], add[3];  // per input channel c: pixel * mul + add
  for (int c = 0; c < 3; ++c) {
    mul[c] = scale_ / options_.std[c];
    add[c] = -options_.mean[c] / options_.std[c];
  }
  const int bgr_of[3] = {options_.bgr ? 0 : 2, 1, options_.bgr ? 2 : 0};  // input c -> BGR byte
  // Per column: left source index and weight (or -1 outside the content area).
  std::vector<int> x0(static_cast<size_t>(width_));
  std::vector<float> wx(static_cast<size_t>(width_));
  for (int x = 0; x < width_; ++x) {
    const float fx = (static_cast<float>(x) + 0.5f - lb.pad_x) / sx - 0.5f;
    const bool inside = fx > -1.0f && fx < static_cast<float>(sw);
    const float cx = std::clamp(fx, 0.0f, static_cast<float>(sw - 1));
    x0[x] = inside ? std::min(static_cast<int>(cx), std::max(sw - 2, 0)) : -1;
    wx[x] = inside ? cx - static_cast<float>(x0[x]) : 0;
  }
  const uint8_t* src = frame.bgr.data();
  const size_t plane = static_cast<size_t>(width_) * height_;
  for (int y = 0; y < height_; ++y) {
    const float fy = (static_cast<float>(y) + 0.5f - lb.pad_y) / sy - 0.5f;
    const bool row_inside = fy > -1.0f && fy < static_cast<float>(sh);
    const float cy = std::clamp(fy, 0.0f, static_cast<float>(sh - 1));
    const int y0 = std::min(static_cast<int>(cy), std::max(sh - 2, 0));
    const int y1 = std::min(y0 + 1, sh - 1);
    const float wy = cy - static_cast<float>(y0);
    const uint8_t* r0 = src + static_cast<size_t>(y0) * sw * 3;
    const uint8_t* r1 = src + static_cast<size_t>(y1) * sw * 3;
    for (int x = 0; x < width_; ++x) {
      const size_t at = static_cast<size_t>(y) * width_ + x;
      for (int c = 0; c < 3; ++c) {
        float v = options_.pad_value;
        if (row_inside && x0[x] >= 0) {
          const int xa = x0[x], xb = std::min(xa + 1, sw - 1), b = bgr_of[c];
          const float top = r0[xa * 3 + b] + wx[x] * (r0[xb * 3 + b] - r0[xa * 3 + b]);
          const float bottom = r1[xa * 3 + b] + wx[x] * (r1[xb * 3 + b] - r1[xa * 3 + b]);
          v = top + wy * (bottom - top);
        }
        dst[nhwc_ ? at * 3 + c : c * plane + at] = v * mul[c] + add[c];
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<Detection>> Detector::Decode(const std::vector<Tensor>& outputs,
                                                int64_t image) const {
  switch (options_.decoder) {
    case DecoderKind::kYoloV5:
    case DecoderKind::kYoloV8:
      return DecodeYolo(
          Slice(outputs[0], image),
          options_.decoder == DecoderKind::kYoloV5 ? YoloLayout::kV5 : YoloLayout::kV8,
          options_.score_threshold);
    case DecoderKind::kCenterNet: {
      if (outputs.size() != 2)
        return Status::InvalidArgument("CenterNet decoding needs two outputs (heatmap, extents)");
      // The extents have 4 channels; the heatmap one per class.
      auto channels = [&](const Tensor& t) { return nhwc_ ? t.dim(3) : t.dim(1); };
      const bool second_is_extents = outputs[1].rank() == 4 && channels(outputs[1]) == 4;
      return DecodeCenterNet(Slice(outputs[second_is_extents ? 0 : 1], image),
                             Slice(outputs[second_is_extents ? 1 : 0], image), nhwc_, width_,
                             options_.score_threshold);
    }
    case DecoderKind::kSsd: {
      Tensor deltas, scores;
      SN_RETURN_IF_ERROR(ConcatSsdHeads(outputs, image, &deltas, &scores));
      return DecodeSsd(deltas, scores, options_.ssd, options_.score_threshold);
    }
    case DecoderKind::kAuto:
      break;
  }
  return Status::Internal("detector opened without a decoder");
}

std::vector<Detection> Detector::ToFrame(std::vector<Detection> found, const Letterbox& box,
                                         const Frame& f) const {
  found = NonMaxSuppression(std::move(found), options_.iou_threshold, options_.max_detections);
  return MapToFrame(std::move(found), box, f);
}

std::vector<Detection> Detector::InputToFrame(std::vector<Detection> found,
                                              const Frame& frame) const {
  return MapToFrame(std::move(found), Letterbox::Fit(frame.width, frame.height, width_, height_),
                    frame);
}

Result<std::vector<Detection>> Detector::DetectFeatures(const FrameFeatures& inputs) const {
  if (!options_.tail)
    return Status::InvalidArgument("this detector reads images: DetectFeatures is a tail's");
  std::vector<Tensor> outputs;
  SN_RETURN_IF_ERROR(session_->Run(inputs, &outputs));
  FrameFeatures named;
  for (size_t i = 0; i < outputs.size(); ++i)
    named.emplace_back(session_->outputs()[i].name, std::move(outputs[i]));
  return DecodeOne(named);
}

Result<std::vector<Detection>> Detector::DecodeOne(const FrameFeatures& outputs) const {
  std::vector<Tensor> decoded;
  for (const std::string& name : decoded_names_) {
    auto it = std::find_if(outputs.begin(), outputs.end(),
                           [&](const auto& o) { return o.first == name; });
    if (it == outputs.end())
      return Status::InvalidArgument(fmt::format("the outputs have no '{}'", name));
    const Tensor& t = it->second;
    if (t.rank() == 0 || t.dim(0) != 1 || !t.on_host())
      return Status::InvalidArgument(fmt::format("the output '{}' of shape {} is not one image's",
                                                 name, ShapeToString(t.shape())));
    decoded.push_back(t);
  }
  SN_ASSIGN_OR_RETURN(std::vector<Detection> found, Decode(decoded, 0));
  return NonMaxSuppression(std::move(found), options_.iou_threshold, options_.max_detections);
}

std::vector<Detection> Detector::MapToFrame(std::vector<Detection> found, const Letterbox& box,
                                            const Frame& f) const {
  for (Detection& d : found) {
    if (options_.letterbox) {
      d.box = box.ToSource(d.box, f.width, f.height);
    } else {
      const float kx = static_cast<float>(f.width) / static_cast<float>(width_);
      const float ky = static_cast<float>(f.height) / static_cast<float>(height_);
      d.box = {std::clamp(d.box.x1 * kx, 0.0f, static_cast<float>(f.width)),
               std::clamp(d.box.y1 * ky, 0.0f, static_cast<float>(f.height)),
               std::clamp(d.box.x2 * kx, 0.0f, static_cast<float>(f.width)),
               std::clamp(d.box.y2 * ky, 0.0f, static_cast<float>(f.height))};
    }
  }
  std::erase_if(found,
                [](const Detection& d) { return d.box.width() <= 0 || d.box.height() <= 0; });
  return found;
}

Result<std::vector<Detection>> Detector::DecodeOutputs(const FrameFeatures& outputs,
                                                       const Frame& frame) const {
  if (frame.width <= 0 || frame.height <= 0)
    return Status::InvalidArgument(fmt::format("frame {} has no size", frame.index));
  SN_ASSIGN_OR_RETURN(std::vector<Detection> found, DecodeOne(outputs));
  return InputToFrame(std::move(found), frame);
}

Result<std::vector<std::vector<Detection>>> Detector::Detect(
    const std::vector<FramePtr>& frames, DetectTimes* times,
    std::vector<FrameFeatures>* features) const {
  if (options_.tail)
    return Status::InvalidArgument("a split's tail detects from a head's features, not frames");
  std::vector<std::vector<Detection>> result;
  if (features) features->clear();
  DetectTimes local;
  DetectTimes& t = times ? *times : local;
  t = {};
  for (size_t first = 0; first < frames.size(); first += static_cast<size_t>(max_batch_)) {
    const size_t n = std::min(frames.size() - first, static_cast<size_t>(max_batch_));
    auto start = Clock::now();
    Tensor input(DataType::kFloat32, nhwc_ ? Shape{static_cast<int64_t>(n), height_, width_, 3}
                                           : Shape{static_cast<int64_t>(n), 3, height_, width_});
    const size_t per_image = static_cast<size_t>(width_) * height_ * 3;
    std::vector<Letterbox> boxes(n);
    for (size_t i = 0; i < n; ++i) {
      if (!frames[first + i]) return Status::InvalidArgument("Detect() got a null frame");
      SN_RETURN_IF_ERROR(
          Preprocess(*frames[first + i], input.data<float>() + i * per_image, &boxes[i]));
    }
    t.preprocess += Since(start);
    start = Clock::now();
    std::vector<Tensor> outputs;
    SN_RETURN_IF_ERROR(session_->Run({{input_name_, input}}, &outputs));
    t.inference += Since(start);
    start = Clock::now();
    std::vector<Tensor> decoded;
    for (size_t i : decoded_) decoded.push_back(outputs[i]);
    for (const Tensor& o : decoded)
      if (o.rank() == 0 || o.dim(0) != static_cast<int64_t>(n) || !o.on_host())
        return Status::InvalidArgument(
            fmt::format("a detector output of shape {} does not have the batch of {} first",
                        ShapeToString(o.shape()), n));
    for (size_t i = 0; i < n; ++i) {
      SN_ASSIGN_OR_RETURN(std::vector<Detection> found, Decode(decoded, static_cast<int64_t>(i)));
      result.push_back(ToFrame(std::move(found), boxes[i], *frames[first + i]));
      if (!features) continue;
      // Each frame's own: a batched feature is cut to its row (copied, as the run's outputs
      // go with this call); a scalar (the int8 codec's scale and zero point) is the batch's.
      FrameFeatures mine;
      for (size_t k : featured_) {
        const Tensor& o = outputs[k];
        const bool batched = o.rank() > 0 && o.dim(0) == static_cast<int64_t>(n);
        mine.emplace_back(session_->outputs()[k].name,
                          n == 1 || !batched ? o : Slice(o, static_cast<int64_t>(i)).Clone());
      }
      features->push_back(std::move(mine));
    }
    t.postprocess += Since(start);
    t.batch = std::max(t.batch, static_cast<int>(n));
  }
  return result;
}

}  // namespace supernova::stream

#include <stb/stb_image.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "supernova/tensor_io.h"

namespace supernova::tools {

Result<Tensor> ReadImage(const std::string& path, const ImageOptions& o) {
  int w = 0, h = 0, channels = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> pixels(
      stbi_load(path.c_str(), &w, &h, &channels, 3), stbi_image_free);
  if (!pixels) {
    const char* why = stbi_failure_reason();
    return Status::InvalidArgument("cannot decode image " + path + ": " +
                                   (why ? why : "unknown format"));
  }
  const int oh = o.height > 0 ? o.height : h;
  const int ow = o.width > 0 ? o.width : w;
  if (o.dtype != DataType::kFloat32 &&
      !(o.dtype == DataType::kUint8 && o.norm == Normalization::kRaw))
    return Status::Unimplemented("image inputs must be float32 (or uint8 with raw preprocessing)");
  static constexpr float kMean[3] = {0.485f, 0.456f, 0.406f};
  static constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};
  Shape shape = o.nchw ? Shape{1, 3, oh, ow} : Shape{1, oh, ow, 3};
  Tensor t(o.dtype, shape);
  const unsigned char* src = pixels.get();
  // Bilinear resize with pixel centres aligned (half-pixel), then normalisation.
  const float sy = static_cast<float>(h) / oh, sx = static_cast<float>(ow > 0 ? w : 1) / ow;
  for (int y = 0; y < oh; ++y) {
    float fy = std::max(0.0f, (y + 0.5f) * sy - 0.5f);
    int y0 = std::min(static_cast<int>(fy), h - 1), y1 = std::min(y0 + 1, h - 1);
    float wy = fy - y0;
    for (int x = 0; x < ow; ++x) {
      float fx = std::max(0.0f, (x + 0.5f) * sx - 0.5f);
      int x0 = std::min(static_cast<int>(fx), w - 1), x1 = std::min(x0 + 1, w - 1);
      float wx = fx - x0;
      for (int c = 0; c < 3; ++c) {
        const int sc = o.bgr ? 2 - c : c;
        auto px = [&](int yy, int xx) { return static_cast<float>(src[(yy * w + xx) * 3 + sc]); };
        float v = (1 - wy) * ((1 - wx) * px(y0, x0) + wx * px(y0, x1)) +
                  wy * ((1 - wx) * px(y1, x0) + wx * px(y1, x1));
        const int mc = o.bgr ? 2 - c : c;  // ImageNet statistics are per RGB channel
        switch (o.norm) {
          case Normalization::kRaw:
            break;
          case Normalization::kUnit:
            v /= 255.0f;
            break;
          case Normalization::kSigned:
            v = v / 127.5f - 1.0f;
            break;
          case Normalization::kImageNet:
            v = (v / 255.0f - kMean[mc]) / kStd[mc];
            break;
          case Normalization::kPaddle:
            v = (v / 255.0f - 0.5f) / 0.5f;
            break;
        }
        const int64_t idx = o.nchw ? (int64_t{c} * oh + y) * ow + x : (int64_t{y} * ow + x) * 3 + c;
        if (o.dtype == DataType::kUint8)
          t.data<uint8_t>()[idx] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 255.0f)));
        else
          t.data<float>()[idx] = v;
      }
    }
  }
  return t;
}

}  // namespace supernova::tools

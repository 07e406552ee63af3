#include <stb/stb_image.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>

#include "ir/tensor_proto.h"
#include "supernova/tensor_io.h"

namespace supernova::tools {
namespace {

// Images come from users and, through learn's server endpoints, from the network: a few
// hundred bytes of PNG header can claim a gigapixel. Refuse before stb allocates for it.
constexpr int kMaxImageSide = 16384;

Status Undecodable(const std::string& what) {
  const char* why = stbi_failure_reason();
  return Status::InvalidArgument("cannot decode image " + what + ": " +
                                 (why ? why : "unknown format"));
}

uint32_t GetLe(std::string_view bytes, size_t at, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

// stb fills what a truncated binary PNM, uncompressed BMP or TGA lacks with zeros, so a header of
// 14 bytes could claim 16384 x 16384 pixels and cost 800 MB and seconds to decode (found by
// fuzzing). Those formats store every pixel, or (RLE TGA) at most 128 in a packet: a file
// shorter than its pixels need is refused.
Status CheckUncompressedSize(std::string_view bytes, int w, int h, const std::string& what) {
  const uint64_t pixels = static_cast<uint64_t>(w) * static_cast<uint64_t>(h);
  uint64_t needed = 0;
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '6')) {
    needed = pixels * (bytes[1] == '5' ? 1 : 3);  // at least a byte per sample
  } else if (bytes.size() >= 34 && bytes[0] == 'B' && bytes[1] == 'M' &&
             GetLe(bytes, 14, 4) >= 40) {  // BITMAPINFOHEADER or later: bpp at 28, compression 30
    const uint32_t bpp = GetLe(bytes, 28, 2), compression = GetLe(bytes, 30, 4);
    if (compression == 0 || compression == 3)  // BI_RGB, BI_BITFIELDS: rows of 4-byte units
      needed = (static_cast<uint64_t>(w) * bpp + 31) / 32 * 4 * static_cast<uint64_t>(h);
  } else if (bytes.size() >= 17 && bytes[0] != 'B' && static_cast<unsigned char>(bytes[1]) <= 1 &&
             (bytes[2] & 7) >= 1 && (bytes[2] & 7) <= 3 && (bytes[2] & ~11) == 0) {
    // TGA, which has no magic (stb tries it last, so no other format's magic is here): image
    // types 1-3 store every pixel; 9-11 are run-length coded, at most 128 pixels a packet of a
    // count byte and one pixel. Bits per pixel at 16.
    const uint64_t pixel_bytes = (static_cast<unsigned char>(bytes[16]) + 7u) / 8u;
    needed = bytes[2] & 8 ? (pixels + 127) / 128 * (1 + pixel_bytes) : pixels * pixel_bytes;
  }
  if (needed > bytes.size())
    return Status::InvalidArgument("image " + what + " is " + std::to_string(w) + "x" +
                                   std::to_string(h) + " but its " + std::to_string(bytes.size()) +
                                   " bytes cannot hold the pixels: truncated");
  return Status::Ok();
}

}  // namespace

Result<RgbImage> DecodeImage(std::string_view bytes, const std::string& what) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return Status::InvalidArgument("cannot decode image " + what + ": over 2 GiB");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(data, length, &w, &h, &channels)) return Undecodable(what);
  auto bad_size = [&] {
    const std::string size = std::to_string(w) + "x" + std::to_string(h);
    // stb accepts a PPM header of width or height 0 (found by fuzzing): no pixels to make a
    // tensor of, and no buffer to copy from.
    if (w <= 0 || h <= 0)
      return Status::InvalidArgument("image " + what + " is " + size + ": no pixels");
    return Status::InvalidArgument("image " + what + " is " + size + ", over " +
                                   std::to_string(kMaxImageSide) + " pixels a side");
  };
  auto size_ok = [&] { return w > 0 && h > 0 && w <= kMaxImageSide && h <= kMaxImageSide; };
  if (!size_ok()) return bad_size();
  SN_RETURN_IF_ERROR(CheckUncompressedSize(bytes, w, h, what));
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(data, length, &w, &h, &channels, 3), stbi_image_free);
  if (!pixels) return Undecodable(what);
  if (!size_ok()) return bad_size();  // header and data disagreed
  RgbImage image;
  image.width = w;
  image.height = h;
  image.pixels.resize(static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
  std::memcpy(image.pixels.data(), pixels.get(), image.pixels.size());
  return image;
}

Result<Tensor> ImageToTensor(const uint8_t* src, int w, int h, size_t stride,
                             const ImageOptions& o) {
  if (w <= 0 || h <= 0 || stride < static_cast<size_t>(w) * 3)
    return Status::InvalidArgument("image of " + std::to_string(w) + "x" + std::to_string(h) +
                                   " pixels with a row stride of " + std::to_string(stride) +
                                   " bytes");
  const int oh = o.height > 0 ? o.height : h;
  const int ow = o.width > 0 ? o.width : w;
  if (o.dtype != DataType::kFloat32 &&
      !(o.dtype == DataType::kUint8 && o.norm == Normalization::kRaw))
    return Status::Unimplemented("image inputs must be float32 (or uint8 with raw preprocessing)");
  static constexpr float kMean[3] = {0.485f, 0.456f, 0.406f};
  static constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};
  Shape shape = o.nchw ? Shape{1, 3, oh, ow} : Shape{1, oh, ow, 3};
  Tensor t(o.dtype, shape);
  // Bilinear resize with pixel centres aligned (half-pixel), then normalisation.
  const float sy = static_cast<float>(h) / oh, sx = static_cast<float>(w) / ow;
  for (int y = 0; y < oh; ++y) {
    float fy = std::max(0.0f, (y + 0.5f) * sy - 0.5f);
    int y0 = std::min(static_cast<int>(fy), h - 1), y1 = std::min(y0 + 1, h - 1);
    float wy = fy - y0;
    const uint8_t* row0 = src + static_cast<size_t>(y0) * stride;
    const uint8_t* row1 = src + static_cast<size_t>(y1) * stride;
    for (int x = 0; x < ow; ++x) {
      float fx = std::max(0.0f, (x + 0.5f) * sx - 0.5f);
      int x0 = std::min(static_cast<int>(fx), w - 1), x1 = std::min(x0 + 1, w - 1);
      float wx = fx - x0;
      for (int c = 0; c < 3; ++c) {
        const int sc = o.bgr ? 2 - c : c;
        auto px = [&](const uint8_t* row, int xx) { return static_cast<float>(row[xx * 3 + sc]); };
        float v = (1 - wy) * ((1 - wx) * px(row0, x0) + wx * px(row0, x1)) +
                  wy * ((1 - wx) * px(row1, x0) + wx * px(row1, x1));
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

Result<Tensor> ReadImage(const std::string& path, const ImageOptions& o) {
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ReadFileBytes(path));
  SN_ASSIGN_OR_RETURN(RgbImage image, DecodeImage(bytes, path));
  return ImageToTensor(image.pixels.data(), image.width, image.height,
                       static_cast<size_t>(image.width) * 3, o);
}

}  // namespace supernova::tools

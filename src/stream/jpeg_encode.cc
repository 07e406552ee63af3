#include "stream/jpeg_encode.h"

#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace supernova::stream {

namespace {

void Append(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                             static_cast<size_t>(size));
}

}  // namespace

Result<EncodedImage> EncodeJpeg(const Frame& frame, int quality, int max_side) {
  if (quality < 1 || quality > 100)
    return Status::InvalidArgument("JPEG quality " + std::to_string(quality) + " is not in 1..100");
  const size_t pixels = static_cast<size_t>(frame.width) * static_cast<size_t>(frame.height);
  if (frame.width <= 0 || frame.height <= 0 || frame.bgr.size() != pixels * 3)
    return Status::InvalidArgument("frame " + std::to_string(frame.index) + " has no " +
                                   std::to_string(frame.width) + "x" +
                                   std::to_string(frame.height) + " BGR pixels");
  // stb writes RGB; the frame is BGR.
  std::vector<uint8_t> rgb(frame.bgr.size());
  for (size_t i = 0; i < frame.bgr.size(); i += 3) {
    rgb[i] = frame.bgr[i + 2];
    rgb[i + 1] = frame.bgr[i + 1];
    rgb[i + 2] = frame.bgr[i];
  }
  EncodedImage out;
  out.width = frame.width;
  out.height = frame.height;
  const int longer = std::max(frame.width, frame.height);
  if (max_side > 0 && longer > max_side) {
    const double s = static_cast<double>(max_side) / longer;
    out.width = std::max(1, static_cast<int>(std::lround(frame.width * s)));
    out.height = std::max(1, static_cast<int>(std::lround(frame.height * s)));
    std::vector<uint8_t> small(static_cast<size_t>(out.width) * out.height * 3);
    if (!stbir_resize_uint8(rgb.data(), frame.width, frame.height, 0, small.data(), out.width,
                            out.height, 0, 3))
      return Status::Internal("resizing frame " + std::to_string(frame.index) + " failed");
    rgb = std::move(small);
    out.scale_x = static_cast<double>(out.width) / frame.width;
    out.scale_y = static_cast<double>(out.height) / frame.height;
  }
  if (!stbi_write_jpg_to_func(Append, &out.bytes, out.width, out.height, 3, rgb.data(), quality))
    return Status::Internal("JPEG encoding of frame " + std::to_string(frame.index) + " failed");
  return out;
}

}  // namespace supernova::stream

// Image decoding as `supernova run --preprocess` does it (tools/supernova/tensor_io.h):
// DecodeImage on the file's bytes, then ImageToTensor to the model input's layout, size,
// normalisation and dtype. The server's learn and detector endpoints decode client images
// with the same DecodeImage.
//
// The input's first byte picks the options (an option set per byte value, so that the
// mutator explores them with the image); the image is the bytes after it:
//   bits 0-2   normalisation (value mod 5: raw, unit, signed, imagenet, paddle)
//   bit 3      BGR channel order
//   bit 4      NHWC instead of NCHW
//   bits 5-6   target size: the image's own (a dynamic model without --size), 224x224, 1x1,
//              7x3
//   bit 7      uint8 output (valid with raw normalisation only, as for a uint8 model input)

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "supernova/tensor_io.h"

namespace {

volatile float sink;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace st = supernova::tools;
  if (size < 1) return 0;
  const uint8_t b = data[0];
  st::ImageOptions o;
  static constexpr st::Normalization kNorms[] = {
      st::Normalization::kRaw, st::Normalization::kUnit, st::Normalization::kSigned,
      st::Normalization::kImageNet, st::Normalization::kPaddle};
  o.norm = kNorms[(b & 7) % 5];
  o.bgr = b & 8;
  o.nchw = !(b & 16);
  static constexpr int kSizes[4][2] = {{0, 0}, {224, 224}, {1, 1}, {7, 3}};
  o.height = kSizes[(b >> 5) & 3][0];
  o.width = kSizes[(b >> 5) & 3][1];
  o.dtype = (b & 128) ? supernova::DataType::kUint8 : supernova::DataType::kFloat32;

  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto image = st::DecodeImage(bytes, "fuzz");
  if (!image.ok()) return 0;
  auto tensor = st::ImageToTensor(image->pixels.data(), image->width, image->height,
                                  static_cast<size_t>(image->width) * 3, o);
  if (!tensor.ok()) return 0;
  // Every element written: read them all (MSan-free trees still catch a short buffer).
  const auto* p = static_cast<const unsigned char*>(tensor->raw_data());
  unsigned sum = 0;
  for (size_t i = 0; i < tensor->nbytes(); ++i) sum += p[i];
  sink = static_cast<float>(sum);
  return 0;
}

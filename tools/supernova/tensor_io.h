// Reading and writing tensors for the command line: ONNX TensorProto (.pb), NumPy (.npy)
// and images (decoded with stb_image, resized and normalised for a model input).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "supernova/session.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::tools {

Result<Tensor> ReadNpy(const std::string& path);
Status WriteNpy(const std::string& path, const Tensor& t);

enum class Normalization {
  kRaw,       // 0..255
  kUnit,      // 0..1
  kSigned,    // -1..1
  kImageNet,  // (x/255 - mean) / std with ImageNet's mean and std
  kPaddle,    // (x/255 - 0.5) / 0.5
};
Result<Normalization> ParseNormalization(const std::string& name);

struct ImageOptions {
  Normalization norm = Normalization::kUnit;
  bool bgr = false;  // channel order BGR instead of RGB
  bool nchw = true;  // layout [1,3,H,W]; false: [1,H,W,3]
  int height = 0;    // target size; 0 keeps the image's own
  int width = 0;
  DataType dtype = DataType::kFloat32;  // float32 or uint8 (raw only)
};
// Decodes PNG/JPEG/BMP/PPM/TGA/GIF and resizes (bilinear) to the target size.
Result<Tensor> ReadImage(const std::string& path, const ImageOptions& options);

bool LooksLikeImage(const std::string& path);

// 8-bit RGB pixels, rows packed.
struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // height * width * 3
};
// Decodes an encoded image in memory (PNG, JPEG, BMP, ...); `what` names it in errors.
Result<RgbImage> DecodeImage(std::string_view bytes, const std::string& what);
// The tensor ReadImage would make of these pixels: resized and normalised as `options` say.
// `stride` is the bytes from one row to the next (width * 3 when packed).
Result<Tensor> ImageToTensor(const uint8_t* rgb, int width, int height, size_t stride,
                             const ImageOptions& options);

// How `run` and `compress` read an input file: --preprocess (raw, unit, signed, imagenet,
// paddle; required for images), --size HxW for image inputs whose model size is dynamic,
// --bgr for BGR channel order.
struct InputOptions {
  std::string preprocess;
  std::string size;
  bool bgr = false;
};
// Reads one input of the model described by `info` from a .pb TensorProto, a .npy file or an
// image (decoded, resized to the input's size and normalised as `options` say).
Result<Tensor> LoadInputFile(const std::string& file, const TensorInfo& info,
                             const InputOptions& options);
// How LoadInputFile makes an image into the input `info`: the layout (NCHW or NHWC), size
// (the model's, or --size), dtype and normalisation. Fails as LoadInputFile does (no
// --preprocess, not a 4-D 3-channel input, a --size that contradicts the model).
Result<ImageOptions> ImageOptionsFor(const TensorInfo& info, const InputOptions& options);

// The model inputs that `--input` specs name ("NAME=FILE", or "FILE" alone for a one-input
// model), each with its file, in the order given. Fails on an unknown name, or when some input
// of `infos` is left without a value.
struct InputSpec {
  const TensorInfo* info;
  std::string file;
};
Result<std::vector<InputSpec>> MatchInputSpecs(const std::vector<std::string>& specs,
                                               const std::vector<TensorInfo>& infos);

}  // namespace supernova::tools

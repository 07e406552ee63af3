// What the backends of supernova-serve's own platforms (supernova_detector, supernova_classifier)
// share: config parameters read as typed values, and encoded images checked before they are
// decoded. Every parameter is a string in the config, as Triton's are.
#pragma once

#include <charconv>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model_config.pb.h"
#include "server/backend.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::tools {

// Each parameter's reader stores its value where the backend wants it.
using ParameterReader = std::function<Status(const std::string& key, const std::string& text)>;
using ParameterReaders = std::vector<std::pair<std::string, ParameterReader>>;

// The whole of `text` as one number.
template <typename T>
bool ParseWhole(std::string_view text, T* v) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *v);
  return ec == std::errc() && end == text.data() + text.size();
}

Status NotANumber(const std::string& key, const std::string& text);

template <typename T>
ParameterReader Number(T* v) {
  return [v](const std::string& key, const std::string& text) {
    return ParseWhole(text, v) ? Status::Ok() : NotANumber(key, text);
  };
}
ParameterReader Text(std::string* v);
// "a,b,c": one value per colour channel.
ParameterReader Triple(std::vector<float>* v);
// "true" or "false"; `negate` stores the opposite.
ParameterReader Bool(bool* v, bool negate = false);

// Gives each of the config's parameters to its reader. num_threads and optimization are the
// server's (already in the backend's session options); any other unknown key fails, naming the
// known ones.
Status ReadParameters(const inference::ModelConfig& config, const ParameterReaders& readers);

// Fails unless the config's max_batch_size is 0, saying why the platform (`why`) needs it.
Status RequireNoBatching(const inference::ModelConfig& config, std::string_view why);

// A model file named by a parameter stays in the version's directory: a name, not a path.
Status CheckFileName(const std::string& key, const std::string& file);
// `path` when it resolves inside the backend's model repository (following symlinks), else
// the refusal that says which `what` leads outside it.
Result<std::string> InsideRepository(const server::BackendContext& context, const std::string& path,
                                     const std::string& what);

// The bytes of the feed `name`, which must be one BYTES element (an encoded image); they live as
// long as `feeds`.
Result<std::string_view> OneBytesElement(const std::vector<std::pair<std::string, Tensor>>& feeds,
                                         const std::string& name);

// A bound on what one request may make the server allocate: 8192 x 8192 is 64 Mpixel, 192 MiB
// of RGB, checked from the image's header before its pixels are decoded.
inline constexpr int kMaxImageSide = 8192;
// Fails unless `bytes` are a JPEG, PNG or BMP whose header reads and whose sides are within
// kMaxImageSide; `what` names them in the message ("input IMAGE").
Status CheckEncodedImage(std::string_view bytes, const std::string& what);
// The error for an image whose decoded size disagrees with its header's bound.
Status ImageTooLarge(const std::string& what, int width, int height);

}  // namespace supernova::tools

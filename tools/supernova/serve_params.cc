#include "serve_params.h"

#include <fmt/format.h>
#include <stb/stb_image.h>

#include <algorithm>
#include <climits>

#include "server/model_config.h"
#include "server/model_repository.h"

namespace supernova::tools {

Status NotANumber(const std::string& key, const std::string& text) {
  return Status::InvalidArgument(fmt::format("parameter {} must be a number, not '{}'", key, text));
}

ParameterReader Text(std::string* v) {
  return [v](const std::string&, const std::string& text) {
    *v = text;
    return Status::Ok();
  };
}

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

ParameterReader Bool(bool* v, bool negate) {
  return [v, negate](const std::string& key, const std::string& text) {
    if (text != "true" && text != "false")
      return Status::InvalidArgument(
          fmt::format("parameter {} must be true or false, not '{}'", key, text));
    *v = (text == "true") != negate;
    return Status::Ok();
  };
}

Status ReadParameters(const inference::ModelConfig& config, const ParameterReaders& readers) {
  for (const auto& [key, p] : config.parameters()) {
    // The server's own, already in the backend's SessionOptions.
    if (key == "num_threads" || key == "optimization" || key == "max_run_bytes") continue;
    auto it =
        std::find_if(readers.begin(), readers.end(), [&](const auto& r) { return r.first == key; });
    if (it == readers.end()) {
      std::string known;
      for (const auto& r : readers) known += r.first + ", ";
      return Status::InvalidArgument("unknown parameter '" + key + "' (known: " + known +
                                     "num_threads, optimization, max_run_bytes)");
    }
    SN_RETURN_IF_ERROR(it->second(key, p.string_value()));
  }
  return Status::Ok();
}

Status RequireNoBatching(const inference::ModelConfig& config, std::string_view why) {
  if (config.max_batch_size() == 0) return Status::Ok();
  return Status::InvalidArgument(fmt::format("platform {} {}: max_batch_size must be 0, not {}",
                                             config.platform(), why, config.max_batch_size()));
}

Status CheckFileName(const std::string& key, const std::string& file) {
  if (!server::ValidFileName(file))
    return Status::InvalidArgument(
        "parameter " + key + " must name a file of the version's directory, not '" + file + "'");
  return Status::Ok();
}

Result<std::string> InsideRepository(const server::BackendContext& context, const std::string& path,
                                     const std::string& what) {
  SN_RETURN_IF_ERROR(server::CheckInsideRepository(context.repository, path, what));
  return path;
}

Result<std::string_view> OneBytesElement(const std::vector<std::pair<std::string, Tensor>>& feeds,
                                         const std::string& name) {
  for (const auto& [n, t] : feeds)
    if (n == name && t.dtype() == DataType::kString && t.numel() == 1)
      return std::string_view(t.data<std::string>()[0]);
  return Status::InvalidArgument(
      fmt::format("input {} must be one BYTES element: an encoded image", name));
}

namespace {

// Only the formats an edge client sends: stb_image also guesses at headerless formats (TGA),
// which would take arbitrary bytes for an image.
bool LooksLikeJpegPngOrBmp(std::string_view b) {
  auto starts = [&](std::string_view magic) { return b.substr(0, magic.size()) == magic; };
  return starts("\xFF\xD8\xFF") || starts("\x89PNG\r\n\x1A\n") || starts("BM");
}

}  // namespace

Status ImageTooLarge(const std::string& what, int width, int height) {
  return Status::InvalidArgument(
      fmt::format("{}: the image is {}x{}, over the bound of {} "
                  "pixels a side",
                  what, width, height, kMaxImageSide));
}

Status CheckEncodedImage(std::string_view bytes, const std::string& what) {
  if (!LooksLikeJpegPngOrBmp(bytes))
    return Status::InvalidArgument(
        fmt::format("{}: the {} bytes are not a JPEG, PNG or BMP image", what, bytes.size()));
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return Status::InvalidArgument(fmt::format("{}: over 2 GiB", what));
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()),
                             static_cast<int>(bytes.size()), &w, &h, &channels)) {
    const char* why = stbi_failure_reason();
    return Status::InvalidArgument(
        fmt::format("{}: cannot read the image's header: {}", what, why ? why : "unknown reason"));
  }
  if (w > kMaxImageSide || h > kMaxImageSide) return ImageTooLarge(what, w, h);
  return Status::Ok();
}

}  // namespace supernova::tools

#include "serve_video.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <string>

#include "stream/video_plugin.h"
#include "supernova/session.h"
#include "supernova/version.h"

namespace supernova::tools {

Result<stream::SourceOpener> LoadVideoSources(const stream::SourceOptions& options) {
  const std::string path = PluginDirectory() + "/" + stream::kVideoPluginFile;
  // Never closed: the sources it opens live as long as the streams.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr)
    return Status::Unavailable(
        fmt::format("the video plugin {} cannot be loaded: {}", path, dlerror()));
  auto entry =
      reinterpret_cast<stream::VideoPluginEntry>(dlsym(handle, stream::kVideoPluginSymbol));
  if (entry == nullptr)
    return Status::Unavailable(
        fmt::format("{} has no entry point {}", path, stream::kVideoPluginSymbol));
  const stream::VideoPlugin* plugin = entry();
  if (plugin == nullptr || plugin->abi != stream::kVideoPluginAbi ||
      std::string(plugin->runtime_version) != SUPERNOVA_VERSION || plugin->open == nullptr)
    return Status::Unavailable(fmt::format(
        "{} was built for another runtime (plugin ABI {}, version {}; this is ABI {}, {})", path,
        plugin ? plugin->abi : -1, plugin ? plugin->runtime_version : "?", stream::kVideoPluginAbi,
        SUPERNOVA_VERSION));
  return stream::SourceOpener(
      [plugin, options](const std::string& url) { return plugin->open(url, options); });
}

}  // namespace supernova::tools

// The entry point of supernova_video.so (stream/video_plugin.h): the one exported symbol.
#include "stream/video_plugin.h"
#include "supernova/version.h"

namespace {

const supernova::stream::VideoPlugin kPlugin = {
    supernova::stream::kVideoPluginAbi, SUPERNOVA_VERSION,
    [](const std::string& url, const supernova::stream::SourceOptions& options) {
      return supernova::stream::OpenVideoFrameSource(url, options);
    }};

}  // namespace

extern "C" __attribute__((visibility("default"))) const supernova::stream::VideoPlugin*
SupernovaVideoPlugin() {
  // FFmpeg's errors only on stderr, as `supernova stream` without --verbose.
  static const bool quiet = (supernova::stream::SetFfmpegLogging(false), true);
  (void)quiet;
  return &kPlugin;
}

// The video sources as a plugin: supernova_video.so in the plugin directory beside libsupernova
// (build/lib/supernova; <libdir>/supernova installed). A program whose video is optional
// (`supernova serve`, whose streams are) opens it only when it reads video, so that it maps
// FFmpeg and its codecs' hundred-odd shared objects only then (docs/footprint.md). A program
// that always reads video (`supernova stream`) links the video layer and calls
// OpenVideoFrameSource directly.
//
//   void* h = dlopen(dir + "/supernova_video.so", RTLD_NOW | RTLD_LOCAL);
//   auto entry = reinterpret_cast<VideoPluginEntry>(dlsym(h, kVideoPluginSymbol));
//   const VideoPlugin* p = entry();   // check p->abi and p->runtime_version, then p->open(...)
#pragma once

#include <string>

#include "stream/frame_source.h"
#include "stream/video_source.h"
#include "supernova/status.h"

namespace supernova::stream {

// Opens `url` as VideoSource::Open does and wraps it for the pipeline (VideoFrameSource; a file
// played in real time counts as live).
Result<OpenedSource> OpenVideoFrameSource(const std::string& url, const SourceOptions& options);

// Bumped when VideoPlugin or the types it passes change.
inline constexpr int kVideoPluginAbi = 1;
inline constexpr char kVideoPluginFile[] = "supernova_video.so";
inline constexpr char kVideoPluginSymbol[] = "SupernovaVideoPlugin";

struct VideoPlugin {
  int abi;                      // kVideoPluginAbi of the plugin's build
  const char* runtime_version;  // SUPERNOVA_VERSION of the plugin's build
  Result<OpenedSource> (*open)(const std::string& url, const SourceOptions& options);
};
using VideoPluginEntry = const VideoPlugin* (*)();

}  // namespace supernova::stream

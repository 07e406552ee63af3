// The video sources of `supernova serve`'s streams, from the video plugin
// (stream/video_plugin.h): opened only when the server runs streams, so that an idle server maps
// none of FFmpeg.
#pragma once

#include "stream/frame_source.h"
#include "stream/video_source.h"
#include "supernova/status.h"

namespace supernova::tools {

// Opens supernova_video.so from the plugin directory beside libsupernova and checks that it
// was built with this runtime; the opener it returns opens every source with `options`.
// kUnavailable, naming the file and the reason, when the plugin is missing or does not fit.
Result<stream::SourceOpener> LoadVideoSources(const stream::SourceOptions& options);

}  // namespace supernova::tools

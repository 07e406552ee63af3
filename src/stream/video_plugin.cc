#include "stream/video_plugin.h"

#include <memory>
#include <utility>

namespace supernova::stream {

Result<OpenedSource> OpenVideoFrameSource(const std::string& url, const SourceOptions& options) {
  SN_ASSIGN_OR_RETURN(std::unique_ptr<VideoSource> video, VideoSource::Open(url, options));
  OpenedSource opened;
  opened.url = video->url();
  opened.width = video->width();
  opened.height = video->height();
  opened.frame_rate = video->frame_rate();
  opened.source = std::make_unique<VideoFrameSource>(std::move(video), options.realtime);
  return opened;
}

}  // namespace supernova::stream

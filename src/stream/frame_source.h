// Where a stream's frames come from: a video source (VideoFrameSource, stream/video_source.h)
// or frames made by a test. The pipeline (stream/pipeline.h) reads one per stream.
// A SourceOpener makes one from a URL; the video plugin (stream/video_plugin.h) gives one to a
// program that should not map FFmpeg until it reads video.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "stream/frame.h"
#include "supernova/status.h"

namespace supernova::stream {

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Blocks for the next frame; OutOfRange at the end of the stream, another error when it is
  // lost for good (a live source reconnects inside Read and does not fail meanwhile).
  virtual Result<FramePtr> Read() = 0;
  // Any thread: unblocks a Read in progress, which then fails.
  virtual void Close() = 0;
  // A live source does not wait for the pipeline: frames it delivers while the worker is
  // behind pile up (and the oldest are dropped past a bound). A source that is not live (a
  // file read as fast as it decodes) is held back instead, so no frame is lost.
  virtual bool live() const = 0;
  virtual int64_t reconnects() const { return 0; }
};

// A source opened from what a user wrote (a file, an RTSP URL, a camera), with what is known of
// it once open.
struct OpenedSource {
  std::unique_ptr<FrameSource> source;
  std::string url;  // as given, credentials redacted
  int width = 0, height = 0;
  double frame_rate = 0;  // 0 when the source does not say
};
// How a program opens sources: stream/video_plugin.h's, directly or from the video plugin.
using SourceOpener = std::function<Result<OpenedSource>(const std::string& url)>;

}  // namespace supernova::stream

// Where a stream's frames come from: a video source (VideoFrameSource, stream/video_source.h)
// or frames made by a test. The pipeline (stream/pipeline.h) reads one per stream.
#pragma once

#include <cstdint>

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

}  // namespace supernova::stream

// What the web console asks of the streams a server runs (console/stream_hub.h runs them): the
// console knows streams only through this, so that the server's console and the stream
// pipeline stay apart. The JSON forms are those of docs/console.md.
#pragma once

#include <string>

#include "supernova/status.h"

namespace supernova::console {

class StreamView {
 public:
  virtual ~StreamView() = default;
  // The detector's model file the streams run.
  virtual std::string model() const = 0;
  // {"streams": [{"name", "source", "state", "error", "width", "height", "frames", ...}]}
  virtual std::string ListJson() const = 0;
  // {"interval_s", "points": [{"t", "input_fps", ...}], "decisions": "IISS..."}; kNotFound for
  // an unknown stream.
  virtual Result<std::string> HistoryJson(const std::string& name) const = 0;
  // The newest frame as a JPEG with its tracks drawn; kNotFound for an unknown stream or one
  // with no frame yet.
  virtual Result<std::string> FrameJpeg(const std::string& name) const = 0;
  // Opens `source` (as `supernova stream --source` takes it) and runs it as stream `name`:
  // kAlreadyExists for a name in use, the source's error when it cannot be opened.
  virtual Status Add(const std::string& name, const std::string& source) = 0;
  // Stops stream `name` (its frames in hand are finished) and forgets it; kNotFound.
  virtual Status Remove(const std::string& name) = 0;
};

}  // namespace supernova::console

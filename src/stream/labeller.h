// A second look at tracked objects: on-device learning's classes on the stream's tracks
// (docs/stream.md, "Learned labels"). After the tracker has taken an inferred frame, the
// pipeline hands a TrackLabeller the frame and its tracks; the labeller classifies the tracks it
// chooses (new ones, ones not looked at for a while) and sets their LearnedLabel, which the
// pipeline gives back to the tracker, so that the frames after it carry the label.
//
//   PipelineOptions options;
//   options.labeller = labeller.get();   // not owned; outlives the pipeline
//
// The stream knows nothing of how a track is classified: the implementation (crops of the
// frame, an embedding model, a class store) lives in a layer above both the stream and the
// learning layer (tools/supernova/stream_learn.h), so that a stream without learning links none
// of it.
#pragma once

#include <string>
#include <vector>

#include "stream/frame.h"
#include "stream/tracker.h"
#include "supernova/status.h"

namespace supernova::stream {

struct LabelStats {
  int classified = 0;  // tracks classified in this call
  int offered = 0;     // classifications handed to online refinement, which decides later
};

class TrackLabeller {
 public:
  virtual ~TrackLabeller() = default;
  // `tracks`: the frame's tracks, boxes in `frame`'s pixels, each with the LearnedLabel the
  // tracker kept; the labeller rewrites `learned` on those it classifies and leaves the others
  // untouched. Runs on `stream`'s worker thread; streams call it concurrently. An error (the
  // model, the store) costs this frame its new labels, not the stream: the pipeline counts it
  // and goes on.
  virtual Result<LabelStats> Label(const std::string& stream, const Frame& frame,
                                   std::vector<Track>* tracks) = 0;
};

}  // namespace supernova::stream

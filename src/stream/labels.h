// What a frame shows of its tracks, for every output that draws or names them (the annotated
// video, the MQTT and JSON-lines records, the console's frames): class names from a labels
// file, a track's name, the tracks drawn on a frame. Light on purpose (no FFmpeg, no broker):
// a server that shows frames needs these and nothing of the sinks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "stream/draw.h"
#include "stream/tracker.h"
#include "supernova/status.h"

namespace supernova::stream {

// A labels file: one class name per line, class 0 first; trailing whitespace is trimmed and a
// final empty line ignored.
Result<std::vector<std::string>> ReadLabels(const std::string& path);
// labels[class_id], or "class_<id>" where there is none.
std::string ClassLabel(int class_id, const std::vector<std::string>& labels);
// What a track is called where one name is shown (the annotated video): its learned class
// where on-device learning recognised it (Track::learned), else its detector class.
std::string TrackLabel(const Track& track, const std::vector<std::string>& labels);

// Draws the tracks as the annotated video shows them: each box in its track's colour
// (TrackColor) with "#<id> <TrackLabel>" on its tag.
void DrawTracks(BgrView image, const std::vector<Track>& tracks,
                const std::vector<std::string>& labels, const BoxStyle& style);

// The Status for a file `path` that could not be opened, created or written, from its errno:
// NotFound (a missing file or directory), PermissionDenied, InvalidArgument (a directory), or
// Unavailable for anything else, with strerror's words.
Status FileError(std::string_view what, const std::string& path, int error_number);

}  // namespace supernova::stream

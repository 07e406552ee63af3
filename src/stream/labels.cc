#include "stream/labels.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace supernova::stream {

Status FileError(std::string_view what, const std::string& path, int error_number) {
  std::string message = std::string(what) + " '" + path + "': " + std::strerror(error_number);
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status(Status::Code::kPermissionDenied, std::move(message));
    case EISDIR:
      return Status::InvalidArgument(std::move(message));
    default:
      return Status::Unavailable(std::move(message));
  }
}

std::string ClassLabel(int class_id, const std::vector<std::string>& labels) {
  if (class_id >= 0 && static_cast<size_t>(class_id) < labels.size() && !labels[class_id].empty())
    return labels[class_id];
  return "class_" + std::to_string(class_id);
}

std::string TrackLabel(const Track& track, const std::vector<std::string>& labels) {
  return track.learned.label.empty() ? ClassLabel(track.class_id, labels) : track.learned.label;
}

void DrawTracks(BgrView image, const std::vector<Track>& tracks,
                const std::vector<std::string>& labels, const BoxStyle& style) {
  for (const Track& t : tracks)
    DrawLabelledBox(image, t.box, "#" + std::to_string(t.id) + " " + TrackLabel(t, labels),
                    TrackColor(t.id), style);
}

Result<std::vector<std::string>> ReadLabels(const std::string& path) {
  std::ifstream in(path);
  if (!in) return FileError("cannot open labels file", path, errno);
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    labels.push_back(line);
  }
  if (in.bad()) return FileError("cannot read labels file", path, errno);
  if (!labels.empty() && labels.back().empty()) labels.pop_back();
  return labels;
}

}  // namespace supernova::stream

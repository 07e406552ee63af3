#include "stream/sinks.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include <unistd.h>

#include "stream/sink_impl.h"

namespace supernova::stream {
namespace {

using Json = nlohmann::ordered_json;  // keys in the order written: easier to read

// Pixel coordinates to 1/100 px and scores to 1e-4: the float noise beyond says nothing and
// makes every message longer.
double Round(double v, double unit) { return std::isfinite(v) ? std::round(v / unit) * unit : 0; }

Json BoxJson(const Box& b) {
  return {{"x1", Round(b.x1, 0.01)},
          {"y1", Round(b.y1, 0.01)},
          {"x2", Round(b.x2, 0.01)},
          {"y2", Round(b.y2, 0.01)}};
}

// A random (version 4) UUID, as EdgeX wants for event and reading ids.
std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint8_t bytes[16];
  for (int i = 0; i < 16; i += 8) {
    const uint64_t r = rng();
    std::memcpy(bytes + i, &r, 8);
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[bytes[i] >> 4];
    s += kHex[bytes[i] & 0x0F];
  }
  return s;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A track's object in either payload; "learned" only where on-device learning recognised it, so
// that consumers without learning see the records they always did.
Json TrackJson(const Track& t, const SinkOptions& options) {
  Json j = {{"id", t.id},
            {"class_id", t.class_id},
            {"label", ClassLabel(t.class_id, options.labels)},
            {"score", Round(t.score, 1e-4)},
            {"box", BoxJson(t.box)}};
  if (!t.learned.label.empty())
    j["learned"] = {{"label", t.learned.label}, {"score", Round(t.learned.score, 1e-4)}};
  return j;
}

// The fields every payload shares about the frame.
void AddFrameFields(Json& j, const FrameResult& r) {
  j["stream"] = r.stream;
  j["frame"] = r.frame ? r.frame->index : -1;
  j["pts"] = r.frame ? Round(r.frame->pts_s, 1e-6) : 0.0;
  j["inferred"] = r.inferred;
  j["lag_ms"] = Round(r.lag_s * 1e3, 0.001);
  j["width"] = r.frame ? r.frame->width : 0;
  j["height"] = r.frame ? r.frame->height : 0;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    const char c = s[s.size() - suffix.size() + i];
    if (std::tolower(static_cast<unsigned char>(c)) != suffix[i]) return false;
  }
  return true;
}

// JSON lines to a file or standard output, unbuffered: each line goes out whole in one write,
// so a reader following the file sees whole frames. A write that fails (a full disk, a file
// size limit) drops that frame, counts it and keeps the reason, and cuts the file back to its
// last whole line; later frames are tried again, so the file resumes when space returns. An
// unattended box keeps its other sinks and its stream going meanwhile (docs/stream_sinks.md).
class JsonLinesSink final : public Sink {
 public:
  JsonLinesSink(std::FILE* file, std::string path, SinkOptions options)
      : file_(file), path_(std::move(path)), options_(std::move(options)) {
    std::setvbuf(file_, nullptr, _IONBF, 0);
  }
  ~JsonLinesSink() override { static_cast<void>(Close()); }

  Status Write(const FrameResult& result) override {
    if (file_ == nullptr) return Status::FailedPrecondition("jsonl sink: written after Close");
    if (!result.frame) return Status::InvalidArgument("jsonl sink: a FrameResult without a frame");
    std::string line = JsonLinesRecord(result, options_);
    line += '\n';
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
      const int error = errno;
      std::clearerr(file_);
      // A part of the line may be on disk: cut it off. (Standard output is left alone: it may
      // be a file opened for appending, whose earlier contents are not ours.)
      if (file_ != stdout && ftruncate(fileno(file_), whole_bytes_) == 0)
        std::fseek(file_, whole_bytes_, SEEK_SET);
      std::lock_guard lock(mu_);
      ++stats_.dropped_write_error;
      stats_.last_error = FileError("jsonl sink: cannot write", path_, error).message();
      return Status::Ok();
    }
    whole_bytes_ += static_cast<off_t>(line.size());
    std::lock_guard lock(mu_);
    ++stats_.frames;
    return Status::Ok();
  }

  Status Close() override {
    if (file_ == nullptr) return Status::Ok();
    std::FILE* f = file_;
    file_ = nullptr;
    if (f == stdout) {
      if (std::fflush(f) != 0) return FileError("jsonl sink: cannot write", path_, errno);
      return Status::Ok();
    }
    if (std::fclose(f) != 0) return FileError("jsonl sink: cannot write", path_, errno);
    return Status::Ok();
  }

  SinkStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  std::FILE* file_;        // null once closed
  off_t whole_bytes_ = 0;  // the file's size up to its last whole line
  const std::string path_;
  const SinkOptions options_;
  mutable std::mutex mu_;
  SinkStats stats_;  // guarded by mu_
};

Result<std::unique_ptr<Sink>> OpenJsonLines(const std::string& path, const SinkOptions& options) {
  if (path.empty()) return std::unique_ptr<Sink>(new JsonLinesSink(stdout, "<stdout>", options));
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return FileError("jsonl sink: cannot create", path, errno);
  return std::unique_ptr<Sink>(new JsonLinesSink(f, path, options));
}

}  // namespace

std::string EdgeXEventJson(const FrameResult& result, const SinkOptions& options) {
  Json objects = Json::array();
  for (const Track& t : result.tracks) objects.push_back(TrackJson(t, options));
  Json value;
  AddFrameFields(value, result);
  value["objects"] = std::move(objects);

  // EdgeX requires a non-zero origin; a result without a timestamp gets the current time.
  const int64_t origin = result.timestamp_ns != 0 ? result.timestamp_ns : NowNs();
  Json reading = {{"id", NewUuid()},
                  {"origin", origin},
                  {"deviceName", options.device_name},
                  {"resourceName", options.source_name},
                  {"profileName", options.profile_name},
                  {"valueType", "Object"},
                  {"objectValue", std::move(value)}};
  Json event = {{"apiVersion", "v3"},
                {"id", NewUuid()},
                {"deviceName", options.device_name},
                {"profileName", options.profile_name},
                {"sourceName", options.source_name},
                {"origin", origin},
                {"readings", Json::array({std::move(reading)})},
                {"tags", {{"stream", result.stream}}}};
  return event.dump();
}

std::string JsonLinesRecord(const FrameResult& result, const SinkOptions& options) {
  Json detections = Json::array();
  for (const Detection& d : result.detections)
    detections.push_back({{"class_id", d.class_id},
                          {"label", ClassLabel(d.class_id, options.labels)},
                          {"score", Round(d.score, 1e-4)},
                          {"box", BoxJson(d.box)}});
  Json tracks = Json::array();
  for (const Track& t : result.tracks) {
    Json track = TrackJson(t, options);
    track["frames_since_detection"] = t.frames_since_detection;
    track["cloud"] = t.cloud;
    tracks.push_back(std::move(track));
  }
  Json j;
  AddFrameFields(j, result);
  j["timestamp_ns"] = result.timestamp_ns;
  j["cloud_sent"] = result.cloud_sent;
  j["detections"] = std::move(detections);
  j["tracks"] = std::move(tracks);
  return j.dump();
}

bool IsVideoSinkUrl(const std::string& url) {
  return url.rfind("video:", 0) == 0 || EndsWith(url, ".mp4") || EndsWith(url, ".mkv") ||
         EndsWith(url, ".avi");
}

Result<std::unique_ptr<Sink>> OpenSink(const std::string& url, const SinkOptions& options) {
  static constexpr char kForms[] =
      "expected mqtt://HOST[:PORT]/TOPIC, jsonl:PATH, PATH.jsonl, '-', stdout:, video:PATH or "
      "PATH.mp4|.mkv|.avi";
  if (url.empty()) return Status::InvalidArgument(std::string("empty sink URL: ") + kForms);
  if (url == "-" || url == "stdout:") return OpenJsonLines("", options);
  if (url.rfind("mqtt://", 0) == 0) return OpenMqttSink(url, options);
  if (url.rfind("jsonl:", 0) == 0) {
    if (url.size() == 6) return Status::InvalidArgument("jsonl sink '" + url + "': no path");
    return OpenJsonLines(url.substr(6), options);
  }
  if (url.rfind("video:", 0) == 0) {
    if (url.size() == 6) return Status::InvalidArgument("video sink '" + url + "': no path");
    return OpenVideoSink(url.substr(6), options);
  }
  // A scheme we do not know (letters, then ':') is an error even if the name looks like a file.
  if (const size_t colon = url.find(':'); colon != std::string::npos && colon > 1) {
    const std::string scheme = url.substr(0, colon);
    if (std::all_of(scheme.begin(), scheme.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        }))
      return Status::InvalidArgument("sink '" + url + "': unknown scheme '" + scheme + ":'; " +
                                     kForms);
  }
  if (EndsWith(url, ".jsonl")) return OpenJsonLines(url, options);
  if (IsVideoSinkUrl(url)) return OpenVideoSink(url, options);
  return Status::InvalidArgument("sink '" + url + "': not a known form; " + kForms);
}

}  // namespace supernova::stream

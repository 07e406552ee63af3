// Where the stream pipeline's per-frame results go: MQTT as EdgeX events, JSON lines, or an
// annotated video file. One sink per URL; every frame's result is written to it in order.
//
//   SinkOptions options;
//   SN_ASSIGN_OR_RETURN(options.labels, ReadLabels("coco.names"));
//   SN_ASSIGN_OR_RETURN(auto sink, OpenSink("mqtt://127.0.0.1:1883/supernova/cam1", options));
//   for (const FrameResult& r : results) SN_RETURN_IF_ERROR(sink->Write(r));
//   SN_RETURN_IF_ERROR(sink->Close());
//
// URLs (docs/stream_sinks.md has the payloads):
//   mqtt://HOST[:PORT]/TOPIC   one EdgeX v3 event (JSON) per frame, published on TOPIC
//                              (PORT defaults to 1883)
//   jsonl:PATH, PATH.jsonl     one JSON object per line and frame; the file is truncated
//   -, stdout:                 the same JSON lines on standard output
//   video:PATH, PATH.mp4|.mkv|.avi
//                              the frames with each track's box and "#id label" drawn on
//                              them (TrackLabel: the learned class where there is one), H.264
//                              (libx264) where the encoder exists, else MPEG-4
//
// Threads: a sink belongs to one thread at a time. Write and Close must not run concurrently
// with each other; stats() may be called from any thread at any time. The MQTT sink's
// network I/O runs on libmosquitto's own thread, so its Write never waits on the network.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "stream/draw.h"
#include "stream/frame.h"
#include "stream/labels.h"
#include "supernova/status.h"

namespace supernova::stream {

struct SinkOptions {
  // Class names by class id; a class id without one is written as "class_<id>".
  std::vector<std::string> labels;

  // EdgeX event fields (MQTT).
  std::string device_name = "supernova";
  std::string profile_name = "supernova-detector";
  std::string source_name = "detections";  // also the reading's resourceName

  // MQTT. Write never blocks: a message that cannot be handed to the connection is dropped
  // and counted (SinkStats). While the broker is unreachable every frame is dropped;
  // libmosquitto reconnects in the background after mqtt_reconnect_delay_s, doubling the
  // delay up to mqtt_reconnect_delay_max_s.
  int mqtt_qos = 0;            // 0, 1 or 2
  std::string mqtt_client_id;  // empty: a random id from the broker's client library
  int mqtt_keepalive_s = 30;
  // Messages published but not yet sent (QoS 0) or acknowledged (QoS 1 and 2); a frame
  // beyond this many is dropped.
  int mqtt_queue_limit = 1000;
  int mqtt_reconnect_delay_s = 1;
  int mqtt_reconnect_delay_max_s = 30;
  // OpenSink waits this long for the broker to accept the connection and fails with
  // Unavailable if it does not (a wrong host or port shows at once). 0: OpenSink returns
  // without waiting and the sink connects in the background, dropping frames until then.
  double mqtt_connect_timeout_s = 5;
  // Close waits this long for pending messages to go out before disconnecting.
  double mqtt_close_timeout_s = 2;

  // Annotated video.
  double frame_rate = 25;  // the file's constant frame rate; frames are written one per tick
  int box_thickness = 0;   // outline width in pixels; 0: from the frame size (2 up to 720p)
  // An FFmpeg encoder name ("libx264", "mpeg4", ...); empty: libx264 where this FFmpeg has
  // it and the container takes H.264, else mpeg4.
  std::string video_encoder;
};

struct SinkStats {
  int64_t frames = 0;  // Write calls that succeeded
  // MQTT: frames dropped while disconnected; dropped because mqtt_queue_limit messages were
  // pending; messages lost with the connection before they were sent (QoS 0; QoS 1 and 2
  // ones are sent again after a reconnection) or still pending when Close gave up.
  int64_t dropped_disconnected = 0;
  int64_t dropped_queue_full = 0;
  int64_t lost_on_disconnect = 0;
  int64_t sent = 0;         // MQTT: messages sent (QoS 0) or acknowledged (QoS 1, 2)
  int64_t pending = 0;      // MQTT: messages published, not yet sent or acknowledged
  int64_t disconnects = 0;  // MQTT: connections lost (not counting Close)
  int64_t reconnects = 0;   // MQTT: connections made again after a loss
  bool connected = false;   // MQTT: connected to the broker now
  // JSON lines: frames dropped because the file could not be written (a full disk, a file
  // size limit); the sink tries every later frame again. last_error: the latest reason.
  int64_t dropped_write_error = 0;
  std::string last_error;
};

class Sink {
 public:
  virtual ~Sink() = default;  // closes the sink if Close was not called, ignoring errors

  // Writes one frame's result. `result.frame` must be set. Fails on an I/O error of the video
  // sink or a frame the sink cannot take (a video frame of another size than the first);
  // the MQTT and JSON-lines sinks fail only after Close (they drop and count frames they cannot
  // deliver: SinkStats). After a failure the sink should be closed.
  virtual Status Write(const FrameResult& result) = 0;
  // Flushes and releases everything; a file is complete only after Close returns OK. Calling
  // it again does nothing.
  virtual Status Close() = 0;
  virtual SinkStats stats() const = 0;
};

// Opens the sink `url` names (forms above). InvalidArgument for a URL of no known form or a
// malformed one, NotFound/PermissionDenied for a file that cannot be created, Unavailable for
// a broker that does not accept the connection within mqtt_connect_timeout_s.
Result<std::unique_ptr<Sink>> OpenSink(const std::string& url, const SinkOptions& options);
// Whether `url` names an annotated-video sink (video:PATH, PATH.mp4|.mkv|.avi): it draws the
// frames of one stream, so a caller with several streams must not give it theirs.
bool IsVideoSinkUrl(const std::string& url);

// The payloads, as the sinks write them (compact JSON, no newline).
// An EdgeX v3 event with fresh UUIDs: docs/stream_sinks.md.
std::string EdgeXEventJson(const FrameResult& result, const SinkOptions& options);
// One JSON-lines record.
std::string JsonLinesRecord(const FrameResult& result, const SinkOptions& options);

}  // namespace supernova::stream

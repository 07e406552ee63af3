// A video source for the stream pipeline: decodes a file, a network stream, a camera or a
// folder of images with FFmpeg and hands out packed BGR frames of one fixed size.
//
//   SN_ASSIGN_OR_RETURN(auto source, VideoSource::Open("rtsp://10.0.0.7/cam1"));
//   for (;;) {
//     Result<FramePtr> frame = source->Read();   // blocks for the next frame
//     if (!frame.ok()) break;                    // OutOfRange: end of file; Unavailable: closed
//     pipeline.Push(*frame);                     //   or lost for good
//   }
//
// URLs (docs/stream_sources.md):
//   - a file path or `file:` URL (anything FFmpeg demuxes: mp4, mkv, avi, mjpeg, ...);
//   - `rtsp://`, `rtsps://`: a camera or media server (live);
//   - `http://`, `https://`: an MJPEG or live HLS stream (live), or a file over HTTP such as an
//     mp4 or VOD playlist (it has a duration: played as a file);
//   - `/dev/videoN` or `v4l2:///dev/videoN`: a V4L2 camera (live);
//   - a directory: its *.jpg, *.jpeg, *.png and *.bmp, sorted by name, at folder_fps.
//
// Files and folders are paced at their frame rate (options.realtime) as a camera would deliver
// them, so that the pipeline sees the same timing from a recording as from a camera. Live
// sources that drop or fall silent are reconnected by Read() itself, with exponential backoff;
// Read() fails only once reconnection gives up (max_reconnects) or the source is closed.
//
// Threads: Read() belongs to one consumer thread (concurrent calls are serialized). Close(),
// stats() and the accessors may be called from any thread at any time. The destructor must
// not run while another thread is in Read().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "stream/frame.h"
#include "stream/frame_source.h"
#include "supernova/status.h"

namespace supernova::stream {

struct SourceOptions {
  int width = 0, height = 0;  // output size; 0 for both: the source's own. Scaled by libswscale
  bool realtime = true;    // files, folders: deliver frames at their presentation time; false: as
                           // fast as decoding goes (benchmarks). Live sources are never paced.
  bool loop = false;       // files, folders: start again at the end; pts_s keeps increasing
  double folder_fps = 10;  // folders: frames per second
  double read_timeout_s = 5;  // a live source that opens or delivers no frame this long is lost
  double reconnect_initial_s = 0.5;    // wait before the first reconnection attempt of an outage;
  double reconnect_max_s = 8;          //   doubling after each failed attempt, up to this
  int max_reconnects = -1;             // failed attempts in a row before Read() gives up; -1: never
  std::string rtsp_transport = "tcp";  // tcp, udp, udp_multicast or http
  int decoder_threads = 0;             // 0: FFmpeg's choice
};

// A snapshot; counters only grow.
struct SourceStats {
  int64_t frames = 0;              // frames delivered by Read()
  int64_t reconnects = 0;          // outages recovered from (a successful reopen after a loss)
  int64_t reconnect_attempts = 0;  // reopen attempts, failed ones included
  int64_t decode_errors = 0;       // packets or images the decoder rejected (skipped)
  bool connected = false;          // the input is open: false while reconnecting or after Close
  std::string last_error;          // the last loss or decode error, "" if none yet
};

class VideoSource {
 public:
  // Opens `url` and reads enough of it to know the frame size and rate. Fails with a clear
  // Status naming the URL (credentials redacted) and FFmpeg's reason: NotFound (no such file or
  // device), InvalidArgument (not a video, corrupt, bad options), Unimplemented (no demuxer or
  // decoder in this FFmpeg), Unavailable (a network source that cannot be reached within
  // read_timeout_s). No reconnection is attempted here: the URL must work once.
  static Result<std::unique_ptr<VideoSource>> Open(const std::string& url,
                                                   const SourceOptions& options = {});
  ~VideoSource();
  VideoSource(const VideoSource&) = delete;
  VideoSource& operator=(const VideoSource&) = delete;

  // Blocks for the next frame (width() x height(), BGR; see frame.h for index, pts_s and
  // captured). OutOfRange at the end of a file or folder (not looping; a file that ends before
  // the frames its index lists says "truncated or corrupt"); Unavailable once Close() was
  // called or a live source could not be reconnected; the reason, when reading a file fails
  // part way (InvalidArgument for corrupt data). Packets the decoder rejects are skipped and
  // counted in stats(), not returned as errors.
  Result<FramePtr> Read();

  // Unblocks a Read() in progress (it returns Unavailable), waits for it to return and releases
  // the input (the camera, the connection). Idempotent; every later Read() fails at once.
  void Close();

  SourceStats stats() const;

  // Constant after Open.
  const std::string& url() const;  // as given, credentials redacted
  double frame_rate() const;       // frames per second; 0 when the source does not say
  int width() const;
  int height() const;
  bool live() const;  // a camera or network stream: not paced, reconnected when lost

 private:
  class Impl;
  explicit VideoSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The pipeline's view of a VideoSource (stream/frame_source.h). A file played in real time
// counts as live: it does not wait for the pipeline, as a camera would not.
class VideoFrameSource : public FrameSource {
 public:
  VideoFrameSource(std::unique_ptr<VideoSource> source, bool realtime)
      : source_(std::move(source)), live_(source_->live() || realtime) {}
  Result<FramePtr> Read() override { return source_->Read(); }
  void Close() override { source_->Close(); }
  bool live() const override { return live_; }
  int64_t reconnects() const override { return source_->stats().reconnects; }

 private:
  std::unique_ptr<VideoSource> source_;
  bool live_;
};

// FFmpeg's own messages on stderr (its decoders' and encoders', libx264's statistics):
// errors only, or also its informational ones. Process-wide: for programs, not libraries.
void SetFfmpegLogging(bool verbose);

}  // namespace supernova::stream

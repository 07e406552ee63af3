// Inside the video source: the FFmpeg wrappers video_source.cc drives. One opened input
// (demuxer and decoder of its best video stream), the interruption FFmpeg polls in every
// blocking call, and the conversion of decoded frames to packed BGR. Not part of the stream's
// API; include video_source.h instead.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include "stream/video_source.h"
#include "supernova/status.h"

namespace supernova::stream::ffmpeg {

using Clock = std::chrono::steady_clock;

// ---- FFmpeg objects, freed on every path ----

struct FormatCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecCloser {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameCloser {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketCloser {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsCloser {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
struct DictCloser {
  void operator()(AVDictionary* d) const { av_dict_free(&d); }
};
using FormatContext = std::unique_ptr<AVFormatContext, FormatCloser>;
using CodecContext = std::unique_ptr<AVCodecContext, CodecCloser>;
using AvFrame = std::unique_ptr<AVFrame, FrameCloser>;
using AvPacket = std::unique_ptr<AVPacket, PacketCloser>;
using Sws = std::unique_ptr<SwsContext, SwsCloser>;

// Lower-case ASCII (URL schemes, file extensions).
std::string Lower(std::string s);
// 1.5 -> "1.5 s"
std::string SecondsText(double s);

// ---- Interruption: Close() and the live read deadline ----

// FFmpeg polls this during every blocking operation (AVIOInterruptCB); a non-zero answer makes
// the operation return AVERROR_EXIT.
struct Interrupt {
  std::atomic<bool> closed{false};
  std::atomic<int64_t> deadline_ns{0};  // steady_clock; 0: none

  static int Callback(void* opaque) {
    auto* self = static_cast<Interrupt*>(opaque);
    return self->closed.load() || self->TimedOut() ? 1 : 0;
  }
  void SetDeadline(double seconds_from_now) {
    auto d = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(seconds_from_now));
    deadline_ns.store(
        std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count());
  }
  void ClearDeadline() { deadline_ns.store(0); }
  bool TimedOut() const {
    int64_t d = deadline_ns.load();
    return d != 0 &&
           std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
                   .count() > d;
  }
};

// ---- One opened input: demuxer and decoder of its best video stream ----

enum class Kind { kFile, kFolder, kNetwork, kCamera };

struct InputParams {
  std::string url;    // as FFmpeg takes it
  std::string shown;  // for messages
  Kind kind = Kind::kFile;
  const SourceOptions* options = nullptr;
  Interrupt* interrupt = nullptr;
  int threads = 0;
};

class Input {
 public:
  static Result<std::unique_ptr<Input>> Open(const InputParams& p);

  // The next decoded frame (owned by the Input, valid until the next call), OutOfRange at the
  // end of the stream, or why reading failed. Packets the decoder rejects are skipped and
  // reported to `on_decode_error`.
  Result<const AVFrame*> Next(const std::function<void(const std::string&)>& on_decode_error);

  // The frame's presentation time in seconds on the stream's clock; NaN when it has none.
  double Seconds(const AVFrame& f) const {
    int64_t ts = f.best_effort_timestamp != AV_NOPTS_VALUE ? f.best_effort_timestamp : f.pts;
    return ts == AV_NOPTS_VALUE ? NAN : static_cast<double>(ts) * av_q2d(time_base_);
  }
  int width() const { return codec_->width; }
  int height() const { return codec_->height; }
  double frame_rate() const { return frame_rate_; }
  // A container that knows its length (a file, a file over HTTP): not a live stream.
  bool has_duration() const { return fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0; }
  // At the end: fewer frames came than the container's index lists.
  bool truncated() const {
    int64_t listed = fmt_->streams[stream_]->nb_frames;
    return listed > 0 && decoded_ < listed;
  }

 private:
  Input() = default;
  Status EndOfStream() const {
    if (!truncated()) return Status::OutOfRange(shown_ + ": end of stream");
    return Status::OutOfRange(shown_ + ": ended after " + std::to_string(decoded_) + " of the " +
                              std::to_string(fmt_->streams[stream_]->nb_frames) +
                              " frames it lists: truncated or corrupt");
  }

  std::string shown_;
  Interrupt* interrupt_ = nullptr;
  FormatContext fmt_;
  CodecContext codec_;
  AvFrame frame_;
  AvPacket packet_;
  int stream_ = -1;
  AVRational time_base_{0, 1};
  double frame_rate_ = 0;
  bool draining_ = false;
  int64_t decoded_ = 0;
};

// ---- Conversion to packed BGR of the output size ----

class Scaler {
 public:
  Status Convert(const AVFrame& src, int width, int height, std::vector<uint8_t>* bgr);

 private:
  struct Key {
    int w = 0, h = 0, format = -1, colorspace = -1, full_range = -1, out_w = 0, out_h = 0;
    bool operator==(const Key&) const = default;
  };
  Sws sws_;
  AvFrame out_;
  Key key_;
};

}  // namespace supernova::stream::ffmpeg

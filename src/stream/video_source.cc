#include "stream/video_source.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace supernova::stream {
namespace {

namespace fs = std::filesystem;
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

std::string AvErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(err, buf, sizeof(buf)) < 0) return "FFmpeg error " + std::to_string(err);
  return buf;
}

// `what: FFmpeg's reason`, with a code saying whose fault it is.
Status FromAv(int err, const std::string& what) {
  std::string m = what + ": " + AvErrorText(err);
  switch (err) {
    case AVERROR(ENOENT):
    case AVERROR(ENODEV):
    case AVERROR_HTTP_NOT_FOUND:
      return Status::NotFound(std::move(m));
    case AVERROR(EACCES):
    case AVERROR(EPERM):
    case AVERROR_HTTP_FORBIDDEN:
      return Status(Status::Code::kPermissionDenied, std::move(m));
    case AVERROR_HTTP_UNAUTHORIZED:
      return Status(Status::Code::kUnauthenticated, std::move(m));
    case AVERROR_INVALIDDATA:
    case AVERROR(EINVAL):
    case AVERROR_HTTP_BAD_REQUEST:
      return Status::InvalidArgument(std::move(m));
    case AVERROR_PROTOCOL_NOT_FOUND:
    case AVERROR_DEMUXER_NOT_FOUND:
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_PATCHWELCOME:
    case AVERROR(ENOSYS):
      return Status::Unimplemented(std::move(m));
    case AVERROR(ENOMEM):
      return Status::ResourceExhausted(std::move(m));
    default:  // refused, reset, timed out, I/O errors, server errors
      return Status::Unavailable(std::move(m));
  }
}

// "rtsp://user:pass@host/x" -> "rtsp://***@host/x": URLs end up in logs and error messages.
std::string RedactUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t host = scheme + 3;
  size_t end = url.find_first_of("/?#", host);
  size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < host) return url;
  return url.substr(0, host) + "***" + url.substr(at);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// 1.5 -> "1.5 s"
std::string SecondsText(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g s", s);
  return buf;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

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

const AVInputFormat* V4l2Format() {
  static std::once_flag once;
  std::call_once(once, [] { avdevice_register_all(); });
  return av_find_input_format("video4linux2");
}

Result<std::unique_ptr<Input>> Input::Open(const InputParams& p) {
  const SourceOptions& o = *p.options;
  const bool network = p.kind == Kind::kNetwork;
  std::unique_ptr<Input> in(new Input());
  in->shown_ = p.shown;
  in->interrupt_ = p.interrupt;
  const std::string what = "cannot open " + p.shown;

  AVDictionary* raw_opts = nullptr;
  const std::string scheme = Lower(p.url.substr(0, p.url.find(':')));
  const std::string timeout_us = std::to_string(static_cast<int64_t>(o.read_timeout_s * 1e6));
  if (scheme == "rtsp" || scheme == "rtsps") {
    av_dict_set(&raw_opts, "rtsp_transport", o.rtsp_transport.c_str(), 0);
    av_dict_set(&raw_opts, "timeout", timeout_us.c_str(), 0);
  } else if (network) {
    av_dict_set(&raw_opts, "rw_timeout", timeout_us.c_str(), 0);
  }
  std::unique_ptr<AVDictionary, DictCloser> opts(raw_opts);

  const AVInputFormat* format = nullptr;
  if (p.kind == Kind::kCamera) {
    format = V4l2Format();
    if (!format) return Status::Unimplemented(what + ": this FFmpeg has no video4linux2 input");
  }

  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) return Status::ResourceExhausted(what + ": out of memory");
  raw->interrupt_callback = {&Interrupt::Callback, p.interrupt};
  // A camera's driver blocks in its ioctl, deaf to the interrupt callback: ask for EAGAIN
  // instead and poll (Next()), so that Close() and the read timeout reach it too.
  if (p.kind == Kind::kCamera) raw->flags |= AVFMT_FLAG_NONBLOCK;
  const bool deadline = network || p.kind == Kind::kCamera;
  if (deadline) p.interrupt->SetDeadline(o.read_timeout_s);
  AVDictionary* o_raw = opts.release();
  int err = avformat_open_input(&raw, p.url.c_str(), format, &o_raw);  // frees raw on failure
  opts.reset(o_raw);
  p.interrupt->ClearDeadline();
  if (err < 0) {
    if (err == AVERROR_EXIT && !p.interrupt->closed.load())
      return Status::Unavailable(what + ": no answer within " + SecondsText(o.read_timeout_s));
    return FromAv(err, what);
  }
  in->fmt_.reset(raw);

  if (deadline) p.interrupt->SetDeadline(o.read_timeout_s);
  err = avformat_find_stream_info(in->fmt_.get(), nullptr);
  p.interrupt->ClearDeadline();
  if (err < 0) return FromAv(err, what + ": reading stream information");

  const AVCodec* decoder = nullptr;
  err = av_find_best_stream(in->fmt_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (err == AVERROR_STREAM_NOT_FOUND)
    return Status::InvalidArgument(what + ": it has no video stream");
  if (err < 0 || !decoder) {
    return Status::Unimplemented(what + ": no decoder for its video (" +
                                 (err < 0 ? AvErrorText(err) : "unknown codec") + ")");
  }
  in->stream_ = err;
  AVStream* st = in->fmt_->streams[in->stream_];
  in->time_base_ = st->time_base;
  AVRational rate = av_guess_frame_rate(in->fmt_.get(), st, nullptr);
  in->frame_rate_ = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;

  in->codec_.reset(avcodec_alloc_context3(decoder));
  if (!in->codec_) return Status::ResourceExhausted(what + ": out of memory");
  err = avcodec_parameters_to_context(in->codec_.get(), st->codecpar);
  if (err < 0) return FromAv(err, what + ": decoder parameters");
  in->codec_->pkt_timebase = st->time_base;
  in->codec_->thread_count = p.threads;
  if (network || p.kind == Kind::kCamera) {
    // Frame threads hold back one frame per thread: latency a live stream cannot afford.
    in->codec_->thread_type = FF_THREAD_SLICE;
    in->codec_->flags |= AV_CODEC_FLAG_LOW_DELAY;
  }
  err = avcodec_open2(in->codec_.get(), decoder, nullptr);
  if (err < 0) return FromAv(err, what + ": opening the " + decoder->name + " decoder");
  if (in->codec_->width <= 0 || in->codec_->height <= 0)
    return Status::InvalidArgument(what + ": the video stream does not say its frame size");

  in->frame_.reset(av_frame_alloc());
  in->packet_.reset(av_packet_alloc());
  if (!in->frame_ || !in->packet_) return Status::ResourceExhausted(what + ": out of memory");
  return in;
}

Result<const AVFrame*> Input::Next(const std::function<void(const std::string&)>& on_decode_error) {
  for (;;) {
    int err = avcodec_receive_frame(codec_.get(), frame_.get());
    if (err == 0) {
      ++decoded_;
      return static_cast<const AVFrame*>(frame_.get());
    }
    if (err == AVERROR_EOF) return EndOfStream();
    if (err != AVERROR(EAGAIN)) {
      on_decode_error("decoding " + shown_ + ": " + AvErrorText(err));
      if (draining_) return EndOfStream();
      continue;
    }
    if (draining_) return EndOfStream();

    err = av_read_frame(fmt_.get(), packet_.get());
    if (err == AVERROR(EAGAIN)) {  // a non-blocking camera without a frame yet
      if (Interrupt::Callback(interrupt_)) return FromAv(AVERROR_EXIT, "reading " + shown_);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    if (err == AVERROR_EOF) {
      // Hand the decoder a null packet: it gives back the frames it still holds, then EOF.
      draining_ = true;
      if (avcodec_send_packet(codec_.get(), nullptr) < 0) {
        return EndOfStream();
      }
      continue;
    }
    if (err < 0) return FromAv(err, "reading " + shown_);
    if (packet_->stream_index != stream_) {
      av_packet_unref(packet_.get());
      continue;
    }
    err = avcodec_send_packet(codec_.get(), packet_.get());
    av_packet_unref(packet_.get());
    if (err < 0 && err != AVERROR(EAGAIN)) {
      on_decode_error("decoding " + shown_ + ": " + AvErrorText(err));
    }
  }
}

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

// The YUV format a deprecated full-range JPEG format stands for; NONE for any other format.
AVPixelFormat PlainYuv(AVPixelFormat f) {
  switch (f) {
    case AV_PIX_FMT_YUVJ420P:
      return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P:
      return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P:
      return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P:
      return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P:
      return AV_PIX_FMT_YUV411P;
    default:
      return AV_PIX_FMT_NONE;
  }
}

int SwsColorspace(AVColorSpace cs) {
  switch (cs) {
    case AVCOL_SPC_BT709:
      return SWS_CS_ITU709;
    case AVCOL_SPC_FCC:
      return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M:
      return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
      return SWS_CS_BT2020;
    default:  // BT.601 and unspecified: what SD video and JPEG use
      return SWS_CS_ITU601;
  }
}

Status Scaler::Convert(const AVFrame& src, int width, int height, std::vector<uint8_t>* bgr) {
  // The JPEG pixel formats are YUV at full range; libswscale wants that said through the
  // colorspace details rather than the deprecated formats.
  auto format = static_cast<AVPixelFormat>(src.format);
  bool full_range = src.color_range == AVCOL_RANGE_JPEG;
  if (AVPixelFormat plain = PlainYuv(format); plain != AV_PIX_FMT_NONE) {
    format = plain;
    full_range = true;
  }
  Key key{src.width,          src.height, format, SwsColorspace(src.colorspace),
          full_range ? 1 : 0, width,      height};
  if (!sws_ || !(key == key_)) {
    sws_.reset(sws_getContext(src.width, src.height, format, width, height, AV_PIX_FMT_BGR24,
                              SWS_BILINEAR, nullptr, nullptr, nullptr));
    if (!sws_) {
      const char* name = av_get_pix_fmt_name(format);
      return Status::Unimplemented("cannot convert " + std::string(name ? name : "unknown") + " " +
                                   std::to_string(src.width) + "x" + std::to_string(src.height) +
                                   " frames to BGR");
    }
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
    if (desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB)) {  // YUV or gray: say its matrix and range
      const int* coefficients = sws_getCoefficients(key.colorspace);
      sws_setColorspaceDetails(sws_.get(), coefficients, key.full_range, coefficients, 1, 0,
                               1 << 16, 1 << 16);
    }
    if (!out_ || out_->width != width || out_->height != height) {
      out_.reset(av_frame_alloc());
      if (!out_) return Status::ResourceExhausted("out of memory for a frame");
      out_->format = AV_PIX_FMT_BGR24;
      out_->width = width;
      out_->height = height;
      if (av_frame_get_buffer(out_.get(), 0) < 0)
        return Status::ResourceExhausted("out of memory for a frame");
    }
    key_ = key;
  }
  // Into FFmpeg's own aligned buffer (its SIMD may write past a tight row), then packed rows.
  int rows =
      sws_scale(sws_.get(), src.data, src.linesize, 0, src.height, out_->data, out_->linesize);
  if (rows != height) return Status::Internal("scaling a frame to BGR failed");
  const size_t row = static_cast<size_t>(width) * 3;
  bgr->resize(row * height);
  for (int y = 0; y < height; ++y) {
    std::memcpy(bgr->data() + row * y,
                out_->data[0] + static_cast<ptrdiff_t>(y) * out_->linesize[0], row);
  }
  return Status::Ok();
}

std::vector<std::string> ListImages(const fs::path& dir, std::error_code* ec) {
  std::vector<std::string> images;
  // The error_code forms throughout: no exception leaves the library.
  fs::directory_iterator it(dir, *ec), end;
  for (; !*ec && it != end; it.increment(*ec)) {
    std::error_code file_ec;
    if (!it->is_regular_file(file_ec)) continue;
    std::string ext = Lower(it->path().extension().string());
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp")
      images.push_back(it->path().string());
  }
  std::sort(images.begin(), images.end());
  return images;
}

Status ValidateOptions(const SourceOptions& o) {
  if (o.width < 0 || o.height < 0 || (o.width == 0) != (o.height == 0))
    return Status::InvalidArgument(
        "width and height must both be positive, or both 0 (the "
        "source's own size)");
  if (!(o.folder_fps > 0)) return Status::InvalidArgument("folder_fps must be positive");
  if (!(o.read_timeout_s > 0)) return Status::InvalidArgument("read_timeout_s must be positive");
  if (!(o.reconnect_initial_s > 0) || !(o.reconnect_max_s >= o.reconnect_initial_s))
    return Status::InvalidArgument(
        "reconnect_initial_s must be positive and no more than reconnect_max_s");
  if (o.max_reconnects < -1) return Status::InvalidArgument("max_reconnects must be -1 or more");
  if (o.decoder_threads < 0) return Status::InvalidArgument("decoder_threads must be 0 or more");
  const std::string& t = o.rtsp_transport;
  if (t != "tcp" && t != "udp" && t != "udp_multicast" && t != "http")
    return Status::InvalidArgument("rtsp_transport must be tcp, udp, udp_multicast or http, not '" +
                                   t + "'");
  return Status::Ok();
}

}  // namespace

// ---- The source ----

class VideoSource::Impl {
 public:
  Impl(std::string url, std::string shown, Kind kind, SourceOptions options)
      : url_(std::move(url)), shown_(std::move(shown)), kind_(kind), options_(std::move(options)) {}

  Status Start();
  Result<FramePtr> Read();
  void Close();
  SourceStats stats() const {
    std::lock_guard lock(stats_mu_);
    return stats_;
  }

  // Constant after Start().
  const std::string url_;    // as FFmpeg takes it
  const std::string shown_;  // as given, credentials redacted
  const Kind kind_;
  const SourceOptions options_;
  int width_ = 0, height_ = 0;
  double frame_rate_ = 0;
  bool live_ = false;
  std::vector<std::string> images_;  // folders

 private:
  Result<std::unique_ptr<Input>> OpenInput(const std::string& url, Kind kind, int threads) {
    return Input::Open({url, url == url_ ? shown_ : url, kind, &options_, &interrupt_, threads});
  }
  Result<FramePtr> ReadVideo();
  Result<FramePtr> ReadImage();
  Status Reconnect();
  Result<FramePtr> Deliver(const AVFrame& f, double stream_s);
  Status ClosedStatus() const { return Status::Unavailable(shown_ + ": closed"); }
  bool closed() const { return interrupt_.closed.load(); }
  // Sleeps until `t`; false when Close() came first.
  bool WaitUntil(Clock::time_point t) {
    std::unique_lock lock(wait_mu_);
    return !wait_cv_.wait_until(lock, t, [&] { return closed(); });
  }
  void DecodeError(const std::string& why) {
    std::lock_guard lock(stats_mu_);
    ++stats_.decode_errors;
    stats_.last_error = why;
  }
  double FrameInterval() const {
    return kind_ == Kind::kFolder ? 1 / options_.folder_fps
           : frame_rate_ > 0      ? 1 / frame_rate_
                                  : 0.04;
  }

  Interrupt interrupt_;
  std::mutex wait_mu_;  // with wait_cv_: Close() wakes paced and backoff sleeps
  std::condition_variable wait_cv_;

  // Held by Read() throughout; Close() takes it to release the input once Read() returned.
  std::mutex read_mu_;
  // Guarded by read_mu_.
  std::unique_ptr<Input> input_;
  Scaler scaler_;
  size_t next_image_ = 0;
  int64_t index_ = 0;               // of the next frame
  Clock::time_point start_;         // when frame 0 was captured
  double pass_origin_ = NAN;        // stream time of the first frame of this pass or connection
  std::optional<double> pass_pts_;  // pts_s given to that frame; unset: not yet decided
  double last_pts_ = 0;
  int64_t pass_frames_ = 0;  // frames of the current pass of a file (a pass without any: stop)

  mutable std::mutex stats_mu_;
  SourceStats stats_;  // guarded by stats_mu_
};

Status VideoSource::Impl::Start() {
  if (kind_ == Kind::kFolder) {
    std::error_code ec;
    images_ = ListImages(url_, &ec);
    if (ec) return Status::NotFound("cannot list the folder " + shown_ + ": " + ec.message());
    if (images_.empty())
      return Status::NotFound("the folder " + shown_ + " has no *.jpg, *.jpeg, *.png or *.bmp");
    // The first image that decodes sets the size.
    Status first;
    for (const std::string& image : images_) {
      auto in = OpenInput(image, Kind::kFile, 1);
      if (in.ok()) {
        width_ = (*in)->width(), height_ = (*in)->height();
        break;
      }
      if (first.ok()) first = in.status();
    }
    if (width_ == 0)
      return Status::InvalidArgument("no image in the folder " + shown_ + " can be decoded (" +
                                     first.message() + ")");
    frame_rate_ = options_.folder_fps;
    live_ = false;
  } else {
    SN_ASSIGN_OR_RETURN(input_, OpenInput(url_, kind_, options_.decoder_threads));
    width_ = input_->width(), height_ = input_->height();
    frame_rate_ = input_->frame_rate();
    const bool rtsp = StartsWith(Lower(url_), "rtsp");
    live_ =
        kind_ == Kind::kCamera || (kind_ == Kind::kNetwork && (rtsp || !input_->has_duration()));
  }
  if (options_.width > 0) width_ = options_.width, height_ = options_.height;
  std::lock_guard lock(stats_mu_);
  stats_.connected = true;
  return Status::Ok();
}

Result<FramePtr> VideoSource::Impl::Read() {
  std::lock_guard lock(read_mu_);
  if (closed()) return ClosedStatus();
  return kind_ == Kind::kFolder ? ReadImage() : ReadVideo();
}

Result<FramePtr> VideoSource::Impl::ReadVideo() {
  auto on_error = [this](const std::string& why) { DecodeError(why); };
  for (;;) {
    if (closed()) return ClosedStatus();
    if (!input_) {  // a live source lost on an earlier Read()
      SN_RETURN_IF_ERROR(Reconnect());
    }
    if (live_) interrupt_.SetDeadline(options_.read_timeout_s);
    Result<const AVFrame*> f = input_->Next(on_error);
    const bool timed_out = interrupt_.TimedOut();
    interrupt_.ClearDeadline();
    if (closed()) return ClosedStatus();
    if (f.ok()) return Deliver(**f, input_->Seconds(**f));

    if (!live_) {
      if (f.status().code() != Status::Code::kOutOfRange) return f.status();
      if (input_->truncated()) {
        std::lock_guard lock(stats_mu_);
        stats_.last_error = f.status().message();
      }
      if (!options_.loop) return f.status();
      if (pass_frames_ == 0)
        return Status::InvalidArgument(shown_ + ": no frame could be decoded, cannot loop");
      input_.reset();
      SN_ASSIGN_OR_RETURN(input_, OpenInput(url_, kind_, options_.decoder_threads));
      // The next pass continues the timeline one frame after this one's last frame.
      pass_origin_ = NAN;
      pass_pts_ = last_pts_ + FrameInterval();
      pass_frames_ = 0;
      continue;
    }

    // A live source is lost: Read() goes on reconnecting rather than failing.
    std::string why = timed_out ? shown_ + ": no frame for " + SecondsText(options_.read_timeout_s)
                                : f.status().message();
    input_.reset();
    std::lock_guard lock(stats_mu_);
    stats_.connected = false;
    stats_.last_error = std::move(why);
  }
}

Status VideoSource::Impl::Reconnect() {
  double delay = options_.reconnect_initial_s;
  for (int failed = 0;; ++failed) {
    if (options_.max_reconnects >= 0 && failed >= options_.max_reconnects) {
      std::lock_guard lock(stats_mu_);
      return Status::Unavailable(shown_ + ": lost, and not reconnected after " +
                                 std::to_string(failed) + " attempts: " + stats_.last_error);
    }
    if (!WaitUntil(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(delay))))
      return ClosedStatus();
    {
      std::lock_guard lock(stats_mu_);
      ++stats_.reconnect_attempts;
    }
    auto in = OpenInput(url_, kind_, options_.decoder_threads);
    if (closed()) return ClosedStatus();
    if (in.ok()) {
      input_ = std::move(*in);
      pass_origin_ = NAN;
      pass_pts_.reset();  // the new connection's clock starts anew: decided by the wall clock
      std::lock_guard lock(stats_mu_);
      ++stats_.reconnects;
      stats_.connected = true;
      return Status::Ok();
    }
    {
      std::lock_guard lock(stats_mu_);
      stats_.last_error = in.status().message();
    }
    delay = std::min(delay * 2, options_.reconnect_max_s);
  }
}

Result<FramePtr> VideoSource::Impl::ReadImage() {
  for (size_t tried = 0;; ++tried) {
    if (closed()) return ClosedStatus();
    if (next_image_ == images_.size()) {
      if (!options_.loop) return Status::OutOfRange(shown_ + ": end of the folder");
      next_image_ = 0;
    }
    if (tried == images_.size())
      return Status::InvalidArgument("no image in the folder " + shown_ + " can be decoded");
    const std::string& path = images_[next_image_++];
    auto in = OpenInput(path, Kind::kFile, 1);
    if (!in.ok()) {
      DecodeError(in.status().message());
      continue;
    }
    Result<const AVFrame*> f = (*in)->Next([this](const std::string& why) { DecodeError(why); });
    if (!f.ok()) {
      DecodeError(f.status().message());
      continue;
    }
    // Images are stills: their time is their place in the sequence.
    return Deliver(**f, static_cast<double>(index_) / options_.folder_fps);
  }
}

Result<FramePtr> VideoSource::Impl::Deliver(const AVFrame& f, double stream_s) {
  auto frame = std::make_shared<Frame>();
  frame->width = width_;
  frame->height = height_;
  SN_RETURN_IF_ERROR(scaler_.Convert(f, width_, height_, &frame->bgr));

  const Clock::time_point now = Clock::now();
  if (!pass_pts_) {
    // The first frame of the source, or of a new connection, whose clock starts anew: it is
    // placed by the time that went by, and never before the frame that came before it.
    pass_pts_ = index_ == 0 ? 0.0
                            : std::max(std::chrono::duration<double>(now - start_).count(),
                                       last_pts_ + FrameInterval());
  }
  double pts;
  if (std::isnan(stream_s)) {
    // No timestamp: a live frame is placed by the clock, a file's one frame after the last.
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    pts = index_ == 0 ? 0.0 : live_ ? std::max(elapsed, last_pts_) : last_pts_ + FrameInterval();
  } else {
    if (std::isnan(pass_origin_)) pass_origin_ = stream_s;
    pts = *pass_pts_ + (stream_s - pass_origin_);
  }
  frame->pts_s = pts;

  if (index_ == 0) start_ = now;
  if (!live_ && options_.realtime) {
    // Delivered when its presentation time comes, as a camera would; a late reader gets it at
    // once, stamped with when it was due.
    auto due =
        start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(pts));
    if (due > now && !WaitUntil(due)) return ClosedStatus();
    frame->captured = due;
  } else {
    frame->captured = now;
  }
  frame->index = index_++;
  last_pts_ = pts;
  ++pass_frames_;
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.frames;
  }
  return FramePtr(std::move(frame));
}

void VideoSource::Impl::Close() {
  {
    std::lock_guard lock(wait_mu_);
    interrupt_.closed.store(true);
  }
  wait_cv_.notify_all();
  std::lock_guard lock(read_mu_);  // a Read() in progress returns promptly now
  input_.reset();
  std::lock_guard stats_lock(stats_mu_);
  stats_.connected = false;
}

Result<std::unique_ptr<VideoSource>> VideoSource::Open(const std::string& url,
                                                       const SourceOptions& options) {
  const std::string shown = RedactUrl(url);
  if (url.empty()) return Status::InvalidArgument("empty video source URL");
  Status valid = ValidateOptions(options);
  if (!valid.ok()) return valid.WithContext("bad options for " + shown);

  std::string target = url;
  Kind kind;
  const std::string lower = Lower(url);
  if (StartsWith(lower, "file:")) {
    target = url.substr(StartsWith(lower, "file://") ? 7 : 5);
    kind = Kind::kFile;
  } else if (StartsWith(lower, "v4l2://")) {
    target = url.substr(7);
    kind = Kind::kCamera;
  } else if (StartsWith(url, "/dev/video")) {
    kind = Kind::kCamera;
  } else if (url.find("://") != std::string::npos) {
    const std::string scheme = lower.substr(0, lower.find("://"));
    if (scheme != "rtsp" && scheme != "rtsps" && scheme != "http" && scheme != "https")
      return Status::InvalidArgument("unsupported video source " + shown +
                                     ": expected a file, a folder, /dev/videoN, v4l2://, rtsp://, "
                                     "rtsps://, http:// or https://");
    kind = Kind::kNetwork;
  } else {
    kind = Kind::kFile;
  }
  if (kind == Kind::kFile) {
    std::error_code ec;
    auto st = fs::status(target, ec);
    if (!fs::exists(st)) return Status::NotFound("cannot open " + shown + ": no such file");
    if (fs::is_directory(st)) kind = Kind::kFolder;
  }

  auto impl = std::make_unique<Impl>(target, shown, kind, options);
  SN_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<VideoSource>(new VideoSource(std::move(impl)));
}

VideoSource::VideoSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoSource::~VideoSource() { impl_->Close(); }

Result<FramePtr> VideoSource::Read() { return impl_->Read(); }
void VideoSource::Close() { impl_->Close(); }
SourceStats VideoSource::stats() const { return impl_->stats(); }
const std::string& VideoSource::url() const { return impl_->shown_; }
double VideoSource::frame_rate() const { return impl_->frame_rate_; }
int VideoSource::width() const { return impl_->width_; }
int VideoSource::height() const { return impl_->height_; }
bool VideoSource::live() const { return impl_->live_; }

void SetFfmpegLogging(bool verbose) { av_log_set_level(verbose ? AV_LOG_INFO : AV_LOG_ERROR); }

}  // namespace supernova::stream

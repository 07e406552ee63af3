// The FFmpeg wrappers of the video source (video_input.h): opening an input, decoding its video
// stream, converting frames to BGR. When to open, reopen or give up is video_source.cc's.
#include "stream/video_input.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

extern "C" {
#include <libavdevice/avdevice.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
}

namespace supernova::stream {
namespace ffmpeg {
namespace {

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

}  // namespace

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

namespace {

const AVInputFormat* V4l2Format() {
  static std::once_flag once;
  std::call_once(once, [] { avdevice_register_all(); });
  return av_find_input_format("video4linux2");
}

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace ffmpeg

void SetFfmpegLogging(bool verbose) { av_log_set_level(verbose ? AV_LOG_INFO : AV_LOG_ERROR); }

}  // namespace supernova::stream

// The annotated-video sink: each frame with its tracks drawn (draw.h), converted BGR24 ->
// YUV420P with libswscale, encoded with libavcodec and muxed with libavformat.
//
// The file is created when the sink opens (so that a bad path fails there); the encoder is
// set up on the first frame, whose size fixes the video's. Frames are encoded on the
// caller's thread and stamped one tick of SinkOptions::frame_rate apart.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>

#include "stream/draw.h"
#include "stream/sink_impl.h"

namespace supernova::stream {
namespace {

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

// The encoder: the one named, else libx264 where FFmpeg has it and the container takes
// H.264, else MPEG-4 part 2 (in every FFmpeg build).
Result<const AVCodec*> ChooseEncoder(const std::string& name, const AVOutputFormat* format) {
  if (!name.empty()) {
    const AVCodec* codec = avcodec_find_encoder_by_name(name.c_str());
    if (codec == nullptr || codec->type != AVMEDIA_TYPE_VIDEO)
      return Status::InvalidArgument("video sink: no video encoder '" + name + "' in this FFmpeg");
    if (avformat_query_codec(format, codec->id, FF_COMPLIANCE_NORMAL) != 1)
      return Status::InvalidArgument("video sink: a " + std::string(format->name) +
                                     " file cannot hold " + name);
    return codec;
  }
  const AVCodec* x264 = avcodec_find_encoder_by_name("libx264");
  if (x264 != nullptr && avformat_query_codec(format, x264->id, FF_COMPLIANCE_NORMAL) == 1)
    return x264;
  const AVCodec* mpeg4 = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  if (mpeg4 == nullptr) return Status::Unimplemented("video sink: no MPEG-4 encoder in FFmpeg");
  return mpeg4;
}

class VideoSink final : public Sink {
 public:
  static Result<std::unique_ptr<Sink>> Open(const std::string& path, const SinkOptions& options);
  ~VideoSink() override {
    static_cast<void>(Close());
    Free();
  }

  Status Write(const FrameResult& result) override;
  Status Close() override;
  SinkStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  VideoSink(std::string path, SinkOptions options)
      : path_(std::move(path)), options_(std::move(options)) {}
  Status StartEncoder(int width, int height);
  // Sends `frame` (null: flush) and writes out every packet the encoder has ready.
  Status Encode(const AVFrame* frame);
  void Free();

  const std::string path_;
  const SinkOptions options_;
  const AVCodec* codec_ = nullptr;

  // The owner's thread only.
  AVFormatContext* format_ = nullptr;
  AVStream* stream_ = nullptr;
  AVCodecContext* encoder_ = nullptr;  // null until the first frame
  SwsContext* sws_ = nullptr;
  AVFrame* yuv_ = nullptr;
  AVPacket* packet_ = nullptr;
  std::vector<uint8_t> canvas_;  // the frame being drawn on
  int width_ = 0, height_ = 0;   // of the input frames
  BoxStyle style_;
  int64_t next_pts_ = 0;
  bool started_ = false;  // the encoder is open and the header written
  Status failed_;         // why the encoder could not start; every later Write returns it
  bool closed_ = false;

  mutable std::mutex mu_;
  SinkStats stats_;  // guarded by mu_
};

Result<std::unique_ptr<Sink>> VideoSink::Open(const std::string& path, const SinkOptions& options) {
  if (!(options.frame_rate > 0 && options.frame_rate <= 1000))
    return Status::InvalidArgument("video sink: frame_rate must be in (0, 1000]");
  if (options.box_thickness < 0)
    return Status::InvalidArgument("video sink: box_thickness must not be negative");
  std::unique_ptr<VideoSink> sink(new VideoSink(path, options));
  if (avformat_alloc_output_context2(&sink->format_, nullptr, nullptr, path.c_str()) < 0 ||
      sink->format_ == nullptr)
    return Status::InvalidArgument("video sink: no container format for '" + path +
                                   "' (use .mp4, .mkv or .avi)");
  SN_ASSIGN_OR_RETURN(sink->codec_, ChooseEncoder(options.video_encoder, sink->format_->oformat));
  // "file:" so that a ':' in the path is not taken for a protocol.
  const std::string url = "file:" + path;
  if (const int err = avio_open(&sink->format_->pb, url.c_str(), AVIO_FLAG_WRITE); err < 0)
    return FileError("video sink: cannot create", path, AVUNERROR(err));
  return std::unique_ptr<Sink>(std::move(sink));
}

Status VideoSink::StartEncoder(int width, int height) {
  // YUV 4:2:0 needs even sizes: an odd last column or row is left out.
  const int w = width & ~1, h = height & ~1;
  if (w < 2 || h < 2)
    return Status::InvalidArgument("video sink: frame " + std::to_string(width) + "x" +
                                   std::to_string(height) + " too small to encode");
  const AVRational rate = av_d2q(options_.frame_rate, 1 << 20);
  encoder_ = avcodec_alloc_context3(codec_);
  stream_ = avformat_new_stream(format_, nullptr);
  yuv_ = av_frame_alloc();
  packet_ = av_packet_alloc();
  if (encoder_ == nullptr || stream_ == nullptr || yuv_ == nullptr || packet_ == nullptr)
    return Status::ResourceExhausted("video sink: out of memory");
  encoder_->width = w;
  encoder_->height = h;
  encoder_->pix_fmt = AV_PIX_FMT_YUV420P;
  encoder_->time_base = av_inv_q(rate);
  encoder_->framerate = rate;
  encoder_->gop_size = std::max(1, static_cast<int>(options_.frame_rate * 2));
  // What libswscale's BGR -> YUV conversion produces: BT.601, limited range.
  encoder_->colorspace = AVCOL_SPC_SMPTE170M;
  encoder_->color_range = AVCOL_RANGE_MPEG;
  if (codec_->id == AV_CODEC_ID_H264) {
    av_opt_set(encoder_->priv_data, "preset", "veryfast", 0);
    av_opt_set(encoder_->priv_data, "crf", "20", 0);
  } else {
    encoder_->flags |= AV_CODEC_FLAG_QSCALE;
    encoder_->global_quality = FF_QP2LAMBDA * 3;
  }
  if (format_->oformat->flags & AVFMT_GLOBALHEADER) encoder_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (const int err = avcodec_open2(encoder_, codec_, nullptr); err < 0)
    return Status::Internal("video sink: cannot open encoder " + std::string(codec_->name) + ": " +
                            AvError(err));
  if (const int err = avcodec_parameters_from_context(stream_->codecpar, encoder_); err < 0)
    return Status::Internal("video sink: " + AvError(err));
  stream_->time_base = encoder_->time_base;
  stream_->avg_frame_rate = rate;
  if (const int err = avformat_write_header(format_, nullptr); err < 0)
    return Status::Unavailable("video sink: cannot write '" + path_ + "': " + AvError(err));

  yuv_->format = AV_PIX_FMT_YUV420P;
  yuv_->width = w;
  yuv_->height = h;
  if (const int err = av_frame_get_buffer(yuv_, 0); err < 0)
    return Status::ResourceExhausted("video sink: " + AvError(err));
  sws_ = sws_getContext(w, h, AV_PIX_FMT_BGR24, w, h, AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr,
                        nullptr, nullptr);
  if (sws_ == nullptr) return Status::Internal("video sink: cannot set up BGR -> YUV conversion");

  width_ = width;
  height_ = height;
  const int side = std::min(w, h);
  style_.thickness = options_.box_thickness > 0 ? options_.box_thickness : std::max(2, side / 360);
  style_.text_scale = std::max(1, side / 360);
  started_ = true;
  return Status::Ok();
}

Status VideoSink::Encode(const AVFrame* frame) {
  if (const int err = avcodec_send_frame(encoder_, frame); err < 0)
    return Status::Internal("video sink: encoding failed: " + AvError(err));
  for (;;) {
    const int err = avcodec_receive_packet(encoder_, packet_);
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::Ok();
    if (err < 0) return Status::Internal("video sink: encoding failed: " + AvError(err));
    av_packet_rescale_ts(packet_, encoder_->time_base, stream_->time_base);
    packet_->stream_index = stream_->index;
    // Takes the packet's reference, success or not.
    if (const int werr = av_interleaved_write_frame(format_, packet_); werr < 0)
      return Status::Unavailable("video sink: cannot write '" + path_ + "': " + AvError(werr));
  }
}

Status VideoSink::Write(const FrameResult& result) {
  if (closed_) return Status::FailedPrecondition("video sink: written after Close");
  const Frame* f = result.frame.get();
  if (f == nullptr) return Status::InvalidArgument("video sink: a FrameResult without a frame");
  if (f->width <= 0 || f->height <= 0 ||
      f->bgr.size() != static_cast<size_t>(f->width) * f->height * 3)
    return Status::InvalidArgument("video sink: frame " + std::to_string(f->index) + " is not " +
                                   std::to_string(f->width) + "x" + std::to_string(f->height) +
                                   " packed BGR");
  if (!failed_.ok()) return failed_;
  if (!started_) {
    failed_ = StartEncoder(f->width, f->height);
    SN_RETURN_IF_ERROR(failed_);
  } else if (f->width != width_ || f->height != height_) {
    return Status::InvalidArgument("video sink: frame " + std::to_string(f->index) + " is " +
                                   std::to_string(f->width) + "x" + std::to_string(f->height) +
                                   ", the video " + std::to_string(width_) + "x" +
                                   std::to_string(height_) + "; its size cannot change");
  }

  canvas_.assign(f->bgr.begin(), f->bgr.end());
  const BgrView view{canvas_.data(), width_, height_, width_ * 3};
  DrawTracks(view, result.tracks, options_.labels, style_);

  if (const int err = av_frame_make_writable(yuv_); err < 0)
    return Status::ResourceExhausted("video sink: " + AvError(err));
  const uint8_t* src[1] = {canvas_.data()};
  const int src_stride[1] = {width_ * 3};
  sws_scale(sws_, src, src_stride, 0, yuv_->height, yuv_->data, yuv_->linesize);
  yuv_->pts = next_pts_++;
  SN_RETURN_IF_ERROR(Encode(yuv_));
  std::lock_guard lock(mu_);
  ++stats_.frames;
  return Status::Ok();
}

Status VideoSink::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  Status status;
  if (started_) {
    status = Encode(nullptr);  // drain the encoder's delayed frames
    if (const int err = av_write_trailer(format_); err < 0 && status.ok())
      status = Status::Unavailable("video sink: cannot finish '" + path_ + "': " + AvError(err));
  }
  if (format_ != nullptr && format_->pb != nullptr) {
    avio_flush(format_->pb);
    const int err = format_->pb->error;
    avio_closep(&format_->pb);
    if (err < 0 && status.ok())
      status = FileError("video sink: cannot write", path_, AVUNERROR(err));
  }
  // No frame, no video: an empty file would only confuse players.
  if (!started_) std::remove(path_.c_str());
  Free();
  return status;
}

void VideoSink::Free() {
  sws_freeContext(sws_);
  sws_ = nullptr;
  av_frame_free(&yuv_);
  av_packet_free(&packet_);
  avcodec_free_context(&encoder_);
  if (format_ != nullptr) {
    if (format_->pb != nullptr) avio_closep(&format_->pb);
    avformat_free_context(format_);
    format_ = nullptr;
  }
  stream_ = nullptr;
}

}  // namespace

Result<std::unique_ptr<Sink>> OpenVideoSink(const std::string& path, const SinkOptions& options) {
  return VideoSink::Open(path, options);
}

}  // namespace supernova::stream

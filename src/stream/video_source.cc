// The video source (video_source.h): what a URL names, the pacing and timestamps of the frames,
// and a live source's reconnection. The FFmpeg calls themselves are video_input.cc's.
#include "stream/video_source.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "stream/video_input.h"

namespace supernova::stream {
namespace {

namespace fs = std::filesystem;
using ffmpeg::Clock;
using ffmpeg::Input;
using ffmpeg::Interrupt;
using ffmpeg::Kind;
using ffmpeg::Lower;
using ffmpeg::Scaler;
using ffmpeg::SecondsText;

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

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

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

}  // namespace supernova::stream

// The annotated-video sink: files written, then decoded back with FFmpeg and looked at.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "stream/draw.h"
#include "stream/sinks.h"
#include "stream/sinks/sink_test_util.h"

namespace supernova::stream {
namespace {

using supernova::testing::MakeFrame;
using supernova::testing::MakeTrack;
using supernova::testing::TempDir;

// libx264 reports its statistics at info level for every file; only errors matter here.
const bool kQuietFfmpeg = (av_log_set_level(AV_LOG_ERROR), true);

struct Video {
  std::string codec, error;
  int width = 0, height = 0;
  std::vector<std::vector<uint8_t>> frames;  // packed BGR
  Color at(size_t frame, int x, int y) const {
    const uint8_t* p = &frames[frame][(static_cast<size_t>(y) * width + x) * 3];
    return {p[0], p[1], p[2]};
  }
};

// Every frame of the file's video stream, converted to BGR.
Video Decode(const std::string& path) {
  Video v;
  AVFormatContext* fmt = nullptr;
  if (avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) < 0) {
    v.error = "cannot open";
    return v;
  }
  avformat_find_stream_info(fmt, nullptr);
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream < 0 || codec == nullptr) {
    v.error = "no video stream";
    avformat_close_input(&fmt);
    return v;
  }
  AVCodecContext* dec = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(dec, fmt->streams[stream]->codecpar);
  avcodec_open2(dec, codec, nullptr);
  v.codec = codec->name;
  v.width = dec->width;
  v.height = dec->height;
  AVPacket* pkt = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  SwsContext* sws = nullptr;
  const auto drain = [&] {
    while (avcodec_receive_frame(dec, frame) == 0) {
      sws = sws_getCachedContext(
          sws, frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), frame->width,
          frame->height, AV_PIX_FMT_BGR24, SWS_BILINEAR, nullptr, nullptr, nullptr);
      std::vector<uint8_t> bgr(static_cast<size_t>(frame->width) * frame->height * 3);
      uint8_t* dst[1] = {bgr.data()};
      const int dst_stride[1] = {frame->width * 3};
      sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, dst_stride);
      v.frames.push_back(std::move(bgr));
    }
  };
  while (av_read_frame(fmt, pkt) >= 0) {
    if (pkt->stream_index == stream) {
      avcodec_send_packet(dec, pkt);
      drain();
    }
    av_packet_unref(pkt);
  }
  avcodec_send_packet(dec, nullptr);
  drain();
  sws_freeContext(sws);
  av_frame_free(&frame);
  av_packet_free(&pkt);
  avcodec_free_context(&dec);
  avformat_close_input(&fmt);
  return v;
}

// Colours equal within `tolerance` per channel.
::testing::AssertionResult Near(Color got, Color want, int tolerance) {
  const int d =
      std::max({std::abs(got.b - want.b), std::abs(got.g - want.g), std::abs(got.r - want.r)});
  if (d <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got BGR(" << +got.b << "," << +got.g << "," << +got.r << "), want (" << +want.b << ","
         << +want.g << "," << +want.r << ") within " << tolerance;
}

constexpr Color kBackground{90, 110, 70};
constexpr Color kInside{200, 200, 200};  // what the source frame has inside the boxes

// A frame with a light patch where each box is: the sink must leave it as it is.
FramePtr SceneFrame(int w, int h, int64_t index, const std::vector<PixelRect>& boxes) {
  auto f = std::const_pointer_cast<Frame>(MakeFrame(w, h, index, kBackground));
  const BgrView view{f->bgr.data(), w, h, w * 3};
  for (const PixelRect& r : boxes) FillRect(view, r.x1, r.y1, r.x2, r.y2, kInside);
  return f;
}

// Writes `n` frames of two still tracks (ids 1 and 2) and returns the boxes.
std::vector<PixelRect> WriteScene(Sink& sink, int w, int h, int n) {
  const std::vector<PixelRect> boxes = {{40, 60, 140, 180}, {180, 80, 300, 200}};
  for (int i = 0; i < n; ++i) {
    FrameResult r;
    r.stream = "cam1";
    r.frame = SceneFrame(w, h, i, boxes);
    for (int k = 0; k < 2; ++k) {
      const PixelRect& b = boxes[k];
      r.tracks.push_back(MakeTrack(k + 1, k,
                                   {static_cast<float>(b.x1), static_cast<float>(b.y1),
                                    static_cast<float>(b.x2), static_cast<float>(b.y2)}));
    }
    EXPECT_TRUE(sink.Write(r).ok());
  }
  return boxes;
}

// How many pixels of `text` the font sets at scale 1.
int InkPixels(const std::string& text) {
  const int w = TextWidth(text, 1), h = TextHeight(1);
  std::vector<uint8_t> bgr(static_cast<size_t>(w) * h * 3, 0);
  DrawText({bgr.data(), w, h, w * 3}, 0, 0, text, {255, 255, 255}, 1);
  return static_cast<int>(std::count(bgr.begin(), bgr.end(), 255) / 3);
}

// The outline's middle (a 6-pixel line) has the track's colour; above the box, a tag of that
// colour carries "#id label" in white; the box's middle and the background far from any box
// are as the source had them.
void ExpectAnnotated(const Video& v, size_t frame, const std::vector<PixelRect>& boxes,
                     const std::vector<std::string>& labels, int colour_tolerance) {
  SCOPED_TRACE("frame " + std::to_string(frame));
  for (size_t k = 0; k < boxes.size(); ++k) {
    const PixelRect& b = boxes[k];
    const Color c = TrackColor(static_cast<int64_t>(k + 1));
    const std::string text = "#" + std::to_string(k + 1) + " " + labels[k];
    int tag = 0, ink = 0;  // the tag is 9 px high (7 + 1 px padding each side) at scale 1
    for (int y = b.y1 - 9; y < b.y1; ++y)
      for (int x = b.x1; x < b.x1 + TextWidth(text, 1) + 2; ++x) {
        const Color p = v.at(frame, x, y);
        tag += Near(p, c, 2 * colour_tolerance) ? 1 : 0;  // white text bleeds into it
        ink += std::min({p.b, p.g, p.r}) > 180 ? 1 : 0;
      }
    EXPECT_GT(ink, InkPixels(text) / 2) << "label of box " << k;
    EXPECT_GT(tag, (TextWidth(text, 1) + 2) * 9 / 4) << "label of box " << k;
    const int mx = (b.x1 + b.x2) / 2, my = (b.y1 + b.y2) / 2;
    EXPECT_TRUE(Near(v.at(frame, b.x1 + 3, my), c, colour_tolerance)) << "left edge, box " << k;
    EXPECT_TRUE(Near(v.at(frame, b.x2 - 3, my), c, colour_tolerance)) << "right edge, box " << k;
    EXPECT_TRUE(Near(v.at(frame, mx, b.y2 - 3), c, colour_tolerance)) << "bottom, box " << k;
    EXPECT_TRUE(Near(v.at(frame, mx, b.y1 + 3), c, colour_tolerance)) << "top, box " << k;
    EXPECT_TRUE(Near(v.at(frame, mx, my), kInside, 10)) << "inside, box " << k;
    EXPECT_TRUE(Near(v.at(frame, b.x1 + 12, b.y2 - 12), kInside, 10)) << "inside, box " << k;
  }
  EXPECT_TRUE(Near(v.at(frame, 10, 230), kBackground, 10));
  EXPECT_TRUE(Near(v.at(frame, 310, 10), kBackground, 10));
}

TEST(VideoSink, Mp4HasEveryFrameWithBoxesInTheTrackColours) {
  TempDir dir;
  SinkOptions options;
  options.labels = {"person", "car"};
  options.box_thickness = 6;
  auto sink = OpenSink(dir.File("annotated.mp4"), options);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  const std::vector<PixelRect> boxes = WriteScene(**sink, 320, 240, 30);
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ((*sink)->stats().frames, 30);

  const Video v = Decode(dir.File("annotated.mp4"));
  ASSERT_EQ(v.error, "");
  EXPECT_EQ(v.codec, avcodec_find_encoder_by_name("libx264") ? "h264" : "mpeg4");
  EXPECT_EQ(v.width, 320);
  EXPECT_EQ(v.height, 240);
  ASSERT_EQ(v.frames.size(), 30u);
  for (const size_t f : {size_t{0}, size_t{15}, size_t{29}})
    ExpectAnnotated(v, f, boxes, {"person", "car"}, 20);
}

TEST(VideoSink, Mpeg4InAviWithTheVideoScheme) {
  TempDir dir;
  SinkOptions options;
  options.box_thickness = 6;
  options.video_encoder = "mpeg4";
  options.frame_rate = 10;
  auto sink = OpenSink("video:" + dir.File("annotated.avi"), options);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  const std::vector<PixelRect> boxes = WriteScene(**sink, 320, 240, 12);
  ASSERT_TRUE((*sink)->Close().ok());

  const Video v = Decode(dir.File("annotated.avi"));
  ASSERT_EQ(v.error, "");
  EXPECT_EQ(v.codec, "mpeg4");
  ASSERT_EQ(v.frames.size(), 12u);
  ExpectAnnotated(v, 11, boxes, {"class_0", "class_1"}, 24);
}

TEST(VideoSink, OddSizesLoseTheirLastColumnAndRow) {
  TempDir dir;
  auto sink = OpenSink(dir.File("odd.mkv"), {});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  for (int i = 0; i < 3; ++i) {
    FrameResult r;
    r.frame = MakeFrame(161, 121, i, kBackground);
    ASSERT_TRUE((*sink)->Write(r).ok());
  }
  ASSERT_TRUE((*sink)->Close().ok());
  const Video v = Decode(dir.File("odd.mkv"));
  ASSERT_EQ(v.error, "");
  EXPECT_EQ(v.width, 160);
  EXPECT_EQ(v.height, 120);
  EXPECT_EQ(v.frames.size(), 3u);
}

TEST(VideoSink, FramesOfAnotherSizeAreRejected) {
  TempDir dir;
  auto sink = OpenSink(dir.File("sizes.mp4"), {});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  FrameResult r;
  r.frame = MakeFrame(64, 48, 0);
  ASSERT_TRUE((*sink)->Write(r).ok());
  r.frame = MakeFrame(32, 32, 1);
  const Status s = (*sink)->Write(r);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("32x32"), std::string::npos) << s.ToString();

  auto broken = std::make_shared<Frame>();
  broken->width = 64;
  broken->height = 48;
  broken->bgr.resize(10);
  r.frame = broken;
  EXPECT_EQ((*sink)->Write(r).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE((*sink)->Close().ok());
  EXPECT_EQ(Decode(dir.File("sizes.mp4")).frames.size(), 1u);
}

TEST(VideoSink, NoFramesLeaveNoFile) {
  TempDir dir;
  auto sink = OpenSink(dir.File("empty.mp4"), {});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(dir.File("empty.mp4")));  // created on open
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_FALSE(std::filesystem::exists(dir.File("empty.mp4")));
}

TEST(VideoSink, BadOptionsAreInvalidArguments) {
  TempDir dir;
  SinkOptions unknown;
  unknown.video_encoder = "no-such-encoder";
  SinkOptions audio;
  audio.video_encoder = "aac";
  SinkOptions rate;
  rate.frame_rate = 0;
  for (const SinkOptions& o : {unknown, audio, rate}) {
    auto sink = OpenSink(dir.File("x.mp4"), o);
    ASSERT_FALSE(sink.ok());
    EXPECT_EQ(sink.status().code(), Status::Code::kInvalidArgument) << sink.status().ToString();
  }
}

}  // namespace
}  // namespace supernova::stream

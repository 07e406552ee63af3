// Files, image folders and the errors a user can cause, on media the tests draw with ffmpeg.
#include "stream/video_source.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "stream/video/test_media.h"

namespace supernova::stream {
namespace {

using namespace video_test;  // NOLINT: the test helpers
namespace fs = std::filesystem;

SourceOptions Fast() {
  SourceOptions o;
  o.realtime = false;
  return o;
}

// Reads until the first error; returns the frames and leaves the error in *end.
std::vector<FramePtr> ReadAll(VideoSource& source, Status* end, int limit = 1000) {
  std::vector<FramePtr> frames;
  for (int i = 0; i < limit; ++i) {
    Result<FramePtr> f = source.Read();
    if (!f.ok()) {
      *end = f.status();
      return frames;
    }
    frames.push_back(*f);
  }
  *end = Status::Internal("limit reached");
  return frames;
}

// The white square of frame n is where the clip drew it, at `scale` of the clip's size.
void ExpectSquare(const Frame& f, int64_t n, double scale = 1) {
  auto at = [&](double x, double y) {
    return PixelAt(f, static_cast<int>(x * scale), static_cast<int>(y * scale));
  };
  const double x = SquareX(n), y = kSquareY, s = kSquareSize;
  EXPECT_TRUE(IsWhite(at(x + s / 2, y + s / 2))) << "centre, frame " << n;
  EXPECT_TRUE(IsWhite(at(x + 6, y + 6))) << "inside the top-left corner, frame " << n;
  EXPECT_TRUE(IsWhite(at(x + s - 6, y + s - 6))) << "inside the bottom-right corner, frame " << n;
  EXPECT_TRUE(IsBlack(at(x + s / 2, y - 8))) << "above, frame " << n;
  EXPECT_TRUE(IsBlack(at(x + s / 2, y + s + 8))) << "below, frame " << n;
  if (x >= 8) {
    EXPECT_TRUE(IsBlack(at(x - 8, y + s / 2))) << "left, frame " << n;
  }
  EXPECT_TRUE(IsBlack(at(x + s + 8, y + s / 2))) << "right, frame " << n;
}

TEST(VideoFileTest, DecodesEveryFrameWithSizeTimestampsAndContent) {
  const std::string clip = MovingClip();
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the test clip";
  auto source = VideoSource::Open(clip, Fast());
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ((*source)->width(), 320);
  EXPECT_EQ((*source)->height(), 240);
  EXPECT_NEAR((*source)->frame_rate(), 25, 0.01);
  EXPECT_FALSE((*source)->live());

  Status end;
  std::vector<FramePtr> frames = ReadAll(**source, &end);
  EXPECT_EQ(end.code(), Status::Code::kOutOfRange) << end.ToString();
  ASSERT_EQ(frames.size(), 50u);
  for (size_t i = 0; i < frames.size(); ++i) {
    const Frame& f = *frames[i];
    ASSERT_EQ(f.width, 320);
    ASSERT_EQ(f.height, 240);
    ASSERT_EQ(f.bgr.size(), 320u * 240 * 3);
    EXPECT_EQ(f.index, static_cast<int64_t>(i));
    EXPECT_NEAR(f.pts_s, i / 25.0, 1e-3) << "frame " << i;  // B-frames reordered into place
    ExpectSquare(f, f.index);
  }
  // Reading on past the end keeps saying so.
  EXPECT_EQ((*source)->Read().status().code(), Status::Code::kOutOfRange);
  SourceStats stats = (*source)->stats();
  EXPECT_EQ(stats.frames, 50);
  EXPECT_EQ(stats.decode_errors, 0);
  EXPECT_EQ(stats.reconnects, 0);
  EXPECT_TRUE(stats.connected);
}

TEST(VideoFileTest, FileUrlIsAFile) {
  const std::string clip = MovingClip();
  ASSERT_FALSE(clip.empty());
  auto source = VideoSource::Open("file://" + clip, Fast());
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto f = (*source)->Read();
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ExpectSquare(**f, 0);
}

TEST(VideoFileTest, RealtimePacesFramesAtTheirRate) {
  const std::string clip = MovingClip();
  ASSERT_FALSE(clip.empty());
  auto source = VideoSource::Open(clip);  // realtime by default
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto start = std::chrono::steady_clock::now();
  Status end;
  std::vector<FramePtr> frames = ReadAll(**source, &end);
  double elapsed = SecondsSince(start);
  ASSERT_EQ(frames.size(), 50u);
  // 50 frames at 25 fps span 1.96 s; as fast as decoding goes takes a small fraction of that.
  EXPECT_GT(elapsed, 1.5);
  for (size_t i = 1; i < frames.size(); ++i) {
    double gap = std::chrono::duration<double>(frames[i]->captured - frames[0]->captured).count();
    EXPECT_NEAR(gap, frames[i]->pts_s, 1e-3) << "captured when its time came, frame " << i;
  }
  // Nothing was delivered ahead of its time.
  EXPECT_LE(frames.back()->captured, std::chrono::steady_clock::now());
}

TEST(VideoFileTest, LoopStartsAgainAndTimeGoesOn) {
  const std::string clip = MovingClip();
  ASSERT_FALSE(clip.empty());
  SourceOptions o = Fast();
  o.loop = true;
  auto source = VideoSource::Open(clip, o);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  Status end;
  std::vector<FramePtr> frames = ReadAll(**source, &end, 120);
  ASSERT_EQ(frames.size(), 120u) << end.ToString();
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i]->index, static_cast<int64_t>(i));
    // The timeline runs on through the restarts: frame 50 comes one frame after frame 49.
    EXPECT_NEAR(frames[i]->pts_s, i / 25.0, 1e-3) << "frame " << i;
    ExpectSquare(*frames[i], frames[i]->index % 50);
  }
}

TEST(VideoFileTest, ScalesToTheRequestedSize) {
  const std::string clip = MovingClip();
  ASSERT_FALSE(clip.empty());
  SourceOptions o = Fast();
  o.width = 160;
  o.height = 120;
  auto source = VideoSource::Open(clip, o);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ((*source)->width(), 160);
  EXPECT_EQ((*source)->height(), 120);
  for (int i = 0; i < 10; ++i) {
    auto f = (*source)->Read();
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_EQ((*f)->width, 160);
    ASSERT_EQ((*f)->height, 120);
    ASSERT_EQ((*f)->bgr.size(), 160u * 120 * 3);
    ExpectSquare(**f, i, 0.5);
  }
}

TEST(VideoFileTest, CloseUnblocksAPacedRead) {
  // A folder at one frame every 4 s: the second Read() waits for its time, unless closed.
  const std::string dir = TempDir() + "/slow";
  fs::create_directories(dir);
  ASSERT_TRUE(Ffmpeg("-f lavfi -i color=red:s=64x48 -frames:v 2 " + dir + "/%02d.png"));
  SourceOptions o;
  o.folder_fps = 0.25;
  auto source = VideoSource::Open(dir, o);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  ASSERT_TRUE((*source)->Read().ok());
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    (*source)->Close();
  });
  auto start = std::chrono::steady_clock::now();
  Result<FramePtr> f = (*source)->Read();
  double waited = SecondsSince(start);
  closer.join();
  EXPECT_EQ(f.status().code(), Status::Code::kUnavailable) << f.status().ToString();
  EXPECT_LT(waited, 3.0);
  EXPECT_FALSE((*source)->stats().connected);
  EXPECT_EQ((*source)->Read().status().code(), Status::Code::kUnavailable);
}

TEST(ImageFolderTest, ReadsImagesInNameOrderAtFolderFps) {
  const std::string dir = TempDir() + "/folder";
  fs::create_directories(dir);
  // Five frames of the moving square as PNG, one as JPEG and one as BMP, named so that name
  // order is frame order; and things that are not images, which are skipped or counted.
  ASSERT_TRUE(
      Ffmpeg("-f lavfi -i color=black:s=320x240:r=25 -f lavfi -i color=white:s=40x40:r=25 "
             "-filter_complex \"[0][1]overlay=x='10+100*t':y=60:shortest=1\" "
             "-frames:v 7 " +
             dir + "/frame_%02d.png"));
  ASSERT_TRUE(Ffmpeg("-i " + dir + "/frame_06.png -q:v 2 " + dir + "/frame_06.JPG"));
  ASSERT_TRUE(Ffmpeg("-i " + dir + "/frame_07.png " + dir + "/frame_07.bmp"));
  fs::remove(dir + "/frame_06.png");
  fs::remove(dir + "/frame_07.png");
  std::ofstream(dir + "/notes.txt") << "not an image\n";
  std::ofstream(dir + "/frame_99_broken.png") << "not a png either\n";

  SourceOptions o;
  o.folder_fps = 20;
  auto source = VideoSource::Open(dir, o);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ((*source)->width(), 320);
  EXPECT_EQ((*source)->height(), 240);
  EXPECT_DOUBLE_EQ((*source)->frame_rate(), 20);
  auto start = std::chrono::steady_clock::now();
  Status end;
  std::vector<FramePtr> frames = ReadAll(**source, &end);
  double elapsed = SecondsSince(start);
  EXPECT_EQ(end.code(), Status::Code::kOutOfRange) << end.ToString();
  ASSERT_EQ(frames.size(), 7u);
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i]->index, static_cast<int64_t>(i));
    EXPECT_NEAR(frames[i]->pts_s, i / 20.0, 1e-9);
    ExpectSquare(*frames[i], static_cast<int64_t>(i));
  }
  EXPECT_GT(elapsed, 0.2);  // 7 frames at 20 fps span 0.3 s
  SourceStats stats = (*source)->stats();
  EXPECT_EQ(stats.frames, 7);
  EXPECT_EQ(stats.decode_errors, 1);  // the broken png
  EXPECT_NE(stats.last_error.find("frame_99_broken.png"), std::string::npos) << stats.last_error;
}

TEST(ImageFolderTest, LoopsAndScales) {
  const std::string dir = TempDir() + "/loop";
  fs::create_directories(dir);
  ASSERT_TRUE(
      Ffmpeg("-f lavfi -i color=black:s=320x240:r=25 -f lavfi -i color=white:s=40x40:r=25 "
             "-filter_complex \"[0][1]overlay=x='10+100*t':y=60:shortest=1\" "
             "-frames:v 3 " +
             dir + "/%02d.jpg"));
  SourceOptions o = Fast();
  o.loop = true;
  o.width = 160;
  o.height = 120;
  auto source = VideoSource::Open(dir, o);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  for (int i = 0; i < 8; ++i) {
    auto f = (*source)->Read();
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ((*f)->width, 160);
    EXPECT_NEAR((*f)->pts_s, i / o.folder_fps, 1e-9);
    ExpectSquare(**f, i % 3, 0.5);
  }
}

// ---- Errors a user can cause: a clear Status, never a crash ----

void ExpectOpenFails(const std::string& url, Status::Code code, const std::string& mention,
                     const SourceOptions& o = {}) {
  auto source = VideoSource::Open(url, o);
  ASSERT_FALSE(source.ok()) << url << " opened";
  EXPECT_EQ(source.status().code(), code) << source.status().ToString();
  EXPECT_NE(source.status().message().find(mention), std::string::npos)
      << source.status().ToString();
}

TEST(VideoErrorTest, MissingFile) {
  ExpectOpenFails(TempDir() + "/no_such_clip.mp4", Status::Code::kNotFound, "no_such_clip.mp4");
  ExpectOpenFails("file:///no/such/clip.mp4", Status::Code::kNotFound, "/no/such/clip.mp4");
}

TEST(VideoErrorTest, TextFileNamedMp4) {
  const std::string path = TempDir() + "/readme.mp4";
  std::ofstream(path) << "This is a text file, not a video.\nIt only has an .mp4 name.\n";
  ExpectOpenFails(path, Status::Code::kInvalidArgument, "readme.mp4");
}

TEST(VideoErrorTest, FileWithoutVideo) {
  const std::string path = TempDir() + "/tone.wav";
  ASSERT_TRUE(Ffmpeg("-f lavfi -i sine=frequency=440:duration=0.5 " + path));
  ExpectOpenFails(path, Status::Code::kInvalidArgument, "no video stream");
}

TEST(VideoErrorTest, TruncatedMp4WithIndexAtTheEnd) {
  // The moov atom (the index) is written last: half a file has none.
  const std::string clip = MovingClip();
  ASSERT_FALSE(clip.empty());
  ExpectOpenFails(Truncated(clip, "half.mp4", 0.5), Status::Code::kInvalidArgument, "half.mp4");
}

TEST(VideoErrorTest, TruncatedMp4WithIndexFirst) {
  // The index promises 50 frames but the data stops part way: the frames that are there, then
  // a clear end, whatever FFmpeg makes of the missing rest.
  const std::string clip = MovingClip(/*faststart=*/true);
  ASSERT_FALSE(clip.empty());
  const std::string cut = Truncated(clip, "cut.mp4", 0.6);
  auto source = VideoSource::Open(cut, Fast());
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  Status end;
  std::vector<FramePtr> frames = ReadAll(**source, &end);
  EXPECT_GT(frames.size(), 5u);
  EXPECT_LT(frames.size(), 50u);
  EXPECT_TRUE(end.code() == Status::Code::kOutOfRange ||
              end.code() == Status::Code::kInvalidArgument)
      << end.ToString();
  EXPECT_NE(end.message().find("cut.mp4"), std::string::npos) << end.ToString();
  EXPECT_NE(end.message().find("truncated"), std::string::npos) << end.ToString();
  EXPECT_NE((*source)->stats().last_error.find("truncated"), std::string::npos);
  for (const FramePtr& f : frames) ASSERT_EQ(f->bgr.size(), 320u * 240 * 3);
}

TEST(VideoErrorTest, MissingCamera) {
  ExpectOpenFails("/dev/video97", Status::Code::kNotFound, "/dev/video97");
  ExpectOpenFails("v4l2:///dev/video98", Status::Code::kNotFound, "/dev/video98");
}

TEST(VideoErrorTest, FolderWithoutImages) {
  const std::string dir = TempDir() + "/empty";
  fs::create_directories(dir);
  std::ofstream(dir + "/notes.txt") << "no images here\n";
  ExpectOpenFails(dir, Status::Code::kNotFound, "has no *.jpg");
}

TEST(VideoErrorTest, UnsupportedSchemeAndBadOptions) {
  ExpectOpenFails("ftp://127.0.0.1/clip.mp4", Status::Code::kInvalidArgument, "unsupported");
  ExpectOpenFails("", Status::Code::kInvalidArgument, "empty");
  const std::string clip = MovingClip();
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the test clip";
  SourceOptions o;
  o.width = 100;  // without a height
  ExpectOpenFails(clip, Status::Code::kInvalidArgument, "width and height", o);
  o = {};
  o.rtsp_transport = "carrier-pigeon";
  ExpectOpenFails(clip, Status::Code::kInvalidArgument, "rtsp_transport", o);
  o = {};
  o.reconnect_initial_s = 0;
  ExpectOpenFails(clip, Status::Code::kInvalidArgument, "reconnect_initial_s", o);
}

}  // namespace
}  // namespace supernova::stream

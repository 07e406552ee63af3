// `supernova stream --learn-model` as a process: a clip made by the ffmpeg command line with a
// filled and a hollow square moving at known speeds, the squares detector to find both, and a
// class store enrolled by `supernova learn add` from one image of each kind (drawn by ffmpeg,
// as crops of the stream would look) through an embedding model built in code
// (tests/stream/squares.h): every track of the JSON lines carries the kind it truly is, refinement
// logs lines, the metrics count the looks; bad learning flags are one clear line.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "stream/cli/cli_util.h"
#include "stream/squares.h"
#include "stream/video/test_media.h"

namespace supernova::stream {
namespace {

using json = nlohmann::json;

// 320x240 at 25 fps, 30 frames: the filled 40x40 square's top-left corner at (10 + 4n, 40), the
// hollow one's (a 10-pixel outline) at (250 - 3n, 150).
constexpr int kFrames = 30;
Box FilledTruth(int64_t n) {
  const float x = 10 + 4 * static_cast<float>(n);
  return {x, 40, x + 40, 80};
}
Box HollowTruth(int64_t n) {
  const float x = 250 - 3 * static_cast<float>(n);
  return {x, 150, x + 40, 190};
}

std::string ShapesClip() {
  const std::string path = video_test::TempDir() + "/shapes.mp4";
  const bool ok = video_test::Ffmpeg(
      "-f lavfi -i color=black:s=320x240:r=25 -f lavfi -i color=white:s=40x40:r=25 "
      "-f lavfi -i color=white:s=40x40:r=25 -f lavfi -i color=black:s=20x20:r=25 "
      "-filter_complex \"[0][1]overlay=x='10+100*t':y=40[a];[a][2]overlay=x='250-75*t':y=150[b];"
      "[b][3]overlay=x='260-75*t':y=160:shortest=1\" -frames:v " +
      std::to_string(kFrames) + " -c:v libx264 -crf 18 -pix_fmt yuv420p " + path);
  return ok ? path : "";
}

// A 48x48 picture of one square with the 4-pixel margin the stream's crops have (0.1 of 40).
std::string ShapeImage(bool hollow) {
  const std::string path = video_test::TempDir() + (hollow ? "/hollow.png" : "/filled.png");
  const std::string hole = hollow ? ",drawbox=x=14:y=14:w=20:h=20:color=black:t=fill" : "";
  const bool ok = video_test::Ffmpeg(
      "-f lavfi -i color=black:s=48x48 -vf "
      "\"drawbox=x=4:y=4:w=40:h=40:color=white:t=fill" +
      hole + "\" -frames:v 1 " + path);
  return ok ? path : "";
}

// Enrols each image as its class with `supernova learn add`, as a user would.
void Enrol(const std::string& model, const std::string& store,
           const std::vector<std::pair<std::string, std::string>>& classes) {
  for (const auto& [name, image] : classes) {
    std::string err;
    ASSERT_EQ(RunCli({"learn", "add", "--model", model, "--store", store, "--preprocess", "unit",
                      "--class", name, image},
                     &err),
              0)
        << err;
  }
}

struct Enrolled {
  std::string clip, cells, store;
};

Enrolled Prepare(const std::string& name) {
  Enrolled s;
  s.clip = ShapesClip();
  EXPECT_FALSE(s.clip.empty()) << "ffmpeg could not make the clip";
  s.cells = video_test::TempDir() + "/cells.onnx";
  const Status written = supernova::testing::WriteCellsEmbeddingModel(s.cells, 32);
  EXPECT_TRUE(written.ok()) << written.ToString();
  s.store = video_test::TempDir() + "/" + name;
  const std::string filled = ShapeImage(false), hollow = ShapeImage(true);
  EXPECT_FALSE(filled.empty() || hollow.empty()) << "ffmpeg could not draw the shapes";
  Enrol(s.cells, s.store, {{"filled", filled}, {"hollow", hollow}});
  return s;
}

TEST(StreamLearnCli, TracksInTheJsonLinesCarryTheKindOfSquareTheyAre) {
  const Enrolled s = Prepare("store");
  if (HasFatalFailure() || s.clip.empty()) return;
  const std::string jsonl = video_test::TempDir() + "/learned.jsonl";
  std::string err;
  const int code = RunCli({"stream",
                           "--model",
                           SquaresModel(),
                           "--source",
                           s.clip,
                           "--name",
                           "belt",
                           "--scale",
                           "0.00392157",
                           "--score-threshold",
                           "0.5",
                           "--skip",
                           "none",
                           "--no-realtime",
                           "--learn-model",
                           s.cells,
                           "--learn-store",
                           s.store,
                           "--learn-preprocess",
                           "unit",
                           "--learn-every",
                           "4",
                           "--learn-classes",
                           "class_0",
                           "--learn-refine",
                           "--sink",
                           jsonl},
                          &err);
  ASSERT_EQ(code, 0) << err;
  std::cerr << err << "\n"
            << ReadJsonLines(video_test::TempDir() + "/learned.jsonl")[20].dump() << "\n";
  {
    std::ifstream l(s.store + "/refine.log");
    std::string x;
    std::getline(l, x);
    std::cerr << x << "\n";
  }
  EXPECT_NE(err.find("2 classes, imprint, threshold 0.5, every 4 frames, refine after 3"),
            std::string::npos)
      << err;
  const json metrics = FinalMetrics(err);
  EXPECT_EQ(metrics["frames"], kFrames) << err;
  EXPECT_EQ(metrics["learn_failed"], 0) << err;
  // Two squares, each looked at when new and every fourth frame after.
  EXPECT_GE(metrics["learn_classified"].get<int>(), 2 * (kFrames / 4)) << err;
  EXPECT_GT(metrics["learn_ms_p50"].get<double>(), 0) << err;

  const std::vector<json> lines = ReadJsonLines(jsonl);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kFrames));
  std::map<std::string, int> named;
  for (const json& r : lines) {
    const int64_t n = r["frame"].get<int64_t>();
    for (const json& t : r["tracks"]) {
      const Box box{t["box"]["x1"], t["box"]["y1"], t["box"]["x2"], t["box"]["y2"]};
      const bool filled = IoU(box, FilledTruth(n)) > 0.5f, hollow = IoU(box, HollowTruth(n)) > 0.5f;
      ASSERT_TRUE(filled || hollow) << "a track on no square: " << r.dump();
      ASSERT_TRUE(t.contains("learned")) << "a track without a learned label: " << r.dump();
      EXPECT_EQ(t["learned"]["label"], filled ? "filled" : "hollow") << r.dump();
      EXPECT_EQ(t["label"], "class_0");  // the detector's class stays beside it
      ++named[t["learned"]["label"].get<std::string>()];
    }
  }
  EXPECT_GE(named["filled"], kFrames - 3);
  EXPECT_GE(named["hollow"], kFrames - 3);

  // Both tracks kept their class over three looks: refinement was offered, from them only.
  std::ifstream log(s.store + "/refine.log");
  int offers = 0;
  for (std::string line; std::getline(log, line); ++offers)
    EXPECT_EQ(json::parse(line)["source"].get<std::string>().rfind("stream belt track ", 0), 0u)
        << line;
  EXPECT_GE(offers, 2);
  EXPECT_EQ(metrics["learn_offered"].get<int>(), offers) << err;  // all decided before the exit
}

TEST(StreamLearnCli, BadLearningFlagsAreOneClearLine) {
  const Enrolled s = Prepare("store_flags");
  if (HasFatalFailure() || s.clip.empty()) return;
  struct Case {
    std::vector<std::string> flags;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--learn-model", s.cells, "--learn-preprocess", "unit"}, "--learn-store"},
      {{"--learn-store", s.store}, "--learn-model"},
      {{"--learn-model", s.cells, "--learn-store", s.store}, "--learn-preprocess"},
      {{"--learn-model", s.cells, "--learn-store", s.store, "--learn-preprocess", "unit",
        "--learn-classes", "person"},
       "'person' is no class of the detector"},
      {{"--learn-model", s.cells, "--learn-store", video_test::TempDir() + "/no_store",
        "--learn-preprocess", "unit"},
       "--learn-store"},
      {{"--learn-model", s.cells, "--learn-store", s.store, "--learn-preprocess", "unit",
        "--learn-method", "nearest"},
       "nearest"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"stream", "--model", SquaresModel(), "--source", s.clip};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    std::string err;
    EXPECT_EQ(RunCli(args, &err), 1) << c.says;
    EXPECT_NE(err.find(c.says), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace supernova::stream

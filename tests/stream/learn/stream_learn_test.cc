// Learned labels on the stream's tracks (tools/supernova/stream_learn.h): which tracks are due
// for a look, the crops, and the pipeline end to end on the squares testkit's filled and hollow
// squares, found by the squares detector and named by a class store enrolled from crops of frame
// 0 through an embedding model built in code (the mean brightness of a 4 x 4 grid): every
// track's learned label against the kind of square it truly is, and refinement only from
// tracks whose label was confirmed.
#include "supernova/stream_learn.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "ir/onnx_import.h"
#include "stream/detector.h"
#include "stream/pipeline.h"
#include "stream/squares.h"
#include "temp_dir.h"

namespace supernova::tools {
namespace {

using stream::Box;
using stream::FrameResult;
using stream::Track;
using supernova::testing::SquaresScene;
using supernova::testing::SquaresSource;
using supernova::testing::TempDir;
using Clock = std::chrono::steady_clock;

Track MakeTrack(int64_t id, int class_id, int frames_since_detection, int64_t learned_frame) {
  Track t;
  t.id = id;
  t.class_id = class_id;
  t.frames_since_detection = frames_since_detection;
  t.learned.frame = learned_frame;
  return t;
}

TEST(StreamLearn, TracksAreDueWhenNewThenEveryNFramesOnlyWhenMeasured) {
  const std::vector<Track> tracks = {
      MakeTrack(1, 0, 0, -1),  // new
      MakeTrack(2, 0, 0, 10),  // looked at on frame 10
      MakeTrack(3, 0, 1, -1),  // new, but predicted this frame: its box may be off the object
      MakeTrack(4, 2, 0, -1),  // new, of another detector class
  };
  EXPECT_EQ(DueTracks(tracks, 14, 5, {}), (std::vector<size_t>{0, 3}));
  EXPECT_EQ(DueTracks(tracks, 15, 5, {}), (std::vector<size_t>{0, 1, 3}));
  EXPECT_EQ(DueTracks(tracks, 15, 5, {0}), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(DueTracks(tracks, 15, 5, {2, 7}), (std::vector<size_t>{3}));
  EXPECT_EQ(DueTracks(tracks, 11, 1, {}), (std::vector<size_t>{0, 1, 3}));
  // A bound per frame: never-seen tracks first, in their order; then the oldest looks.
  EXPECT_EQ(DueTracks(tracks, 15, 5, {}, 1), (std::vector<size_t>{0}));
  EXPECT_EQ(DueTracks(tracks, 15, 5, {}, 2), (std::vector<size_t>{0, 3}));
  EXPECT_EQ(DueTracks(tracks, 15, 5, {}, 3), (std::vector<size_t>{0, 1, 3}));
}

TEST(StreamLearn, CropsGrowByTheMarginStayInTheFrameAndAreRgb) {
  stream::Frame f;
  f.width = 8;
  f.height = 6;
  f.bgr.resize(8 * 6 * 3);
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 8; ++x) {
      uint8_t* p = &f.bgr[(y * 8 + x) * 3];
      p[0] = static_cast<uint8_t>(x);        // B
      p[1] = static_cast<uint8_t>(y);        // G
      p[2] = static_cast<uint8_t>(100 + x);  // R
    }
  // 4 x 2 box, a margin of a quarter: one pixel more left and right, half a pixel up and down.
  auto crop = CropRgb(f, {2, 2, 6, 4}, 0.25f);
  ASSERT_TRUE(crop.ok()) << crop.status().ToString();
  EXPECT_EQ(crop->width, 6);   // x 1..7
  EXPECT_EQ(crop->height, 3);  // y 1.5..4.5, rounded: 2..5
  const uint8_t* first = crop->pixels.data();
  EXPECT_EQ(first[0], 101);  // R of (1, 2)
  EXPECT_EQ(first[1], 2);
  EXPECT_EQ(first[2], 1);
  // Clipped at the frame's edges.
  crop = CropRgb(f, {-3, -3, 3, 3}, 0.5f);
  ASSERT_TRUE(crop.ok());
  EXPECT_EQ(crop->width, 6);
  EXPECT_EQ(crop->height, 6);
  // Nothing left to crop; no pixels.
  EXPECT_FALSE(CropRgb(f, {20, 20, 30, 30}, 0.1f).ok());
  stream::Frame empty;
  empty.width = 8;
  empty.height = 6;
  EXPECT_FALSE(CropRgb(empty, {1, 1, 4, 4}, 0.1f).ok());
}

// The scene: two filled and two hollow squares drifting without meeting, and a hollow one that
// leaves the frame after a frame or two (too short-lived to confirm its label).
SquaresScene Scene() {
  SquaresScene scene;
  scene.squares = {
      {60, 60, 2, 1}, {240, 60, -2, 1}, {80, 180, 2, -1}, {250, 170, -1, -1}, {300, 120, 12, 0}};
  for (size_t i : {1, 3, 4}) scene.squares[i].hollow = true;
  return scene;
}

// The square whose true box `box` overlaps most in frame `index`, or -1.
int SquareAt(const SquaresScene& scene, const Box& box, int64_t index) {
  int best = -1;
  float best_iou = 0.5f;
  for (size_t i = 0; i < scene.squares.size(); ++i) {
    const float iou = stream::IoU(box, scene.Truth(i, index));
    if (iou > best_iou) {
      best_iou = iou;
      best = static_cast<int>(i);
    }
  }
  return best;
}

struct Models {
  std::string squares, cells;
};

Models WriteModels(const TempDir& dir) {
  Models m{dir / "squares.onnx", dir / "cells.onnx"};
  Status s = supernova::testing::WriteSquaresModel(m.squares, 320, 240, 32, 0);
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = supernova::testing::WriteCellsEmbeddingModel(m.cells, 32);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return m;
}

CropOptions Crops() {
  CropOptions c;
  c.input.preprocess = "unit";
  c.session.num_threads = 2;
  return c;
}

// Enrols "filled" from square 0 and "hollow" from square 1, cropped from frame 0 as the stream
// crops its tracks; squares 2 and 3 are never shown.
void Enrol(const std::string& cells, const std::string& store_dir) {
  auto crops = CropEmbedder::Open(cells, Crops());
  ASSERT_TRUE(crops.ok()) << crops.status().ToString();
  const SquaresScene scene = Scene();
  const stream::FramePtr frame0 = scene.Draw(0, Clock::now());
  auto e = (*crops)->Embed(*frame0, {scene.Truth(0, 0), scene.Truth(1, 0)});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const learn::Embedder& embedder = (*crops)->embedder();
  ASSERT_EQ(e->size(), 2u * embedder.dim());
  auto store = learn::ClassStore::Open(store_dir, embedder.identity(), embedder.dim());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const auto half = e->begin() + embedder.dim();
  ASSERT_TRUE((*store)->Add("filled", std::vector<float>(e->begin(), half)).ok());
  ASSERT_TRUE((*store)->Add("hollow", std::vector<float>(half, e->end())).ok());
}

TEST(StreamLearn, TracksCarryTheKindOfSquareTheyAreAndOnlyConfirmedOnesRefine) {
  TempDir dir;
  const Models models = WriteModels(dir);
  const std::string store = dir / "store";
  ASSERT_NO_FATAL_FAILURE(Enrol(models.cells, store));

  stream::DetectorOptions d;
  d.score_threshold = 0.5f;
  d.scale = 1.0f / 255;
  d.session.num_threads = 2;
  auto detector = stream::Detector::Open(models.squares, d);
  ASSERT_TRUE(detector.ok()) << detector.status().ToString();
  LearnLabellerOptions o;
  o.model = models.cells;
  o.store = store;
  o.crop = Crops();
  o.every = 3;
  o.max_per_frame = 0;  // all five squares on their first frame
  o.refine = true;
  o.confirm = 3;
  auto labeller = LearnLabeller::Open(o);
  ASSERT_TRUE(labeller.ok()) << labeller.status().ToString();
  EXPECT_EQ((*labeller)->Describe(),
            "2 classes, imprint, threshold 0.5, every 3 frames, refine after 3");

  const SquaresScene scene = Scene();
  const int frames = 24;
  stream::PipelineOptions p;
  p.skip.mode = stream::SkipMode::kNone;
  p.labeller = labeller->get();
  std::mutex mu;
  std::vector<FrameResult> results;
  stream::Pipeline pipeline(detector->get(), p, [&](const FrameResult& r) {
    std::lock_guard lock(mu);
    results.push_back(r);
  });
  pipeline.AddStream("cam", std::make_unique<SquaresSource>(scene, frames, 25, /*live=*/false));
  pipeline.Start();
  pipeline.Wait();
  (*labeller)->Flush();  // the offers are decided on the refinement thread
  const stream::StreamMetrics m = pipeline.Metrics()[0];
  SCOPED_TRACE(m.ToJson());
  EXPECT_TRUE(m.error.empty());
  EXPECT_EQ(m.learn_failed, 0);
  ASSERT_EQ(results.size(), static_cast<size_t>(frames));

  // Every look named the square's true kind, the unseen squares' too; tracks carry the label
  // between looks. Per track: the frames of its looks, and the square it is.
  std::map<int64_t, std::set<int64_t>> looks;
  std::map<int64_t, int> square_of;
  int labelled = 0, tracked = 0;
  for (const FrameResult& r : results) {
    for (const Track& t : r.tracks) {
      const int square = SquareAt(scene, t.box, r.frame->index);
      if (square < 0) continue;
      ++tracked;
      square_of[t.id] = square;
      if (t.learned.frame < 0) continue;
      ++labelled;
      looks[t.id].insert(t.learned.frame);
      EXPECT_EQ(t.learned.label, scene.squares[square].hollow ? "hollow" : "filled")
          << "track " << t.id << " frame " << r.frame->index << " score " << t.learned.score;
      EXPECT_GT(t.learned.score, 0.9f);
    }
  }
  EXPECT_EQ(labelled, tracked);  // the first look comes with the track's first result
  // The four lasting squares looked at every third frame of 24; the short-lived one once or
  // twice.
  EXPECT_GE(m.learn_classified, 4 * 8 + 1);
  EXPECT_LE(m.learn_classified, 4 * 8 + 2);
  int64_t short_lived = -1;
  for (const auto& [id, square] : square_of)
    if (square == 4) short_lived = id;
  ASSERT_GE(short_lived, 0) << "the square leaving the frame was never tracked";
  EXPECT_GE(looks[short_lived].size(), 1u);

  // refine.log: one line per offer, each from a track whose last three looks (this one
  // included) gave the class it refines.
  std::ifstream log(store + "/refine.log");
  ASSERT_TRUE(log) << "no refine.log";
  int lines = 0, accepted = 0;
  for (std::string line; std::getline(log, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    ++lines;
    accepted += j["accepted"].get<bool>() ? 1 : 0;
    int64_t id = -1, frame = -1;
    char stream_name[16] = {};
    ASSERT_EQ(std::sscanf(j["source"].get<std::string>().c_str(), "stream %15s track %ld frame %ld",
                          stream_name, &id, &frame),
              3)
        << line;
    EXPECT_STREQ(stream_name, "cam");
    ASSERT_TRUE(square_of.count(id)) << line;
    EXPECT_NE(id, short_lived) << line;
    EXPECT_EQ(j["class"], scene.squares[square_of[id]].hollow ? "hollow" : "filled") << line;
    int earlier = 0;  // looks up to this frame
    for (int64_t f : looks[id]) earlier += f <= frame ? 1 : 0;
    EXPECT_GE(earlier, 3) << line;
  }
  // Looks 3 to 8 of the four lasting tracks.
  EXPECT_EQ(lines, 4 * 6);
  EXPECT_EQ(m.learn_offered, lines);
  const RefineQueue::Counts decided = (*labeller)->refinements();
  EXPECT_EQ(decided.accepted, accepted);
  EXPECT_EQ(decided.accepted + decided.refused, lines);
  EXPECT_EQ(decided.dropped + decided.failed, 0);
  EXPECT_GT(accepted, 0);
}

// The refinement thread decides offers in order, calls back after each update, drops what
// does not fit while it is busy, and reports an update that failed once.
TEST(StreamLearn, RefineQueueDecidesInOrderAndDropsWhenFull) {
  TempDir dir;
  auto store = learn::ClassStore::Open(dir / "store", "test:layer", 2);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Add("a", {1, 0}).ok());
  learn::Refiner refiner(store->get(), {});
  learn::Prediction p;
  p.index = 0;
  p.label = "a";
  p.score = 0.99f;
  p.known = true;
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  int updates = 0;
  {
    RefineQueue queue(&refiner, 2, [&] {
      std::unique_lock lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });  // holds the thread inside the first update
      return ++updates == 2 ? Status::Unavailable("reload failed") : Status::Ok();
    });
    const std::vector<float> near = {0.995f, 0.0998f};  // within the drift cap
    EXPECT_TRUE(queue.Offer(near, p, "first"));
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return entered; });
    }
    // The thread is busy with the first offer: two more wait, the next is dropped.
    EXPECT_TRUE(queue.Offer(near, p, "second"));
    EXPECT_TRUE(queue.Offer(near, p, "third"));
    EXPECT_FALSE(queue.Offer(near, p, "fourth"));
    EXPECT_EQ(queue.counts().dropped, 1);
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    queue.Flush();
    const RefineQueue::Counts c = queue.counts();
    EXPECT_EQ(c.accepted, 3);  // the one in hand and the two that waited
    EXPECT_EQ(c.failed, 0);
    EXPECT_EQ(updates, c.accepted);
    const Status e = queue.TakeError();
    EXPECT_EQ(e.code(), Status::Code::kUnavailable) << e.ToString();
    EXPECT_TRUE(queue.TakeError().ok());  // reported once
  }
  std::ifstream log(dir / "store/refine.log");
  int lines = 0;
  for (std::string line; std::getline(log, line);) ++lines;
  EXPECT_EQ(lines, 3);
}

TEST(StreamLearn, StoresThatCannotNameTracksAreClearErrors) {
  TempDir dir;
  const Models models = WriteModels(dir);
  LearnLabellerOptions o;
  o.model = models.cells;
  o.crop = Crops();

  o.store = dir / "nothing";
  auto missing = LearnLabeller::Open(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--learn-store " + o.store), std::string::npos)
      << missing.status().ToString();

  auto crops = CropEmbedder::Open(models.cells, Crops());
  ASSERT_TRUE(crops.ok()) << crops.status().ToString();
  o.store = dir / "empty";
  ASSERT_TRUE(
      learn::ClassStore::Open(o.store, (*crops)->embedder().identity(), (*crops)->embedder().dim())
          .ok());
  auto empty = LearnLabeller::Open(o);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no classes"), std::string::npos)
      << empty.status().ToString();

  // Enrolled through another model: its embeddings mean nothing to this one.
  o.store = dir / "store";
  ASSERT_NO_FATAL_FAILURE(Enrol(models.cells, o.store));
  const std::string other = dir / "cells16.onnx";
  ASSERT_TRUE(supernova::testing::WriteCellsEmbeddingModel(other, 16).ok());
  o.model = other;
  auto foreign = LearnLabeller::Open(o);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("holds embeddings of"), std::string::npos)
      << foreign.status().ToString();
  // Nor through another model that lacks the store's layer: the same answer, not a missing
  // tensor.
  const std::string renamed = dir / "renamed.onnx";
  {
    auto m = ir::ImportOnnxFile(other);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    for (ir::Node& n : m->graph.nodes)
      for (std::string& out : n.outputs)
        if (out == "cells") out = "features";
    m->graph.value_types["features"] = m->graph.value_types["cells"];
    m->graph.outputs = {"features"};
    ASSERT_TRUE(ir::ExportOnnxFile(*m, renamed).ok());
  }
  o.model = renamed;
  foreign = LearnLabeller::Open(o);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("holds embeddings of"), std::string::npos)
      << foreign.status().ToString();

  o.model = models.cells;
  o.crop.input.preprocess = "";
  auto no_preprocess = LearnLabeller::Open(o);
  ASSERT_FALSE(no_preprocess.ok());
  EXPECT_NE(no_preprocess.status().message().find("--learn-model"), std::string::npos)
      << no_preprocess.status().ToString();
}

}  // namespace
}  // namespace supernova::tools

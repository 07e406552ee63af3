// Joint inference as two real processes on 127.0.0.1 (docs/joint.md): `supernova serve` with
// CenterNet as a supernova_detector model is the cloud; `supernova stream` runs the squares
// model on the edge over a clip of a photo of a dog and sends every fifth inferred frame
// there. The edge's model finds no dog; the cloud's does, and its label must reach the
// tracks. Then the cloud dies mid-stream and comes back; and a cloud that never was. The
// stream loses no frame and ends normally either way.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "server/serve_process.h"
#include "stream/cli/cli_util.h"
#include "temp_dir.h"

namespace supernova::stream {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using supernova::testing::ServeProcess;

constexpr int kDogClass = 16;  // COCO's, counting from 0
const std::string kModel =
    std::string(SUPERNOVA_SHARED_MODELS_DIR) + "/centernet_mbv3_coco_512.onnx";
const std::string kImage = std::string(SUPERNOVA_ASSETS_DIR) + "/images/dog.jpg";

// The photo held still for `frames` frames at 25 fps, 320x240.
std::string DogClip(int frames) {
  const std::string path = video_test::TempDir() + "/dog" + std::to_string(frames) + ".mp4";
  if (fs::exists(path)) return path;
  if (!video_test::Ffmpeg("-loop 1 -framerate 25 -i " + kImage + " -vf scale=320:240 -frames:v " +
                          std::to_string(frames) + " -c:v libx264 -pix_fmt yuv420p " + path))
    return "";
  return path;
}

std::string Repository() {
  const std::string repo = video_test::TempDir() + "/joint_repository";
  if (fs::exists(repo)) return repo;
  fs::create_directories(repo + "/det/1");
  supernova::testing::PlaceFile(kModel, repo + "/det/1/model.onnx");
  std::ofstream(repo + "/det/config.pbtxt")
      << "platform: \"supernova_detector\"\nmax_batch_size: 0\n"
         "parameters { key: \"decoder\" value { string_value: \"centernet\" } }\n";
  return repo;
}

// Metrics every 0.2 s, for a test that reads them while the stream runs.
std::vector<std::string> StreamArgs(const std::string& clip, const std::string& jsonl,
                                    int cloud_port) {
  std::vector<std::string> a = {"stream", "--model", SquaresModel(), "--source", clip};
  a.insert(a.end(), {"--scale", "0.00392157", "--score-threshold", "0.5", "--skip", "none"});
  a.insert(a.end(), {"--sink", "jsonl:" + jsonl, "--metrics-interval", "0.2"});
  a.insert(a.end(), {"--cloud", "127.0.0.1:" + std::to_string(cloud_port), "--cloud-model", "det"});
  a.insert(a.end(), {"--escalate", "key=5", "--cloud-timeout-ms", "2000"});
  return a;
}

// Every frame of the clip has exactly one line, in order.
void ExpectEveryFrameOnce(const std::vector<json>& lines, int frames) {
  ASSERT_EQ(lines.size(), static_cast<size_t>(frames));
  for (int i = 0; i < frames; ++i) EXPECT_EQ(lines[i]["frame"], i);
}

int CloudSent(const std::vector<json>& lines) {
  int n = 0;
  for (const json& l : lines) n += l.value("cloud_sent", false) ? 1 : 0;
  return n;
}

bool AnyCloudTrack(const std::vector<json>& lines, int class_id) {
  for (const json& l : lines)
    for (const json& t : l["tracks"])
      if (t.value("cloud", false) && (class_id < 0 || t["class_id"] == class_id)) return true;
  return false;
}

class JointCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModel)) GTEST_SKIP() << "no " << kModel << ": the shared models are not here";
    if (!fs::exists(kImage)) GTEST_SKIP() << "no " << kImage << ": the assets are not fetched";
  }
};

// One run for both halves, to keep the suite short: the cloud's dog reaches the tracks, then
// the server is killed and restarted under the stream. The clip is long enough (4 s) for the
// restarted server (~2 s to load CenterNet and answer) to answer before it ends.
TEST_F(JointCli, TheCloudsDogReachesTheTracksAndItsRestartLosesNoFrame) {
  constexpr int kFrames = 100;
  const std::string clip = DogClip(kFrames);
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the clip";
  const int port = video_test::FreePort();
  const std::vector<std::string> serve_args = {"--model-repository", Repository(), "--grpc-port",
                                               std::to_string(port)};
  auto serve = std::make_unique<ServeProcess>(serve_args);
  ASSERT_TRUE(serve->WaitReady()) << serve->Log();
  const std::string jsonl = video_test::TempDir() + "/joint.jsonl";
  std::vector<std::string> args = StreamArgs(clip, jsonl, port);
  // Downscaled on the way, scaled back on return: the real model must still find the dog.
  args.insert(args.end(), {"--cloud-max-side", "240"});
  std::string err;
  auto run = std::async(std::launch::async, [&] { return RunCli(args, &err); });
  // Killed once the cloud's dog is a track (an answer fused), restarted while the clip plays.
  ASSERT_TRUE(
      video_test::WaitFor([&] { return AnyCloudTrack(ReadJsonLines(jsonl), kDogClass); }, 20))
      << "no dog from the cloud reached the tracks";
  serve->Signal(SIGKILL);
  serve->Wait();
  const size_t killed_at = ReadJsonLines(jsonl).size();
  // Answers so far, from a metrics line written after the kill (every 0.2 s): none can come
  // until the restart, so any beyond these came from the restarted server.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int answered_while_down = [] {
    std::string so_far;
    for (const std::string& line : CompleteLines(CliStderrPath())) so_far += line + "\n";
    return FinalMetrics(so_far).value("cloud_answered", -1);
  }();
  EXPECT_GE(answered_while_down, 1);
  serve = std::make_unique<ServeProcess>(serve_args);
  EXPECT_TRUE(serve->WaitReady()) << serve->Log();
  ASSERT_EQ(run.get(), 0) << err;

  const std::vector<json> lines = ReadJsonLines(jsonl);
  ExpectEveryFrameOnce(lines, kFrames);
  EXPECT_GE(CloudSent(lines), 4) << err;
  EXPECT_TRUE(AnyCloudTrack(lines, kDogClass)) << err;
  EXPECT_LT(killed_at, lines.size()) << "the cloud was killed only after the clip's end";
  const json m = FinalMetrics(err);
  EXPECT_GT(m["cloud_answered"].get<int>(), answered_while_down) << "none after the restart";
  EXPECT_GE(m["cloud_failed"].get<int>(), 1) << err;
  EXPECT_GT(m["cloud_bytes_sent"].get<int64_t>(), 0) << err;
  EXPECT_EQ(m["error"], "") << err;
}

TEST_F(JointCli, ACloudThatNeverWasLeavesTheEdgeAlone) {
  const std::string clip = video_test::MovingClip();
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the clip";
  const std::string jsonl = video_test::TempDir() + "/joint_away.jsonl";
  std::vector<std::string> args = StreamArgs(clip, jsonl, video_test::FreePort());
  args.push_back("--no-realtime");
  std::string err;
  ASSERT_EQ(RunCli(args, &err), 0) << err;
  const std::vector<json> lines = ReadJsonLines(jsonl);
  ExpectEveryFrameOnce(lines, 50);
  EXPECT_FALSE(AnyCloudTrack(lines, -1));
  // The edge still tracks the square on its own.
  EXPECT_FALSE(lines.back()["tracks"].empty()) << lines.back().dump();
  const json m = FinalMetrics(err);
  EXPECT_EQ(m["cloud_answered"], 0) << err;
  EXPECT_GE(m["cloud_failed"].get<int>(), 1) << err;
}

// Feature-level joint inference as a user sets it up: `supernova split` cuts CenterNet early
// (int8 codec), a real `supernova serve` holds the split's tail twice, as a supernova_detector
// reading features (answers boxes) and as the plain model (answers the raw outputs), and
// `supernova stream --cloud-features` runs CenterNet on the edge, sending the coded cut of
// every fifth frame instead of the frame. The edge and the cloud run the same weights here,
// so the cloud's boxes must agree with the edge's up to the codec's rounding.
// The clip plays 2 s in real time: ten key frames, of which a loaded machine (a round trip of
// 1.4 s seen, two calls in flight at most) still answers a few.
TEST_F(JointCli, FeatureLevelSendsTheCutTensorsAndGetsTheTailsBoxesBack) {
  constexpr int kFrames = 50;
  const std::string cut = "tower_0/MobilenetV3/expanded_conv_2/add__42";  // [1, 24, 128, 128]
  const std::string clip = DogClip(kFrames);
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the clip";
  const std::string dir = video_test::TempDir() + "/joint_features";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string err;
  ASSERT_EQ(RunCli({"profile", kModel, "--iterations", "1", "--threads", "1", "-o",
                    dir + "/profile.json"},
                   &err),
            0)
      << err;
  ASSERT_EQ(RunCli({"split", kModel, "-o", dir + "/split", "--cut", cut, "--edge-profile",
                    dir + "/profile.json", "--cloud-profile", dir + "/profile.json", "--link",
                    "100,20", "--cut-codec", "int8"},
                   &err),
            0)
      << err;
  std::ifstream plan_file(dir + "/split/plan.json");
  const json plan = json::parse(plan_file);
  std::string tail_model;
  for (const json& c : plan["candidates"])
    if (c["id"] == plan["chosen"]) tail_model = c["tail_model"];
  ASSERT_FALSE(tail_model.empty()) << plan.dump();
  const std::string tail_file = dir + "/split/repository/" + tail_model + "/1/model.onnx";
  const std::string repo = dir + "/repository";
  for (const char* name : {"boxes", "raw"}) {
    fs::create_directories(repo + "/" + name + "/1");
    fs::copy_file(tail_file, repo + "/" + name + "/1/model.onnx");
  }
  std::ofstream(repo + "/boxes/config.pbtxt")
      << "platform: \"supernova_detector\"\nmax_batch_size: 0\n"
         "parameters { key: \"decoder\" value { string_value: \"centernet\" } }\n"
         "parameters { key: \"input\" value { string_value: \"features\" } }\n"
         "parameters { key: \"input_width\" value { string_value: \"512\" } }\n"
         "parameters { key: \"input_height\" value { string_value: \"512\" } }\n";
  const int port = video_test::FreePort();
  ServeProcess serve({"--model-repository", repo, "--grpc-port", std::to_string(port)});
  ASSERT_TRUE(serve.WaitReady()) << serve.Log();

  // The cut's int8 wire: 24 x 128 x 128 bytes, a float scale, a uint8 zero point.
  constexpr int64_t kSentPerCall = 24 * 128 * 128 + 4 + 1;
  for (const char* served : {"boxes", "raw"}) {
    SCOPED_TRACE(served);
    const std::string jsonl = dir + "/" + served + ".jsonl";
    std::vector<std::string> a = {"stream", "--model", kModel, "--decoder", "centernet"};
    a.insert(a.end(), {"--source", clip, "--sink", "jsonl:" + jsonl, "--skip", "none"});
    a.insert(a.end(), {"--metrics-interval", "0", "--escalate", "key=5"});
    a.insert(a.end(), {"--cloud", "127.0.0.1:" + std::to_string(port), "--cloud-model", served});
    a.insert(a.end(), {"--cloud-features", cut, "--cloud-timeout-ms", "5000"});
    ASSERT_EQ(RunCli(a, &err), 0) << err;
    const std::vector<json> lines = ReadJsonLines(jsonl);
    ExpectEveryFrameOnce(lines, kFrames);
    EXPECT_TRUE(AnyCloudTrack(lines, kDogClass)) << err;
    const json m = FinalMetrics(err);
    const int64_t answered = m["cloud_answered"].get<int64_t>();
    EXPECT_GE(answered, 2) << err;
    EXPECT_EQ(m["cloud_failed"], 0) << err;
    EXPECT_EQ(m["cloud_bytes_sent"].get<int64_t>(), answered * kSentPerCall) << err;
    const int64_t received = m["cloud_bytes_received"].get<int64_t>();
    if (std::string(served) == "boxes") {  // the dog and a few more, 6 floats a box
      EXPECT_GE(received, answered * 24) << err;
      EXPECT_LE(received, answered * 10 * 24) << err;
    } else {  // the heatmap and the extents, [1, 128, 128, 80 + 4] floats
      EXPECT_EQ(received, answered * 128 * 128 * 84 * 4) << err;
    }
    // The same model on both sides: the cloud confirms the edge's boxes.
    EXPECT_GE(m["cloud_edge_f1"].get<double>(), 0.9) << err;
    EXPECT_EQ(m["error"], "") << err;
  }

  // A tensor the edge model does not compute is refused before any frame, in one line.
  std::vector<std::string> bad = {"stream", "--model", kModel, "--source", clip};
  bad.insert(bad.end(), {"--cloud", "127.0.0.1:" + std::to_string(port), "--cloud-model"});
  bad.insert(bad.end(), {"boxes", "--cloud-features", "no_such_tensor"});
  EXPECT_EQ(RunCli(bad, &err), 1);
  EXPECT_NE(err.find("computes no tensor 'no_such_tensor'"), std::string::npos) << err;
}

}  // namespace
}  // namespace supernova::stream

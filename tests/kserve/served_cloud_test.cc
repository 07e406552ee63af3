// The cloud detector against the real cloud side: a `supernova serve` running CenterNet as a
// supernova_detector model (docs/server.md), sent a photo of a dog whole and downscaled. The
// dog is found both ways and the downscaled answer, scaled back by the client, lands where the
// whole one does: the scaling is the client's and must be right.
#include <gtest/gtest.h>
#include <stb/stb_image.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>

#include "server/serve_process.h"
#include "stream/kserve_cloud.h"

namespace supernova::stream {
namespace {

namespace fs = std::filesystem;

constexpr int kDogClass = 16;  // COCO's, counting from 0
const std::string kModel =
    std::string(SUPERNOVA_SHARED_MODELS_DIR) + "/centernet_mbv3_coco_512.onnx";
const std::string kImage = std::string(SUPERNOVA_ASSETS_DIR) + "/images/dog.jpg";

FramePtr ReadFrame(const std::string& path) {
  int w = 0, h = 0, c = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> rgb(stbi_load(path.c_str(), &w, &h, &c, 3),
                                                      stbi_image_free);
  if (!rgb) return nullptr;
  auto f = std::make_shared<Frame>();
  f->width = w;
  f->height = h;
  f->bgr.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < f->bgr.size(); i += 3) {
    f->bgr[i] = rgb.get()[i + 2];
    f->bgr[i + 1] = rgb.get()[i + 1];
    f->bgr[i + 2] = rgb.get()[i];
  }
  return f;
}

Result<CloudAnswer> Ask(const std::string& target, FramePtr frame, int max_side) {
  KServeCloudOptions o;
  o.target = target;
  o.model = "det";
  o.timeout_ms = 20000;
  o.max_side = max_side;
  auto cloud = KServeCloudDetector::Create(o);
  if (!cloud.ok()) return cloud.status();
  std::promise<Result<CloudAnswer>> answer;
  EXPECT_TRUE((*cloud)->Submit("cam", frame,
                               [&](Result<CloudAnswer> a) { answer.set_value(std::move(a)); }));
  return answer.get_future().get();
}

const Detection* BestDog(const CloudAnswer& a) {
  const Detection* best = nullptr;
  for (const Detection& d : a.detections)
    if (d.class_id == kDogClass && (best == nullptr || d.score > best->score)) best = &d;
  return best;
}

TEST(ServedCloud, CenterNetFindsTheDogWholeAndDownscaledInTheSamePlace) {
  if (!fs::exists(kModel)) GTEST_SKIP() << "no " << kModel << ": the shared models are not here";
  if (!fs::exists(kImage)) GTEST_SKIP() << "no " << kImage << ": the assets are not fetched";
  const fs::path repo = fs::temp_directory_path() / ("served_cloud_" + std::to_string(getpid()));
  fs::create_directories(repo / "det/1");
  fs::create_symlink(kModel, repo / "det/1/model.onnx");
  std::ofstream(repo / "det/config.pbtxt")
      << "platform: \"supernova_detector\"\nmax_batch_size: 0\n"
         "parameters { key: \"decoder\" value { string_value: \"centernet\" } }\n";
  {
    supernova::testing::ServeProcess serve({"--model-repository", repo.string()});
    ASSERT_TRUE(serve.WaitReady()) << serve.Log();
    const std::string target = "127.0.0.1:" + std::to_string(serve.grpc_port());
    FramePtr frame = ReadFrame(kImage);
    ASSERT_TRUE(frame) << kImage;
    auto whole = Ask(target, frame, 0);
    auto small = Ask(target, frame, std::max(frame->width, frame->height) / 2);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    ASSERT_TRUE(small.ok()) << small.status().ToString();
    const Detection* a = BestDog(*whole);
    const Detection* b = BestDog(*small);
    ASSERT_NE(a, nullptr) << "no dog in the whole image";
    ASSERT_NE(b, nullptr) << "no dog in the downscaled image";
    EXPECT_GT(IoU(a->box, b->box), 0.8)
        << a->box.x1 << "," << a->box.y1 << " " << b->box.x1 << "," << b->box.y1;
    EXPECT_LT(small->sent_bytes, whole->sent_bytes);
    EXPECT_EQ(whole->received_bytes, whole->detections.size() * 6 * sizeof(float));
  }
  fs::remove_all(repo);
}

}  // namespace
}  // namespace supernova::stream

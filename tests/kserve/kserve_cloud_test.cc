// The stream's KServe cloud detector against a fake remote: the frame as a JPEG in IMAGE
// (decoded there and checked: size, colours in RGB order), DETECTIONS scaled back to the
// frame's pixels, the calls in flight bounded and answered once each, deadlines, an unreachable
// remote, and the emulated link's losses repeating with the seed.
#include "stream/kserve_cloud.h"

#include <gtest/gtest.h>
#include <stb/stb_image.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "kserve/fake_kserve.h"

namespace supernova::stream {
namespace {

using supernova::testing::FakeKServe;
using Clock = std::chrono::steady_clock;

// A w x h frame, dark grey, with a pure blue (B=255) square in its top-left quarter.
FramePtr BlueSquareFrame(int w, int h, int64_t index = 0) {
  auto f = std::make_shared<Frame>();
  f->width = w;
  f->height = h;
  f->index = index;
  f->bgr.assign(static_cast<size_t>(w) * h * 3, 40);
  for (int y = 0; y < h / 2; ++y)
    for (int x = 0; x < w / 2; ++x) {
      uint8_t* p = &f->bgr[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = 255;
      p[1] = 0;
      p[2] = 0;
    }
  return f;
}

void SetDetections(inference::ModelInferResponse* resp, const std::vector<float>& values) {
  auto* out = resp->add_outputs();
  out->set_name("DETECTIONS");
  out->set_datatype("FP32");
  out->add_shape(static_cast<int64_t>(values.size() / 6));
  out->add_shape(6);
  resp->add_raw_output_contents(reinterpret_cast<const char*>(values.data()),
                                values.size() * sizeof(float));
}

// Collects the callbacks' answers; each frame index must be answered once.
struct Answers {
  std::mutex mu;
  std::condition_variable cv;
  std::map<int64_t, Result<CloudAnswer>> by_frame;
  int calls = 0;
  CloudDetector::Callback For(int64_t frame) {
    return [this, frame](Result<CloudAnswer> a) {
      std::lock_guard<std::mutex> lock(mu);
      ++calls;
      EXPECT_EQ(by_frame.count(frame), 0u) << "frame " << frame << " answered twice";
      by_frame.emplace(frame, std::move(a));
      cv.notify_all();
    };
  }
  bool WaitFor(int n, double seconds = 10) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return calls >= n; });
  }
};

// Submits as soon as a call in flight has room: the count drops just after a callback returns.
void SubmitWhenRoom(CloudDetector& cloud, FramePtr frame, Answers& answers) {
  const int64_t f = frame->index;
  while (!cloud.Submit("cam", frame, {}, answers.For(f)))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

KServeCloudOptions Options(const std::string& target) {
  KServeCloudOptions o;
  o.target = target;
  o.model = "detector";
  o.timeout_ms = 5000;
  return o;
}

TEST(KServeCloud, SendsAJpegAndScalesTheBoxesBackToTheFrame) {
  int decoded_w = 0, decoded_h = 0;
  int blue[3] = {0, 0, 0}, grey[3] = {0, 0, 0};
  size_t raw_size = 0;
  std::string model, datatype;
  FakeKServe remote(
      [&](const inference::ModelInferRequest& req, inference::ModelInferResponse* resp) {
        model = req.model_name();
        if (req.inputs_size() != 1 || req.inputs(0).name() != "IMAGE" ||
            req.inputs(0).shape_size() != 1 || req.inputs(0).shape(0) != 1)
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "want IMAGE [1]");
        datatype = req.inputs(0).datatype();
        const std::string& raw = req.raw_input_contents(0);
        raw_size = raw.size();
        uint32_t len = 0;
        std::memcpy(&len, raw.data(), 4);  // little-endian, as is this machine
        if (len + 4 != raw.size())
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "length");
        int c = 0;
        unsigned char* px =
            stbi_load_from_memory(reinterpret_cast<const unsigned char*>(raw.data() + 4),
                                  static_cast<int>(len), &decoded_w, &decoded_h, &c, 3);
        if (px == nullptr) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "not an image");
        const auto at = [&](int x, int y, int ch) { return px[(y * decoded_w + x) * 3 + ch]; };
        for (int ch = 0; ch < 3; ++ch) {
          blue[ch] = at(decoded_w / 4, decoded_h / 4, ch);
          grey[ch] = at(decoded_w * 3 / 4, decoded_h * 3 / 4, ch);
        }
        stbi_image_free(px);
        // In the 160x120 image: one box inside, one past the right edge, one wholly outside.
        SetDetections(
            resp, {10, 20, 50, 60, 0.9f, 3, 100, 100, 200, 110, 0.5f, 1, 170, 0, 190, 10, 0.4f, 2});
        return grpc::Status::OK;
      });
  KServeCloudOptions o = Options(remote.target());
  o.max_side = 160;
  o.jpeg_quality = 90;
  Answers answers;
  auto cloud = KServeCloudDetector::Create(o);
  ASSERT_TRUE(cloud.ok()) << cloud.status().ToString();
  ASSERT_TRUE((*cloud)->Submit("cam", BlueSquareFrame(320, 240, 7), {}, answers.For(7)));
  ASSERT_TRUE(answers.WaitFor(1));
  const Result<CloudAnswer>& a = answers.by_frame.at(7);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(model, "detector");
  EXPECT_EQ(datatype, "BYTES");
  EXPECT_EQ(decoded_w, 160);
  EXPECT_EQ(decoded_h, 120);
  // The blue square arrives blue in RGB: the BGR frame was swapped, not sent as it is.
  EXPECT_LT(blue[0], 20);
  EXPECT_LT(blue[1], 20);
  EXPECT_GT(blue[2], 235);
  for (int ch = 0; ch < 3; ++ch) EXPECT_NEAR(grey[ch], 40, 6);

  EXPECT_EQ(a->frame_index, 7);
  ASSERT_EQ(a->detections.size(), 2u);  // the one wholly outside is dropped
  const Detection& d = a->detections[0];
  EXPECT_FLOAT_EQ(d.box.x1, 20);  // image pixels / 0.5
  EXPECT_FLOAT_EQ(d.box.y1, 40);
  EXPECT_FLOAT_EQ(d.box.x2, 100);
  EXPECT_FLOAT_EQ(d.box.y2, 120);
  EXPECT_FLOAT_EQ(d.score, 0.9f);
  EXPECT_EQ(d.class_id, 3);
  EXPECT_FLOAT_EQ(a->detections[1].box.x2, 320);  // clipped to the frame
  EXPECT_FLOAT_EQ(a->detections[1].box.y2, 220);
  EXPECT_EQ(a->sent_bytes, raw_size);  // the JPEG and its 4-byte length
  EXPECT_EQ(a->received_bytes, 3u * 6 * 4);
  EXPECT_GT(a->round_trip_ms, 0);
  EXPECT_NE((*cloud)->Describe().find("jpeg q90"), std::string::npos) << (*cloud)->Describe();
}

// Feature-level: the frame's features go as they are, by name and type, to the tail; its
// outputs come back to the decoder the options name, with the frame they are for. A frame
// without features, or an answer the decoder refuses, ends in the callback with the reason.
TEST(KServeCloud, SendsTheFeaturesAndDecodesTheTailsOutputsOnTheEdge) {
  std::vector<std::string> names, datatypes;
  std::vector<size_t> raw_sizes;
  FakeKServe remote(
      [&](const inference::ModelInferRequest& req, inference::ModelInferResponse* resp) {
        for (int i = 0; i < req.inputs_size(); ++i) {
          names.push_back(req.inputs(i).name());
          datatypes.push_back(req.inputs(i).datatype());
          raw_sizes.push_back(req.raw_input_contents(i).size());
        }
        auto* out = resp->add_outputs();  // what the tail computes: here the first q byte
        out->set_name("heat");
        out->set_datatype("FP32");
        out->add_shape(1);
        const float v = static_cast<float>(static_cast<uint8_t>(req.raw_input_contents(0)[0]));
        resp->add_raw_output_contents(reinterpret_cast<const char*>(&v), sizeof v);
        return grpc::Status::OK;
      });
  KServeCloudOptions o = Options(remote.target());
  o.model = "tail";
  o.features_label = "cut 'x' int8";
  std::vector<int64_t> decoded_for;
  o.decode = [&](const FrameFeatures& outputs,
                 const Frame& frame) -> Result<std::vector<Detection>> {
    if (outputs.size() != 1 || outputs[0].first != "heat")
      return Status::InvalidArgument("no heat");
    decoded_for.push_back(frame.index);
    Detection d;
    d.box = {0, 0, 10, 10};
    d.score = outputs[0].second.data<float>()[0] / 255.0f;
    return std::vector<Detection>{d};
  };
  auto cloud = KServeCloudDetector::Create(o);
  ASSERT_TRUE(cloud.ok()) << cloud.status().ToString();
  EXPECT_TRUE((*cloud)->sends_features());
  EXPECT_NE((*cloud)->Describe().find("features cut 'x' int8"), std::string::npos)
      << (*cloud)->Describe();
  Tensor q(DataType::kUint8, {1, 2, 3, 4});
  for (int i = 0; i < 24; ++i) q.data<uint8_t>()[i] = static_cast<uint8_t>(200 + i);
  Tensor scale(DataType::kFloat32, {});
  scale.data<float>()[0] = 0.5f;
  Tensor zero(DataType::kUint8, {});
  zero.data<uint8_t>()[0] = 3;
  Answers answers;
  ASSERT_TRUE((*cloud)->Submit("cam", BlueSquareFrame(64, 48, 5),
                               {{"x.q", q}, {"x.scale", scale}, {"x.zero_point", zero}},
                               answers.For(5)));
  ASSERT_TRUE(answers.WaitFor(1));
  ASSERT_TRUE((*cloud)->Submit("cam", BlueSquareFrame(64, 48, 6), {}, answers.For(6)));
  ASSERT_TRUE(answers.WaitFor(2));

  const Result<CloudAnswer>& a = answers.by_frame.at(5);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(names, (std::vector<std::string>{"x.q", "x.scale", "x.zero_point"}));
  EXPECT_EQ(datatypes, (std::vector<std::string>{"UINT8", "FP32", "UINT8"}));
  EXPECT_EQ(raw_sizes, (std::vector<size_t>{24, 4, 1}));
  EXPECT_EQ(decoded_for, std::vector<int64_t>{5});
  ASSERT_EQ(a->detections.size(), 1u);
  EXPECT_FLOAT_EQ(a->detections[0].score, 200.0f / 255.0f);
  EXPECT_EQ(a->sent_bytes, 29u);
  EXPECT_EQ(a->received_bytes, 4u);

  const Result<CloudAnswer>& none = answers.by_frame.at(6);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no features"), std::string::npos)
      << none.status().ToString();
  EXPECT_EQ(names.size(), 3u) << "a frame without features is not sent";
}

// A tail served as a supernova_detector answers DETECTIONS in its input's pixels: they go to
// `to_frame` (the edge detector's letterbox, undone), not to the decoder; a row that is not
// finite is no box.
TEST(KServeCloud, ATailsDetectionsInItsInputPixelsGoToTheFrame) {
  FakeKServe remote([&](const inference::ModelInferRequest&, inference::ModelInferResponse* resp) {
    SetDetections(resp, {10, 20, 50, 60, 0.9f, 3, NAN, 0, 1, 1, 0.5f, 1});
    return grpc::Status::OK;
  });
  KServeCloudOptions o = Options(remote.target());
  int decoded = 0;
  o.decode = [&](const FrameFeatures&, const Frame&) -> Result<std::vector<Detection>> {
    ++decoded;
    return std::vector<Detection>{};
  };
  o.to_frame = [](std::vector<Detection> boxes, const Frame& frame) {
    for (Detection& d : boxes) {  // as if the frame were twice the input's size
      d.box = {d.box.x1 * 2, d.box.y1 * 2, d.box.x2 * 2, d.box.y2 * 2};
      d.class_id += static_cast<int>(frame.index) * 100;
    }
    return boxes;
  };
  auto cloud = KServeCloudDetector::Create(o);
  ASSERT_TRUE(cloud.ok()) << cloud.status().ToString();
  Tensor q(DataType::kUint8, {1, 4});
  Answers answers;
  ASSERT_TRUE((*cloud)->Submit("cam", BlueSquareFrame(64, 48, 2), {{"x.q", q}}, answers.For(2)));
  ASSERT_TRUE(answers.WaitFor(1));
  const Result<CloudAnswer>& a = answers.by_frame.at(2);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(decoded, 0);
  ASSERT_EQ(a->detections.size(), 1u);
  EXPECT_FLOAT_EQ(a->detections[0].box.x1, 20);
  EXPECT_FLOAT_EQ(a->detections[0].box.y2, 120);
  EXPECT_FLOAT_EQ(a->detections[0].score, 0.9f);
  EXPECT_EQ(a->detections[0].class_id, 203);
}

TEST(KServeCloud, BoundsTheCallsInFlightAndTheDestructorWaitsForThem) {
  std::atomic<int> now{0}, most{0};
  FakeKServe remote([&](const inference::ModelInferRequest&, inference::ModelInferResponse* resp) {
    const int n = ++now;
    int m = most.load();
    while (n > m && !most.compare_exchange_weak(m, n)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    --now;
    SetDetections(resp, {});
    return grpc::Status::OK;
  });
  Answers answers;
  {
    auto cloud = KServeCloudDetector::Create(Options(remote.target()));
    ASSERT_TRUE(cloud.ok());
    const auto t0 = Clock::now();
    EXPECT_TRUE((*cloud)->Submit("cam", BlueSquareFrame(64, 48, 0), {}, answers.For(0)));
    EXPECT_TRUE((*cloud)->Submit("cam", BlueSquareFrame(64, 48, 1), {}, answers.For(1)));
    // Two in flight (the default): the third is refused at once and never answered.
    EXPECT_FALSE((*cloud)->Submit("cam", BlueSquareFrame(64, 48, 2), {}, answers.For(2)));
    const double submit_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    EXPECT_LT(submit_ms, 100);
    EXPECT_EQ((*cloud)->in_flight(), 2);
  }
  // The destructor returned after both answers, none after it.
  EXPECT_EQ(answers.calls, 2);
  EXPECT_EQ(answers.by_frame.count(2), 0u);
  for (int64_t f : {0, 1}) EXPECT_TRUE(answers.by_frame.at(f).ok());
  EXPECT_EQ(most.load(), 2);  // both went at once, not one after the other
}

TEST(KServeCloud, ALateRemoteEndsInADeadlineAndAnUnreachableOneAtOnce) {
  FakeKServe remote([](const inference::ModelInferRequest&, inference::ModelInferResponse* resp) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    SetDetections(resp, {});
    return grpc::Status::OK;
  });
  KServeCloudOptions o = Options(remote.target());
  o.timeout_ms = 150;
  Answers answers;
  auto cloud = KServeCloudDetector::Create(o);
  ASSERT_TRUE(cloud.ok());
  const auto t0 = Clock::now();
  ASSERT_TRUE((*cloud)->Submit("cam", BlueSquareFrame(64, 48, 0), {}, answers.For(0)));
  ASSERT_TRUE(answers.WaitFor(1));
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  EXPECT_EQ(answers.by_frame.at(0).status().code(), Status::Code::kDeadlineExceeded)
      << answers.by_frame.at(0).status().ToString();
  EXPECT_GE(ms, 140);
  EXPECT_LT(ms, 500);
  // Counted until its callback has returned, a moment after the answer was handed over.
  for (int i = 0; i < 100 && (*cloud)->in_flight() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ((*cloud)->in_flight(), 0);

  Answers none;
  auto away = KServeCloudDetector::Create(Options("127.0.0.1:1"));
  ASSERT_TRUE(away.ok());
  ASSERT_TRUE((*away)->Submit("cam", BlueSquareFrame(64, 48, 0), {}, none.For(0)));
  ASSERT_TRUE(none.WaitFor(1));
  EXPECT_EQ(none.by_frame.at(0).status().code(), Status::Code::kUnavailable)
      << none.by_frame.at(0).status().ToString();
}

TEST(KServeCloud, AnAnswerWithoutDetectionsIsAnError) {
  FakeKServe remote([](const inference::ModelInferRequest&, inference::ModelInferResponse* resp) {
    auto* out = resp->add_outputs();
    out->set_name("BOXES");
    out->set_datatype("FP32");
    out->add_shape(0);
    resp->add_raw_output_contents("");
    return grpc::Status::OK;
  });
  Answers answers;
  auto cloud = KServeCloudDetector::Create(Options(remote.target()));
  ASSERT_TRUE(cloud.ok());
  ASSERT_TRUE((*cloud)->Submit("cam", BlueSquareFrame(64, 48, 0), {}, answers.For(0)));
  ASSERT_TRUE(answers.WaitFor(1));
  EXPECT_EQ(answers.by_frame.at(0).status().code(), Status::Code::kInvalidArgument);
}

// Which of 24 frames a lossy emulated link loses, sent two at a time as fast as room allows.
std::set<int64_t> LostFrames(const std::string& target, const std::string& link, uint64_t seed) {
  KServeCloudOptions o = Options(target);
  o.link = link;
  o.link_seed = seed;
  o.timeout_ms = 40;  // a lost call waits its whole deadline
  Answers answers;    // outlives the detector, whose destructor may still answer
  auto cloud = KServeCloudDetector::Create(o);
  EXPECT_TRUE(cloud.ok()) << cloud.status().ToString();
  for (int64_t f = 0; f < 24; ++f) SubmitWhenRoom(**cloud, BlueSquareFrame(32, 24, f), answers);
  EXPECT_TRUE(answers.WaitFor(24));
  std::set<int64_t> lost;
  for (auto& [f, a] : answers.by_frame)
    if (!a.ok()) {
      EXPECT_EQ(a.status().code(), Status::Code::kDeadlineExceeded) << a.status().ToString();
      lost.insert(f);
    }
  return lost;
}

TEST(KServeCloud, AnEmulatedLinkLosesTheSameFramesForTheSameSeed) {
  FakeKServe remote([](const inference::ModelInferRequest&, inference::ModelInferResponse* resp) {
    SetDetections(resp, {1, 1, 5, 5, 0.5f, 0});
    return grpc::Status::OK;
  });
  const std::set<int64_t> a = LostFrames(remote.target(), "1000,0,0.5", 7);
  const std::set<int64_t> b = LostFrames(remote.target(), "1000,0,0.5", 7);
  const std::set<int64_t> c = LostFrames(remote.target(), "1000,0,0.5", 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_GE(a.size(), 4u);  // half of 24, binomial sd ~2.4
  EXPECT_LE(a.size(), 20u);
  // A schedule cuts the link from the 4th frame sent on: those fail at once as unreachable.
  KServeCloudOptions o = Options(remote.target());
  o.link = "0:1000,0;3:off";
  o.max_in_flight = 1;
  Answers answers;
  auto cloud = KServeCloudDetector::Create(o);
  ASSERT_TRUE(cloud.ok()) << cloud.status().ToString();
  for (int64_t f = 0; f < 5; ++f) {
    SubmitWhenRoom(**cloud, BlueSquareFrame(32, 24, f), answers);
    ASSERT_TRUE(answers.WaitFor(static_cast<int>(f) + 1));
  }
  for (int64_t f = 0; f < 5; ++f) EXPECT_EQ(answers.by_frame.at(f).ok(), f < 3) << f;
  EXPECT_EQ(answers.by_frame.at(4).status().code(), Status::Code::kUnavailable);
  EXPECT_FALSE(KServeCloudDetector::Create([&] {
                 KServeCloudOptions bad = Options(remote.target());
                 bad.link = "fast";
                 return bad;
               }())
                   .ok());
}

}  // namespace
}  // namespace supernova::stream

// A model re-declared at another input size: a small graph against the same graph written at
// that size by hand, and CenterNet (its Resize nodes carry constant sizes) at its own size, at
// 320 on a photograph, and at a size its strides do not divide.
#include "compress/resize_input.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "optimizer/graph_builder.h"
#include "stream/postprocess.h"
#include "supernova/tensor_io.h"
#include "test_models.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using compress::InputSize;
using compress::ResizeInput;

const std::string kCenterNet = SUPERNOVA_SHARED_MODELS_DIR "/centernet_mbv3_coco_512.onnx";
const std::string kPerson = SUPERNOVA_ASSETS_DIR "/images/person.jpg";

// x -> Conv (stride 2) -> Resize back up -> Concat with x: the shape of a detector's neck.
// `side` is the input's height and width; `sizes` says whether the Resize is written with
// constant sizes (as for side x side) or with scales.
ir::Model Neck(int64_t side, bool sizes) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, side, side});
  const std::string c = b.Op("Conv", {x, b.Const("w", RandomTensor({4, 3, 3, 3}, 3))});
  SetInts(b.NodeOf(c), "strides", {2, 2});
  SetInts(b.NodeOf(c), "pads", {1, 1, 1, 1});
  const std::string up =
      sizes ? b.Op("Resize", {c, "", "", b.Const("sizes", Int64s({1, 4, side, side}, {4}))})
            : b.Op("Resize", {c, "", b.Const("scales", Floats({1, 1, 2, 2}, {4}))});
  b.NodeOf(up).attributes["mode"].kind = ir::Attribute::Kind::kString;
  b.NodeOf(up).attributes["mode"].s = "linear";
  b.Output(b.Op("Concat", {x, up}));
  SetInt(b.NodeOf(b.model().graph.outputs[0]), "axis", 1);
  return b.model();
}

TEST(ResizeInput, ConstantSizesBecomeScalesThatFollowTheInput) {
  ir::Model m = Neck(8, true);
  auto r = ResizeInput(m, InputSize{16, 16}, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->resizes, 1);
  EXPECT_EQ(r->before, (Shape{1, 3, 8, 8}));
  EXPECT_EQ(r->after, (Shape{1, 3, 16, 16}));
  const std::vector<std::pair<std::string, Tensor>> feeds = {
      {"x", RandomTensor({1, 3, 16, 16}, 9)}};
  auto got = RunModel(m, OptimizationLevel::kAll, feeds);
  auto want = RunModel(Neck(16, false), OptimizationLevel::kAll, feeds);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  ASSERT_EQ((*got)[0].shape(), (Shape{1, 7, 16, 16}));
  EXPECT_TRUE(TensorsNear((*want)[0], (*got)[0], 0, 0));
}

TEST(ResizeInput, WhatCannotBeResizedIsRefusedWithTheReason) {
  GraphBuilder b;
  b.Output(b.Op("Relu", {b.Input("x", {1, 16})}));
  auto flat = ResizeInput(b.model(), InputSize{8, 8}, 1);
  ASSERT_FALSE(flat.ok());
  EXPECT_NE(flat.status().message().find("not a 4-D image"), std::string::npos)
      << flat.status().message();

  for (const char* bad : {"320", "0x320", "320x", "axb", "320x-2"})
    EXPECT_FALSE(compress::ParseInputSize(bad).ok()) << bad;
  auto parsed = compress::ParseInputSize("288x512");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->height, 288);
  EXPECT_EQ(parsed->width, 512);
}

class CenterNetAtAnotherSize : public ::testing::Test {
 protected:
  void SetUp() override {
    SUPERNOVA_REQUIRE_MODEL(kCenterNet, ModelRoot::kShared);
    auto m = ir::ImportOnnxFile(kCenterNet);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(*m);
  }

  // person.jpg as the stream detector feeds CenterNet: RGB, 0-255, NHWC.
  static Tensor Photo(int64_t side) {
    TensorInfo info;
    info.name = "tower_0/images";
    info.dtype = DataType::kFloat32;
    info.rank_known = true;
    info.dims = {1, side, side, 3};
    auto t = tools::LoadInputFile(kPerson, info, {"raw", "", false});
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : Tensor();
  }

  static std::vector<Tensor> Run(const ir::Model& m, Tensor input) {
    auto out = RunModel(m, OptimizationLevel::kAll, {{"tower_0/images", std::move(input)}});
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : std::vector<Tensor>{};
  }

  // The highest-scoring person (COCO class 0) in the outputs, in `side` x `side` input pixels.
  static std::optional<stream::Detection> Person(const std::vector<Tensor>& out, int side) {
    if (out.size() != 2) return std::nullopt;
    auto d = stream::DecodeCenterNet(out[0], out[1], true, side, 0.3f);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    std::optional<stream::Detection> best;
    for (const stream::Detection& x : d.ok() ? *d : std::vector<stream::Detection>{})
      if (x.class_id == 0 && (!best || x.score > best->score)) best = x;
    return best;
  }

  ir::Model model_;
};

TEST_F(CenterNetAtAnotherSize, AtItsOwnSizeTheOutputsAreBitIdentical) {
  ir::Model same = model_;
  auto r = ResizeInput(same, InputSize{512, 512}, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->resizes, 3);
  const Tensor photo = Photo(512);
  const std::vector<Tensor> want = Run(model_, photo), got = Run(same, photo);
  ASSERT_EQ(want.size(), 2u);
  ASSERT_EQ(got.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(want[i].shape(), got[i].shape());
    EXPECT_EQ(std::memcmp(want[i].data<float>(), got[i].data<float>(),
                          sizeof(float) * static_cast<size_t>(want[i].numel())),
              0)
        << "output " << i;
  }
}

TEST_F(CenterNetAtAnotherSize, At320ItFindsThePersonThe512ModelFinds) {
  ir::Model small = model_;
  auto r = ResizeInput(small, InputSize{320, 320}, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<Tensor> out = Run(small, Photo(320));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].shape(), (Shape{1, 80, 80, 80}));  // stride 4, 80 classes
  const auto want = Person(Run(model_, Photo(512)), 512);
  const auto got = Person(out, 320);
  ASSERT_TRUE(want.has_value()) << "the 512 model finds no person in " << kPerson;
  ASSERT_TRUE(got.has_value()) << "the 320 model finds no person in " << kPerson;
  const float s = 512.0f / 320.0f;  // both see the whole photograph, stretched to their input
  const stream::Box scaled{got->box.x1 * s, got->box.y1 * s, got->box.x2 * s, got->box.y2 * s};
  EXPECT_GE(stream::IoU(want->box, scaled), 0.5f);
}

TEST_F(CenterNetAtAnotherSize, SizesItsStridesDoNotDivideAreRefused) {
  const std::string input = model_.graph.inputs[0];
  auto r = ResizeInput(model_, InputSize{300, 300}, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not run at 300x300"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("Concat"), std::string::npos) << r.status().message();
  EXPECT_EQ(model_.graph.TypeOf(input)->StaticShape(), (Shape{1, 512, 512, 3}));  // untouched
}

}  // namespace
}  // namespace supernova::testing

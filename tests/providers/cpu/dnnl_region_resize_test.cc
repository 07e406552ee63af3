// Resizes oneDNN's resampling cannot express, inside oneDNN regions: each case runs against the
// reference kernels and must compile to a oneDNN plan (no fallback), so that a model with a
// TensorFlow-style bilinear upsampling keeps its region whole.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dnnl_region_helpers.h"
#include "ops/resampling.h"

namespace supernova::testing::region_test {
namespace {

struct ResizeCase {
  std::string name;
  std::vector<NamedAttr> attrs;
  std::vector<float> scales;  // empty: `sizes` instead
  std::vector<int64_t> sizes;
  std::vector<float> roi = {};
};

// Conv -> Resize -> Conv with the resize in modes oneDNN's resampling lacks, so the region
// runs its own channels-last step; two threads split the rows.
TEST(DnnlRegionResize, ModesOneDnnLacksRunInsideRegion) {
  const std::vector<ResizeCase> cases = {
      {"linear asymmetric x2 (TensorFlow's ResizeBilinear)",
       {Str("mode", "linear"), Str("coordinate_transformation_mode", "asymmetric")},
       {1, 1, 2, 2},
       {}},
      {"linear align_corners to sizes",
       {Str("mode", "linear"), Str("coordinate_transformation_mode", "align_corners")},
       {},
       {1, 24, 11, 8}},
      {"linear asymmetric x0.5",
       {Str("mode", "linear"), Str("coordinate_transformation_mode", "asymmetric")},
       {1, 1, 0.5f, 0.5f},
       {}},
      {"cubic half_pixel x1.5",
       {Str("mode", "cubic"), Str("coordinate_transformation_mode", "half_pixel")},
       {1, 1, 1.5f, 1.5f},
       {}},
      {"cubic exclude_outside x2",
       {Str("mode", "cubic"), Int("exclude_outside", 1), Float("cubic_coeff_a", -0.5f)},
       {1, 1, 2, 2},
       {}},
      {"nearest half_pixel floor x3",
       {Str("mode", "nearest"), Str("nearest_mode", "floor")},
       {1, 1, 3, 3},
       {}},
      {"nearest tf_half_pixel_for_nn to sizes",
       {Str("mode", "nearest"), Str("coordinate_transformation_mode", "tf_half_pixel_for_nn")},
       {},
       {1, 24, 9, 13}},
      {"linear pytorch_half_pixel to one row",
       {Str("mode", "linear"), Str("coordinate_transformation_mode", "pytorch_half_pixel")},
       {},
       {1, 24, 1, 5}},
      {"linear tf_crop_and_resize with extrapolation",
       {Str("mode", "linear"), Str("coordinate_transformation_mode", "tf_crop_and_resize"),
        Float("extrapolation_value", 2.5f)},
       {},
       {1, 24, 8, 8},
       {0, 0, -0.25f, 0.1f, 1, 1, 0.8f, 1.3f}},
  };
  for (const ResizeCase& c : cases) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE(c.name + ", threads " + std::to_string(threads));
      ModelBuilder mb(13);
      std::string x = mb.Input("x", {1, 5, 6, 7});
      std::string v = mb.Conv(x, 5, 24, 3, {Ints("pads", {1, 1, 1, 1})});
      const std::string roi =
          c.roi.empty() ? "" : mb.Const("roi", Tensor::FromVector<float>(c.roi, {8}));
      std::vector<std::string> in = {v, roi};
      if (c.scales.empty()) {
        in.push_back("");
        in.push_back(mb.Const("sizes", Tensor::FromVector<int64_t>(c.sizes, {4})));
      } else {
        in.push_back(mb.Const("scales", Tensor::FromVector<float>(c.scales, {4})));
      }
      v = mb.Op("Resize", in, c.attrs);
      mb.Output(mb.Conv(v, 24, 8, 3, {Ints("pads", {1, 1, 1, 1})}));
      ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 5, 6, 7}, 45)}}, threads);
    }
  }
}

// Upsample (opset 9) and Resize-10 in linear mode use asymmetric coordinates.
TEST(DnnlRegionResize, LinearUpsampleAndResize10) {
  for (const std::string op : {"Upsample", "Resize"}) {
    SCOPED_TRACE(op);
    ModelBuilder mb(op == "Upsample" ? 9 : 10);
    std::string x = mb.Input("x", {1, 4, 5, 6});
    std::string v = mb.Conv(x, 4, 16, 3, {Ints("pads", {1, 1, 1, 1})});
    const std::string scales = mb.Const("scales", Tensor::FromVector<float>({1, 1, 2, 2}, {4}));
    v = mb.Op(op, {v, scales}, {Str("mode", "linear")});
    mb.Output(mb.Conv(v, 16, 4, 1));
    ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 4, 5, 6}, 46)}});
  }
}

// Resizing the batch or channel axis is not the region's: the node stays outside and the
// reference kernel runs it.
TEST(DnnlRegionResize, ChannelResizeStaysOutside) {
  ModelBuilder mb(13);
  std::string x = mb.Input("x", {1, 4, 5, 6});
  std::string v = mb.Conv(x, 4, 8, 3, {Ints("pads", {1, 1, 1, 1})});
  const std::string scales = mb.Const("scales", Tensor::FromVector<float>({1, 2, 1, 1}, {4}));
  mb.Output(mb.Op("Resize", {v, "", scales}, {Str("mode", "nearest")}));
  const std::string bytes = mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 4, 5, 6}, 47)}};
  ExpectMatchesReference(bytes, feeds);
  const Partitioning p = Partition(bytes, feeds);
  EXPECT_EQ(p.nodes_in_region, p.nodes - 1);
}

// The channels-last step on a channel-blocked layout (16 channels per pixel vector, the last
// block padded), which the regions hand it when oneDNN keeps a value blocked: the same numbers
// as the reference kernel on the plain tensor.
TEST(DnnlRegionResize, ResamplePixelsOnChannelBlocks) {
  const int64_t c = 20, h = 5, w = 7, block = 16, blocks = 2;
  const Tensor x = RandomTensor({1, c, h, w}, 48);
  ModelBuilder mb(13);
  std::string in = mb.Input("x", {1, c, h, w});
  const std::string scales = mb.Const("scales", Tensor::FromVector<float>({1, 1, 2, 1.5f}, {4}));
  mb.Output(mb.Op("Resize", {in, "", scales},
                  {Str("mode", "linear"), Str("coordinate_transformation_mode", "asymmetric")}));
  auto expected = RunModel(mb.Bytes(), "cpu_reference", {{"x", x}});
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  const Tensor& y = (*expected)[0];
  const int64_t oh = y.dim(2), ow = y.dim(3);

  std::vector<float> src(blocks * h * w * block, 0.f), dst(blocks * oh * ow * block, -1.f);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < h * w; ++i)
      src[((ch / block) * h * w + i) * block + ch % block] = x.data<float>()[ch * h * w + i];
  ops::resampling::ResizeParams p;
  p.mode = ops::resampling::Mode::kLinear;
  p.coord = ops::resampling::CoordMode::kAsymmetric;
  p.scales = {1, 1, 2, 1.5};
  p.out_extent = {1, static_cast<double>(c), 10, 10.5};
  p.out_shape = {1, c, oh, ow};
  const ops::resampling::AxisMap mh = ops::resampling::BuildAxisMap(p, 2, h, oh);
  const ops::resampling::AxisMap mw = ops::resampling::BuildAxisMap(p, 3, w, ow);
  ops::resampling::ResamplePixels(src.data(), dst.data(), blocks, h, w, block, mh, mw, 0.f, 2);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < oh * ow; ++i)
      ASSERT_NEAR(dst[((ch / block) * oh * ow + i) * block + ch % block],
                  y.data<float>()[ch * oh * ow + i], 1e-5)
          << "channel " << ch << " pixel " << i;
  for (int64_t i = 0; i < oh * ow; ++i)  // the padding channels resample zeros to zeros
    EXPECT_EQ(dst[(oh * ow + i) * block + block - 1], 0.f);
}

}  // namespace
}  // namespace supernova::testing::region_test

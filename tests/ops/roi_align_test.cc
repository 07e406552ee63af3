// RoiAlign. Expected values come from a small NumPy program that takes every bilinear sample
// of every bin directly from the spec (with ONNX's reference rules: a sample more than a pixel
// outside reads 0; max mode keeps the largest weighted corner); its outputs are kept here.
#include <gmock/gmock.h>

#include <limits>
#include <string>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

const Tensor kX =
    Floats({-2,      -1.25f,  -0.5f,  0.25f,   1,      1.75f,   -1.75f,  -1,     -0.25f,  0.5f,
            0.875f,  -0.875f, -0.5f,  -0.125f, 0.25f,  -1,      -0.625f, -0.25f, 0.125f,  0.5f,
            1.25f,   2,       -1.5f,  -0.75f,  0,      0.75f,   1.5f,    -2,     -1.25f,  -0.5f,
            0.375f,  0.75f,   -1,     -0.625f, -0.25f, 0.625f,  1,       -0.75f, -0.375f, 0,
            0.25f,   1,       1.75f,  -1.75f,  -1,     -0.25f,  0.5f,    1.25f,  2,       -1.5f,
            -0.125f, 0.25f,   0.625f, 1,       -0.75f, 0.125f,  0.5f,    0.875f, -0.875f, -0.5f,
            -0.75f,  0,       0.75f,  1.5f,    -2,     -1.25f,  -0.5f,   0.25f,  1,       1.75f,
            -0.625f, -0.25f,  0.125f, 0.5f,    0.875f, -0.375f, 0,       0.375f, 0.75f,   -1},
           {2, 2, 4, 5});

Result<std::vector<Tensor>> Align(int64_t opset, const std::vector<float>& rois,
                                  const std::vector<int64_t>& batch, int64_t out_h, int64_t out_w,
                                  int64_t sampling, float scale, const std::string& mode) {
  return OpTest("RoiAlign", opset)
      .Attr("output_height", out_h)
      .Attr("output_width", out_w)
      .Attr("sampling_ratio", sampling)
      .Attr("spatial_scale", scale)
      .Attr("mode", mode)
      .Input("x", kX)
      .Input("rois", Floats(rois, {static_cast<int64_t>(batch.size()), 4}))
      .Input("batch_indices",
             Tensor::FromVector<int64_t>(batch, {static_cast<int64_t>(batch.size())}))
      .Run();
}

// The second region reaches past the left and bottom edges.
const std::vector<float> kRois = {1, 0.5f, 7, 6, -3, 2, 5, 9};

TEST(RoiAlign, Opset16HalfPixelAverage) {
  auto out = Align(16, kRois, {1, 0}, 2, 2, 2, 0.5f, "avg");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({0.59375f, 0.97168f, 0.217285f, 0.877319f, -0.40625f, 0.71875f,
                                  -0.415527f, 0.296387f, 0.638672f, -0.56543f, -0.353516f,
                                  -0.581055f, 0.306641f, 0.364258f, 0.292969f, 0.429688f},
                                 {2, 2, 2, 2}),
                          (*out)[0], 1e-5, 1e-5));
}

TEST(RoiAlign, Opset16HalfPixelMax) {
  auto out = Align(16, kRois, {1, 0}, 2, 2, 2, 0.5f, "max");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({0.792969f, 1.3877f, 0.232422f, 0.664062f, 0.0849609f, 0.849609f,
                                  0.0166016f, 0.332031f, 1.64062f, 0.820312f, 0.273438f, 0.136719f,
                                  0.703125f, 0.703125f, 0.625f, 0.5f},
                                 {2, 2, 2, 2}),
                          (*out)[0], 1e-5, 1e-5));
}

// Opset 10 is output_half_pixel: no half-pixel shift, a region under a pixel grows to one.
// sampling_ratio 0 picks ceil(region / bins) samples per axis.
TEST(RoiAlign, Opset10OutputHalfPixelAdaptiveSampling) {
  auto out = Align(10, {0.2f, 0.3f, 0.4f, 0.5f, 0.5f, 0.5f, 3.9f, 2.2f}, {0, 1}, 1, 3, 0, 1, "avg");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({0.0283333f, -0.855f, -1.625f, 1.125f, 1.375f, 1.48333f, 0.462188f,
                                  1.10898f, 0.584375f, -0.344062f, 0.34125f, 0.973437f},
                                 {2, 2, 1, 3}),
                          (*out)[0], 1e-5, 1e-5));
}

TEST(RoiAlign, NonFiniteRegionsPoolToZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto out = Align(16, {nan, 0, 2, 2, 0, 0, nan, nan}, {0, 1}, 2, 2, 0, 1, "avg");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (double v : Values((*out)[0])) EXPECT_EQ(v, 0.0);
}

TEST(RoiAlign, Errors) {
  const auto code = [](const Result<std::vector<Tensor>>& r) {
    return r.ok() ? Status::Code::kOk : r.status().code();
  };
  EXPECT_EQ(code(Align(16, kRois, {2, 0}, 2, 2, 2, 1, "avg")), Status::Code::kInvalidArgument)
      << "batch index beyond N";
  EXPECT_EQ(code(Align(16, kRois, {0, 0}, 2, 2, 2, 1, "median")), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Align(16, kRois, {0, 0}, 0, 2, 2, 1, "avg")), Status::Code::kInvalidArgument);
  auto bad_rois = OpTest("RoiAlign", 16)
                      .Input("x", kX)
                      .Input("rois", Floats({0, 0, 1}, {1, 3}))
                      .Input("batch_indices", Tensor::FromVector<int64_t>({0}, {1}))
                      .Run();
  ASSERT_FALSE(bad_rois.ok());
  EXPECT_THAT(bad_rois.status().message(), ::testing::HasSubstr("rois"));
  auto bad_mode = OpTest("RoiAlign", 16)
                      .Attr("coordinate_transformation_mode", std::string("align_corners"))
                      .Input("x", kX)
                      .Input("rois", Floats({0, 0, 1, 1}, {1, 4}))
                      .Input("batch_indices", Tensor::FromVector<int64_t>({0}, {1}))
                      .Run();
  ASSERT_FALSE(bad_mode.ok());
  EXPECT_THAT(bad_mode.status().message(), ::testing::HasSubstr("coordinate_transformation_mode"));
}

}  // namespace
}  // namespace supernova::testing

#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Row() { return Tensor::FromVector<float>({1, 2, 3}, {1, 3}); }
Tensor Pads(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::FromVector<int64_t>(v, {n});
}

TEST(Pad, ConstantWithValueInputOpset11) {
  auto out = OpTest("Pad", 13)
                 .Input("x", Row())
                 .ConstInput("pads", Pads({1, 2, 0, 1}))
                 .ConstInput("v", Tensor::Scalar<float>(9))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 6}));
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9}));
}

TEST(Pad, ReflectAndEdgeModes) {
  auto reflect = OpTest("Pad", 13)
                     .Attr("mode", std::string("reflect"))
                     .Input("x", Row())
                     .ConstInput("pads", Pads({0, 2, 0, 2}))
                     .Run();
  ASSERT_TRUE(reflect.ok()) << reflect.status().ToString();
  EXPECT_EQ(Values((*reflect)[0]), (std::vector<double>{3, 2, 1, 2, 3, 2, 1}));
  auto edge = OpTest("Pad", 13)
                  .Attr("mode", std::string("edge"))
                  .Input("x", Row())
                  .ConstInput("pads", Pads({1, 1, 0, 0}))
                  .Run();
  ASSERT_TRUE(edge.ok()) << edge.status().ToString();
  EXPECT_EQ(Values((*edge)[0]), (std::vector<double>{1, 1, 2, 3, 1, 1, 2, 3}));
}

TEST(Pad, Opset2AttributesAndNegativePadsCrop) {
  auto out = OpTest("Pad", 2)
                 .Attr("pads", std::vector<int64_t>{0, -1, 0, 1})
                 .Attr("value", 5.0f)
                 .Input("x", Row())
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{2, 3, 5}));
}

TEST(Pad, WrongPadsLengthIsAnError) {
  auto out = OpTest("Pad", 13).Input("x", Row()).ConstInput("pads", Pads({1, 1})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("pads has 2 entries, expected 4"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing

namespace supernova::testing {
namespace {

TEST(Pad, HugePadsAreRejectedNotOverflowed) {
  auto out = OpTest("Pad", 13)
                 .Input("x", Tensor::FromVector<float>({1, 2}, {2}))
                 .ConstInput("pads", Tensor::FromVector<int64_t>({INT64_MAX, INT64_MAX}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("too large"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing

namespace supernova::testing {
namespace {

TEST(Pad, LargeThreadedSpatialPadMatchesIndexRule) {
  const int64_t C = 16, H = 70, W = 90;
  std::vector<float> v(static_cast<size_t>(C * H * W));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  auto out = OpTest("Pad", 13)
                 .Attr("mode", std::string("reflect"))
                 .Input("x", Tensor::FromVector<float>(v, {1, C, H, W}))
                 .ConstInput("pads", Tensor::FromVector<int64_t>({0, 0, 2, 3, 0, 0, 1, 4}, {8}))
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Tensor& y = (*out)[0];
  ASSERT_EQ(y.shape(), (Shape{1, C, H + 3, W + 7}));
  auto reflect = [](int64_t i, int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); };
  for (int64_t c = 0; c < C; ++c)
    for (int64_t h = 0; h < H + 3; ++h)
      for (int64_t w = 0; w < W + 7; ++w) {
        const int64_t sh = reflect(h - 2, H), sw = reflect(w - 3, W);
        ASSERT_EQ(y.GetAsDouble((c * (H + 3) + h) * (W + 7) + w), v[(c * H + sh) * W + sw]);
      }
}

}  // namespace
}  // namespace supernova::testing

#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Iota(Shape shape) {
  std::vector<float> v(static_cast<size_t>(NumElements(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return Tensor::FromVector<float>(v, std::move(shape));
}

TEST(DepthToSpace, DcrAndCrdOrderChannelsDifferently) {
  // x: [1, 4, 1, 1] = channels 0..3 with blocksize 2 -> [1, 1, 2, 2].
  auto dcr =
      OpTest("DepthToSpace").Attr("blocksize", int64_t{2}).Input("x", Iota({1, 4, 1, 1})).Run();
  ASSERT_TRUE(dcr.ok()) << dcr.status().ToString();
  EXPECT_EQ((*dcr)[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(Values((*dcr)[0]), (std::vector<double>{0, 1, 2, 3}));
  // With 8 channels DCR takes output channel c from input channels c + 2 * (by * 2 + bx)...
  auto d8 =
      OpTest("DepthToSpace").Attr("blocksize", int64_t{2}).Input("x", Iota({1, 8, 1, 1})).Run();
  ASSERT_TRUE(d8.ok()) << d8.status().ToString();
  EXPECT_EQ(Values((*d8)[0]), (std::vector<double>{0, 2, 4, 6, 1, 3, 5, 7}));
  // ...while CRD takes it from input channels c * 4 + (by * 2 + bx).
  auto c8 = OpTest("DepthToSpace")
                .Attr("blocksize", int64_t{2})
                .Attr("mode", std::string("CRD"))
                .Input("x", Iota({1, 8, 1, 1}))
                .Run();
  ASSERT_TRUE(c8.ok()) << c8.status().ToString();
  EXPECT_EQ(Values((*c8)[0]), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(SpaceToDepth, InvertsDcrDepthToSpace) {
  Tensor x = Iota({2, 3, 4, 6});
  auto s2d = OpTest("SpaceToDepth").Attr("blocksize", int64_t{2}).Input("x", x).Run();
  ASSERT_TRUE(s2d.ok()) << s2d.status().ToString();
  EXPECT_EQ((*s2d)[0].shape(), (Shape{2, 12, 2, 3}));
  // out[n][(by * 2 + bx) * 3 + c][h][w] = x[n][c][2h + by][2w + bx]
  const Tensor& y = (*s2d)[0];
  for (int n = 0; n < 2; ++n)
    for (int oc = 0; oc < 12; ++oc)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 3; ++w) {
          const int c = oc % 3, by = oc / 6, bx = (oc / 3) % 2;
          const double expect = ((n * 3 + c) * 4 + 2 * h + by) * 6 + 2 * w + bx;
          ASSERT_EQ(y.GetAsDouble(((n * 12 + oc) * 2 + h) * 3 + w), expect);
        }
  auto back = OpTest("DepthToSpace").Attr("blocksize", int64_t{2}).Input("y", y).Run();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(TensorsNear(x, (*back)[0]));
}

TEST(DepthToSpace, IndivisibleChannelsAreAnError) {
  auto out =
      OpTest("DepthToSpace").Attr("blocksize", int64_t{2}).Input("x", Iota({1, 6, 1, 1})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("not divisible"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing

// MaxUnpool, with expected outputs worked out by hand: each index is a flat position in the
// unpooled shape (N, C and spatial dims together), the rest is zero.
#include <gmock/gmock.h>

#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(MaxUnpool, OneDimWithStridesAndPads) {
  // (2 - 1) * 2 + 2 = 4 positions.
  auto out = OpTest("MaxUnpool", 11)
                 .Attr("kernel_shape", std::vector<int64_t>{2})
                 .Attr("strides", std::vector<int64_t>{2})
                 .Input("x", Floats({5, 7}, {1, 1, 2}))
                 .Input("i", Int64s({1, 2}, {1, 1, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 4}));
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(0, 5, 7, 0));
  // One pad at the start: 4 - 1 = 3 positions.
  out = OpTest("MaxUnpool", 11)
            .Attr("kernel_shape", std::vector<int64_t>{2})
            .Attr("strides", std::vector<int64_t>{2})
            .Attr("pads", std::vector<int64_t>{1, 0})
            .Input("x", Floats({5, 7}, {1, 1, 2}))
            .Input("i", Int64s({0, 2}, {1, 1, 2}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(5, 0, 7));
}

// Indices count across the batch; a larger output_shape keeps them in the unpooled layout,
// placed in its leading corner.
TEST(MaxUnpool, BatchIndicesAndLargerOutputShape) {
  const auto run = [](bool with_shape) {
    OpTest t("MaxUnpool", 11);
    t.Attr("kernel_shape", std::vector<int64_t>{2, 2})
        .Attr("strides", std::vector<int64_t>{2, 2})
        .Input("x", Floats({1, 2}, {2, 1, 1, 1}))
        .Input("i", Int64s({3, 5}, {2, 1, 1, 1}));
    if (with_shape) t.Input("shape", Int64s({2, 1, 3, 3}, {4}));
    return t.Run();
  };
  auto plain = run(false);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ((*plain)[0].shape(), (Shape{2, 1, 2, 2}));
  EXPECT_THAT(Values((*plain)[0]), ::testing::ElementsAre(0, 0, 0, 1, 0, 2, 0, 0));
  auto shaped = run(true);
  ASSERT_TRUE(shaped.ok()) << shaped.status().ToString();
  EXPECT_EQ((*shaped)[0].shape(), (Shape{2, 1, 3, 3}));
  EXPECT_THAT(Values((*shaped)[0]),
              ::testing::ElementsAre(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0));
}

TEST(MaxUnpool, Errors) {
  const auto run = [](std::vector<int64_t> idx, Shape i_shape, std::vector<int64_t> kernel,
                      const std::vector<int64_t>* shape) {
    OpTest t("MaxUnpool", 11);
    if (!kernel.empty()) t.Attr("kernel_shape", kernel);
    t.Input("x", Floats({5, 7}, {1, 1, 2})).Input("i", Int64s(idx, i_shape));
    if (shape) t.Input("shape", Int64s(*shape, {static_cast<int64_t>(shape->size())}));
    return t.Run();
  };
  const std::vector<int64_t> small = {1, 1, 2};
  for (auto r : {run({0, 3}, {1, 1, 2}, {2}, nullptr),    // index beyond the 3 positions
                 run({0, 1}, {1, 2}, {2}, nullptr),       // I's shape is not X's
                 run({0, 1}, {1, 1, 2}, {}, nullptr),     // no kernel_shape
                 run({0, 1}, {1, 1, 2}, {2}, &small)}) {  // output_shape below 3
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  }
}

}  // namespace
}  // namespace supernova::testing

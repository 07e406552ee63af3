// Loop: the expected values are worked out by hand, iteration by iteration.
#include <gmock/gmock.h>

#include "ops/body_builder.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

// (i, cond, s) -> (cond, s + float(i), s + float(i)): a running sum of the iteration numbers,
// and every partial sum as a scan output.
std::shared_ptr<ir::Graph> SumBody(bool cond_is_false = false) {
  BodyBuilder b;
  b.In("i", DataType::kInt64, Shape{}).In("c_in", DataType::kBool, Shape{});
  b.In("s_in", DataType::kFloat32, Shape{1});
  if (cond_is_false) {
    b.Const("c_out", Tensor::FromVector<bool>({false}, {}));
  } else {
    b.Node("Identity", {"c_in"}, {"c_out"});
  }
  BodyBuilder::SetInt(b.Node("Cast", {"i"}, {"fi"}), "to", 1);
  b.Node("Add", {"s_in", "fi"}, {"s_out"});
  b.Node("Identity", {"s_out"}, {"partial"});
  b.Out("c_out", DataType::kBool, Shape{}).Out("s_out", DataType::kFloat32, Shape{1});
  b.Out("partial", DataType::kFloat32, Shape{1});
  return b.graph();
}

TEST(Loop, ForLoopCarriesAndScans) {
  // s: 0 -> 0, 1, 3, 6.
  auto out = OpTest("Loop", 16)
                 .Attr("body", SumBody())
                 .Input("M", Int64s({4}, {}))
                 .Input("cond", Bool(true))
                 .Input("s", Floats({0}, {1}))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({6}, {1}), (*out)[0]));
  EXPECT_TRUE(TensorsNear(Floats({0, 1, 3, 6}, {4, 1}), (*out)[1]));
}

TEST(Loop, WithoutCondTheBodysConditionIsIgnored) {
  // The body says stop at once; with no cond input the loop still runs M = 3 times.
  auto out = OpTest("Loop", 13)
                 .Attr("body", SumBody(true))
                 .Input("M", Int64s({3}, {}))
                 .NoInput()
                 .Input("s", Floats({10}, {1}))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({13}, {1}), (*out)[0]));
  EXPECT_TRUE(TensorsNear(Floats({10, 11, 13}, {3, 1}), (*out)[1]));
  // With cond given, the body's false stops it after the first iteration.
  out = OpTest("Loop", 13)
            .Attr("body", SumBody(true))
            .Input("M", Int64s({3}, {}))
            .Input("cond", Bool(true))
            .Input("s", Floats({10}, {1}))
            .Outputs(2)
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({10}, {1}), (*out)[0]));
  EXPECT_TRUE(TensorsNear(Floats({10}, {1, 1}), (*out)[1]));
}

TEST(Loop, WhileLoopWithoutTripCount) {
  // (i, c, x) -> (i < 2, x * 2, i): runs i = 0, 1, 2 (the third returns false); x: 1 -> 8.
  BodyBuilder b;
  b.In("i", DataType::kInt64, Shape{}).In("c_in", DataType::kBool, Shape{});
  b.In("x_in", DataType::kFloat32, Shape{});
  b.Const("two_i", Int64s({2}, {})).Const("two_f", Floats({2}, {}));
  b.Node("Less", {"i", "two_i"}, {"c_out"});
  b.Node("Mul", {"x_in", "two_f"}, {"x_out"});
  b.Node("Identity", {"i"}, {"i_seen"});
  b.Out("c_out", DataType::kBool, Shape{}).Out("x_out", DataType::kFloat32, Shape{});
  b.Out("i_seen", DataType::kInt64, Shape{});
  auto out = OpTest("Loop", 16)
                 .Attr("body", b.graph())
                 .NoInput()
                 .Input("cond", Bool(true))
                 .Input("x", Floats({1}, {}))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({8}, {}), (*out)[0]));
  EXPECT_TRUE(TensorsNear(Int64s({0, 1, 2}, {3}), (*out)[1]));
}

TEST(Loop, ZeroIterationsReturnTheInitialValuesAndEmptyScans) {
  for (auto [m, cond] : {std::pair{int64_t{0}, true}, std::pair{int64_t{5}, false}}) {
    auto out = OpTest("Loop", 16)
                   .Attr("body", SumBody())
                   .Input("M", Int64s({m}, {}))
                   .Input("cond", Bool(cond))
                   .Input("s", Floats({4}, {1}))
                   .Outputs(2)
                   .Run();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(TensorsNear(Floats({4}, {1}), (*out)[0]));
    EXPECT_EQ((*out)[1].shape(), (Shape{0, 1}));  // the body's declared [1] under a 0 axis
  }
}

TEST(Loop, CarriedValuesMayChangeShape) {
  // x_out = Concat(x_in, x_in): [1] -> [2] -> [4] -> [8].
  BodyBuilder b;
  b.In("i", DataType::kInt64, Shape{}).In("c_in", DataType::kBool, Shape{});
  b.In("x_in", DataType::kFloat32, std::nullopt);
  b.Node("Identity", {"c_in"}, {"c_out"});
  BodyBuilder::SetInt(b.Node("Concat", {"x_in", "x_in"}, {"x_out"}), "axis", 0);
  b.Out("c_out", DataType::kBool, Shape{}).Out("x_out", DataType::kFloat32, std::nullopt);
  auto out = OpTest("Loop", 16)
                 .Attr("body", b.graph())
                 .Input("M", Int64s({3}, {}))
                 .Input("cond", Bool(true))
                 .Input("x", Floats({1.5f}, {1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(std::vector<float>(8, 1.5f), {8}), (*out)[0]));
}

TEST(Loop, ScanOutputsThatChangeShapeAreAnError) {
  BodyBuilder b;
  b.In("i", DataType::kInt64, Shape{}).In("c_in", DataType::kBool, Shape{});
  b.In("x_in", DataType::kFloat32, std::nullopt);
  b.Node("Identity", {"c_in"}, {"c_out"});
  BodyBuilder::SetInt(b.Node("Concat", {"x_in", "x_in"}, {"x_out"}), "axis", 0);
  b.Node("Identity", {"x_out"}, {"seen"});
  b.Out("c_out", DataType::kBool, Shape{}).Out("x_out", DataType::kFloat32, std::nullopt);
  b.Out("seen", DataType::kFloat32, std::nullopt);
  auto out = OpTest("Loop", 16)
                 .Attr("body", b.graph())
                 .Input("M", Int64s({3}, {}))
                 .Input("cond", Bool(true))
                 .Input("x", Floats({1}, {1}))
                 .Outputs(2)
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("Loop 'node': scan output 'seen'"));
}

TEST(Loop, BodyWithTheWrongInputsIsAnError) {
  auto out = OpTest("Loop", 16)
                 .Attr("body", SumBody())
                 .Input("M", Int64s({2}, {}))
                 .Input("cond", Bool(true))
                 .Input("s", Floats({0}, {1}))
                 .Input("t", Floats({0}, {1}))
                 .Outputs(2)
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("Loop 'node': body takes 3 inputs"));
}

TEST(Loop, TripCountMustBeInt64) {
  auto out = OpTest("Loop", 16)
                 .Attr("body", SumBody())
                 .Input("M", Floats({2}, {}))
                 .Input("cond", Bool(true))
                 .Input("s", Floats({0}, {1}))
                 .Outputs(2)
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("M must be one int64"));
}

}  // namespace
}  // namespace supernova::testing

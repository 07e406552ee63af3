// Scan: the expected values are running sums worked out by hand.
#include <gmock/gmock.h>

#include "ops/body_builder.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

// (sum_in, next) -> (sum_in + next, sum_in + next), elements of shape `elem`.
std::shared_ptr<ir::Graph> SumBody(const Shape& elem) {
  BodyBuilder b;
  b.In("sum_in", DataType::kFloat32, elem).In("next", DataType::kFloat32, elem);
  b.Node("Add", {"sum_in", "next"}, {"sum_out"}, "add");
  b.Node("Identity", {"sum_out"}, {"scan_out"});
  b.Out("sum_out", DataType::kFloat32, elem).Out("scan_out", DataType::kFloat32, elem);
  return b.graph();
}

TEST(Scan, Opset9SumsAlongAxis0) {
  // Rows [1,2], [3,4], [5,6] summed from [0,0]: [1,2], [4,6], [9,12].
  auto out = OpTest("Scan", 9)
                 .Attr("body", SumBody({2}))
                 .Attr("num_scan_inputs", int64_t{1})
                 .Input("init", Floats({0, 0}, {2}))
                 .Input("x", Floats({1, 2, 3, 4, 5, 6}, {3, 2}))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({9, 12}, {2}), (*out)[0]));
  EXPECT_TRUE(TensorsNear(Floats({1, 2, 4, 6, 9, 12}, {3, 2}), (*out)[1]));
}

TEST(Scan, AxesAndDirections) {
  // x = [[1,2,3],[4,5,6]] scanned along axis 1 backwards: columns [3,6], [2,5], [1,4]; sums
  // [3,6], [5,11], [6,15]. The output stacks them along axis 1 (written -1), last first:
  // column 2 <- [3,6], column 1 <- [5,11], column 0 <- [6,15].
  for (int64_t out_axis : {int64_t{1}, int64_t{-1}}) {
    auto out = OpTest("Scan", 16)
                   .Attr("body", SumBody({2}))
                   .Attr("num_scan_inputs", int64_t{1})
                   .Attr("scan_input_axes", std::vector<int64_t>{1})
                   .Attr("scan_input_directions", std::vector<int64_t>{1})
                   .Attr("scan_output_axes", std::vector<int64_t>{out_axis})
                   .Attr("scan_output_directions", std::vector<int64_t>{1})
                   .Input("init", Floats({0, 0}, {2}))
                   .Input("x", Floats({1, 2, 3, 4, 5, 6}, {2, 3}))
                   .Outputs(2)
                   .Run();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(TensorsNear(Floats({6, 15}, {2}), (*out)[0]));
    EXPECT_TRUE(TensorsNear(Floats({6, 5, 3, 15, 11, 6}, {2, 3}), (*out)[1]));
  }
}

TEST(Scan, TwoScanInputsAndNoState) {
  // (a, b) -> a * b per row: [1*4, 2*5], [3*6, ...].
  BodyBuilder b;
  b.In("a", DataType::kFloat32, Shape{1}).In("b", DataType::kFloat32, Shape{1});
  b.Node("Mul", {"a", "b"}, {"ab"});
  b.Out("ab", DataType::kFloat32, Shape{1});
  auto out = OpTest("Scan", 11)
                 .Attr("body", b.graph())
                 .Attr("num_scan_inputs", int64_t{2})
                 .Input("x", Floats({1, 2, 3}, {3, 1}))
                 .Input("y", Floats({4, 5, 6}, {3, 1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({4, 10, 18}, {3, 1}), (*out)[0]));
}

TEST(Scan, Opset8ScansEachBatchItem) {
  // Batch 0: [1,2,3] from 0 -> sums 1, 3, 6; batch 1: [10,20,30] from 100 -> 110, 130, 160.
  auto out = OpTest("Scan", 8)
                 .Attr("body", SumBody({1}))
                 .Attr("num_scan_inputs", int64_t{1})
                 .NoInput()
                 .Input("init", Floats({0, 100}, {2, 1}))
                 .Input("x", Floats({1, 2, 3, 10, 20, 30}, {2, 3, 1}))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({6, 160}, {2, 1}), (*out)[0]));
  EXPECT_TRUE(TensorsNear(Floats({1, 3, 6, 110, 130, 160}, {2, 3, 1}), (*out)[1]));
}

TEST(Scan, Opset8ReversedDirection) {
  // Batch 0 backwards: 3, 5, 6.
  auto out = OpTest("Scan", 8)
                 .Attr("body", SumBody({1}))
                 .Attr("num_scan_inputs", int64_t{1})
                 .Attr("directions", std::vector<int64_t>{1})
                 .NoInput()
                 .Input("init", Floats({0}, {1, 1}))
                 .Input("x", Floats({1, 2, 3}, {1, 3, 1}))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({6}, {1, 1}), (*out)[0]));
  EXPECT_TRUE(TensorsNear(Floats({3, 5, 6}, {1, 3, 1}), (*out)[1]));
}

TEST(Scan, ScanInputsOfDifferentLengthsAreAnError) {
  BodyBuilder b;
  b.In("a", DataType::kFloat32, Shape{1}).In("b", DataType::kFloat32, Shape{1});
  b.Node("Mul", {"a", "b"}, {"ab"});
  b.Out("ab", DataType::kFloat32, Shape{1});
  auto out = OpTest("Scan", 11)
                 .Attr("body", b.graph())
                 .Attr("num_scan_inputs", int64_t{2})
                 .Input("x", Floats({1, 2, 3}, {3, 1}))
                 .Input("y", Floats({4, 5}, {2, 1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("Scan 'node': scan input 1 has 2"));
}

TEST(Scan, BadAttributesAreErrors) {
  auto run = [](OpTest t) {
    return t.Input("init", Floats({0, 0}, {2})).Input("x", Floats({1, 2}, {1, 2})).Outputs(2).Run();
  };
  auto out = run(std::move(OpTest("Scan", 11).Attr("body", SumBody({2}))));
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("num_scan_inputs"));
  out = run(std::move(OpTest("Scan", 11)
                          .Attr("body", SumBody({2}))
                          .Attr("num_scan_inputs", int64_t{1})
                          .Attr("scan_input_axes", std::vector<int64_t>{2})));
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("scan_input_axes[0] = 2 out of range"));
  out = run(std::move(OpTest("Scan", 11)
                          .Attr("body", SumBody({2}))
                          .Attr("num_scan_inputs", int64_t{1})
                          .Attr("scan_output_directions", std::vector<int64_t>{2})));
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("must be 0 or 1"));
}

TEST(Scan, AnErrorInTheBodyNamesTheIteration) {
  // The state [2] meets elements of [3]: the Add fails at iteration 0.
  auto out = OpTest("Scan", 11)
                 .Attr("body", SumBody({2}))
                 .Attr("num_scan_inputs", int64_t{1})
                 .Input("init", Floats({0, 0}, {2}))
                 .Input("x", Floats({1, 2, 3}, {1, 3}))
                 .Outputs(2)
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(),
              ::testing::HasSubstr("Scan 'node': body iteration 0: Add 'add'"));
}

}  // namespace
}  // namespace supernova::testing

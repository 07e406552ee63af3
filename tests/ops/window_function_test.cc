// HannWindow, HammingWindow and BlackmanWindow against numpy (numpy.hanning, numpy.blackman,
// and the spec's 25/46 Hamming by its formula; literals printed by
// tests/ops/signal_reference.py with NumPy 1.24), output_datatype, and errors.
#include <gmock/gmock.h>

#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

const std::vector<double> kHannPeriodic8 = {0, 0.146446609, 0.5, 0.853553391,
                                            1, 0.853553391, 0.5, 0.146446609};
const std::vector<double> kHannSymmetric5 = {0, 0.5, 1, 0.5, 0};
const std::vector<double> kHammingPeriodic6 = {0.0869565217, 0.315217391, 0.77173913, 1,
                                               0.77173913,   0.315217391};
const std::vector<double> kBlackmanSymmetric7 = {-1.38777878e-17, 0.13, 0.63, 1, 0.63, 0.13,
                                                 -1.38777878e-17};

Tensor Size(int64_t n) { return Tensor::FromVector<int64_t>({n}, {}); }

Tensor FromDoubles(const std::vector<double>& v) {
  return Tensor::FromVector<float>(std::vector<float>(v.begin(), v.end()),
                                   {static_cast<int64_t>(v.size())});
}

TEST(WindowFunction, PeriodicByDefaultSymmetricOnRequest) {
  auto out = OpTest("HannWindow").Input("size", Size(8)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kHannPeriodic8), (*out)[0]));
  out = OpTest("HannWindow")
            .Attr("periodic", int64_t{0})
            .Input("size", Tensor::FromVector<int32_t>({5}, {}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kHannSymmetric5), (*out)[0]));
  out = OpTest("HammingWindow").Input("size", Size(6)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kHammingPeriodic6), (*out)[0]));
  out = OpTest("BlackmanWindow").Attr("periodic", int64_t{0}).Input("size", Size(7)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kBlackmanSymmetric7), (*out)[0]));
}

TEST(WindowFunction, OutputDatatype) {
  auto out = OpTest("BlackmanWindow")
                 .Attr("periodic", int64_t{0})
                 .Attr("output_datatype", int64_t{11})  // float64
                 .Input("size", Size(7))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(
      TensorsNear(Tensor::FromVector<double>(kBlackmanSymmetric7, {7}), (*out)[0], 1e-12, 1e-15));
  // Integers truncate as Cast does: only the peak of the window is 1.
  out = OpTest("HannWindow")
            .Attr("output_datatype", int64_t{6})  // int32
            .Input("size", Size(8))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kInt32);
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(0, 0, 0, 0, 1, 0, 0, 0));
  out = OpTest("HammingWindow")
            .Attr("output_datatype", int64_t{10})  // float16
            .Input("size", Size(6))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kFloat16);
  std::vector<double> got = Values((*out)[0]);
  EXPECT_TRUE(TensorsNear(FromDoubles(kHammingPeriodic6), FromDoubles(got), 1e-3, 1e-4));
}

TEST(WindowFunction, EdgeSizes) {
  auto out = OpTest("HannWindow").Input("size", Size(0)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), Shape{0});
  // One symmetric sample has no period: it passes through (numpy.hanning(1) is [1]).
  out = OpTest("HannWindow").Attr("periodic", int64_t{0}).Input("size", Size(1)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(1));
  // One periodic sample is the window's first: 0 for Hann.
  out = OpTest("HannWindow").Input("size", Size(1)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(0));
}

TEST(WindowFunction, RejectsBadInputs) {
  auto out = OpTest("HannWindow").Input("size", Size(-1)).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("non-negative"));
  out = OpTest("HammingWindow").Input("size", Tensor::FromVector<int64_t>({2, 3}, {2})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("one int32 or int64 value"));
  // Sizes whose byte counts could overflow are refused before anything is allocated.
  out = OpTest("HannWindow").Input("size", Size(int64_t{1} << 62)).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  out = OpTest("BlackmanWindow").Attr("output_datatype", int64_t{8}).Input("size", Size(4)).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("not a numeric type"));
}

}  // namespace
}  // namespace supernova::testing

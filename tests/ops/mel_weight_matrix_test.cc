// MelWeightMatrix against the spec's reference formula run by NumPy (literals printed by
// tests/ops/signal_reference.py with NumPy 1.24), output_datatype, and errors.
#include <gmock/gmock.h>

#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

// [17, 5]: 5 bins, dft_length 32, 16000 Hz, float32 edges 100 and 7000 Hz.
// [33, 6]: 6 bins, dft_length 64, 8000 Hz, float64 edges 0 and 4000 Hz.
const std::vector<double> kMel5x32 = {
    1,   0, 0, 0, 0, 0,    1,   0,   0, 0, 0, 0, 1, 0, 0, 0, 0, 0.5,  0.5, 0, 0, 0,
    0,   1, 0, 0, 0, 0,    0.5, 0.5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.75, 0,   0, 0, 0,
    0.5, 0, 0, 0, 0, 0.25, 0,   0,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0,   0, 0, 0,
    0,   0, 0, 0, 0, 0,    0,   0,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0};
const std::vector<double> kMel6x64Double = {
    0,           0,   0,   0,   0,           0,           1,    0,    0,    0,           0,
    0,           0.5, 0.5, 0,   0,           0,           0,    0,    1,    0,           0,
    0,           0,   0,   0.5, 0.5,         0,           0,    0,    0,    0,           1,
    0,           0,   0,   0,   0,           0.75,        0.25, 0,    0,    0,           0,
    0.5,         0.5, 0,   0,   0,           0,           0.25, 0.75, 0,    0,           0,
    0,           0,   1,   0,   0,           0,           0,    0,    0.75, 0.25,        0,
    0,           0,   0,   0.5, 0.5,         0,           0,    0,    0,    0.25,        0.75,
    0,           0,   0,   0,   0,           1,           0,    0,    0,    0,           0,
    0.8,         0.2, 0,   0,   0,           0,           0.6,  0.4,  0,    0,           0,
    0,           0.4, 0.6, 0,   0,           0,           0,    0.2,  0.8,  0,           0,
    0,           0,   0,   1,   0,           0,           0,    0,    0,    0.833333333, 0,
    0,           0,   0,   0,   0.666666667, 0,           0,    0,    0,    0,           0.5,
    0,           0,   0,   0,   0,           0.333333333, 0,    0,    0,    0,           0,
    0.166666667, 0,   0,   0,   0,           0,           0,    0,    0,    0,           0,
    0,           0,   0,   0,   0,           0,           0,    0,    0,    0,           0,
    0,           0,   0,   0,   0,           0,           0,    0,    0,    0,           0,
    0,           0,   0,   0,   0,           0,           0,    0,    0,    0,           0,
    0,           0,   0,   0,   0,           0,           0,    0,    0,    0,           0};

template <typename T>
Tensor Scalar(T v) {
  return Tensor::FromVector<T>({v}, {});
}

Result<std::vector<Tensor>> Mel(int64_t bins, int64_t dft, int64_t rate, float low, float high) {
  return OpTest("MelWeightMatrix")
      .Input("num_mel_bins", Scalar<int64_t>(bins))
      .Input("dft_length", Scalar<int64_t>(dft))
      .Input("sample_rate", Scalar<int64_t>(rate))
      .Input("lower_edge_hertz", Scalar<float>(low))
      .Input("upper_edge_hertz", Scalar<float>(high))
      .Run();
}

Tensor FromDoubles(const std::vector<double>& v, Shape s) {
  return Tensor::FromVector<float>(std::vector<float>(v.begin(), v.end()), std::move(s));
}

TEST(MelWeightMatrix, MatchesTheReferenceFormula) {
  auto out = Mel(5, 32, 16000, 100, 7000);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kMel5x32, {17, 5}), (*out)[0]));
  out = OpTest("MelWeightMatrix")
            .Attr("output_datatype", int64_t{11})
            .Input("num_mel_bins", Scalar<int32_t>(6))
            .Input("dft_length", Scalar<int32_t>(64))
            .Input("sample_rate", Scalar<int32_t>(8000))
            .Input("lower_edge_hertz", Scalar<double>(0))
            .Input("upper_edge_hertz", Scalar<double>(4000))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // The literals keep 9 digits.
  EXPECT_TRUE(
      TensorsNear(Tensor::FromVector<double>(kMel6x64Double, {33, 6}), (*out)[0], 1e-8, 1e-12));
}

TEST(MelWeightMatrix, RejectsBadInputs) {
  auto out = Mel(-1, 32, 16000, 100, 7000);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("num_mel_bins"));
  out = Mel(5, 0, 16000, 100, 7000);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("dft_length must be positive"));
  out = Mel(int64_t{1} << 40, 32, 16000, 100, 7000);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("2^30 elements"));
  // An upper edge past the Nyquist frequency puts filters outside the spectrum.
  out = Mel(5, 32, 16000, 100, 30000);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("outside the spectrum"));
  out = Mel(5, 32, 16000, -900, 7000);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("outside the spectrum"));
}

}  // namespace
}  // namespace supernova::testing

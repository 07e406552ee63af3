// STFT against numpy.fft over the same frames (literals printed by
// tests/ops/signal_reference.py with NumPy 1.24), and its errors.
#include <gmock/gmock.h>

#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

// rfft of the 4 frames of 8 samples every 4 of ramp(20), each times the periodic Hann window.
// fft of the 3 frames of 4 samples every 3 of the two complex signals of 10 samples.
const std::vector<double> kStftHann = {-0.500000007,
                                       0,
                                       0.250000003,
                                       -0.836548561,
                                       0,
                                       1.77404857,
                                       -3.12907211e-09,
                                       -2.08654856,
                                       7.4505806e-09,
                                       0,
                                       0.187499981,
                                       0,
                                       -0.812499992,
                                       -0.241116505,
                                       1.4375,
                                       -0.25888348,
                                       -1.43750001,
                                       1.3838835,
                                       1.43750002,
                                       0,
                                       0.453966036,
                                       0,
                                       -0.735216034,
                                       0.898667485,
                                       0,
                                       -0.679917499,
                                       1.73521603,
                                       -0.351332515,
                                       -2.45396604,
                                       0,
                                       0.546033978,
                                       0,
                                       0.235216027,
                                       0.898667485,
                                       0,
                                       -0.679917499,
                                       -1.73521603,
                                       -0.351332515,
                                       2.45396602,
                                       0};
const std::vector<double> kStftComplex = {
    -0.75,  -1.625, 1.625, 0,     -3.5, -0.625, -2.875, -1.25, 0.125, -0.75,  1.625, 0,
    -0.625, -3.5,   2.875, -1.25, 1,    0.125,  -1.25,  2.875, 2.25,  -0.625, 0,     1.625,
    0.25,   -0.625, 1.625, 0,     -3.5, -0.625, -2.875, -1.25, 1.125, 0.25,   1.625, 0,
    -0.625, -3.5,   2.875, -1.25, 2,    1.125,  -1.25,  2.875, 2.25,  -0.625, 0,     1.625};

double Ramp(int64_t k) { return static_cast<double>((k * 37) % 23 - 11) / 8.0; }

Tensor FromDoubles(const std::vector<double>& v, Shape s) {
  return Tensor::FromVector<float>(std::vector<float>(v.begin(), v.end()), std::move(s));
}

Tensor RealSignal(int64_t n) {
  std::vector<double> v;
  for (int64_t k = 0; k < n; ++k) v.push_back(Ramp(k));
  return FromDoubles(v, {1, n, 1});
}

// numpy.hanning(9)[:-1] as float32, as the generator used it.
const std::vector<double> kHann8 = {0, 0.146446609, 0.5, 0.853553391,
                                    1, 0.853553391, 0.5, 0.146446609};

Tensor Int64(int64_t v) { return Tensor::FromVector<int64_t>({v}, {}); }

TEST(Stft, WindowedOnesidedFramesMatchNumpy) {
  auto out = OpTest("STFT")
                 .Input("signal", RealSignal(20))
                 .ConstInput("frame_step", Int64(4))
                 .Input("window", FromDoubles(kHann8, {8}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kStftHann, {1, 4, 5, 2}), (*out)[0], 1e-5, 1e-5));
  // frame_length given too, and equal to the window's.
  out = OpTest("STFT")
            .Input("signal", RealSignal(20))
            .ConstInput("frame_step", Int64(4))
            .Input("window", FromDoubles(kHann8, {8}))
            .ConstInput("frame_length", Tensor::FromVector<int32_t>({8}, {}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kStftHann, {1, 4, 5, 2}), (*out)[0], 1e-5, 1e-5));
}

TEST(Stft, ComplexSignalTwoSidedWithoutWindow) {
  // Signal b holds ramp(10b + k) + i ramp(20 + 10b + k).
  std::vector<double> v;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t k = 0; k < 10; ++k) {
      v.push_back(Ramp(10 * b + k));
      v.push_back(Ramp(20 + 10 * b + k));
    }
  auto out = OpTest("STFT")
                 .Attr("onesided", int64_t{0})
                 .Input("signal", FromDoubles(v, {2, 10, 2}))
                 .ConstInput("frame_step", Int64(3))
                 .NoInput()
                 .ConstInput("frame_length", Int64(4))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // The frame left over at the end (samples 9..) is not whole: 3 frames, not 4.
  EXPECT_TRUE(TensorsNear(FromDoubles(kStftComplex, {2, 3, 4, 2}), (*out)[0]));
}

TEST(Stft, WithoutWindowOrLengthOneFrameIsTheWholeSignal) {
  auto stft = OpTest("STFT").Input("signal", RealSignal(12)).ConstInput("step", Int64(5)).Run();
  auto dft = OpTest("DFT").Attr("onesided", int64_t{1}).Input("x", RealSignal(12)).Run();
  ASSERT_TRUE(stft.ok() && dft.ok()) << stft.status().ToString();
  ASSERT_EQ((*stft)[0].shape(), (Shape{1, 1, 7, 2}));
  EXPECT_EQ(Values((*stft)[0]), Values((*dft)[0]));
}

void ExpectError(Result<std::vector<Tensor>> out, const std::string& words) {
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr(words));
}

TEST(Stft, RejectsBadInputs) {
  ExpectError(
      OpTest("STFT").Input("s", FromDoubles({1, 2}, {2, 1})).ConstInput("t", Int64(1)).Run(),
      "[batch, length, 1]");
  ExpectError(OpTest("STFT").Input("s", RealSignal(8)).ConstInput("t", Int64(0)).Run(),
              "frame_step must be positive");
  ExpectError(OpTest("STFT")
                  .Input("s", RealSignal(8))
                  .ConstInput("t", Int64(2))
                  .Input("w", FromDoubles({1, 1, 1}, {3}))
                  .ConstInput("n", Int64(4))
                  .Run(),
              "window has 3 samples and frame_length is 4");
  ExpectError(OpTest("STFT")
                  .Input("s", RealSignal(8))
                  .ConstInput("t", Int64(2))
                  .NoInput()
                  .ConstInput("n", Int64(9))
                  .Run(),
              "longer than the signal");
  ExpectError(OpTest("STFT")
                  .Input("s", FromDoubles({1, 0, 2, 0, 3, 0}, {1, 3, 2}))
                  .ConstInput("t", Int64(1))
                  .Run(),
              "needs a real signal");
  ExpectError(OpTest("STFT")
                  .Input("s", RealSignal(8))
                  .ConstInput("t", Int64(2))
                  .Input("w", Tensor::FromVector<double>({1, 1}, {2}))
                  .Run(),
              "one type");
}

}  // namespace
}  // namespace supernova::testing

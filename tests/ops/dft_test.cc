// DFT against numpy.fft (literals printed by tests/ops/signal_reference.py with NumPy 1.24),
// against a direct long-double sum for long and float64 transforms, and its errors.
#include <gmock/gmock.h>

#include <cmath>
#include <complex>
#include <vector>

#include "ops/fft.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

// numpy.fft of the inputs below, interleaved (re, im).
const std::vector<double> kFft16 = {
    -1.75, 0,      -1.39978513, 0.770901346, -1.657932, -0.0632620818, -5.15615366, -1.66144203,
    0.375, -0.375, 0.156153656, -1.35078186, 2.407932,  -5.06326208,   -3.60021487, 2.58156152,
    -2.5,  0,      -3.60021487, -2.58156152, 2.407932,  5.06326208,    0.156153656, 1.35078186,
    0.375, 0.375,  -5.15615366, 1.66144203,  -1.657932, 0.0632620818,  -1.39978513, -0.770901346};
const std::vector<double> kRfft12 = {
    -1.625, 0, -0.822676964, 0.195272228, -1.875,      -1.73205081, 1,
    1.875,  1, 1.08253175,   -5.80232304, -1.32027223, -1.875,      0};
const std::vector<double> kFft67 = {
    -0.625,        0.625,        -0.399610613,  0.363788975,   0.157267819,   -0.130227513,
    -9.65259391,   7.25799441,   -0.972764013,  0.662424165,   0.290500434,   -0.178487646,
    -7.70629948,   4.25070152,   -1.2938891,    0.636504909,   0.92514957,    -0.402409771,
    -9.15271598,   3.48061079,   -1.95581489,   0.640556097,   3.37479144,    -0.932599762,
    -21.5189035,   4.87365041,   -11.7211469,   2.08249935,    -19.1322322,   2.48078885,
    14.1046002,    -1.15997913,  1.0027271,     -0.0352775301, -4.12702964,   -0.0483807459,
    3.53183714,    0.207244717,  0.118016713,   0.0124973119,  -2.64462724,   -0.406165561,
    1.39865678,    0.282473695,  -0.0526884543, -0.0132388024, -1.62158066,   -0.489307524,
    0.557876305,   0.197309071,  0.37646903,    0.153359672,   4.40723371,    2.04116665,
    -2.54670083,   -1.32783722,  -2.10958739,   -1.22898657,   -6.238726,     -4.03762678,
    -0.710462076,  -0.508584905, -1.18727823,   -0.937103565,  -5.1935558,    -4.50994085,
    -1.04900095,   -1.00093203,  -1.12954173,   -1.18378702,   -6.09372486,   -7.01740914,
    -1.69821722,   -2.15158325,  -1.30315552,   -1.82042874,   -11.0176421,   -17.0238742,
    -5.04981513,   -8.66813889,  -8.46497472,   -16.2352417,   22.6115453,    48.8222579,
    2.53079268,    6.21261803,   -0.157909988,  -0.44647841,   3.28500987,    10.8866269,
    0.585309708,   2.32944513,   -0.330608176,  -1.63699266,   1.02179594,    6.65312287,
    0.133008186,   1.25604523,   -0.184040554,  -3.13639485,   0.0655358068,  5.59041023,
    -0.0119467147, 0.339572939,  0.734272746,   -8.92828438,   -1.59259877,   12.2823711,
    -1.16206518,   6.54057194,   -1.97142644,   8.70455037,    -0.0643076827, 0.232709707,
    -0.449512582,  1.37250025,   -0.610266359,  1.60477428,    -0.478361065,  1.09976339,
    -0.444149673,  0.902868793,  0.368022627,   -0.66720577,   -0.728193754,  1.18518343,
    -0.465660449,  0.68381824,   3.15396548,    -4.19454002,   -1.0489685,    1.26677524,
    -0.790089573,  0.867888254};
const std::vector<double> kIfft10Cut8 = {
    -0.28125, -0.03125, -0.28726213, -0.0252378701, 0,       -0.3125, -0.59976213,   0.28726213,
    -0.15625, -0.15625, 0.28726213,  -0.59976213,   -0.3125, 0,       -0.0252378701, -0.28726213};
const std::vector<double> kFft5Pad8 = {
    -0.875, 0, -1.69194174,  -0.222271824, -0.75, 0.625,  -0.808058262, -1.72227182,
    -3.625, 0, -0.808058262, 1.72227182,   -0.75, -0.625, -1.69194174,  0.222271824};
const std::vector<double> kFftAxis2 = {
    -0.75,  0, -0.625, 0.625,  -3.5,   0, -0.625, -0.625, -1.5,   0, -0.625, 0.625,
    2.25,   0, -0.625, -0.625, 0.625,  0, 2.25,   0.625,  -0.625, 0, 2.25,   -0.625,
    -0.125, 0, -0.625, -2.25,  -0.625, 0, -0.625, 2.25,   2,      0, -0.625, 0.625,
    2.25,   0, -0.625, -0.625, -1.625, 0, -0.625, -2.25,  -0.625, 0, -0.625, 2.25};
const std::vector<double> kFftAxis1 = {
    -0.375,  0,           -0.875, 0,           -1.375,  0,           1,       0,
    -1.875,  1.08253175,  1,      1.08253175,  -0.4375, -1.40729128, 1,       1.08253175,
    -1.875,  -1.08253175, 1,      -1.08253175, -0.4375, 1.40729128,  1,       -1.08253175,
    -0.625,  0,           1.75,   0,           1.25,    0,           -2.125,  0,
    -0.4375, -1.40729128, 1,      1.08253175,  -0.4375, -1.40729128, -0.4375, -1.40729128,
    -0.4375, 1.40729128,  1,      -1.08253175, -0.4375, 1.40729128,  -0.4375, 1.40729128};

// The generator's ramp: exact in float32.
double Ramp(int64_t k) { return static_cast<double>((k * 37) % 23 - 11) / 8.0; }

// [1, n, 1] real, or [1, n, 2] complex with the imaginary parts the ramp from n on.
Tensor Signal(int64_t n, bool complex) {
  std::vector<float> v;
  for (int64_t k = 0; k < n; ++k) {
    v.push_back(static_cast<float>(Ramp(k)));
    if (complex) v.push_back(static_cast<float>(Ramp(n + k)));
  }
  return Tensor::FromVector<float>(v, {1, n, complex ? 2 : 1});
}

Tensor FromDoubles(const std::vector<double>& v, Shape s) {
  return Tensor::FromVector<float>(std::vector<float>(v.begin(), v.end()), std::move(s));
}

Tensor Int64(int64_t v) { return Tensor::FromVector<int64_t>({v}, {}); }

TEST(Dft, PowerOfTwoMatchesNumpy) {
  auto out = OpTest("DFT").Input("x", Signal(16, false)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kFft16, {1, 16, 2}), (*out)[0]));
}

TEST(Dft, OnesidedShortLengthMatchesRfft) {
  auto out = OpTest("DFT").Attr("onesided", int64_t{1}).Input("x", Signal(12, false)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kRfft12, {1, 7, 2}), (*out)[0]));
}

TEST(Dft, PrimeLengthComplexMatchesNumpy) {
  // 67 is prime and past FftPlan::kDirectBelow: Bluestein's algorithm.
  auto out = OpTest("DFT").Input("x", Signal(67, true)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kFft67, {1, 67, 2}), (*out)[0], 1e-5, 1e-5));
}

TEST(Dft, InverseOfTheFirstDftLengthValues) {
  auto out = OpTest("DFT")
                 .Attr("inverse", int64_t{1})
                 .Input("x", Signal(10, true))
                 .ConstInput("dft_length", Int64(8))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kIfft10Cut8, {1, 8, 2}), (*out)[0]));
}

TEST(Dft, ZeroPadsToDftLength) {
  auto out = OpTest("DFT")
                 .Input("x", Signal(5, false))
                 .Input("dft_length", Tensor::FromVector<int32_t>({8}, {1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kFft5Pad8, {1, 8, 2}), (*out)[0]));
}

TEST(Dft, AxisAttributeAtOpset17AndInputAtOpset20) {
  std::vector<float> v;
  for (int64_t k = 0; k < 24; ++k) v.push_back(static_cast<float>(Ramp(k)));
  const Tensor x = Tensor::FromVector<float>(v, {2, 3, 4, 1});
  auto out = OpTest("DFT", 17).Attr("axis", int64_t{2}).Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kFftAxis2, {2, 3, 4, 2}), (*out)[0]));
  // Opset 20: the axis is input 2, and -3 counts from the back (the last dim is no axis).
  out = OpTest("DFT", 20).Input("x", x).NoInput().ConstInput("axis", Int64(-3)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kFftAxis1, {2, 3, 4, 2}), (*out)[0]));
  // Its default is -2, the last signal axis.
  out = OpTest("DFT", 20).Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(FromDoubles(kFftAxis2, {2, 3, 4, 2}), (*out)[0]));
}

// The DFT by its definition, in long double, over a table of the n roots of unity.
std::vector<std::complex<long double>> Naive(const std::vector<std::complex<long double>>& x,
                                             bool inverse) {
  const size_t n = x.size();
  const long double pi = 3.141592653589793238462643383279502884L;
  std::vector<std::complex<long double>> roots(n), y(n);
  for (size_t k = 0; k < n; ++k) {
    const long double a = (inverse ? 2 : -2) * pi * static_cast<long double>(k) / n;
    roots[k] = {std::cos(a), std::sin(a)};
  }
  for (size_t k = 0; k < n; ++k) {
    for (size_t j = 0; j < n; ++j) y[k] += x[j] * roots[(k * j) % n];
    if (inverse) y[k] /= static_cast<long double>(n);
  }
  return y;
}

// Each method of the plan, in float64, to a precision float32 could not show.
TEST(Dft, Float64EveryMethodToRoundingError) {
  for (int64_t n : {1, 2, 7, 40, 60, 256, 1000, 1031}) {
    for (bool inverse : {false, true}) {
      std::vector<double> v;
      std::vector<std::complex<long double>> x;
      for (int64_t k = 0; k < n; ++k) {
        const double re = std::sin(0.37 * static_cast<double>(k)) + Ramp(k);
        const double im = std::cos(1.3 * static_cast<double>(k * k % 101));
        v.push_back(re);
        v.push_back(im);
        x.emplace_back(re, im);
      }
      auto out = OpTest("DFT")
                     .Attr("inverse", int64_t{inverse})
                     .Input("x", Tensor::FromVector<double>(v, {1, n, 2}))
                     .Run();
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      const auto y = Naive(x, inverse);
      std::vector<double> expected;
      for (const auto& c : y) {
        expected.push_back(static_cast<double>(c.real()));
        expected.push_back(static_cast<double>(c.imag()));
      }
      EXPECT_TRUE(
          TensorsNear(Tensor::FromVector<double>(expected, {1, n, 2}), (*out)[0], 1e-10, 1e-10))
          << "n " << n << " inverse " << inverse;
    }
  }
}

TEST(Dft, PlanPicksTheMethodByLength) {
  EXPECT_EQ(ops::FftPlan(1024).method(), ops::FftPlan::Method::kRadix2);
  EXPECT_EQ(ops::FftPlan(10).method(), ops::FftPlan::Method::kDirect);
  EXPECT_EQ(ops::FftPlan(1000).method(), ops::FftPlan::Method::kBluestein);
}

TEST(Dft, HalfTypesComputeInDouble) {
  std::vector<Float16> v;
  for (int64_t k = 0; k < 16; ++k) v.push_back(Float16::FromFloat(static_cast<float>(Ramp(k))));
  auto out = OpTest("DFT").Input("x", Tensor::FromVector<Float16>(v, {1, 16, 1})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kFloat16);
  // float16 keeps 11 significant bits.
  EXPECT_TRUE(TensorsNear(FromDoubles(kFft16, {1, 16, 2}),
                          FromDoubles(Values((*out)[0]), {1, 16, 2}), 1e-3, 2e-3));
}

TEST(Dft, MultiThreadedBatchMatchesOneThread) {
  std::vector<float> v;
  for (int64_t k = 0; k < 64 * 48 * 2; ++k) v.push_back(static_cast<float>(Ramp(k)));
  const Tensor x = Tensor::FromVector<float>(v, {64, 48, 2});
  auto one = OpTest("DFT").Input("x", x).Run(1);
  auto four = OpTest("DFT").Input("x", x).Run(4);
  ASSERT_TRUE(one.ok() && four.ok());
  EXPECT_TRUE(TensorsNear((*one)[0], (*four)[0], 0, 0));
}

void ExpectError(Result<std::vector<Tensor>> out, const std::string& words) {
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr(words));
}

TEST(Dft, RejectsBadInputs) {
  // The last dim must be 1 or 2.
  ExpectError(OpTest("DFT").Input("x", FromDoubles({1, 2, 3}, {1, 1, 3})).Run(), "[..., 1]");
  // The last dim holds the parts and is no axis.
  ExpectError(OpTest("DFT").Attr("axis", int64_t{2}).Input("x", Signal(4, false)).Run(),
              "not a signal axis");
  ExpectError(OpTest("DFT").Input("x", Signal(4, false)).ConstInput("n", Int64(0)).Run(),
              "dft_length must be positive");
  ExpectError(
      OpTest("DFT").Input("x", Signal(4, false)).ConstInput("n", Int64(int64_t{1} << 40)).Run(),
      "past the 2^30 supported");
  ExpectError(OpTest("DFT").Attr("onesided", int64_t{1}).Input("x", Signal(4, true)).Run(),
              "needs a real input");
  auto out = OpTest("DFT")
                 .Attr("onesided", int64_t{1})
                 .Attr("inverse", int64_t{1})
                 .Input("x", Signal(4, false))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  ExpectError(OpTest("DFT", 20)
                  .Input("x", Signal(4, false))
                  .NoInput()
                  .ConstInput("axis", Tensor::FromVector<int32_t>({1}, {}))
                  .Run(),
              "axis must be one int64");
  ExpectError(OpTest("DFT").Input("x", Tensor::FromVector<int32_t>({1, 2}, {1, 2, 1})).Run(),
              "int32");
}

}  // namespace
}  // namespace supernova::testing

// RNN, GRU and LSTM against references computed with NumPy (tests/ops/recurrent_reference.py:
// the spec's equations step by step in float64, outputs kept below as literals), activation
// functions against their formulas by hand, and the shape and attribute errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ops/shape_inference.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using Strings = std::vector<std::string>;

Tensor Lens(const std::vector<int32_t>& v) {
  return Tensor::FromVector<int32_t>(v, {static_cast<int64_t>(v.size())});
}

// clang-format off
// Rnn: RNN seq 3 batch 2 input 2 hidden 3 dirs 2 layout 1 {'lens': [3, 1], 'fns': [('Tanh', 0, 0), ('Relu', 0, 0)]}
const std::vector<float> kRnnX = {0.66, -0.28, 0.41, 0.72, 0.28, 0.1, 0.52, 0.43, -0.07, 0.14, 0.49, -0.87};  // [2, 3, 2]
const std::vector<float> kRnnW = {0.29, 0.47, -0.2, 0.01, -0.54, 0.3, 0.94, -0.4, -0.07, 0.78, 0.1, -0.16};  // [2, 3, 2]
const std::vector<float> kRnnR = {0.34, -0.94, -0.69, 0.74, -0.68, -0.94, 0.85, 0.51, 0.95, 0.52, 0.85, -0.31, 0.51, -0.67, 0.65, 0.46, -0.62, -0.63};  // [2, 3, 3]
const std::vector<float> kRnnB = {-0.66, 0.64, 0.33, -0.44, 0.31, 0.37, 0.38, 0.99, 0.69, -0.14, -0.91, -0.54};  // [2, 6]
const std::vector<float> kRnnH0 = {-0.85, 0.57, 0.59, -0.57, 0.9, -0.35, -0.07, 0.16, 1, 0.79, -0.71, 0.79};  // [2, 2, 3]
const std::vector<float> kRnnY = {-0.978966217, -0.638714835, 0.369893748, 2.22923539, 0, 0, -0.55831606, 0.233029897, -0.111402473, 0.878356, 1.143453, 0.554338, -0.862700217, 0.40373567, 0.116709963, 1.0403, 0, 0, -0.923351907, -0.245200646, 0.908749925, 0.1192, 1.7711, 0.4391, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // [2, 3, 2, 3]
const std::vector<float> kRnnYh = {-0.862700217, 0.40373567, 0.116709963, 2.22923539, 0, 0, -0.923351907, -0.245200646, 0.908749925, 0.1192, 1.7711, 0.4391};  // [2, 2, 3]

// GruLbr: GRU seq 3 batch 3 input 2 hidden 2 dirs 2 layout 1 {'lens': [2, 3, 0], 'fns': [('Sigmoid', 0, 0), ('Tanh', 0, 0), ('Sigmoid', 0, 0), ('Tanh', 0, 0)], 'lbr': 1}
const std::vector<float> kGruLbrX = {0.14, -0.07, -0.87, -0.54, -0.37, -0.01, -0.21, 0.44, 0.61, 0.54, -0.08, -0.22, -0.95, -0.29, 0.57, -0.3, -0.43, -0.67};  // [3, 3, 2]
const std::vector<float> kGruLbrW = {0.27, 0, -0.91, -0.52, -0.85, -0.69, -0.48, -0.85, 0.98, 0.27, -0.76, 0.05, -0.21, -0.61, -0.17, 0.13, -0.8, 0.91, -0.01, -0.85, 0.37, 0.9, -0.97, 0.36};  // [2, 6, 2]
const std::vector<float> kGruLbrR = {0.68, -0.11, -0.85, 0.51, -0.33, -0.39, 0.54, -0.99, -0.51, 0.81, -0.68, -0.86, -0.81, 0.04, -0.25, 0.03, 0.83, -0.52, 0.54, 0.16, 0.25, -0.94, -0.9, -0.7};  // [2, 6, 2]
const std::vector<float> kGruLbrB = {-0.12, -0.27, -0.4, 0.73, 0.13, -0.33, 0.22, 0.74, -0.61, -0.2, -0.58, 0.02, -0.74, -0.32, 0.99, 0.84, -0.97, -0.3, 0.63, 0.68, -0.37, 0.32, 0.53, -0.19};  // [2, 12]
const std::vector<float> kGruLbrH0 = {-0.77, 0.57, 0.47, 0.12, 0.56, 0.98, -0.56, -0.99, 0.25, -0.62, 0.73, 0.52};  // [3, 2, 2]
const std::vector<float> kGruLbrY = {-0.111477613, 0.366968621, -0.389330246, -0.193978757, -0.472603165, 0.335894608, -0.195688424, -0.035880537, 0, 0, 0, 0, 0.337372485, 0.383842002, 0.0014712187, -0.186821224, 0.470406228, -0.31241694, -0.078069255, -0.414138277, 0.158182056, -0.304473422, -0.478378481, -0.454476512, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // [3, 3, 2, 2]
const std::vector<float> kGruLbrYh = {-0.472603165, 0.335894608, -0.389330246, -0.193978757, 0.158182056, -0.304473422, 0.0014712187, -0.186821224, 0, 0, 0, 0};  // [3, 2, 2]

// Gru: GRU seq 4 batch 2 input 3 hidden 2 dirs 2 layout 0 {'lens': [4, 2], 'fns': [('Sigmoid', 0, 0), ('Tanh', 0, 0), ('HardSigmoid', 0.3, 0.4), ('Tanh', 0, 0)]}
const std::vector<float> kGruX = {0.62, -0.96, -0.67, -0.47, 0.66, -0.78, 0.97, 0.57, -0.17, 0.25, 0.36, 0.57, -0.51, 0.76, 0.43, -0.8, -0.97, 0.28, 0.64, 0.34, 0.62, -0.99, 0.85, -0.26};  // [4, 2, 3]
const std::vector<float> kGruW = {-0.18, 0.58, 0.14, -0.12, -0.82, 0.82, 0.17, -0.95, 0.05, 0.34, -0.07, 0.21, -0.63, 1, -0.02, -0.9, -0.5, 0.7, 0.48, 0.12, -0.49, 0.46, 0.64, -0.77, -0.86, 0.52, 0.28, 0.5, -0.63, 0.8, -0.1, 0.54, -0.56, -0.25, -0.27, -0.18};  // [2, 6, 3]
const std::vector<float> kGruR = {0.74, 0.12, 0.6, 0.26, 0.55, -0.03, -0.94, 0.03, -0.76, -0.97, 0.69, 0.11, 0.12, 0.14, -0.1, -0.5, -0.08, 0.02, 0.42, -0.17, -0.49, 0.27, 0.39, -0.63};  // [2, 6, 2]
const std::vector<float> kGruB = {0.83, 0.57, -0.43, 0.73, 0.43, -0.51, -0.59, 0.95, 0.73, -0.84, -0.69, 0.89, 0.34, 0.23, -0.88, 0.44, 0.08, 0.36, 0.52, 0.3, 0.31, 0.85, 0.46, -0.1};  // [2, 12]
const std::vector<float> kGruH0 = {0.7, 0.46, 0.2, -0.28, -0.27, 0.88, 0.32, 0.29};  // [2, 2, 2]
const std::vector<float> kGruY = {-0.116516151, 0.43955895, 0.341118584, -0.180501486, 0.333528184, 0.195404549, 0.480593656, 0.130652605, -0.259829549, 0.0903563917, 0.184438841, -0.0913295631, 0.334016771, 0.0370322826, 0.347453586, 0.0672860741, 0.0637428879, 0.211757916, 0, 0, 0.273504115, 0.0749786479, 0, 0, -0.128734106, 0.195991939, 0, 0, -0.038263884, 0.0883093645, 0, 0};  // [4, 2, 2, 2]
const std::vector<float> kGruYh = {-0.128734106, 0.195991939, 0.184438841, -0.0913295631, 0.333528184, 0.195404549, 0.480593656, 0.130652605};  // [2, 2, 2]

// Lstm: LSTM seq 3 batch 2 input 2 hidden 2 dirs 2 layout 1 {'lens': [1, 3], 'fns': [('Sigmoid', 0, 0), ('Tanh', 0, 0), ('Tanh', 0, 0), ('Sigmoid', 0, 0), ('Tanh', 0, 0), ('Tanh', 0, 0)]}
const std::vector<float> kLstmX = {-0.67, -0.77, 0.05, -0.2, 0.57, 0.35, 0.59, -0.21, 0.99, 0.25, -0.34, 0.76};  // [2, 3, 2]
const std::vector<float> kLstmW = {0.38, 0.87, -0.39, 0.84, -0.22, -0.82, -0.95, -0.07, 0.22, -0.49, -0.73, -0.62, -0.63, -0.9, -0.7, -0.74, -0.19, 0.16, 0.22, -0.29, -0.33, -0.48, 0.67, 0.65, -0.09, 0.14, -0.39, 0.21, 0.79, 0.86, 0.2, -0.41};  // [2, 8, 2]
const std::vector<float> kLstmR = {0.56, -0.53, -0.51, -0.26, 0.09, 0.05, 0.03, 0.14, -0.97, 0.76, 0.94, -0.99, -0.58, -0.08, 0.65, -0.7, 0.06, -0.03, 0.52, 0.03, -0.3, -0.23, 0.48, -0.17, 0.82, 0.27, -0.39, -0.02, -0.84, 0.65, 0.66, -0.36};  // [2, 8, 2]
const std::vector<float> kLstmB = {-0.36, -0.29, -0.14, 0.53, 0.23, 0.74, 0.06, 0.55, 0.52, -0.58, -0.73, -0.51, -0.14, -0.95, -0.72, 0.26, -0.22, 0.02, 0.11, -0.03, -0.74, 0.86, 0.85, -0.53, -0.13, 0.12, 0.42, 0.16, 0.57, 0.41, -0.63, -0.44};  // [2, 16]
const std::vector<float> kLstmH0 = {-0.01, -0.33, -0.21, -0.33, 0.88, -0.44, 0.14, -0.21};  // [2, 2, 2]
const std::vector<float> kLstmC0 = {-0.61, 0.23, -0.85, 0.52, -0.32, 0.37, -0.83, -0.37};  // [2, 2, 2]
const std::vector<float> kLstmP = {0.67, -0.65, 0.5, -0.15, 0.49, -0.63, 0.79, -0.23, -0.67, 0.8, 0.28, -0.15};  // [2, 6]
const std::vector<float> kLstmY = {-0.067770566, 0.229281502, -0.371354606, 0.0263673691, 0, 0, 0, 0, 0, 0, 0, 0, -0.145064947, 0.11906915, 0.086327956, -0.324900362, -0.103814109, 0.00190706017, 0.0877839691, -0.401617897, -0.0869679212, 0.108391844, -0.160637346, -0.29649028};  // [2, 3, 2, 2]
const std::vector<float> kLstmYh = {-0.067770566, 0.229281502, -0.371354606, 0.0263673691, -0.0869679212, 0.108391844, 0.086327956, -0.324900362};  // [2, 2, 2]
const std::vector<float> kLstmYc = {-0.150335352, 0.37008129, -0.481772473, 0.0850237923, -0.692375754, 0.194573225, 0.144909841, -1.04685145};  // [2, 2, 2]

// LstmForget: LSTM seq 3 batch 2 input 2 hidden 3 dirs 1 layout 0 {'direction': 'reverse', 'lens': [3, 2], 'fns': [('Sigmoid', 0, 0), ('ScaledTanh', 0.8, 1.5), ('Elu', 0.7, 0)], 'clip': 0.9, 'input_forget': 1}
const std::vector<float> kLstmForgetX = {0.92, -0.74, -0.04, 0.33, 0.26, 0.91, -0.67, 0.4, -0.73, -0.51, 0.72, -0.54};  // [3, 2, 2]
const std::vector<float> kLstmForgetW = {-0.67, -0.99, -0.01, 0.64, -0.57, -0.96, -0.41, -0.61, -0.92, -0.94, -0.04, -0.21, -0.6, 0.4, 0.66, 0.16, -0.85, 0.79, 0.49, -0.27, 0.41, -0.49, -0.68, 0.81};  // [1, 12, 2]
const std::vector<float> kLstmForgetR = {0.75, -0.35, 0.51, -0.82, -0.35, 0.51, -0.59, -0.93, 0.29, 0.74, 0.31, 1, -0.69, -0.43, 0.36, -0.29, 0.6, -0.43, 0.71, -0.48, -0.03, -0.14, 0.69, 0.37, -0.31, 0.43, -0.9, 0.32, 0.81, 0.48, 0.45, -0.78, -0.47, 0.92, -0.77, -0.48};  // [1, 12, 3]
const std::vector<float> kLstmForgetB = {0.44, -0.16, 0.91, 0.48, 0.6, -0.23, 0.85, 0.67, 0.59, 0.91, 0.76, -0.23, 0.68, 0.11, -0.85, -0.65, 0.53, 0.32, -0.99, -0.21, 0.79, 0.45, -0.29, 0.81};  // [1, 24]
const std::vector<float> kLstmForgetH0 = {0, 0.82, 0.04, -0.88, -0.26, 0.49};  // [1, 2, 3]
const std::vector<float> kLstmForgetC0 = {-0.25, 0.47, -0.56, 0.76, 0.15, -0.42};  // [1, 2, 3]
const std::vector<float> kLstmForgetP = {0.34, 0.97, 0.21, -0.91, -0.94, -0.17, -0.97, 0.92, -0.39};  // [1, 9]
const std::vector<float> kLstmForgetY = {0.244537362, 0.240474305, -0.0947632503, 0.218117131, 0.0374219163, 0.200761765, 0.168138465, 0.0817589658, 0.00880631954, 0.188707863, -0.120218523, 0.11380187, 0.249023685, 0.0934360878, -0.108098405, 0, 0, 0};  // [3, 1, 2, 3]
const std::vector<float> kLstmForgetYh = {0.244537362, 0.240474305, -0.0947632503, 0.218117131, 0.0374219163, 0.200761765};  // [1, 2, 3]
const std::vector<float> kLstmForgetYc = {0.665264666, 0.391848071, -0.275235953, 0.685834063, 0.0547912478, 0.45359267};  // [1, 2, 3]

// clang-format on

constexpr double kRtol = 1e-5, kAtol = 1e-5;

// A case's inputs in the ops' order: X, W, R, B, sequence_lens, initial_h, then LSTM's
// initial_c and P. `as` converts the float literals to the dtype under test.
using Convert = Tensor (*)(const std::vector<float>&, Shape);
std::vector<Tensor> RnnInputs(Convert as = Floats) {
  return {as(kRnnX, {2, 3, 2}), as(kRnnW, {2, 3, 2}), as(kRnnR, {2, 3, 3}),
          as(kRnnB, {2, 6}),    Lens({3, 1}),         as(kRnnH0, {2, 2, 3})};
}
std::vector<Tensor> LstmInputs() {
  return {Floats(kLstmX, {2, 3, 2}),
          Floats(kLstmW, {2, 8, 2}),
          Floats(kLstmR, {2, 8, 2}),
          Floats(kLstmB, {2, 16}),
          Lens({1, 3}),
          Floats(kLstmH0, {2, 2, 2}),
          Floats(kLstmC0, {2, 2, 2}),
          Floats(kLstmP, {2, 6})};
}

OpTest& Feed(OpTest& t, const std::vector<Tensor>& inputs) {
  static const char* const kNames[] = {"x", "w", "r", "b", "lens", "h0", "c0", "p"};
  for (size_t i = 0; i < inputs.size(); ++i) t.Input(kNames[i], inputs[i]);
  return t;
}

void BidirectionalBatchFirstRnn(OpTest& t) {
  t.Attr("hidden_size", int64_t{3})
      .Attr("direction", std::string("bidirectional"))
      .Attr("layout", int64_t{1})
      .Attr("activations", Strings{"Tanh", "Relu"})
      .Outputs(2);
}

TEST(RNN, BidirectionalBatchFirstWithSequenceLens) {
  OpTest t("RNN", 14);
  BidirectionalBatchFirstRnn(t);
  auto out = Feed(t, RnnInputs()).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(kRnnY, {2, 3, 2, 3}), (*out)[0], kRtol, kAtol));
  EXPECT_TRUE(TensorsNear(Floats(kRnnYh, {2, 2, 3}), (*out)[1], kRtol, kAtol));
}

Tensor AsDouble(const std::vector<float>& v, Shape s) {
  return Tensor::FromVector<double>(std::vector<double>(v.begin(), v.end()), s);
}
Tensor AsHalf(const std::vector<float>& v, Shape s) {
  std::vector<Float16> h;
  for (float x : v) h.push_back(Float16::FromFloat(x));
  return Tensor::FromVector<Float16>(h, s);
}

TEST(RNN, DoubleAndFloat16) {
  OpTest d("RNN", 14);
  BidirectionalBatchFirstRnn(d);
  auto out = Feed(d, RnnInputs(AsDouble)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kFloat64);
  for (size_t i = 0; i < kRnnY.size(); ++i)
    EXPECT_NEAR((*out)[0].data<double>()[i], kRnnY[i], 1e-6) << i;
  OpTest h("RNN", 14);
  BidirectionalBatchFirstRnn(h);
  out = Feed(h, RnnInputs(AsHalf)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[1].dtype(), DataType::kFloat16);
  for (size_t i = 0; i < kRnnYh.size(); ++i)
    EXPECT_NEAR((*out)[1].data<Float16>()[i].ToFloat(), kRnnYh[i], 1e-2) << i;
}

// With W = I, R = 0 and no bias, Y = f(X): each activation against its formula.
TEST(RNN, ActivationFunctionsWithAlphaAndBeta) {
  const std::vector<float> x = {-2.0f, -0.5f, 0.0f, 0.3f, 1.2f, 3.0f};
  struct Case {
    std::string name;
    std::vector<float> alpha, beta;
    double (*f)(double);
  };
  const Case cases[] = {
      {"Relu", {}, {}, [](double v) { return v > 0 ? v : 0.0; }},
      {"Tanh", {}, {}, [](double v) { return std::tanh(v); }},
      {"Sigmoid", {}, {}, [](double v) { return 1 / (1 + std::exp(-v)); }},
      {"Affine", {0.5f}, {-1.0f}, [](double v) { return 0.5 * v - 1; }},
      {"Affine", {}, {}, [](double v) { return v; }},  // defaults alpha 1, beta 0
      {"LeakyRelu", {0.2f}, {}, [](double v) { return v >= 0 ? v : 0.2 * v; }},
      {"LeakyRelu", {}, {}, [](double v) { return v >= 0 ? v : 0.01 * v; }},
      {"ThresholdedRelu", {0.25f}, {}, [](double v) { return v > 0.25 ? v : 0.0; }},
      {"ScaledTanh", {2.0f}, {0.5f}, [](double v) { return 2 * std::tanh(0.5 * v); }},
      {"HardSigmoid", {0.3f}, {0.4f}, [](double v) { return std::clamp(0.3 * v + 0.4, 0.0, 1.0); }},
      {"HardSigmoid", {}, {}, [](double v) { return std::clamp(0.2 * v + 0.5, 0.0, 1.0); }},
      {"Elu", {0.7f}, {}, [](double v) { return v >= 0 ? v : 0.7 * (std::exp(v) - 1); }},
      {"Softsign", {}, {}, [](double v) { return v / (1 + std::fabs(v)); }},
      {"Softplus", {}, {}, [](double v) { return std::log1p(std::exp(v)); }},
  };
  for (const Case& c : cases) {
    OpTest t("RNN", 14);
    t.Attr("activations", Strings{c.name});
    if (!c.alpha.empty()) t.Attr("activation_alpha", c.alpha);
    if (!c.beta.empty()) t.Attr("activation_beta", c.beta);
    auto out =
        Feed(t, {Floats(x, {6, 1, 1}), Floats({1}, {1, 1, 1}), Floats({0}, {1, 1, 1})}).Run();
    ASSERT_TRUE(out.ok()) << c.name << ": " << out.status().ToString();
    std::vector<float> want;
    for (float v : x) want.push_back(static_cast<float>(c.f(v)));
    EXPECT_TRUE(TensorsNear(Floats(want, {6, 1, 1, 1}), (*out)[0], 1e-5, 1e-6)) << c.name;
  }
}

// activation_alpha / activation_beta are consumed in order by the functions that take them;
// clip bounds every activation's input.
TEST(RNN, ParametersAreConsumedInOrderAndClipBoundsInputs) {
  OpTest t("RNN", 14);
  t.Attr("direction", std::string("bidirectional"))
      .Attr("activations", Strings{"LeakyRelu", "HardSigmoid"})
      .Attr("activation_alpha", std::vector<float>{0.1f, 0.3f})
      .Attr("activation_beta", std::vector<float>{0.6f})
      .Attr("clip", 1.5f);
  auto out = Feed(t, {Floats({-2.0f, 0.5f, 3.0f}, {3, 1, 1}), Floats({1, 1}, {2, 1, 1}),
                      Floats({0, 0}, {2, 1, 1})})
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // [t][dir]: LeakyRelu(0.1) forward, HardSigmoid(0.3, 0.6) reverse, inputs clipped to 1.5.
  EXPECT_TRUE(
      TensorsNear(Floats({-0.15f, 0.15f, 0.5f, 0.75f, 1.5f, 1.0f}, {3, 2, 1, 1}), (*out)[0]));
}

TEST(GRU, LinearBeforeResetBidirectionalBatchFirstWithEmptySequence) {
  OpTest t("GRU", 14);
  t.Attr("hidden_size", int64_t{2})
      .Attr("direction", std::string("bidirectional"))
      .Attr("layout", int64_t{1})
      .Attr("linear_before_reset", int64_t{1})
      .Outputs(2);
  auto out = Feed(t, {Floats(kGruLbrX, {3, 3, 2}), Floats(kGruLbrW, {2, 6, 2}),
                      Floats(kGruLbrR, {2, 6, 2}), Floats(kGruLbrB, {2, 12}), Lens({2, 3, 0}),
                      Floats(kGruLbrH0, {3, 2, 2})})
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(kGruLbrY, {3, 3, 2, 2}), (*out)[0], kRtol, kAtol));
  EXPECT_TRUE(TensorsNear(Floats(kGruLbrYh, {3, 2, 2}), (*out)[1], kRtol, kAtol));
}

TEST(GRU, ResetBeforeLinearBidirectionalWithSequenceLens) {
  OpTest t("GRU", 14);
  t.Attr("direction", std::string("bidirectional"))
      .Attr("activations", Strings{"Sigmoid", "Tanh", "HardSigmoid", "Tanh"})
      .Attr("activation_alpha", std::vector<float>{0.3f})
      .Attr("activation_beta", std::vector<float>{0.4f})
      .Outputs(2);
  auto out = Feed(t, {Floats(kGruX, {4, 2, 3}), Floats(kGruW, {2, 6, 3}), Floats(kGruR, {2, 6, 2}),
                      Floats(kGruB, {2, 12}), Lens({4, 2}), Floats(kGruH0, {2, 2, 2})})
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(kGruY, {4, 2, 2, 2}), (*out)[0], kRtol, kAtol));
  EXPECT_TRUE(TensorsNear(Floats(kGruYh, {2, 2, 2}), (*out)[1], kRtol, kAtol));
}

TEST(LSTM, PeepholesBidirectionalBatchFirstWithSequenceLens) {
  OpTest t("LSTM", 14);
  t.Attr("hidden_size", int64_t{2})
      .Attr("direction", std::string("bidirectional"))
      .Attr("layout", int64_t{1})
      .Outputs(3);
  auto out = Feed(t, LstmInputs()).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(kLstmY, {2, 3, 2, 2}), (*out)[0], kRtol, kAtol));
  EXPECT_TRUE(TensorsNear(Floats(kLstmYh, {2, 2, 2}), (*out)[1], kRtol, kAtol));
  EXPECT_TRUE(TensorsNear(Floats(kLstmYc, {2, 2, 2}), (*out)[2], kRtol, kAtol));
}

TEST(LSTM, OnlyTheCellStateWanted) {
  OpTest t("LSTM", 14);
  t.Attr("direction", std::string("bidirectional"))
      .Attr("layout", int64_t{1})
      .Outputs(3)
      .OmitOutput(0)
      .OmitOutput(1);
  auto out = Feed(t, LstmInputs()).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_TRUE(TensorsNear(Floats(kLstmYc, {2, 2, 2}), (*out)[0], kRtol, kAtol));
}

TEST(LSTM, ReverseInputForgetClipAndParametrisedActivations) {
  OpTest t("LSTM", 14);
  t.Attr("direction", std::string("reverse"))
      .Attr("input_forget", int64_t{1})
      .Attr("clip", 0.9f)
      .Attr("activations", Strings{"Sigmoid", "ScaledTanh", "Elu"})
      .Attr("activation_alpha", std::vector<float>{0.8f, 0.7f})
      .Attr("activation_beta", std::vector<float>{1.5f})
      .Outputs(3);
  auto out = Feed(t, {Floats(kLstmForgetX, {3, 2, 2}), Floats(kLstmForgetW, {1, 12, 2}),
                      Floats(kLstmForgetR, {1, 12, 3}), Floats(kLstmForgetB, {1, 24}), Lens({3, 2}),
                      Floats(kLstmForgetH0, {1, 2, 3}), Floats(kLstmForgetC0, {1, 2, 3}),
                      Floats(kLstmForgetP, {1, 9})})
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(kLstmForgetY, {3, 1, 2, 3}), (*out)[0], kRtol, kAtol));
  EXPECT_TRUE(TensorsNear(Floats(kLstmForgetYh, {1, 2, 3}), (*out)[1], kRtol, kAtol));
  EXPECT_TRUE(TensorsNear(Floats(kLstmForgetYc, {1, 2, 3}), (*out)[2], kRtol, kAtol));
}

// Large enough that the gate loops and the GEMMs run on several threads: the same results.
TEST(LSTM, ThreadsAgree) {
  const int64_t seq = 3, batch = 64, input = 16, hid = 128;
  auto ramp = [](int64_t n, float scale) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = scale * std::sin(0.37f * i);
    return v;
  };
  auto run = [&](int threads) {
    OpTest t("LSTM", 14);
    t.Attr("direction", std::string("bidirectional")).Outputs(3);
    return Feed(t, {Floats(ramp(seq * batch * input, 1.0f), {seq, batch, input}),
                    Floats(ramp(2 * 4 * hid * input, 0.3f), {2, 4 * hid, input}),
                    Floats(ramp(2 * 4 * hid * hid, 0.1f), {2, 4 * hid, hid})})
        .Run(threads);
  };
  auto one = run(1), four = run(4);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_TRUE(four.ok()) << four.status().ToString();
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(TensorsNear((*one)[i], (*four)[i], 1e-5, 1e-6));
}

TEST(Recurrent, ShapeInferenceOfY) {
  ir::Graph g;
  g.opsets[""] = 14;
  g.inputs = {"x"};
  ir::ValueType x;
  x.dtype = DataType::kFloat32;
  x.dims = std::vector<ir::Dim>{ir::Dim::Symbol("N"), ir::Dim::Known(7), ir::Dim::Known(3)};
  g.value_types["x"] = x;
  g.initializers["w"] = Tensor(DataType::kFloat32, {2, 20, 3});
  g.initializers["r"] = Tensor(DataType::kFloat32, {2, 20, 5});
  ir::Node n;
  n.op_type = "LSTM";
  n.inputs = {"x", "w", "r"};
  n.outputs = {"y", "yh"};
  n.attributes["direction"].kind = ir::Attribute::Kind::kString;
  n.attributes["direction"].s = "bidirectional";
  n.attributes["layout"].kind = ir::Attribute::Kind::kInt;
  n.attributes["layout"].i = 1;
  g.nodes.push_back(n);
  ops::InferShapes(g);
  ASSERT_NE(g.TypeOf("y"), nullptr);
  EXPECT_EQ(g.TypeOf("y")->ToString(), "float32[N,7,2,5]");
}

// One well-formed LSTM (seq 2, batch 1, input 2, hidden 1), with one input or attribute
// changed per case.
struct BadCase {
  const char* what;
  Shape x = {2, 1, 2}, w = {1, 4, 2}, r = {1, 4, 1}, b = {1, 8}, lens = {1}, h0 = {1, 1, 1},
        c0 = {1, 1, 1}, p = {1, 3};
  int32_t len = 2;
  std::string attr;  // "name=value"
  const char* message;
};

Tensor Zeros(const Shape& s) {
  Tensor t(DataType::kFloat32, s);
  std::fill(t.data<float>(), t.data<float>() + t.numel(), 0.0f);
  return t;
}

TEST(Recurrent, BadShapesAndAttributesAreErrors) {
  std::vector<BadCase> cases(15);
  cases[0] = {.what = "X rank", .x = {2, 2}, .message = "X must be 3-D"};
  cases[1] = {.what = "W rows", .w = {1, 3, 2}, .message = "W must be [1,4,2]"};
  cases[2] = {.what = "W input", .w = {1, 4, 3}, .message = "W must be [1,4,2]"};
  cases[3] = {.what = "R", .r = {1, 4, 2}, .message = "R must be [1,8,2]"};
  cases[4] = {.what = "R rank", .r = {4, 1}, .message = "R must be 3-D"};
  cases[5] = {.what = "B", .b = {1, 4}, .message = "B must be [1,8]"};
  cases[6] = {.what = "lens shape", .lens = {2}, .message = "sequence_lens must be [1]"};
  cases[7] = {.what = "lens value", .len = 3, .message = "outside [0, 2]"};
  cases[8] = {.what = "initial_h", .h0 = {1, 2, 1}, .message = "initial_h must be [1,1,1]"};
  cases[9] = {.what = "initial_c", .c0 = {2, 1, 1}, .message = "initial_c must be [1,1,1]"};
  cases[10] = {.what = "P", .p = {1, 4}, .message = "P must be [1,3]"};
  cases[11] = {.what = "hidden_size", .attr = "hidden_size=2", .message = "hidden_size 2"};
  cases[12] = {.what = "direction", .attr = "direction=up", .message = "direction 'up'"};
  cases[13] = {.what = "layout", .attr = "layout=2", .message = "layout must be 0 or 1"};
  cases[14] = {.what = "clip", .attr = "clip=0", .message = "clip must be positive"};
  for (const BadCase& c : cases) {
    OpTest t("LSTM", 14);
    const std::string key = c.attr.substr(0, c.attr.find('='));
    const std::string value = c.attr.empty() ? "" : c.attr.substr(key.size() + 1);
    if (key == "direction")
      t.Attr(key, value);
    else if (key == "clip")
      t.Attr(key, std::stof(value));
    else if (!key.empty())
      t.Attr(key, static_cast<int64_t>(std::stoll(value)));
    const std::vector<int32_t> lens(static_cast<size_t>(c.lens[0]), c.len);
    auto out =
        Feed(t, {Zeros(c.x), Zeros(c.w), Zeros(c.r), Zeros(c.b),
                 Tensor::FromVector<int32_t>(lens, c.lens), Zeros(c.h0), Zeros(c.c0), Zeros(c.p)})
            .Outputs(3)
            .Run();
    ASSERT_FALSE(out.ok()) << c.what;
    EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument) << c.what;
    EXPECT_NE(out.status().message().find(c.message), std::string::npos)
        << c.what << ": " << out.status().message();
  }
}

TEST(Recurrent, BadActivationsAreErrors) {
  auto run = [](const Strings& fns) {
    OpTest t("GRU", 14);
    t.Attr("activations", fns);
    return Feed(t, {Zeros({1, 1, 1}), Zeros({1, 3, 1}), Zeros({1, 3, 1})}).Run();
  };
  auto out = run({"Sigmoid", "Tanh", "Tanh"});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("activations names 3 functions, 2 expected"),
            std::string::npos)
      << out.status().message();
  out = run({"Sigmoid", "Gelu"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  EXPECT_NE(out.status().message().find("'Gelu'"), std::string::npos) << out.status().message();
  // Case does not matter, as exporters differ in it.
  EXPECT_TRUE(run({"sigmoid", "TANH"}).ok());
}

TEST(Recurrent, MixedDtypesAreAnError) {
  OpTest t("RNN", 14);
  auto out =
      Feed(t, {Zeros({1, 1, 1}), Tensor::FromVector<double>({1}, {1, 1, 1}), Zeros({1, 1, 1})})
          .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("W is float64, X is float32"), std::string::npos)
      << out.status().message();
}

}  // namespace
}  // namespace supernova::testing

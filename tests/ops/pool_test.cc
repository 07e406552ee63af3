#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using nn::PadFront;
using nn::RandomTensor;

struct PoolCase {
  Shape x;
  std::vector<int64_t> kernel, strides, dilations, pads;
  std::string auto_pad;
  bool ceil_mode = false;
  bool count_include_pad = false;
  int64_t storage_order = 0;
};

struct PoolRef {
  Tensor max, indices, avg;
};

// Visits every window tap, skipping taps outside the input, by the definitions in the spec.
PoolRef ReferencePool(const PoolCase& pc, const Tensor& x) {
  const size_t d = pc.x.size() - 2;
  const std::vector<int64_t> s = pc.strides.empty() ? std::vector<int64_t>(d, 1) : pc.strides;
  const std::vector<int64_t> dl = pc.dilations.empty() ? std::vector<int64_t>(d, 1) : pc.dilations;
  std::vector<int64_t> pb(d, 0), pe(d, 0), out(d);
  for (size_t i = 0; i < d; ++i) {
    const int64_t in = pc.x[i + 2], span = (pc.kernel[i] - 1) * dl[i] + 1;
    if (pc.auto_pad == "SAME_UPPER" || pc.auto_pad == "SAME_LOWER") {
      out[i] = (in + s[i] - 1) / s[i];
      const int64_t total = std::max<int64_t>(0, (out[i] - 1) * s[i] + span - in);
      pb[i] = pc.auto_pad == "SAME_LOWER" ? (total + 1) / 2 : total / 2;
      pe[i] = total - pb[i];
      continue;
    }
    if (!pc.pads.empty()) {
      pb[i] = pc.pads[i];
      pe[i] = pc.pads[i + d];
    }
    const double exact = static_cast<double>(in + pb[i] + pe[i] - span) / s[i];
    out[i] = static_cast<int64_t>(pc.ceil_mode ? std::ceil(exact) : std::floor(exact)) + 1;
    if (pc.ceil_mode && (out[i] - 1) * s[i] >= in + pb[i]) --out[i];
  }
  const Shape in3 = PadFront(Shape(pc.x.begin() + 2, pc.x.end()), 3);
  const Shape k3 = PadFront(pc.kernel, 3), o3 = PadFront(out, 3), s3 = PadFront(s, 3);
  const Shape d3 = PadFront(dl, 3), p3 = PadFront(pb, 3, 0), e3 = PadFront(pe, 3, 0);
  Shape ys = {pc.x[0], pc.x[1]};
  for (int64_t o : out) ys.push_back(o);
  PoolRef r{Tensor(DataType::kFloat32, ys), Tensor(DataType::kInt64, ys),
            Tensor(DataType::kFloat32, ys)};
  const int64_t planes = pc.x[0] * pc.x[1], in_plane = in3[0] * in3[1] * in3[2];
  int64_t yi = 0;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t o0 = 0; o0 < o3[0]; ++o0)
      for (int64_t o1 = 0; o1 < o3[1]; ++o1)
        for (int64_t o2 = 0; o2 < o3[2]; ++o2, ++yi) {
          float best = -std::numeric_limits<float>::infinity();
          int64_t best_i = -1;
          double sum = 0;
          int64_t valid = 0, padded = 0;
          for (int64_t k0 = 0; k0 < k3[0]; ++k0)
            for (int64_t k1 = 0; k1 < k3[1]; ++k1)
              for (int64_t k2 = 0; k2 < k3[2]; ++k2) {
                const int64_t i[3] = {o0 * s3[0] - p3[0] + k0 * d3[0],
                                      o1 * s3[1] - p3[1] + k1 * d3[1],
                                      o2 * s3[2] - p3[2] + k2 * d3[2]};
                bool inside = true, in_pad = true;
                for (int a = 0; a < 3; ++a) {
                  inside = inside && i[a] >= 0 && i[a] < in3[a];
                  in_pad = in_pad && i[a] < in3[a] + e3[a];
                }
                padded += in_pad;
                if (!inside) continue;
                const int64_t flat = (i[0] * in3[1] + i[1]) * in3[2] + i[2];
                const float v = x.data<float>()[p * in_plane + flat];
                sum += v;
                ++valid;
                if (v > best) {
                  best = v;
                  // Column-major spatial numbering makes the first spatial axis fastest.
                  best_i = pc.storage_order == 0 ? flat : (i[2] * in3[1] + i[1]) * in3[0] + i[0];
                }
              }
          r.max.data<float>()[yi] = best;
          r.indices.data<int64_t>()[yi] = p * in_plane + best_i;
          r.avg.data<float>()[yi] =
              static_cast<float>(sum / static_cast<double>(pc.count_include_pad ? padded : valid));
        }
  return r;
}

OpTest MakePool(const std::string& op, const PoolCase& pc, const Tensor& x) {
  OpTest t(op);
  t.Input("x", x).Attr("kernel_shape", pc.kernel);
  if (!pc.strides.empty()) t.Attr("strides", pc.strides);
  if (!pc.dilations.empty()) t.Attr("dilations", pc.dilations);
  if (!pc.pads.empty()) t.Attr("pads", pc.pads);
  if (!pc.auto_pad.empty()) t.Attr("auto_pad", pc.auto_pad);
  if (pc.ceil_mode) t.Attr("ceil_mode", int64_t{1});
  return t;
}

void CheckMaxPool(const PoolCase& pc, int threads = 1) {
  Tensor x = RandomTensor(pc.x, 41);
  PoolRef ref = ReferencePool(pc, x);
  // Without Indices the kernel takes a row-wise path; with them a per-output argmax scan.
  auto values = MakePool("MaxPool", pc, x).Run(threads);
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_TRUE(TensorsNear(ref.max, (*values)[0]));
  auto both =
      MakePool("MaxPool", pc, x).Attr("storage_order", pc.storage_order).Outputs(2).Run(threads);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_TRUE(TensorsNear(ref.max, (*both)[0]));
  EXPECT_TRUE(TensorsNear(ref.indices, (*both)[1]));
}

void CheckAveragePool(const PoolCase& pc, int threads = 1) {
  Tensor x = RandomTensor(pc.x, 42);
  PoolRef ref = ReferencePool(pc, x);
  auto out = MakePool("AveragePool", pc, x)
                 .Attr("count_include_pad", int64_t{pc.count_include_pad})
                 .Run(threads);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(ref.avg, (*out)[0]));
}

TEST(MaxPool, HandComputed) {
  Tensor x =
      Tensor::FromVector<float>({1, 5, 2, 0, 3, 4, 9, 8, 7, 6, 1, 2, 0, 0, 3, 9}, {1, 1, 4, 4});
  auto out = OpTest("MaxPool")
                 .Input("x", x)
                 .Attr("kernel_shape", std::vector<int64_t>{2, 2})
                 .Attr("strides", std::vector<int64_t>{2, 2})
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({5, 9, 7, 9}, {1, 1, 2, 2}), (*out)[0]));
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<int64_t>({1, 6, 8, 15}, {1, 1, 2, 2}), (*out)[1]));
}

TEST(MaxPool, PadsStridesDilationsCeil) {
  CheckMaxPool({.x = {2, 3, 9, 8}, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}});
  CheckMaxPool({.x = {1, 2, 10, 9}, .kernel = {2, 3}, .strides = {1, 2}, .dilations = {2, 2}});
  CheckMaxPool({.x = {1, 2, 8, 7}, .kernel = {3, 2}, .strides = {2, 2}, .ceil_mode = true});
  CheckMaxPool({.x = {1, 1, 5, 5},
                .kernel = {2, 2},
                .strides = {2, 2},
                .pads = {1, 1, 1, 1},
                .ceil_mode = true});
}

TEST(MaxPool, AutoPadAndColumnMajorIndices) {
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    SCOPED_TRACE(mode);
    CheckMaxPool({.x = {1, 2, 7, 6}, .kernel = {3, 2}, .strides = {2, 2}, .auto_pad = mode});
  }
  CheckMaxPool({.x = {2, 2, 5, 6}, .kernel = {2, 3}, .pads = {0, 1, 1, 0}, .storage_order = 1});
}

TEST(MaxPool, OneDAndThreeD) {
  CheckMaxPool({.x = {2, 3, 17}, .kernel = {4}, .strides = {3}, .pads = {1, 2}});
  CheckMaxPool({.x = {1, 2, 5, 6, 7},
                .kernel = {2, 3, 2},
                .strides = {2, 1, 2},
                .pads = {0, 1, 1, 1, 0, 0}});
  CheckMaxPool({.x = {1, 1, 4, 3, 5}, .kernel = {2, 2, 2}, .storage_order = 1});
}

TEST(MaxPool, MultiThreaded) {
  CheckMaxPool({.x = {2, 16, 40, 40}, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}},
               2);
}

TEST(MaxPool, Uint8) {
  Tensor x = Tensor::FromVector<uint8_t>({1, 200, 3, 4, 5, 6, 255, 8, 9}, {1, 1, 3, 3});
  auto out = OpTest("MaxPool").Input("x", x).Attr("kernel_shape", std::vector<int64_t>{2, 2}).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(
      TensorsNear(Tensor::FromVector<uint8_t>({200, 200, 255, 9}, {1, 1, 2, 2}), (*out)[0]));
}

TEST(MaxPool, RejectsMissingKernelShape) {
  auto out = OpTest("MaxPool").Input("x", RandomTensor({1, 1, 4, 4}, 1)).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("kernel_shape"), std::string::npos);
}

TEST(MaxPool, RejectsWrongPadsLength) {
  auto out = OpTest("MaxPool")
                 .Input("x", RandomTensor({1, 1, 4, 4}, 1))
                 .Attr("kernel_shape", std::vector<int64_t>{2, 2})
                 .Attr("pads", std::vector<int64_t>{1, 1})
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("pads"), std::string::npos);
}

TEST(AveragePool, HandComputedWithAndWithoutPadCount) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  auto run = [&](int64_t include) {
    return OpTest("AveragePool")
        .Input("x", x)
        .Attr("kernel_shape", std::vector<int64_t>{2, 2})
        .Attr("pads", std::vector<int64_t>{1, 1, 0, 0})
        .Attr("count_include_pad", include)
        .Run();
  };
  auto excl = run(0), incl = run(1);
  ASSERT_TRUE(excl.ok() && incl.ok());
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({1, 1.5, 2, 2.5}, {1, 1, 2, 2}), (*excl)[0]));
  EXPECT_TRUE(
      TensorsNear(Tensor::FromVector<float>({0.25, 0.75, 1, 2.5}, {1, 1, 2, 2}), (*incl)[0]));
}

TEST(AveragePool, AgainstReference) {
  for (bool include : {false, true}) {
    SCOPED_TRACE(include ? "count_include_pad" : "exclude pad");
    CheckAveragePool({.x = {2, 3, 9, 8},
                      .kernel = {3, 3},
                      .strides = {2, 2},
                      .pads = {1, 1, 1, 1},
                      .count_include_pad = include});
    CheckAveragePool({.x = {1, 2, 8, 7},
                      .kernel = {3, 3},
                      .strides = {2, 2},
                      .pads = {1, 0, 1, 0},
                      .ceil_mode = true,
                      .count_include_pad = include});
    CheckAveragePool({.x = {1, 2, 7, 6},
                      .kernel = {3, 2},
                      .strides = {2, 2},
                      .auto_pad = "SAME_LOWER",
                      .count_include_pad = include});
    CheckAveragePool(
        {.x = {2, 2, 11}, .kernel = {3}, .pads = {2, 1}, .count_include_pad = include});
    CheckAveragePool({.x = {1, 2, 4, 5, 6},
                      .kernel = {2, 3, 3},
                      .strides = {1, 2, 2},
                      .pads = {1, 1, 1, 0, 1, 1},
                      .count_include_pad = include},
                     2);
  }
}

TEST(AveragePool, RejectsIntegerInput) {
  auto out = OpTest("AveragePool")
                 .Input("x", Tensor::FromVector<int32_t>({1, 2, 3, 4}, {1, 1, 2, 2}))
                 .Attr("kernel_shape", std::vector<int64_t>{2, 2})
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("int32"), std::string::npos);
}

TEST(GlobalPool, AverageAndMax) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, -1, -2, -3, -8, 0, 0, 0, 6}, {1, 3, 2, 2});
  auto avg = OpTest("GlobalAveragePool").Input("x", x).Run();
  auto mx = OpTest("GlobalMaxPool").Input("x", x).Run();
  ASSERT_TRUE(avg.ok() && mx.ok());
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({2.5, -3.5, 1.5}, {1, 3, 1, 1}), (*avg)[0]));
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({4, -1, 6}, {1, 3, 1, 1}), (*mx)[0]));
}

TEST(GlobalPool, BatchedThreeD) {
  Tensor x = RandomTensor({2, 3, 4, 5, 6}, 7);
  auto avg = OpTest("GlobalAveragePool").Input("x", x).Run(2);
  ASSERT_TRUE(avg.ok()) << avg.status().ToString();
  ASSERT_EQ((*avg)[0].shape(), (Shape{2, 3, 1, 1, 1}));
  for (int64_t p = 0; p < 6; ++p) {
    double s = 0;
    for (int64_t i = 0; i < 120; ++i) s += x.data<float>()[p * 120 + i];
    EXPECT_NEAR((*avg)[0].data<float>()[p], s / 120, 1e-5);
  }
}

TEST(GlobalPool, RejectsRankTwoInput) {
  auto out = OpTest("GlobalMaxPool").Input("x", RandomTensor({2, 3}, 1)).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("rank >= 3"), std::string::npos);
}

// LpPool with p = 2: the Euclidean norm of each window; ceil_mode (opset 18) adds the partial
// window at the end, whose taps inside the input are all that count.
TEST(LpPool, NormOfEachWindowWithCeilMode) {
  auto out = OpTest("LpPool", 18)
                 .Attr("kernel_shape", std::vector<int64_t>{2})
                 .Attr("strides", std::vector<int64_t>{2})
                 .Attr("ceil_mode", int64_t{1})
                 .Input("x", Tensor::FromVector<float>({3, -4, 0, 3, 2}, {1, 1, 5}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 3}));
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{5, 3, 2}));
  out = OpTest("LpPool", 18)
            .Attr("kernel_shape", std::vector<int64_t>{2})
            .Attr("p", int64_t{1})
            .Input("x", Tensor::FromVector<float>({3, -4, 1}, {1, 1, 3}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{7, 5}));
}

}  // namespace
}  // namespace supernova::testing

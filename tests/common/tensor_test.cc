#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "supernova/tensor.h"

namespace supernova {
namespace {

TEST(Status, OkIsFreeAndErrorsCarryCodeAndContext) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.ToString(), "OK");
  Status e = Status::InvalidArgument("bad shape").WithContext("input 'x'");
  EXPECT_EQ(e.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(e.ToString(), "InvalidArgument: input 'x': bad shape");
  Result<int> r = Status::NotFound("nope");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

TEST(Tensor, ReshapeSharesBufferAndInfersMinusOne) {
  Tensor t = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  auto r = t.Reshaped({3, -1});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->shape(), (Shape{3, 2}));
  EXPECT_TRUE(r->SharesBufferWith(t));
  EXPECT_FALSE(t.Reshaped({4, -1}).ok());
  EXPECT_FALSE(t.Reshaped({-1, -1}).ok());
  EXPECT_FALSE(t.Reshaped({7}).ok());
}

// Found by fuzz_onnx_model: NumElements saturates on overflow, and a Tile output of
// [2^41, 2^41, 0] then counted INT64_MAX elements instead of none, and divided by its 0.
TEST(Tensor, NumElementsOfAnEmptyShapeIsZeroWhateverOverflowsBeforeTheZero) {
  const int64_t big = int64_t{1} << 41;
  EXPECT_EQ(NumElements({big, big, 0}), 0);
  EXPECT_EQ(NumElements({big, big, 2}), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(NumElements({3, 0, big}), 0);
  EXPECT_EQ(NumElements({}), 1);
}

TEST(Tensor, CloneIsDeep) {
  Tensor t = Tensor::FromVector<int64_t>({7, 8}, {2});
  Tensor c = t.Clone();
  c.data<int64_t>()[0] = 1;
  EXPECT_EQ(t.data<int64_t>()[0], 7);
  EXPECT_FALSE(c.SharesBufferWith(t));
}

TEST(Float16, RoundTripsAndRoundsToNearestEven) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f})
    EXPECT_EQ(Float16::FromFloat(f).ToFloat(), f) << f;
  EXPECT_EQ(Float16::FromFloat(1.0f + 1.0f / 4096).ToFloat(), 1.0f);  // ties to even
  EXPECT_TRUE(std::isinf(Float16::FromFloat(1e6f).ToFloat()));
  EXPECT_TRUE(std::isnan(Float16::FromFloat(std::numeric_limits<float>::quiet_NaN()).ToFloat()));
  EXPECT_EQ(BFloat16::FromFloat(3.0f).ToFloat(), 3.0f);
}

}  // namespace
}  // namespace supernova

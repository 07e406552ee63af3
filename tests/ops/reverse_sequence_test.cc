#include "test_util.h"

namespace supernova::testing {
namespace {

// x[t][b] = 10 * t + b, shape [time 3, batch 2].
Tensor TB() { return Tensor::FromVector<float>({0, 1, 10, 11, 20, 21}, {3, 2}); }

TEST(ReverseSequence, ReversesOnlyEachPrefix) {
  auto out = OpTest("ReverseSequence", 10)
                 .Input("x", TB())
                 .Input("lens", Tensor::FromVector<int64_t>({3, 2}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{20, 11, 10, 1, 0, 21}));
}

TEST(ReverseSequence, BatchMajorLayout) {
  // Same data read as [batch 3, time 2].
  auto out = OpTest("ReverseSequence", 10)
                 .Attr("time_axis", int64_t{1})
                 .Attr("batch_axis", int64_t{0})
                 .Input("x", TB())
                 .Input("lens", Tensor::FromVector<int64_t>({2, 1, 0}, {3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 0, 10, 11, 20, 21}));
}

TEST(ReverseSequence, TooLongSequenceIsAnError) {
  auto out = OpTest("ReverseSequence", 10)
                 .Input("x", TB())
                 .Input("lens", Tensor::FromVector<int64_t>({4, 1}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("sequence length 4"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing

#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(Identity, AliasesInputWithoutCopy) {
  Tensor x = Tensor::FromVector<float>({1, -2, 3}, {3});
  auto out = OpTest("Identity").Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(x, (*out)[0]));
  EXPECT_TRUE((*out)[0].SharesBufferWith(x));
}

TEST(Session, UnknownOperatorIsReportedAtOpen) {
  auto out = OpTest("NoSuchOp").Input("x", Tensor::FromVector<float>({1}, {1})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  EXPECT_NE(out.status().message().find("NoSuchOp"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing

// StringNormalizer. Expected outputs are written by hand from the spec's rules: stopwords go
// first (compared case-insensitively unless is_case_sensitive), then the case changes.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "string_tensors.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Words = std::vector<std::string>;

OpTest Normalizer(const std::string& action) {
  OpTest t("StringNormalizer", 10);
  t.Attr("case_change_action", action);
  return t;
}

TEST(StringNormalizer, StopwordsIgnoreCaseUnlessAsked) {
  const Tensor x = Strings({"monday", "tuesday", "Monday"}, {3});
  auto out = Normalizer("UPPER").Attr("stopwords", Words{"MONDAY"}).Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kString);
  EXPECT_EQ((*out)[0].shape(), Shape({1}));
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre("TUESDAY"));

  out = Normalizer("UPPER")
            .Attr("stopwords", Words{"monday"})
            .Attr("is_case_sensitive", int64_t{1})
            .Input("x", x)
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre("TUESDAY", "MONDAY"));
}

TEST(StringNormalizer, LowerAndNoneKeepTheRowShape) {
  const Tensor x = Strings({"A", "bC", "dEf1"}, {1, 3});
  auto out = Normalizer("LOWER").Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), Shape({1, 3}));
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre("a", "bc", "def1"));
  out = Normalizer("NONE").Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre("A", "bC", "dEf1"));
}

TEST(StringNormalizer, NothingLeftIsOneEmptyString) {
  auto out = Normalizer("NONE")
                 .Attr("stopwords", Words{"a", "b"})
                 .Input("x", Strings({"a", "B"}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), Shape({1}));
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre(""));
  out = Normalizer("NONE")
            .Attr("stopwords", Words{"a"})
            .Input("x", Strings({"a", "A"}, {1, 2}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), Shape({1, 1}));
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre(""));
}

TEST(StringNormalizer, NonAsciiTextPassesWhenNoCaseMappingApplies) {
  const Tensor x = Strings({"\xC3\x89t\xC3\xA9", "x"}, {2});  // "Été" in UTF-8
  auto out = Normalizer("NONE").Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre("\xC3\x89t\xC3\xA9", "x"));
  out = Normalizer("UPPER").Input("x", x).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  EXPECT_THAT(out.status().message(), HasSubstr("ASCII"));
}

TEST(StringNormalizer, RefusesWhatItCannotHonour) {
  const Tensor x = Strings({"a", "b"}, {2});
  auto out = Normalizer("TITLE").Input("x", x).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("case_change_action"));
  out = Normalizer("LOWER").Attr("locale", std::string("tr_TR")).Input("x", x).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  EXPECT_THAT(out.status().message(), HasSubstr("tr_TR"));
  out = Normalizer("LOWER").Attr("locale", std::string("en_US")).Input("x", x).Run();
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  out = Normalizer("LOWER").Input("x", Strings({"a", "b", "c", "d"}, {2, 2})).Run();
  EXPECT_FALSE(out.ok());
  out = Normalizer("LOWER").Input("x", Tensor::FromVector<float>({1, 2}, {2})).Run();
  EXPECT_FALSE(out.ok());
}

}  // namespace
}  // namespace supernova::testing

// TfIdfVectorizer over integer and string inputs. Expected counts are worked out by hand in
// the comments.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "string_tensors.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAreArray;

// X = [1, 2, 1, 2, 3]. Pool: unigrams 1, 3; bigrams (1,2), (2,3); optionally (1,3).
OpTest Vectorizer(const std::string& mode, int64_t min_n, int64_t max_n, int64_t skip,
                  bool with_13 = false) {
  std::vector<int64_t> pool = {1, 3, 1, 2, 2, 3};
  std::vector<int64_t> indexes = {0, 1, 2, 3};
  if (with_13) {
    pool.insert(pool.end(), {1, 3});
    indexes.push_back(4);
  }
  OpTest t("TfIdfVectorizer", 9);
  t.Attr("mode", mode)
      .Attr("min_gram_length", min_n)
      .Attr("max_gram_length", max_n)
      .Attr("max_skip_count", skip)
      .Attr("ngram_counts", std::vector<int64_t>{0, 2})
      .Attr("ngram_indexes", indexes)
      .Attr("pool_int64s", pool);
  return t;
}

const Tensor kX = Tensor::FromVector<int64_t>({1, 2, 1, 2, 3}, {5});

TEST(TfIdfVectorizer, CountsUnigramsAndBigrams) {
  // 1 twice, 3 once; (1,2) at 0 and 2, (2,3) at 3.
  auto out = Vectorizer("TF", 1, 2, 0).Input("x", kX).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat32);
  EXPECT_EQ((*out)[0].shape(), Shape({4}));
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({2.0, 1.0, 2.0, 1.0}));
}

TEST(TfIdfVectorizer, SkipsFindGappedBigramsButCountUnigramsOnce) {
  // Adjacent pairs hold no (1,3); with one skip, (x2, x4) = (1, 3). Unigrams stay 2 and 1.
  auto out = Vectorizer("TF", 1, 2, 0, true).Input("x", kX).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({2.0, 1.0, 2.0, 1.0, 0.0}));
  out = Vectorizer("TF", 1, 2, 1, true).Input("x", kX).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({2.0, 1.0, 2.0, 1.0, 1.0}));
}

TEST(TfIdfVectorizer, MinGramLengthLeavesSmallerGramsAtZero) {
  auto out = Vectorizer("TF", 2, 2, 0).Input("x", kX).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({0.0, 0.0, 2.0, 1.0}));
}

TEST(TfIdfVectorizer, IdfAndTfIdfWeighTheCounts) {
  const std::vector<float> w = {0.5f, 1.0f, 2.0f, 3.0f, 4.0f};
  // Counts [2, 1, 2, 1, 0]: IDF is the weight where the count is non-zero, TFIDF the product.
  auto out = Vectorizer("IDF", 1, 2, 0, true).Attr("weights", w).Input("x", kX).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({0.5, 1.0, 2.0, 3.0, 0.0}));
  out = Vectorizer("TFIDF", 1, 2, 0, true).Attr("weights", w).Input("x", kX).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({1.0, 1.0, 4.0, 3.0, 0.0}));
  // Without weights IDF is an indicator and TFIDF the plain count.
  out = Vectorizer("IDF", 1, 2, 0, true).Input("x", kX).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({1.0, 1.0, 1.0, 1.0, 0.0}));
}

TEST(TfIdfVectorizer, NgramIndexesPlaceTheCounts) {
  // Gram k goes to coordinate 3 - k: counts [2, 1, 2, 1] reversed.
  auto out = Vectorizer("TF", 1, 2, 0)
                 .Attr("ngram_indexes", std::vector<int64_t>{3, 2, 1, 0})
                 .Input("x", kX)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({1.0, 2.0, 1.0, 2.0}));
}

TEST(TfIdfVectorizer, BatchedInt32RowsAreCountedApart) {
  // Row 0 [1, 2, 3]: 1, 3, (1,2), (2,3) once each. Row 1 [3, 3, 1]: 1 once, 3 twice, no bigram.
  auto out = Vectorizer("TF", 1, 2, 0)
                 .Input("x", Tensor::FromVector<int32_t>({1, 2, 3, 3, 3, 1}, {2, 3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), Shape({2, 4}));
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 0.0, 0.0}));
}

TEST(TfIdfVectorizer, StringsUsePoolStrings) {
  // The integer case's X with 1, 2, 3 spelled x, y, z: the same counts [2, 1, 2, 1].
  auto out = OpTest("TfIdfVectorizer", 9)
                 .Attr("mode", std::string("TF"))
                 .Attr("min_gram_length", int64_t{1})
                 .Attr("max_gram_length", int64_t{2})
                 .Attr("max_skip_count", int64_t{0})
                 .Attr("ngram_counts", std::vector<int64_t>{0, 2})
                 .Attr("ngram_indexes", std::vector<int64_t>{0, 1, 2, 3})
                 .Attr("pool_strings", std::vector<std::string>{"x", "z", "x", "y", "y", "z"})
                 .Input("x", Strings({"x", "y", "x", "y", "z"}, {5}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({2.0, 1.0, 2.0, 1.0}));
  // An integer pool does not serve string input.
  out = Vectorizer("TF", 1, 2, 0).Input("x", Strings({"x"}, {1})).Run();
  EXPECT_FALSE(out.ok());
}

TEST(TfIdfVectorizer, RejectsBadAttributesAndInputs) {
  auto out = Vectorizer("COUNT", 1, 2, 0).Input("x", kX).Run();
  EXPECT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("mode"));
  // Three bigram items are not a whole number of bigrams.
  out = Vectorizer("TF", 1, 2, 0)
            .Attr("pool_int64s", std::vector<int64_t>{1, 3, 1, 2, 2})
            .Input("x", kX)
            .Run();
  EXPECT_FALSE(out.ok());
  out = Vectorizer("TF", 2, 1, 0).Input("x", kX).Run();
  EXPECT_FALSE(out.ok());
  out = Vectorizer("TF", 1, 2, 0)
            .Attr("ngram_indexes", std::vector<int64_t>{0, 1, 2})
            .Input("x", kX)
            .Run();
  EXPECT_FALSE(out.ok());
  out = Vectorizer("TF", 1, 2, 0).Input("x", Tensor::FromVector<int64_t>({1, 2}, {1, 1, 2})).Run();
  EXPECT_FALSE(out.ok());
  out = Vectorizer("TF", 1, 2, 0).Input("x", Tensor::FromVector<float>({1, 2}, {2})).Run();
  EXPECT_FALSE(out.ok());
}

}  // namespace
}  // namespace supernova::testing

// The known-failures list of the conformance suite: the run passes only when exactly the
// listed tests fail, so every way the list can drift from the truth must fail the run.
#include "conformance/known_failures.h"

#include <gtest/gtest.h>

namespace supernova::conformance {
namespace {

std::map<std::string, KnownFailure> List(const std::string& text) {
  auto parsed = ParseKnownFailures(text, "known.txt");
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : std::map<std::string, KnownFailure>{};
}

std::string ParseError(const std::string& text) {
  auto parsed = ParseKnownFailures(text, "known.txt");
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? "" : parsed.status().message();
}

Outcome Pass(const std::string& name) { return {name, true, {}, ""}; }
Outcome Fail(const std::string& name, const std::string& detail) {
  return {name, false, {}, detail};
}
Outcome Missing(const std::string& name, std::set<std::string> ops) {
  return {name, false, std::move(ops), "open: unsupported operator"};
}

const auto kAll = [](const std::string&) { return true; };

TEST(KnownFailures, ParsesNamesReasonsCommentsAndBlankLines) {
  const auto known = List(
      "# header\n"
      "\n"
      "test_a  op LSTM not implemented\n"
      "  # indented comment\n"
      "test_b\tbfloat16 rounding:  truncated, not rounded  \n");
  ASSERT_EQ(known.size(), 2u);
  EXPECT_EQ(known.at("test_a").reason, "op LSTM not implemented");
  EXPECT_EQ(known.at("test_a").line, 3);
  EXPECT_EQ(known.at("test_b").reason, "bfloat16 rounding:  truncated, not rounded");
}

TEST(KnownFailures, MalformedListsNameTheLine) {
  EXPECT_EQ(ParseError("test_a\n"), "known.txt:1: 'test_a' has no reason");
  EXPECT_EQ(ParseError("test_b  x\ntest_a  y\n"),
            "known.txt:2: test_a is out of order (after test_b): keep the list sorted");
  EXPECT_EQ(ParseError("test_a  x\n# c\ntest_a  y\n"), "known.txt:3: test_a is listed twice");
}

TEST(KnownFailures, ReasonsNamingMissingOperators) {
  EXPECT_EQ(OpsNamedByReason("op LSTM not implemented"), (std::set<std::string>{"LSTM"}));
  EXPECT_EQ(OpsNamedByReason("ops Loop, SequenceEmpty not implemented"),
            (std::set<std::string>{"Loop", "SequenceEmpty"}));
  EXPECT_TRUE(OpsNamedByReason("Dropout in training mode not implemented").empty());
  EXPECT_TRUE(OpsNamedByReason("op LSTM is slow").empty());
  EXPECT_EQ(MissingOpsReason({"LSTM"}), "op LSTM not implemented");
  EXPECT_EQ(MissingOpsReason({"SequenceEmpty", "Loop"}), "ops Loop, SequenceEmpty not implemented");
}

TEST(KnownFailures, ExactlyTheListedFailuresPass) {
  const auto known = List(
      "test_gru  op GRU not implemented\n"
      "test_round  output mismatch: halves rounded away from zero\n");
  const Verdict v = Compare({Pass("test_add"), Missing("test_gru", {"GRU"}),
                             Fail("test_round", "output 0: 2 of 6 elements differ")},
                            known, kAll);
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.passed, 1);
  EXPECT_EQ(v.known, 2);
  EXPECT_EQ(v.known_by_reason.at("op GRU not implemented"), 1);
}

TEST(KnownFailures, EveryDriftFromTheListFails) {
  const auto known = List(
      "test_fixed  op Celu not implemented\n"
      "test_gone  op Foo not implemented\n"
      "test_gru  op GRU not implemented\n"
      "test_lstm  op LSTM not implemented\n");
  const Verdict v =
      Compare({Pass("test_fixed"), Fail("test_new", "output 0: shape [2], expected [3]"),
               Fail("test_gru", "output 0: 1 of 4 elements differ"),
               Missing("test_lstm", {"LSTM", "Loop"})},
              known, kAll);
  EXPECT_FALSE(v.ok());
  ASSERT_EQ(v.new_failures.size(), 1u);
  EXPECT_EQ(v.new_failures[0], "test_new: output 0: shape [2], expected [3]");
  ASSERT_EQ(v.fixed.size(), 1u);
  EXPECT_EQ(v.fixed[0], "test_fixed: passes now; remove it from the list (line 1)");
  // Implemented but wrong, and missing one more operator than listed: both are news.
  ASSERT_EQ(v.wrong_reasons.size(), 2u);
  EXPECT_EQ(v.wrong_reasons[0],
            "test_gru: listed as 'op GRU not implemented' (line 3), but now: output 0: 1 of 4 "
            "elements differ");
  EXPECT_EQ(v.wrong_reasons[1],
            "test_lstm: listed as 'op LSTM not implemented' (line 4), but now: ops LSTM, Loop not "
            "implemented");
  ASSERT_EQ(v.not_in_suite.size(), 1u);
  EXPECT_EQ(v.not_in_suite[0], "test_gone: listed (line 2) but not in the suite");
  EXPECT_EQ(v.known, 0);
}

TEST(KnownFailures, RandomDrawsMayMatchByChanceButMustKeepTheirShape) {
  const std::string reason = "random draws: values cannot match";
  const auto known =
      List("test_bernoulli  " + reason + "\n" + "test_bernoulli_double  " + reason + "\n" +
           "test_bernoulli_seed  " + reason + "\n" + "test_multinomial  " + reason + "\n");
  const Verdict v = Compare(
      {Pass("test_bernoulli"), Fail("test_bernoulli_double", "output 0: 3 of 10 elements differ"),
       Fail("test_bernoulli_seed", "output 0: shape [9], expected [10]"),
       Missing("test_multinomial", {"Multinomial"})},
      known, kAll);
  EXPECT_TRUE(v.fixed.empty());
  EXPECT_EQ(v.passed, 0);
  EXPECT_EQ(v.known, 2);
  EXPECT_EQ(v.known_by_reason.at(reason), 2);
  ASSERT_EQ(v.wrong_reasons.size(), 2u);
  EXPECT_NE(v.wrong_reasons[0].find("test_bernoulli_seed: listed as"), std::string::npos);
  EXPECT_NE(v.wrong_reasons[1].find("op Multinomial not implemented"), std::string::npos);
}

TEST(KnownFailures, AnUnlistedMissingOperatorIsANewFailure) {
  const Verdict v = Compare({Missing("test_stft", {"STFT"})}, {}, kAll);
  ASSERT_EQ(v.new_failures.size(), 1u);
  EXPECT_EQ(v.new_failures[0], "test_stft: op STFT not implemented");
}

TEST(KnownFailures, AFilteredRunLeavesTheRestOfTheListAlone) {
  const auto known = List("test_gru  op GRU not implemented\ntest_lstm  op LSTM not implemented\n");
  const Verdict v = Compare({Missing("test_lstm", {"LSTM"})}, known, [](const std::string& name) {
    return name.find("lstm") != std::string::npos;
  });
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.known, 1);
}

}  // namespace
}  // namespace supernova::conformance

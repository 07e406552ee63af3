// LSTM and GRU on oneDNN's RNN primitives: every combination the regions take runs against
// the reference kernels and must compile to a oneDNN plan; what oneDNN cannot compute stays
// on the reference kernels.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dnnl_region_helpers.h"

namespace supernova::testing::region_test {
namespace {

constexpr int64_t kRnnT = 5, kRnnB = 3, kRnnI = 4, kRnnH = 6;

struct RnnCase {
  std::string op;  // LSTM or GRU
  std::string direction;
  int64_t layout = 0;
  bool initial_states = false;
  bool peepholes = false;           // LSTM
  int64_t linear_before_reset = 0;  // GRU
  std::vector<std::string> outputs = {"y", "y_h", "y_c"};

  std::string Label() const {
    return op + " " + direction + " layout " + std::to_string(layout) +
           (initial_states ? " with initial states" : "") + (peepholes ? " with peepholes" : "") +
           (op == "GRU" ? " lbr " + std::to_string(linear_before_reset) : "");
  }
};

// The model of one case and its feeds; `extra` attributes and `lens` (sequence_lens, empty:
// absent) make the cases that must stay on the reference kernels.
std::string BuildRnn(const RnnCase& c, Feeds* feeds, std::vector<NamedAttr> extra = {},
                     const std::vector<int32_t>& lens = {}, const std::string& omit = "") {
  const bool lstm = c.op == "LSTM";
  const int64_t d = c.direction == "bidirectional" ? 2 : 1, g = lstm ? 4 : 3;
  ModelBuilder mb;
  const Shape xs = c.layout ? Shape{kRnnB, kRnnT, kRnnI} : Shape{kRnnT, kRnnB, kRnnI};
  const Shape ss = c.layout ? Shape{kRnnB, d, kRnnH} : Shape{d, kRnnB, kRnnH};
  std::vector<std::string> in = {mb.Input("x", xs), mb.Random("w", {d, g * kRnnH, kRnnI}),
                                 mb.Random("r", {d, g * kRnnH, kRnnH}),
                                 mb.Random("b", {d, 2 * g * kRnnH}), ""};
  feeds->push_back({"x", RandomTensor(xs, 7)});
  if (!lens.empty()) {
    Tensor t(DataType::kInt32, {kRnnB});
    for (int64_t i = 0; i < kRnnB; ++i) t.data<int32_t>()[i] = lens[i];
    in[4] = mb.Const("lens", t);
  }
  if (c.initial_states) {
    for (const char* name : {"h0", "c0"}) {
      if (name == omit) {
        in.push_back("");
      } else if (lstm || name == std::string("h0")) {
        in.push_back(mb.Input(name, ss));
        feeds->push_back({name, RandomTensor(ss, name[0])});
      }
    }
  }
  if (c.peepholes) {
    in.resize(7);
    in.push_back(mb.Random("p", {d, 3 * kRnnH}));
  }
  std::vector<NamedAttr> attrs = {Int("hidden_size", kRnnH), Str("direction", c.direction),
                                  Int("layout", c.layout)};
  if (!lstm) attrs.push_back(Int("linear_before_reset", c.linear_before_reset));
  for (NamedAttr& a : extra) attrs.push_back(std::move(a));
  mb.Op(c.op, in, std::move(attrs));
  std::vector<std::string> outs = c.outputs;
  if (!lstm) outs.resize(2);
  for (const std::string& o : mb.Outputs(outs))
    if (!o.empty()) mb.Output(o);
  return mb.Bytes();
}

// Within 1e-5 of the reference kernel, output by output.
void ExpectRnnClose(const std::string& bytes, const Feeds& feeds) {
  ExpectMatchesReference(bytes, feeds, 1, 1e-5, 1e-5);
}

std::vector<RnnCase> RnnCases(const std::string& op) {
  std::vector<RnnCase> cases;
  for (const char* dir : {"forward", "reverse", "bidirectional"})
    for (int64_t layout : {0, 1})
      for (bool states : {false, true})
        for (int64_t variant : {0, 1}) {
          RnnCase c{op, dir, layout, states};
          if (op == "LSTM") c.peepholes = variant != 0;
          if (op == "GRU") c.linear_before_reset = variant;
          cases.push_back(c);
        }
  return cases;
}

// The case on oneDNN, within 1e-5 of the reference kernel.
void ExpectRnnOnOneDnn(const RnnCase& c, const std::vector<int32_t>& lens = {},
                       const std::string& omit = "") {
  SCOPED_TRACE(c.Label());
  Feeds feeds;
  const std::string bytes = BuildRnn(c, &feeds, {}, lens, omit);
  ExpectRnnClose(bytes, feeds);
  ExpectOneDnnRegion(bytes, feeds);
}

TEST(DnnlRegionRecurrent, LstmEveryDirectionLayoutStateAndPeephole) {
  for (const RnnCase& c : RnnCases("LSTM")) ExpectRnnOnOneDnn(c);
}

TEST(DnnlRegionRecurrent, GruEveryDirectionLayoutStateAndLinearBeforeReset) {
  for (const RnnCase& c : RnnCases("GRU")) ExpectRnnOnOneDnn(c);
}

// Any subset of the outputs, and sequence_lens given but all equal to seq_length.
TEST(DnnlRegionRecurrent, OutputSubsetsAndFullSequenceLengths) {
  for (const std::vector<std::string>& outs : std::vector<std::vector<std::string>>{
           {"", "y_h"}, {"y"}, {"", "", "y_c"}, {"", "y_h", "y_c"}}) {
    RnnCase c{"LSTM", "bidirectional", 1, true};
    c.outputs = outs;
    SCOPED_TRACE("up to " + outs.back());
    ExpectRnnOnOneDnn(c, {kRnnT, kRnnT, kRnnT});
  }
}

// initial_h without initial_c and the other way round: the missing state is zeros.
TEST(DnnlRegionRecurrent, LstmWithOneInitialState) {
  for (const char* omit : {"h0", "c0"}) {
    SCOPED_TRACE(std::string("without ") + omit);
    ExpectRnnOnOneDnn({"LSTM", "bidirectional", 0, true}, {}, omit);
  }
}

TEST(DnnlRegionRecurrent, WhatOneDnnCannotComputeStaysOnTheReferenceKernel) {
  const RnnCase c{"LSTM", "forward"};
  {
    SCOPED_TRACE("clip");
    Feeds feeds;
    const std::string bytes = BuildRnn(c, &feeds, {Float("clip", 0.5f)});
    ExpectRnnClose(bytes, feeds);
    EXPECT_TRUE(Partition(bytes, feeds).fallback.empty());
  }
  {
    SCOPED_TRACE("a custom activation");
    Feeds feeds;
    ir::Attribute acts;
    acts.kind = ir::Attribute::Kind::kStrings;
    acts.strings = {"Sigmoid", "Relu", "Tanh"};
    const std::string bytes = BuildRnn(c, &feeds, {{"activations", acts}});
    ExpectRnnClose(bytes, feeds);
    EXPECT_TRUE(Partition(bytes, feeds).fallback.empty());
  }
  {
    SCOPED_TRACE("input_forget");
    Feeds feeds;
    const std::string bytes = BuildRnn(c, &feeds, {Int("input_forget", 1)});
    ExpectRnnClose(bytes, feeds);
    EXPECT_TRUE(Partition(bytes, feeds).fallback.empty());
  }
  {
    SCOPED_TRACE("uneven sequence_lens");
    Feeds feeds;
    const std::string bytes = BuildRnn(c, &feeds, {}, {kRnnT, 2, kRnnT});
    ExpectRnnClose(bytes, feeds);
    ExpectFallbackRegion(bytes, feeds, "sequence_lens");
  }
}

}  // namespace
}  // namespace supernova::testing::region_test

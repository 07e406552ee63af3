// Session::Run over values: sequences in and out, the kinds the model declares checked, and
// the tensor API's answer to a model that returns a sequence.
#include <gmock/gmock.h>

#include "ir/onnx_import.h"
#include "supernova/session.h"

namespace supernova {
namespace {

// n = SequenceLength(s); out = SequenceInsert(s, x): s declared a sequence of float32.
std::string SequenceModel() {
  ir::Model m;
  m.graph.opsets[""] = 13;
  m.graph.inputs = {"s", "x"};
  m.graph.outputs = {"n", "out"};
  ir::ValueType seq;
  seq.kind = ValueKind::kSequence;
  seq.dtype = DataType::kFloat32;
  m.graph.value_types["s"] = seq;
  m.graph.value_types["x"] = ir::ValueType::Static(DataType::kFloat32, {1});
  ir::Node len;
  len.op_type = "SequenceLength";
  len.inputs = {"s"};
  len.outputs = {"n"};
  ir::Node ins;
  ins.op_type = "SequenceInsert";
  ins.inputs = {"s", "x"};
  ins.outputs = {"out"};
  m.graph.nodes = {len, ins};
  return *ir::ExportOnnxBytes(m);
}

Tensor One(float v) { return Tensor::FromVector<float>({v}, {1}); }

TEST(SessionValues, RunsSequencesInAndOut) {
  auto s = Session::OpenBytes(SequenceModel());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->inputs()[0].ToString(), "s: sequence(float32)");
  EXPECT_EQ((*s)->outputs()[1].kind, ValueKind::kSequence);
  std::vector<Value> outs;
  Status st = (*s)->Run(
      {{"s", Value::Sequence(DataType::kFloat32, {One(1), One(2)})}, {"x", One(3)}}, &outs);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(outs[0].is_tensor());
  EXPECT_EQ(outs[0].tensor().data<int64_t>()[0], 2);
  ASSERT_TRUE(outs[1].is_sequence());
  ASSERT_EQ(outs[1].sequence().size(), 3u);
  EXPECT_EQ(outs[1].sequence()[2].data<float>()[0], 3.0f);
}

TEST(SessionValues, RefusesATensorWhereASequenceIsDeclared) {
  auto s = Session::OpenBytes(SequenceModel());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<Value> outs;
  Status st = (*s)->Run({{"s", One(1)}, {"x", One(3)}}, &outs);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(st.message(), ::testing::HasSubstr("input 's': expected a sequence, got float32[1]"));
  // Elements of another dtype.
  st = (*s)->Run(
      {{"s", Value::Sequence(DataType::kInt64, {Tensor::Scalar<int64_t>(1)})}, {"x", One(3)}},
      &outs);
  EXPECT_THAT(st.message(), ::testing::HasSubstr("expected elements of float32, got int64[]"));
}

TEST(SessionValues, ASequenceOutputThroughTheTensorApiIsAnError) {
  ir::Model m;
  m.graph.opsets[""] = 13;
  m.graph.inputs = {"x"};
  m.graph.outputs = {"s"};
  m.graph.value_types["x"] = ir::ValueType::Static(DataType::kFloat32, {1});
  ir::Node n;
  n.op_type = "SequenceConstruct";
  n.inputs = {"x"};
  n.outputs = {"s"};
  m.graph.nodes = {n};
  auto s = Session::OpenBytes(*ir::ExportOnnxBytes(m));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<Tensor> outs;
  Status st = (*s)->Run({{"x", One(1)}}, &outs);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(st.message(),
              ::testing::HasSubstr("output 's' is a sequence(float32, 1 element): run the model "
                                   "with Values"));
}

}  // namespace
}  // namespace supernova

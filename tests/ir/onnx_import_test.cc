#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>

#include "ir/onnx_import.h"
#include "ir/tensor_proto.h"

namespace supernova::ir {
namespace {

onnx::ModelProto TinyModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("tiny");
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("N");
  tt->mutable_shape()->add_dim()->set_dim_value(4);
  g->add_output()->set_name("z");
  // Listed out of order: z = Identity(y) before y = Identity(x).
  auto* n1 = g->add_node();
  n1->set_op_type("Identity");
  n1->add_input("y");
  n1->add_output("z");
  auto* n0 = g->add_node();
  n0->set_op_type("Identity");
  n0->add_input("x");
  n0->add_output("y");
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::INT64);
  w->add_dims(2);
  w->add_int64_data(5);
  w->add_int64_data(-6);
  return m;
}

TEST(OnnxImport, SortsNodesAndReadsTypesAndInitializers) {
  auto model = ImportOnnxBytes(TinyModel().SerializeAsString());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Graph& g = model->graph;
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].outputs[0], "y");
  EXPECT_EQ(g.TypeOf("x")->ToString(), "float32[N,4]");
  ASSERT_TRUE(g.IsInitializer("w"));
  EXPECT_EQ(g.initializers.at("w").data<int64_t>()[1], -6);
  EXPECT_EQ(g.Opset(), 13);
}

TEST(OnnxImport, ExportThenImportRoundTrips) {
  auto model = ImportOnnxBytes(TinyModel().SerializeAsString());
  ASSERT_TRUE(model.ok());
  auto bytes = ExportOnnxBytes(*model);
  ASSERT_TRUE(bytes.ok());
  auto again = ImportOnnxBytes(*bytes);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->graph.nodes.size(), 2u);
  EXPECT_EQ(again->graph.TypeOf("x")->ToString(), "float32[N,4]");
  EXPECT_EQ(again->graph.initializers.at("w").data<int64_t>()[0], 5);
}

TEST(OnnxImport, MalformedBytesGiveInvalidModel) {
  auto r = ImportOnnxBytes("this is not a protobuf \xff\xff\xff");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidModel);
}

TEST(OnnxImport, MissingFileIsNotFound) {
  auto r = ImportOnnxFile("/nonexistent/model.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

TEST(OnnxImport, CycleAndDanglingInputAreRejected) {
  onnx::ModelProto m = TinyModel();
  m.mutable_graph()->mutable_node(1)->set_input(0, "z");  // y = f(z), z = f(y)
  auto r = ImportOnnxBytes(m.SerializeAsString());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cycle"), std::string::npos);

  onnx::ModelProto d = TinyModel();
  d.mutable_graph()->mutable_node(1)->set_input(0, "ghost");
  r = ImportOnnxBytes(d.SerializeAsString());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("ghost"), std::string::npos);
}

TEST(TensorProto, RawDataSizeMismatchIsAnError) {
  onnx::TensorProto p;
  p.set_name("t");
  p.set_data_type(onnx::TensorProto::FLOAT);
  p.add_dims(3);
  p.set_raw_data(std::string(8, '\0'));
  auto r = TensorFromProto(p, "");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("raw_data"), std::string::npos);
  p.add_dims(int64_t{1} << 40);  // impossibly large: refused before allocating
  EXPECT_FALSE(TensorFromProto(p, "").ok());
}

TEST(TensorProto, ExternalDataIsReadRelativeToTheModel) {
  auto dir = std::filesystem::temp_directory_path() / "supernova_external_test";
  std::filesystem::create_directories(dir);
  const float values[4] = {1.5f, -2, 3, 4};
  {
    std::ofstream f(dir / "weights.bin", std::ios::binary);
    f.write("pad!", 4);
    f.write(reinterpret_cast<const char*>(values), sizeof(values));
  }
  onnx::TensorProto p;
  p.set_name("w");
  p.set_data_type(onnx::TensorProto::FLOAT);
  p.add_dims(2);
  p.add_dims(2);
  p.set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* k, const std::string& v) {
    auto* e = p.add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", "weights.bin");
  add("offset", "4");
  add("length", "16");
  auto t = TensorFromProto(p, dir.string());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->data<float>()[0], 1.5f);
  EXPECT_EQ(t->data<float>()[3], 4.0f);

  p.mutable_external_data(0)->set_value("../escape.bin");
  EXPECT_FALSE(TensorFromProto(p, dir.string()).ok());
  std::filesystem::remove_all(dir);
}

TEST(TensorProto, FileRoundTripKeepsName) {
  auto path = (std::filesystem::temp_directory_path() / "supernova_tensor_test.pb").string();
  Tensor t = Tensor::FromVector<int32_t>({1, 2, 3}, {3, 1});
  ASSERT_TRUE(WriteTensorFile(path, t, "answer").ok());
  std::string name;
  auto back = ReadTensorFile(path, &name);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(name, "answer");
  EXPECT_EQ(back->shape(), (Shape{3, 1}));
  EXPECT_EQ(back->data<int32_t>()[2], 3);
  std::filesystem::remove(path);
}

TEST(TensorProto, StringsTravelInStringData) {
  onnx::TensorProto p;
  p.set_name("s");
  p.set_data_type(onnx::TensorProto::STRING);
  p.add_dims(2);
  p.add_string_data("monday");
  p.add_string_data(std::string("a\0b", 3));  // bytes, not C strings
  auto t = TensorFromProto(p, "");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->dtype(), DataType::kString);
  EXPECT_EQ(t->data<std::string>()[0], "monday");
  EXPECT_EQ(t->data<std::string>()[1], std::string("a\0b", 3));

  onnx::TensorProto back;
  TensorToProto(*t, "s", &back);
  EXPECT_FALSE(back.has_raw_data());
  ASSERT_EQ(back.string_data_size(), 2);
  EXPECT_EQ(back.string_data(1), std::string("a\0b", 3));

  p.add_string_data("extra");  // three values for two elements
  EXPECT_FALSE(TensorFromProto(p, "").ok());
}

}  // namespace
}  // namespace supernova::ir

#include "learn/embedder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ir/tensor_proto.h"
#include "optimizer/graph_builder.h"
#include "test_models.h"

namespace supernova::learn {
namespace {

using testing::GraphBuilder;
using testing::RandomTensor;

// Conv -> GlobalAveragePool -> Flatten -> Gemm [classes x 4] (transB) -> optional Softmax.
struct SmallClassifier {
  GraphBuilder b;
  std::string conv, flat, logits;
  SmallClassifier(int64_t classes, bool softmax) {
    const std::string x = b.Input("x", {2, 3, 8, 8});
    conv = b.Op("Conv", {x, b.Const("w", RandomTensor({4, 3, 3, 3}, 3))});
    flat = b.Op("Flatten", {b.Op("GlobalAveragePool", {conv})});
    logits = b.Op("Gemm", {flat, b.Const("fc_w", RandomTensor({classes, 4}, 4)),
                           b.Const("fc_b", RandomTensor({classes}, 5))});
    testing::SetInt(b.NodeOf(logits), "transB", 1);
    b.Output(softmax ? b.Op("Softmax", {logits}) : logits);
  }
};

TEST(ChooseLayer, AClassifierEmbedsAtItsFinalGemmsInput) {
  SmallClassifier softmax(10, true);
  Result<LayerChoice> c = ChooseLayer(softmax.b.model(), "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tensor, softmax.flat);
  EXPECT_NE(c->reason.find("Gemm"), std::string::npos) << c->reason;
  EXPECT_NE(c->reason.find("10 classes"), std::string::npos) << c->reason;
  // Logits without a Softmax: a classifier when it has ImageNet's thousand classes.
  SmallClassifier imagenet(1000, false);
  EXPECT_EQ(ChooseLayer(imagenet.b.model(), "")->tensor, imagenet.flat);
}

TEST(ChooseLayer, AnEmbeddingModelEmbedsAtItsOutput) {
  // A small dense layer at the end with no Softmax after it is a descriptor, not classes.
  SmallClassifier descriptor(16, false);
  Result<LayerChoice> c = ChooseLayer(descriptor.b.model(), "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tensor, descriptor.logits);
}

TEST(ChooseLayer, FindsAClassifierWhoseWeightsAreConstantNodes) {
  // As PP-OCR's exporter writes them: MatMul by a Constant node's output, Add, Softmax.
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 6});
  const std::string w = b.Op("Constant", {});
  ir::Attribute value;
  value.kind = ir::Attribute::Kind::kTensor;
  value.t = RandomTensor({6, 2}, 7);
  b.NodeOf(w).attributes["value"] = value;
  const std::string features = b.Op("Relu", {x});
  b.Output(b.Op("Softmax", {b.Op("Add", {b.Op("MatMul", {features, w}),
                                         b.Const("bias", RandomTensor({2}, 8))})}));
  Result<LayerChoice> c = ChooseLayer(b.model(), "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tensor, features) << c->reason;
  EXPECT_NE(c->reason.find("2 classes"), std::string::npos) << c->reason;
}

TEST(ChooseLayer, ANamedLayerIsCheckedAndABadOneNamesTheAlternatives) {
  SmallClassifier m(10, true);
  EXPECT_EQ(ChooseLayer(m.b.model(), m.conv)->tensor, m.conv);
  EXPECT_EQ(ChooseLayer(m.b.model(), m.conv)->reason, "--layer");
  for (const std::string& bad :
       {std::string("fc_w"), std::string("no_such_tensor"), std::string("x")}) {
    Result<LayerChoice> c = ChooseLayer(m.b.model(), bad);
    ASSERT_FALSE(c.ok()) << bad;
    const std::string& msg = c.status().message();
    EXPECT_NE(msg.find("'" + bad + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(m.b.model().graph.outputs[0]), std::string::npos) << msg;  // outputs
    EXPECT_NE(msg.find(m.flat), std::string::npos) << msg;                        // candidates
  }
  EXPECT_NE(ChooseLayer(m.b.model(), "fc_w").status().message().find("constant"),
            std::string::npos);
}

// The layer's values, from the source model with that layer as its output.
Tensor LayerValues(const ir::Model& model, const std::string& layer,
                   const std::vector<std::pair<std::string, Tensor>>& feeds) {
  ir::Model m = model;
  m.graph.outputs = {layer};
  auto out = testing::RunModel(m, OptimizationLevel::kNone, feeds);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? (*out)[0] : Tensor();
}

// Mean over every axis after the second, then each row divided by its L2 norm.
std::vector<float> PooledUnitRows(const Tensor& t) {
  const int64_t n = t.shape()[0], c = t.shape()[1], inner = t.numel() / (n * c);
  std::vector<float> out(static_cast<size_t>(n * c));
  for (int64_t i = 0; i < n; ++i) {
    double sq = 0;
    for (int64_t k = 0; k < c; ++k) {
      double s = 0;
      for (int64_t j = 0; j < inner; ++j) s += t.data<float>()[(i * c + k) * inner + j];
      out[i * c + k] = static_cast<float>(s / inner);
      sq += double{out[i * c + k]} * out[i * c + k];
    }
    for (int64_t k = 0; k < c; ++k) out[i * c + k] /= static_cast<float>(std::sqrt(sq));
  }
  return out;
}

void ExpectEmbeddingMatchesHand(const ir::Model& model, const std::string& layer,
                                const std::vector<std::pair<std::string, Tensor>>& feeds) {
  Result<ir::Model> cut = BuildEmbeddingModel(model, {layer, "test"});
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  ASSERT_EQ(cut->graph.outputs, std::vector<std::string>{kEmbeddingOutput});
  auto got = testing::RunModel(*cut, OptimizationLevel::kAll, feeds);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const Tensor& e = (*got)[0];
  const Tensor values = LayerValues(model, layer, feeds);
  const std::vector<float> want = PooledUnitRows(values);
  ASSERT_EQ(e.shape(), (Shape{values.shape()[0], values.shape()[1]}));
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(e.data<float>()[i], want[i], 1e-5) << i;
}

TEST(BuildEmbeddingModel, PoolsSpatialLayersAndNormalisesEveryRow) {
  for (int64_t opset : {13, 18}) {  // ReduceL2's axes: an attribute, then an input
    SCOPED_TRACE("opset " + std::to_string(opset));
    GraphBuilder b(opset);
    const std::string x = b.Input("x", {2, 3, 6, 5});
    const std::string conv = b.Op("Conv", {x, b.Const("w", RandomTensor({4, 3, 3, 3}, 3))});
    b.Output(b.Op("Relu", {conv}));
    ExpectEmbeddingMatchesHand(b.model(), conv, b.feeds());  // rank 4: GlobalAveragePool
    GraphBuilder seq(opset);
    const std::string tokens = seq.Op("Sigmoid", {seq.Input("t", {3, 4, 7})});
    seq.Output(seq.Op("Relu", {tokens}));
    ExpectEmbeddingMatchesHand(seq.model(), tokens, seq.feeds());  // rank 3: ReduceMean
  }
}

TEST(BuildEmbeddingModel, DropsWhatTheEmbeddingDoesNotNeedAndKeepsZerosFinite) {
  SmallClassifier m(10, true);
  Result<ir::Model> cut = BuildEmbeddingModel(m.b.model(), {m.flat, "test"});
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  for (const ir::Node& n : cut->graph.nodes) EXPECT_NE(n.op_type, "Gemm");
  EXPECT_EQ(cut->graph.initializers.count("fc_w"), 0u);
  // A layer that is all zeros (a ReLU of negatives) embeds as zeros, not NaN.
  GraphBuilder b;
  const std::string dead = b.Op("Relu", {b.Op("Neg", {b.Op("Abs", {b.Input("x", {1, 3})})})});
  b.Output(dead);
  cut = BuildEmbeddingModel(b.model(), {dead, "test"});
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  auto got = testing::RunModel(*cut, OptimizationLevel::kAll, b.feeds());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*got)[0].data<float>()[i], 0.0f);
}

TEST(Embedder, FindsTheFeatureSizeBehindASymbolicBatch) {
  // As exporters write it: a batch named N, the flattened features declared [?, ?].
  SmallClassifier m(1000, false);
  ir::Graph& g = m.b.model().graph;
  (*g.value_types["x"].dims)[0] = ir::Dim::Symbol("N");
  g.value_types[m.flat] = {DataType::kFloat32, std::vector<ir::Dim>{ir::Dim{}, ir::Dim{}}};
  auto e = Embedder::Open(m.b.model(), "h", {});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->layer().tensor, m.flat);
  EXPECT_EQ((*e)->dim(), 4);
  Result<Tensor> got = (*e)->Embed(m.b.feeds()[0].second);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->shape(), (Shape{2, 4}));
}

TEST(BuildEmbeddingModel, RefusesAModelWithTwoInputs) {
  GraphBuilder b;
  const std::string sum = b.Op("Add", {b.Input("a", {1, 4}), b.Input("b", {1, 4})});
  b.Output(sum);
  Result<ir::Model> cut = BuildEmbeddingModel(b.model(), {sum, "test"});
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("one input"), std::string::npos);
}

TEST(ContentHash, IsFnv1a64) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(ContentHash(""), "cbf29ce484222325");
  EXPECT_EQ(ContentHash("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(ContentHash("foobar"), "85944171f73967e8");
}

TEST(SplitIdentity, TheHashEndsAtTheFirstColonAndTheLayerMayHoldMore) {
  const IdentityParts p = SplitIdentity("85944171f73967e8:tower_0/block:3/out");
  EXPECT_EQ(p.model_hash, "85944171f73967e8");
  EXPECT_EQ(p.layer, "tower_0/block:3/out");
  EXPECT_EQ(SplitIdentity("no colon").layer, "");
  EXPECT_EQ(SplitIdentity("no colon").model_hash, "");
}

TEST(Embedder, FaceDescriptorsAreTheModelsOutputNormalised) {
  const std::string path =
      std::string(SUPERNOVA_SHARED_MODELS_DIR) + "/face_recognition_resnet29_128d.onnx";
  SUPERNOVA_REQUIRE_MODEL(path, testing::ModelRoot::kShared);
  EmbedderOptions options;
  options.session.num_threads = 2;
  auto embedder = Embedder::Open(path, options);
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  const Embedder& e = **embedder;
  EXPECT_EQ(e.layer().tensor, "descriptor");  // an embedding model: its own output
  EXPECT_EQ(e.dim(), 128);
  EXPECT_EQ(e.input().name, "image");
  auto bytes = ir::ReadFileBytes(path);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(e.identity(), ContentHash(*bytes) + ":descriptor");

  const Tensor image = RandomTensor({1, 3, 150, 150}, 11, 0.0f, 255.0f);
  Result<Tensor> got = e.Embed(image);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->shape(), (Shape{1, 128}));
  auto original = Session::Open(path, options.session);
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  std::vector<Tensor> out;
  ASSERT_TRUE((*original)->Run({{"image", image}}, &out).ok());
  const std::vector<float> want = PooledUnitRows(out[0]);
  double sq = 0;
  for (int i = 0; i < 128; ++i) {
    EXPECT_NEAR(got->data<float>()[i], want[i], 1e-5) << i;
    sq += double{got->data<float>()[i]} * got->data<float>()[i];
  }
  EXPECT_NEAR(sq, 1.0, 1e-5);
  EXPECT_FALSE(e.Embed(RandomTensor({1, 3, 64, 64})).ok());  // not the model's input size
}

}  // namespace
}  // namespace supernova::learn

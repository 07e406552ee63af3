#include "learn/imprint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "learn/embedder.h"
#include "optimizer/graph_builder.h"

namespace supernova::learn {
namespace {

using testing::GraphBuilder;
using testing::RandomTensor;

constexpr int64_t kDim = 6, kOriginal = 5, kBatch = 4;

// Conv -> GlobalAveragePool -> Flatten -> Gemm (or MatMul) to kOriginal classes -> Softmax: the
// weight is [kOriginal, kDim] with transB, [kDim, kOriginal] without.
struct ImprintSource {
  GraphBuilder b;
  Tensor weight;
  bool rows_stored;
  ImprintSource(const std::string& op, bool trans_b) : rows_stored(trans_b) {
    const std::string x = b.Input("x", {kBatch, 3, 8, 8});
    const std::string conv = b.Op("Conv", {x, b.Const("w", RandomTensor({kDim, 3, 3, 3}, 3))});
    const std::string flat = b.Op("Flatten", {b.Op("GlobalAveragePool", {conv})});
    weight = trans_b ? RandomTensor({kOriginal, kDim}, 4) : RandomTensor({kDim, kOriginal}, 4);
    std::vector<std::string> inputs = {flat, b.Const("fc_w", weight)};
    if (op == "Gemm") inputs.push_back(b.Const("fc_b", RandomTensor({kOriginal}, 5)));
    const std::string logits = b.Op(op, inputs);
    if (trans_b) testing::SetInt(b.NodeOf(logits), "transB", 1);
    b.Output(b.Op("Softmax", {logits}));
  }
  // Original class i's weight row, normalised.
  std::vector<float> UnitRow(int64_t i) const {
    std::vector<float> r(kDim);
    double sq = 0;
    for (int64_t j = 0; j < kDim; ++j) {
      r[j] = weight.data<float>()[rows_stored ? i * kDim + j : j * kOriginal + i];
      sq += double{r[j]} * r[j];
    }
    for (float& v : r) v = static_cast<float>(v / std::sqrt(sq));
    return r;
  }
};

ClassRecord RandomClass(const std::string& name, uint32_t seed) {
  ClassRecord r;
  r.name = name;
  const Tensor t = RandomTensor({kDim}, seed);
  r.prototype.assign(t.data<float>(), t.data<float>() + kDim);
  return r;
}

struct Imprinted {
  std::vector<Tensor> outputs;  // scores, class_index
  Tensor embeddings;
  ir::Model model;
};

// Opens the embedder on `source`, builds the imprinted model, writes and reads it back as ONNX
// and runs it on the source's feeds.
Imprinted RunImprinted(ImprintSource& source, const Classifier& classes,
                       const ImprintOptions& options) {
  Imprinted r;
  auto embedder = Embedder::Open(source.b.model(), "0123456789abcdef", {});
  EXPECT_TRUE(embedder.ok()) << embedder.status().ToString();
  if (!embedder.ok()) return r;
  const Embedder& e = **embedder;
  EXPECT_EQ(e.dim(), kDim);
  Result<Tensor> emb = e.Embed(source.b.feeds()[0].second);
  EXPECT_TRUE(emb.ok()) << emb.status().ToString();
  if (!emb.ok()) return r;
  r.embeddings = *emb;
  Result<ir::Model> m = BuildImprintedModel(source.b.model(), e.embedding_model(), e.layer().tensor,
                                            classes, e.identity(), options);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return r;
  auto bytes = ir::ExportOnnxBytes(*m);
  EXPECT_TRUE(bytes.ok());
  auto back = ir::ImportOnnxBytes(*bytes);
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  if (!back.ok()) return r;
  r.model = *back;
  auto session = Session::OpenBytes(*bytes);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (!session.ok()) return r;
  EXPECT_EQ((*session)->outputs()[0].name, kScoresOutput);
  EXPECT_EQ((*session)->outputs()[1].name, kClassIndexOutput);
  EXPECT_TRUE((*session)->Run(source.b.feeds(), &r.outputs).ok());
  return r;
}

std::string Prop(const ir::Model& m, const std::string& key) {
  for (const auto& [k, v] : m.metadata.props)
    if (k == key) return v;
  return "";
}

TEST(BuildImprintedModel, ScoresAndClassIndexAreTheClassifiers) {
  ImprintSource source("Gemm", true);
  const Classifier classes({RandomClass("cat", 21), RandomClass("dog", 22), RandomClass("fox", 23)},
                           kDim, Method::kImprint, 0);
  Imprinted r = RunImprinted(source, classes, {});
  ASSERT_EQ(r.outputs.size(), 2u);
  ASSERT_EQ(r.outputs[0].shape(), (Shape{kBatch, 3}));
  ASSERT_EQ(r.outputs[1].shape(), (Shape{kBatch}));
  ASSERT_EQ(r.outputs[1].dtype(), DataType::kInt64);
  std::set<int64_t> seen;
  for (int64_t i = 0; i < kBatch; ++i) {
    const float* e = r.embeddings.data<float>() + i * kDim;
    const std::vector<float> want = classes.Scores(e);
    for (int64_t c = 0; c < 3; ++c)
      EXPECT_NEAR(r.outputs[0].data<float>()[i * 3 + c], want[c], 1e-5) << i << "," << c;
    EXPECT_EQ(r.outputs[1].data<int64_t>()[i], classes.Classify(e).index) << i;
    seen.insert(r.outputs[1].data<int64_t>()[i]);
  }
  EXPECT_GT(seen.size(), 1u) << "every row the same class: the test would not see a wrong order";
  EXPECT_EQ(nlohmann::json::parse(Prop(r.model, "supernova.classes")),
            nlohmann::json({"cat", "dog", "fox"}));
  EXPECT_EQ(Prop(r.model, "supernova.embedder"), "0123456789abcdef:Flatten_2");
}

TEST(BuildImprintedModel, KeepsTheOriginalClassesFirstWithTheirRowsNormalised) {
  for (const auto& [op, trans_b] :
       {std::pair{"Gemm", true}, std::pair{"Gemm", false}, std::pair{"MatMul", false}}) {
    SCOPED_TRACE(std::string(op) + (trans_b ? " transB" : ""));
    ImprintSource source(op, trans_b);
    const Classifier classes({RandomClass("new", 31)}, kDim, Method::kImprint, 0);
    ImprintOptions options;
    options.keep_original = true;
    Imprinted r = RunImprinted(source, classes, options);
    ASSERT_EQ(r.outputs.size(), 2u);
    constexpr int64_t kAll = kOriginal + 1;
    ASSERT_EQ(r.outputs[0].shape(), (Shape{kBatch, kAll}));
    for (int64_t i = 0; i < kBatch; ++i) {
      const float* e = r.embeddings.data<float>() + i * kDim;
      std::vector<float> want(kAll);
      for (int64_t c = 0; c < kOriginal; ++c) {
        const std::vector<float> w = source.UnitRow(c);
        for (int64_t j = 0; j < kDim; ++j) want[c] += w[j] * e[j];
      }
      want[kOriginal] = classes.Scores(e)[0];
      int64_t best = 0;
      for (int64_t c = 0; c < kAll; ++c) {
        EXPECT_NEAR(r.outputs[0].data<float>()[i * kAll + c], want[c], 1e-5) << i << "," << c;
        if (want[c] > want[best]) best = c;
      }
      EXPECT_EQ(r.outputs[1].data<int64_t>()[i], best) << i;
    }
    const auto names = nlohmann::json::parse(Prop(r.model, "supernova.classes"));
    ASSERT_EQ(names.size(), static_cast<size_t>(kAll));
    EXPECT_EQ(names[0], "original:0");
    EXPECT_EQ(names[kOriginal], "new");
  }
}

TEST(BuildImprintedModel, RefusesWhatItCannotBuild) {
  ImprintSource source("Gemm", true);
  auto embedder = Embedder::Open(source.b.model(), "h", {});
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  const Embedder& e = **embedder;
  const Classifier one({RandomClass("a", 41)}, kDim, Method::kImprint, 0);
  ImprintOptions names;
  names.keep_original = true;
  names.original_names = {"only", "two"};
  Result<ir::Model> m =
      BuildImprintedModel(source.b.model(), e.embedding_model(), e.layer().tensor, one, "h", names);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("2 names for the 5 original classes"), std::string::npos)
      << m.status().message();
  // The conv output feeds no dense classifier: there are no original classes to keep.
  ImprintOptions keep;
  keep.keep_original = true;
  m = BuildImprintedModel(source.b.model(), e.embedding_model(), "Conv_0", one, "h", keep);
  EXPECT_FALSE(m.ok());
  // Prototypes of another dimension, or none at all.
  ClassRecord longer = RandomClass("b", 42);
  longer.prototype.push_back(1);
  const Classifier other({longer}, kDim + 1, Method::kImprint, 0);
  m = BuildImprintedModel(source.b.model(), e.embedding_model(), e.layer().tensor, other, "h", {});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("dimension 7"), std::string::npos) << m.status().message();
  const Classifier none({}, kDim, Method::kImprint, 0);
  m = BuildImprintedModel(source.b.model(), e.embedding_model(), e.layer().tensor, none, "h", {});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("no classes"), std::string::npos) << m.status().message();
}

}  // namespace
}  // namespace supernova::learn

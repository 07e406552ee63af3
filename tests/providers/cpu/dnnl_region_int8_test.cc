// QDQ models (QuantizeLinear/DequantizeLinear around weights and activations, as ONNX
// Runtime's quantizer writes them) in oneDNN regions: each case builds a small quantized model,
// runs it with the regions and with the reference kernels (which dequantize and compute in
// float), expects them to agree within one quantization step (the int8 sums are exact where
// the float ones round, so a value on a rounding boundary may land one step apart), and checks
// that the region compiled int8 primitives -- or, for the cases oneDNN's int8 path does not
// take, that the numbers are still right.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dnnl_region_helpers.h"
#include "ir/onnx_import.h"
#include "ops/shape_inference.h"
#include "providers/cpu/dnnl/region.h"
#include "providers/cpu/dnnl/region_builder.h"

namespace supernova::testing::region_test {
namespace {

// Quantizing helpers over ModelBuilder: every quantized tensor gets its scale and zero point
// as scalar initializers, named after a counter.
class QdqModel {
 public:
  explicit QdqModel(int64_t opset = 13) : mb(opset) {}

  // x -> QuantizeLinear(scale, zero) -> DequantizeLinear: what a quantized consumer reads.
  std::string Qdq(const std::string& x, float scale, int zero, bool int8 = false) {
    const std::string s = mb.Const(Name("s"), Floats({scale}, {}));
    const std::string z = mb.Const(
        Name("z"), int8 ? supernova::testing::Ints<int8_t>({static_cast<int8_t>(zero)}, {})
                        : supernova::testing::Ints<uint8_t>({static_cast<uint8_t>(zero)}, {}));
    return mb.Op("DequantizeLinear", {mb.Op("QuantizeLinear", {x, s, z}), s, z});
  }

  // A symmetric int8 weight of `shape` with one scale per slice along `axis` (per tensor when
  // axis < 0), through DequantizeLinear. Returns the DQ output; `scales` receives the scales.
  std::string Weight(const Shape& shape, int64_t axis, std::vector<float>* scales) {
    const int64_t channels = axis < 0 ? 1 : shape[axis];
    Tensor q(DataType::kInt8, shape);
    const Tensor r = RandomTensor(shape, 500 + counter_, -127.f, 127.f);
    for (int64_t i = 0; i < q.numel(); ++i)
      q.data<int8_t>()[i] = static_cast<int8_t>(std::lround(r.data<float>()[i]));
    scales->clear();
    for (int64_t c = 0; c < channels; ++c) scales->push_back(0.004f + 0.0005f * (c % 5));
    const Shape ss = axis < 0 ? Shape{} : Shape{channels};
    std::vector<int8_t> zeros(static_cast<size_t>(channels), 0);
    const std::string w = mb.Const(Name("w"), std::move(q));
    const std::string s = mb.Const(Name("ws"), Floats(*scales, ss));
    const std::string z = mb.Const(Name("wz"), supernova::testing::Ints<int8_t>(zeros, ss));
    if (axis < 0) return mb.Op("DequantizeLinear", {w, s, z});
    return mb.Op("DequantizeLinear", {w, s, z}, {Int("axis", axis)});
  }

  // An int32 bias quantized with x_scale * w_scale[m], as the quantizer writes it.
  std::string Bias(float x_scale, const std::vector<float>& w_scales, int64_t m) {
    std::vector<int32_t> q(static_cast<size_t>(m));
    std::vector<float> s(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i) {
      q[i] = static_cast<int32_t>((i * 37) % 201) - 100;
      s[i] = x_scale * w_scales[w_scales.size() == 1 ? 0 : i];
    }
    const std::string b = mb.Const(Name("b"), supernova::testing::Ints<int32_t>(q, {m}));
    const std::string bs = mb.Const(Name("bs"), Floats(s, {m}));
    const std::string bz = mb.Const(
        Name("bz"),
        supernova::testing::Ints<int32_t>(std::vector<int32_t>(static_cast<size_t>(m), 0), {m}));
    return mb.Op("DequantizeLinear", {b, bs, bz}, {Int("axis", 0)});
  }

  // A quantized Conv of `x` (already DQ'd, quantized with x_scale): k x k, pads k / 2.
  std::string Conv(const std::string& x, float x_scale, int64_t c, int64_t m, int64_t k,
                   int64_t group = 1) {
    std::vector<float> ws;
    const std::string w = Weight({m, c / group, k, k}, 0, &ws);
    std::vector<NamedAttr> attrs = {Ints("pads", {k / 2, k / 2, k / 2, k / 2})};
    if (group != 1) attrs.push_back(Int("group", group));
    return mb.Op("Conv", {x, w, Bias(x_scale, ws, m)}, std::move(attrs));
  }

  ModelBuilder mb;

 private:
  std::string Name(const char* what) { return what + std::to_string(counter_++); }
  int counter_ = 0;
};

// Runs with the regions and the reference kernels; every output within `steps` quantization
// steps of `step` (plus float rounding).
void ExpectInt8MatchesReference(const std::string& bytes, const Feeds& feeds, double step,
                                double steps = 1.0) {
  ExpectMatchesReference(bytes, feeds, 1, 1e-4, steps * step + 1e-5);
}

// The data types of the sources of the convolutions, deconvolutions and matmuls each region's
// plan runs, one string per primitive ("u8", "f32", ...), for the given feeds.
std::vector<std::string> ProductSourceTypes(const std::string& bytes, const Feeds& feeds) {
  std::vector<std::string> types;
  Result<ir::Model> model = ir::ImportOnnxBytes(bytes);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return types;
  ir::Graph& g = model->graph;
  ops::InferShapes(g);
  for (const auto& [begin, end] : cpu::dnnl_ops::Partition(g)) {
    std::vector<const ir::Node*> members;
    for (size_t k = begin; k < end; ++k) members.push_back(&g.nodes[k]);
    cpu::dnnl_ops::Region region(g, members);
    std::vector<const Tensor*> ins;
    for (const std::string& name : region.inputs())
      for (const auto& [feed, value] : feeds)
        if (feed == name) ins.push_back(&value);
    if (ins.size() != region.inputs().size()) {
      ADD_FAILURE() << "region input is not a graph input";
      continue;
    }
    const auto plan = cpu::dnnl_ops::BuildPlan(g, members, region.inputs(), region.outputs(),
                                               g.initializers, ins);
    EXPECT_FALSE(plan->reference) << plan->why;
    for (const auto& step : plan->steps) {
      if (!step.primitive) continue;
      using K = dnnl::primitive::kind;
      const K kind = step.primitive.get_kind();
      if (kind != K::convolution && kind != K::deconvolution && kind != K::matmul) continue;
      const dnnl_memory_desc_t* md =
          dnnl_primitive_desc_query_md(step.primitive.get_primitive_desc(), dnnl_query_src_md, 0);
      types.push_back(md->data_type == dnnl_u8 ? "u8" : md->data_type == dnnl_s8 ? "s8" : "f32");
    }
  }
  return types;
}

TEST(DnnlRegionInt8, ConvReluChainStaysInt8) {
  QdqModel q;
  const std::string x = q.mb.Input("x", {1, 3, 13, 11});
  std::string v = q.Qdq(x, 2.f / 255, 128);
  v = q.mb.Op("Relu", {q.Conv(v, 2.f / 255, 3, 16, 3)});
  v = q.Qdq(v, 3.f / 255, 0);
  v = q.mb.Op("Relu", {q.Conv(v, 3.f / 255, 16, 24, 1)});
  q.mb.Output(q.Qdq(v, 2.f / 255, 0));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 3, 13, 11}, 11)}};
  ExpectInt8MatchesReference(bytes, feeds, 2.f / 255);
  EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"u8", "u8"}));
}

}  // namespace
}  // namespace supernova::testing::region_test

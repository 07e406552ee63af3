// Helpers for the oneDNN region tests: small models built in code, run with the regions
// ({"cpu"}) and with the reference kernels ({"cpu_reference"}, the oracle), and a look at how
// the cpu provider partitions them and whether each region compiled a oneDNN plan.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/onnx_import.h"
#include "ops/nn_test_helpers.h"
#include "ops/shape_inference.h"
#include "providers/cpu/dnnl/region.h"
#include "supernova/session.h"
#include "test_util.h"

// Their own namespace: graph_builder.h has a RandomTensor of another signature.
namespace supernova::testing::region_test {

using nn::RandomTensor;
using Feeds = std::vector<std::pair<std::string, Tensor>>;

struct NamedAttr {
  std::string key;
  ir::Attribute value;
};
inline NamedAttr Int(std::string key, int64_t v) {
  NamedAttr a{std::move(key), {}};
  a.value.kind = ir::Attribute::Kind::kInt;
  a.value.i = v;
  return a;
}
inline NamedAttr Ints(std::string key, std::vector<int64_t> v) {
  NamedAttr a{std::move(key), {}};
  a.value.kind = ir::Attribute::Kind::kInts;
  a.value.ints = std::move(v);
  return a;
}
inline NamedAttr Float(std::string key, float v) {
  NamedAttr a{std::move(key), {}};
  a.value.kind = ir::Attribute::Kind::kFloat;
  a.value.f = v;
  return a;
}
inline NamedAttr Str(std::string key, std::string v) {
  NamedAttr a{std::move(key), {}};
  a.value.kind = ir::Attribute::Kind::kString;
  a.value.s = std::move(v);
  return a;
}

// A multi-node model built in code and exported through the project's own exporter. Weights
// are seeded random initializers, so every model (and so every run) is reproducible.
class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 17) {
    model_.graph.name = "dnnl_region_test";
    model_.graph.opsets[""] = opset;
  }

  // A float graph input; a negative dim is symbolic ("N").
  std::string Input(const std::string& name, const std::vector<int64_t>& dims) {
    ir::ValueType t;
    t.dtype = DataType::kFloat32;
    t.dims.emplace();
    for (int64_t d : dims) t.dims->push_back(d >= 0 ? ir::Dim::Known(d) : ir::Dim::Symbol("N"));
    model_.graph.inputs.push_back(name);
    model_.graph.value_types[name] = t;
    return name;
  }

  std::string Const(const std::string& name, Tensor value) {
    model_.graph.initializers[name] = std::move(value);
    return name;
  }
  // Uniform in [lo, hi), seeded by the constant's position in the model.
  std::string Random(const std::string& name, const Shape& shape, float lo = -0.5f,
                     float hi = 0.5f) {
    return Const(name, RandomTensor(shape, 1000 + seed_++, lo, hi));
  }

  // Adds a node and returns its (single) output's name.
  std::string Op(const std::string& op, std::vector<std::string> inputs,
                 std::vector<NamedAttr> attrs = {}, const std::string& domain = "") {
    ir::Node& n = model_.graph.nodes.emplace_back();
    n.name = op + "_" + std::to_string(model_.graph.nodes.size());
    n.op_type = op;
    n.domain = domain;
    if (!domain.empty() && !model_.graph.opsets.count(domain)) model_.graph.opsets[domain] = 1;
    n.inputs = std::move(inputs);
    n.outputs = {n.name + "_out"};
    for (NamedAttr& a : attrs) n.attributes[a.key] = std::move(a.value);
    return n.outputs[0];
  }

  // Names the outputs of the node added last ("" omits one), for ops with several outputs.
  std::vector<std::string> Outputs(std::vector<std::string> names) {
    model_.graph.nodes.back().outputs = names;
    return names;
  }

  // Conv with random weights [m, c/group, k, k] and bias.
  std::string Conv(const std::string& x, int64_t c, int64_t m, int64_t k,
                   std::vector<NamedAttr> attrs = {}, int64_t group = 1) {
    const std::string w = Random("w" + std::to_string(seed_), {m, c / group, k, k});
    const std::string b = Random("b" + std::to_string(seed_), {m});
    if (group != 1) attrs.push_back(Int("group", group));
    return Op("Conv", {x, w, b}, std::move(attrs));
  }

  // BatchNormalization with random statistics (positive variance).
  std::string BatchNorm(const std::string& x, int64_t c) {
    const std::string s = std::to_string(seed_);
    return Op("BatchNormalization",
              {x, Random("scale" + s, {c}, 0.5f, 1.5f), Random("bias" + s, {c}),
               Random("mean" + s, {c}), Random("var" + s, {c}, 0.5f, 2.0f)},
              {Float("epsilon", 1e-5f)});
  }

  void Output(const std::string& name) { model_.graph.outputs.push_back(name); }

  std::string Bytes() const {
    Result<std::string> bytes = ir::ExportOnnxBytes(model_);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    return bytes.ok() ? *bytes : std::string();
  }

 private:
  ir::Model model_;
  uint32_t seed_ = 0;
};

inline Result<std::vector<Tensor>> RunModel(const std::string& bytes, const std::string& provider,
                                            const Feeds& feeds, int threads = 1) {
  SessionOptions opts;
  opts.providers = {provider};
  opts.num_threads = threads;
  SN_ASSIGN_OR_RETURN(auto session, Session::OpenBytes(bytes, opts));
  std::vector<Tensor> outs;
  SN_RETURN_IF_ERROR(session->Run(feeds, &outs));
  return outs;
}

// Runs `bytes` with the regions and with the reference kernels and compares every output
// within atol absolute + rtol relative. Returns the region outputs.
inline std::vector<Tensor> ExpectMatchesReference(const std::string& bytes, const Feeds& feeds,
                                                  int threads = 1, double rtol = 1e-4,
                                                  double atol = 1e-4) {
  auto expected = RunModel(bytes, "cpu_reference", feeds, threads);
  auto actual = RunModel(bytes, "cpu", feeds, threads);
  EXPECT_TRUE(expected.ok()) << expected.status().ToString();
  EXPECT_TRUE(actual.ok()) << actual.status().ToString();
  if (!expected.ok() || !actual.ok()) return {};
  EXPECT_EQ(actual->size(), expected->size());
  for (size_t i = 0; i < actual->size() && i < expected->size(); ++i)
    EXPECT_TRUE(TensorsNear((*expected)[i], (*actual)[i], rtol, atol)) << "output " << i;
  return std::move(actual).value();
}

// How Session::Prepare would split the model into regions, and what each region's plan does
// with the given feeds.
struct Partitioning {
  size_t nodes = 0;            // nodes in the graph
  size_t nodes_in_region = 0;  // of which inside some region
  std::vector<std::string> described;
  std::vector<std::string> fallback;  // per region: FallbackReason ("" = oneDNN)
};

// Region inputs must be graph inputs here (the tests' models start their regions at the graph
// inputs), so the feeds give every region input's shape.
inline Partitioning Partition(const std::string& bytes, const Feeds& feeds, int threads = 1) {
  Partitioning p;
  Result<ir::Model> model = ir::ImportOnnxBytes(bytes);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return p;
  ir::Graph& g = model->graph;
  ops::InferShapes(g);
  const auto ranges = cpu::dnnl_ops::Partition(g);
  p.nodes = g.nodes.size();
  for (const auto& [begin, end] : ranges) {
    std::vector<const ir::Node*> members;
    for (size_t k = begin; k < end; ++k) members.push_back(&g.nodes[k]);
    p.nodes_in_region += members.size();
    cpu::dnnl_ops::Region region(g, std::move(members));
    p.described.push_back(region.Describe());
    std::vector<const Tensor*> ins;
    for (const std::string& name : region.inputs()) {
      const Tensor* t = nullptr;
      for (const auto& [feed, value] : feeds)
        if (feed == name) t = &value;
      EXPECT_NE(t, nullptr) << "region input '" << name << "' is not a graph input";
      ins.push_back(t);
    }
    p.fallback.push_back(region.FallbackReason(ins, threads));
  }
  return p;
}

// The whole model is one region and oneDNN compiled it for these feeds.
inline void ExpectOneDnnRegion(const std::string& bytes, const Feeds& feeds, int threads = 1) {
  const Partitioning p = Partition(bytes, feeds, threads);
  ASSERT_EQ(p.fallback.size(), 1u) << "expected exactly one region";
  EXPECT_EQ(p.nodes_in_region, p.nodes) << p.described[0] << " does not hold every node";
  EXPECT_EQ(p.fallback[0], "") << p.described[0] << " fell back to the reference kernels";
}

// The whole model is one region, and its plan falls back to the reference kernels.
inline void ExpectFallbackRegion(const std::string& bytes, const Feeds& feeds,
                                 const std::string& reason_part) {
  const Partitioning p = Partition(bytes, feeds);
  ASSERT_EQ(p.fallback.size(), 1u) << "expected exactly one region";
  EXPECT_EQ(p.nodes_in_region, p.nodes);
  EXPECT_NE(p.fallback[0].find(reason_part), std::string::npos)
      << "fallback reason: '" << p.fallback[0] << "'";
}

// Checks both numbers and the oneDNN plan: the common shape of a case.
inline void ExpectOneDnnMatchesReference(const std::string& bytes, const Feeds& feeds,
                                         int threads = 1) {
  ExpectMatchesReference(bytes, feeds, threads);
  ExpectOneDnnRegion(bytes, feeds, threads);
}

}  // namespace supernova::testing::region_test

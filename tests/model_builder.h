// Small multi-node models built in code and exported through the project's own exporter
// (the oneDNN region tests, the ONNX Runtime peer checks): inputs, seeded random
// initializers, nodes of any domain with their attributes.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "ir/onnx_import.h"
#include "ops/nn_test_helpers.h"
#include "supernova/session.h"
#include "supernova/tensor.h"

// Their own namespace: graph_builder.h has a RandomTensor of another signature.
namespace supernova::testing::model_builder {

using nn::RandomTensor;

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

// A multi-node model. Weights are seeded random initializers, so every model (and so every
// run) is reproducible.
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

using Feeds = std::vector<std::pair<std::string, Tensor>>;

// The model's outputs on `provider` alone, with `threads` threads, optimized at `level`.
inline Result<std::vector<Tensor>> RunModel(
    const std::string& bytes, const std::string& provider, const Feeds& feeds, int threads = 1,
    OptimizationLevel level = SessionOptions().optimization) {
  SessionOptions opts;
  opts.providers = {provider};
  opts.num_threads = threads;
  opts.optimization = level;
  SN_ASSIGN_OR_RETURN(auto session, Session::OpenBytes(bytes, opts));
  std::vector<Tensor> outs;
  SN_RETURN_IF_ERROR(session->Run(feeds, &outs));
  return outs;
}

// RunModel's outputs at `level`, one thread; none, the failure recorded, where the model does
// not open or run.
inline std::vector<Tensor> OutputsOf(const std::string& bytes, const std::string& provider,
                                     const Feeds& feeds, OptimizationLevel level) {
  Result<std::vector<Tensor>> outs = RunModel(bytes, provider, feeds, 1, level);
  EXPECT_TRUE(outs.ok()) << provider << ": " << outs.status().ToString();
  return outs.ok() ? std::move(*outs) : std::vector<Tensor>();
}

}  // namespace supernova::testing::model_builder

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
#include "model_builder.h"
#include "ops/nn_test_helpers.h"
#include "ops/shape_inference.h"
#include "providers/cpu/dnnl/region.h"
#include "supernova/session.h"
#include "test_util.h"

// Their own namespace: graph_builder.h has a RandomTensor of another signature.
namespace supernova::testing::region_test {

using model_builder::Feeds;
using model_builder::OutputsOf;
using model_builder::RunModel;
using nn::RandomTensor;

using model_builder::Float;
using model_builder::Int;
using model_builder::Ints;
using model_builder::ModelBuilder;
using model_builder::NamedAttr;
using model_builder::Str;

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

// A look inside the cpu provider's oneDNN regions for the int8 tests: which primitives each
// region's plan runs and the data types they read and write.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dnnl_region_helpers.h"
#include "optimizer/optimizer.h"
#include "providers/cpu/dnnl/region_builder.h"

namespace supernova::testing::region_test {

// One primitive of a region's plan: its kind and the data types of its source and
// destination ("u8", "s8", "f32", ...).
struct PlanStep {
  dnnl::primitive::kind kind;
  std::string src, dst;
};

inline std::string TypeName(const dnnl_memory_desc_t* md) {
  if (!md) return "";
  switch (md->data_type) {
    case dnnl_u8:
      return "u8";
    case dnnl_s8:
      return "s8";
    case dnnl_f32:
      return "f32";
    default:
      return "other";
  }
}

// The primitives each region's plan runs for the given feeds, in order; with `optimize`, of
// the graph a session runs (the optimizer's fusions made).
inline std::vector<PlanStep> PlanSteps(const std::string& bytes, const Feeds& feeds,
                                       bool optimize) {
  std::vector<PlanStep> steps;
  Result<ir::Model> model = ir::ImportOnnxBytes(bytes);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return steps;
  ir::Graph& g = model->graph;
  ops::InferShapes(g);
  if (optimize) {
    const Status s = optimizer::Optimize(g, OptimizationLevel::kAll);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  for (const auto& [begin, end] : cpu::dnnl_ops::Partition(g)) {
    std::vector<const ir::Node*> members;
    for (size_t k = begin; k < end; ++k) members.push_back(&g.nodes[k]);
    cpu::dnnl_ops::Region region(g, members);
    // A region input that is no graph input gets zeros of its inferred type and shape.
    std::vector<Tensor> made;
    made.reserve(region.inputs().size());
    std::vector<const Tensor*> ins;
    for (const std::string& name : region.inputs()) {
      const Tensor* t = nullptr;
      for (const auto& [feed, value] : feeds)
        if (feed == name) t = &value;
      const ir::ValueType* vt = g.TypeOf(name);
      if (!t && vt && vt->HasStaticShape()) {
        made.emplace_back(vt->dtype, vt->StaticShape());
        std::fill_n(static_cast<char*>(made.back().raw_data()), made.back().nbytes(), 0);
        t = &made.back();
      }
      if (!t) ADD_FAILURE() << "no shape for region input " << name;
      ins.push_back(t);
    }
    if (std::count(ins.begin(), ins.end(), nullptr)) continue;
    const auto plan = cpu::dnnl_ops::BuildPlan(g, members, region.inputs(), region.outputs(),
                                               g.initializers, ins);
    EXPECT_FALSE(plan->reference) << plan->why;
    for (const auto& step : plan->steps) {
      if (!step.primitive) continue;
      const_dnnl_primitive_desc_t pd = step.primitive.get_primitive_desc();
      steps.push_back({step.primitive.get_kind(),
                       TypeName(dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0)),
                       TypeName(dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0))});
    }
  }
  return steps;
}

// The data types of the sources (or destinations) of the convolutions, deconvolutions and
// matmuls each region's plan runs, one string per primitive ("u8", "f32", ...).
inline std::vector<std::string> ProductTypes(const std::string& bytes, const Feeds& feeds,
                                             bool destination = false, bool optimize = false) {
  using K = dnnl::primitive::kind;
  std::vector<std::string> types;
  for (const PlanStep& s : PlanSteps(bytes, feeds, optimize))
    if (s.kind == K::convolution || s.kind == K::deconvolution || s.kind == K::matmul)
      types.push_back(destination ? s.dst : s.src);
  return types;
}

}  // namespace supernova::testing::region_test

// The three-device example the placement tests share (placement_model_test.cc works its
// figures by hand): a camera, an edge box and a cloud in a chain, one pipeline of two stages.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "collab/placement_model.h"

namespace supernova::collab {

// cam (end) -- 100 Mbit/s, 2 ms -- edge -- 20 Mbit/s, 40 ms -- cloud
inline constexpr const char* kThreeTopology = R"({
  "devices": [
    {"name": "cam", "tier": "end", "speed": 0.25, "active_w": 5, "idle_w": 2},
    {"name": "edge", "tier": "edge", "speed": 1, "active_w": 30, "idle_w": 10,
     "cost_per_hour": 0.5},
    {"name": "cloud", "tier": "cloud", "speed": 4, "active_w": 200, "idle_w": 100,
     "cost_per_hour": 3, "capacity": 4}
  ],
  "links": [
    {"from": "cam", "to": "edge", "bandwidth_mbit": 100, "rtt_ms": 2, "energy_nj_per_bit": 50},
    {"from": "edge", "to": "cloud", "bandwidth_mbit": 20, "rtt_ms": 40, "energy_nj_per_bit": 10}
  ]
})";

inline constexpr const char* kThreeWorkload = R"({
  "pipelines": [
    {"name": "door", "source": "cam", "rate": 10, "slo_ms": 200, "stages": [
      {"name": "detect", "model": "det", "ref_ms": 20, "input_bytes": 100000,
       "output_bytes": 2000},
      {"name": "embed", "model": "emb", "ref_ms": 10, "input_bytes": 20000, "output_bytes": 512}
    ]}
  ]
})";

// `workload` replaces the pipeline text (kThreeWorkload with edits).
inline PlacementProblem Three(std::vector<Constraint> constraints = {},
                              const std::string& workload = kThreeWorkload) {
  auto topo = ParseTopology(kThreeTopology, "topology");
  EXPECT_TRUE(topo.ok()) << topo.status().ToString();
  auto work = ParseWorkload(workload, "workload", *topo);
  EXPECT_TRUE(work.ok()) << work.status().ToString();
  auto p = PlacementProblem::Create(*topo, *work, std::move(constraints));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return std::move(p).value();
}

inline constexpr int kCam = 0, kEdge = 1, kCloud = 2;

}  // namespace supernova::collab

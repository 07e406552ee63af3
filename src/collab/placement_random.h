// Random placement instances of a chosen size, for testing the search against exhaustive
// enumeration and for bench/placement.sh: end devices feeding edge devices feeding clouds,
// with figures in the ranges of cameras, edge boxes and cloud servers.
//
//   Instance inst = RandomInstance({.devices = 6, .pipelines = 2, .stages = 3, .seed = 7});
//
// The same options give the same instance everywhere (SeededDraw).
#pragma once

#include <cstdint>

#include "collab/topology.h"

namespace supernova::collab {

struct RandomInstanceOptions {
  int devices = 5;  // at least 3: one end, one edge, one cloud
  int pipelines = 2;
  int stages = 3;  // per pipeline
  uint64_t seed = 1;
};

struct Instance {
  Topology topology;
  Workload workload;
};

Instance RandomInstance(const RandomInstanceOptions& options);

}  // namespace supernova::collab

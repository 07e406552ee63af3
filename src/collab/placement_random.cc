#include "collab/placement_random.h"

#include <fmt/format.h>

#include <algorithm>

#include "collab/nsga2.h"

namespace supernova::collab {

Instance RandomInstance(const RandomInstanceOptions& options) {
  SeededDraw draw(options.seed);
  Instance inst;
  Topology& topo = inst.topology;
  const int n = std::max(3, options.devices);
  // A third end devices, one cloud per four devices, the rest edge boxes.
  const int ends = std::max(1, n / 3), clouds = std::max(1, n / 4), edges = n - ends - clouds;
  for (int i = 0; i < n; ++i) {
    Device d;
    if (i < ends) {
      d.name = fmt::format("end{}", i);
      d.tier = Tier::kEnd;
      d.speed = draw.Between(0.1, 0.4);
      d.idle_w = draw.Between(1, 3);
      d.active_w = d.idle_w + draw.Between(1, 5);
    } else if (i < ends + edges) {
      d.name = fmt::format("edge{}", i - ends);
      d.tier = Tier::kEdge;
      d.speed = draw.Between(0.7, 2);
      d.idle_w = draw.Between(8, 20);
      d.active_w = d.idle_w + draw.Between(10, 40);
      d.cost_per_hour = draw.Between(0.02, 0.2);
      d.capacity = 1 + static_cast<int>(draw.Below(2));
    } else {
      d.name = fmt::format("cloud{}", i - ends - edges);
      d.tier = Tier::kCloud;
      d.speed = draw.Between(3, 8);
      d.idle_w = draw.Between(80, 150);
      d.active_w = d.idle_w + draw.Between(50, 200);
      d.cost_per_hour = draw.Between(0.5, 3);
      d.capacity = 4 + static_cast<int>(draw.Below(5));
    }
    topo.devices.push_back(d);
  }
  auto join = [&](int a, int b, double bw_lo, double bw_hi, double rtt_lo, double rtt_hi,
                  double nj) {
    NetLink l;
    l.a = a;
    l.b = b;
    l.link = Link{draw.Between(bw_lo, bw_hi), draw.Between(rtt_lo, rtt_hi), 0};
    l.energy_nj_per_bit = nj * draw.Between(0.5, 1.5);
    topo.links.push_back(l);
  };
  // Each end device reaches one edge box (or the cloud directly when there is none); edge
  // boxes reach each other over a LAN and every cloud over the WAN.
  for (int e = 0; e < ends; ++e) {
    const int to = edges > 0 ? ends + static_cast<int>(draw.Below(edges)) : ends;
    join(e, to, 10, 100, 2, 10, 50);
  }
  for (int a = ends; a < ends + edges; ++a) {
    for (int b = a + 1; b < ends + edges; ++b) join(a, b, 100, 1000, 0.5, 2, 5);
    for (int c = ends + edges; c < n; ++c) join(a, c, 5, 100, 20, 80, 15);
  }
  if (edges == 0)
    for (int c = ends + 1; c < n; ++c) join(ends, c, 100, 1000, 1, 5, 5);
  for (int p = 0; p < options.pipelines; ++p) {
    Pipeline pipe;
    pipe.name = fmt::format("p{}", p);
    pipe.source = pipe.sink = static_cast<int>(draw.Below(ends));
    pipe.rate = draw.Between(1, 15);
    pipe.slo_ms = draw.Between(150, 600);
    double bytes = draw.Between(20e3, 200e3);
    for (int s = 0; s < options.stages; ++s) {
      Stage st;
      st.name = fmt::format("s{}", s);
      st.model = fmt::format("m{}", draw.Below(4));
      st.ref_ms = draw.Between(3, 30);
      st.input_bytes = bytes;
      st.output_bytes = bytes = draw.Between(1e3, 50e3);
      pipe.stages.push_back(st);
    }
    inst.workload.pipelines.push_back(pipe);
  }
  return inst;
}

}  // namespace supernova::collab

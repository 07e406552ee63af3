// What the placement planner places and where: a topology of devices joined by links, and a
// workload of pipelines whose stages run models. Both are JSON files (docs/placement.md):
//
//   SN_ASSIGN_OR_RETURN(Topology topo, LoadTopology("examples/placement/topology.json"));
//   SN_ASSIGN_OR_RETURN(Workload work, LoadWorkload("examples/placement/workload.json", topo));
//
// Parsing checks everything the model relies on (positive speeds and bandwidths, known device
// and model names, a route from every source to every device), so that evaluating a plan never
// meets a malformed figure; every failure is one line naming the file's field.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "collab/link.h"
#include "supernova/status.h"

namespace supernova::collab {

enum class Tier { kEnd, kEdge, kCloud };
const char* TierName(Tier tier);

struct Device {
  std::string name;
  Tier tier = Tier::kEdge;
  // A model's compute time here is its measured time in `ms` if listed, else its reference
  // time divided by `speed`. A device with speed 0 runs only the models it lists.
  double speed = 0;
  std::map<std::string, double> ms;
  double active_w = 0, idle_w = 0;  // power busy and idle
  double cost_per_hour = 0;         // paid while the plan uses the device
  int capacity = 1;                 // items computed at once (cores, streams)
  double load = 0;                  // share of its capacity already taken by other work, 0..1
};

// A link between two devices, used in both directions (full duplex: each direction has the
// whole bandwidth).
struct NetLink {
  int a = 0, b = 0;  // device indices
  Link link;
  double energy_nj_per_bit = 0;  // radio/NIC energy, both ends together
};

struct Topology {
  std::vector<Device> devices;
  std::vector<NetLink> links;
  int FindDevice(const std::string& name) const;  // -1 when none
  // The link between two devices in either direction; -1 when none.
  int FindLink(int a, int b) const;
  // Links an item crosses from `from` to `to`, in order: the route with the fewest hops, ties
  // broken by the lower sum of RTTs (fixed routes, as IP routing gives). Empty when from == to;
  // `ok` false when the devices are not connected.
  std::vector<int> Route(int from, int to, bool* ok) const;
};

struct Stage {
  std::string name;
  std::string model;
  double ref_ms = 0;        // compute time on the reference device (speed 1)
  double input_bytes = 0;   // what the stage receives per item
  double output_bytes = 0;  // what it produces per item
};

struct Pipeline {
  std::string name;
  int source = 0;     // device the items come from
  int sink = 0;       // device the results go to (the source unless named)
  double rate = 0;    // items per second
  double slo_ms = 0;  // end to end, source to sink; 0: none
  std::vector<Stage> stages;
};

struct Workload {
  std::vector<Pipeline> pipelines;
  int StageCount() const;
};

// Parsing from text (`what` names the source in errors) and from files.
Result<Topology> ParseTopology(const std::string& text, const std::string& what);
Result<Workload> ParseWorkload(const std::string& text, const std::string& what,
                               const Topology& topology);
Result<Topology> LoadTopology(const std::string& path);
Result<Workload> LoadWorkload(const std::string& path, const Topology& topology);

// Reads a whole file; NotFound with the path when it cannot.
Result<std::string> ReadTextFile(const std::string& path);

}  // namespace supernova::collab

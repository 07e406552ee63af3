// A model's profile on one machine: the time of every node of the SOURCE model (the ONNX
// file's nodes, by NodeKey) and the dtype, shape and bytes of every tensor, as
// `supernova profile` measures them and `supernova split` reads them (docs/collab.md).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::collab {

struct TensorStat {
  DataType dtype = DataType::kUndefined;
  Shape shape;
  size_t bytes = 0;
};

struct ProfiledNode {
  std::string key;  // NodeKey: the name, or the first output of an unnamed node
  std::string op_type;
  double ms = 0;    // attributed time, slowdown applied
  double macs = 0;  // multiply-accumulates at the profiled shapes (0 for uncounted ops)
};

struct Profile {
  std::string model;        // file name of the model
  std::string fingerprint;  // ModelFingerprint of its graph
  int threads = 1;
  double slowdown = 1;  // every time below is the measured one times this
  int iterations = 0;
  double total_ms = 0;      // the whole model's median run, slowdown applied; = sum of nodes
  double measured_ms = 0;   // the same as measured, without the slowdown
  std::string attribution;  // how step times became node times, in words
  std::map<std::string, Shape> input_shapes;
  std::vector<ProfiledNode> nodes;  // in the model's order
  std::map<std::string, TensorStat> tensors;
};

// A digest of the graph's node keys and op types: a profile of another model (or of another
// export of it) does not match.
std::string ModelFingerprint(const ir::Graph& graph);
// Fails, naming `what` ("edge profile E.json") and the model the profile is of, when `profile`
// was not measured on `graph`.
Status CheckProfileMatches(const Profile& profile, const ir::Graph& graph, const std::string& what);

Status WriteProfile(const Profile& profile, const std::string& path);
Result<Profile> ReadProfile(const std::string& path);

}  // namespace supernova::collab

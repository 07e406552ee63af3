// DIR/plan.json of a split directory, as `supernova split` writes it (the format is the split
// spec's, docs/collab.md): the candidate cuts with their predictions and, for the
// materialized ones, where their head and tail models are.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "collab/link.h"
#include "supernova/status.h"

namespace supernova::collab {

enum class CutKind { kSplit, kEdgeOnly, kCloudOnly };
const char* CutKindName(CutKind kind);  // "split", "edge_only", "cloud_only"

struct PlanCandidate {
  int id = -1;
  CutKind kind = CutKind::kSplit;
  std::vector<std::string> tensors;       // the cut, in the source model's names
  std::vector<std::string> head_outputs;  // as sent (after the codec) = the tail's inputs
  double edge_ms = 0, cloud_ms = 0;       // predicted compute
  size_t bytes = 0, sent_bytes = 0, result_bytes = 0;
  double transfer_ms = 0, total_ms = 0, energy_mj = 0;
  bool materialized = false;
  std::string head;        // relative to DIR; empty for cloud-only
  std::string tail_model;  // a model of DIR/repository; empty for edge-only
};

// plan.json as the runner reads it. `supernova split` writes it from collab::SplitPlan
// (collab/split_plan.h); the two are distinct types of one namespace, each with its own name,
// so that a program linking both cannot merge their inline members.
struct SplitPlanFile {
  std::string dir;  // where plan.json was read
  int version = 0;
  std::string model, name;
  std::vector<std::string> inputs, outputs;
  std::string objective, codec;
  Link link;  // the link the plan was made for: the runner's guess until it measures one
  double edge_slowdown = 1;
  int chosen = -1;
  std::vector<PlanCandidate> candidates;

  const PlanCandidate* Find(int id) const;
  // Absolute paths of a candidate's models.
  std::string HeadPath(const PlanCandidate& c) const;
  std::string TailPath(const PlanCandidate& c) const;  // DIR/repository/<tail>/1/model.onnx
};

// Reads and checks DIR/plan.json: version 1, the fields the runner needs, one edge-only
// candidate, and for every materialized candidate the files it names present. Errors name
// the file and the field.
Result<SplitPlanFile> ReadSplitPlan(const std::string& dir);

}  // namespace supernova::collab

// Writing a split directory (docs/collab.md): plan.json, the chosen cut's head.onnx and
// tail.onnx, the head of every materialized candidate under cuts/<id>/, and its tail in the
// Triton layout under repository/<tail_model>/1/model.onnx, so that one directory serves
// every tail in the cloud and lets the edge run any of them locally.
#pragma once

#include <string>

#include "collab/profile.h"
#include "collab/split_plan.h"
#include "ir/onnx_import.h"

namespace supernova::collab {

// Builds everything in DIR.tmp and renames it to DIR only once all is written, so a failure
// leaves no half directory. An existing DIR is replaced only when it is a split directory
// (it holds plan.json); any other existing DIR is an error. `edge` gives the tensors' types
// where the model does not declare them.
Status WriteSplitDirectory(const ir::Model& model, const SplitPlan& plan, const Profile& edge,
                           const std::string& dir);

}  // namespace supernova::collab

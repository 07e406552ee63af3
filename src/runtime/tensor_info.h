// A graph value described as the public API does (Session::inputs()), for code that reads a
// model through the importer: the session itself and the benchmark's peers.
#pragma once

#include <string>

#include "ir/graph.h"
#include "supernova/session.h"

namespace supernova::runtime {

// Name, dtype and (when the rank is known) dims with their symbols, from graph.value_types.
TensorInfo DescribeValue(const ir::Graph& graph, const std::string& name);

}  // namespace supernova::runtime

// supernova-serve's backend for the platform "supernova_split": the edge side of a model
// that `supernova split` cut, served as one model (serve_split.cc, docs/collab.md).
#pragma once

#include "server/backend.h"

namespace supernova::tools {

server::BackendFactory SplitBackendFactory();

}  // namespace supernova::tools

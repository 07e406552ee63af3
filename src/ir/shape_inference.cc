#include "ir/shape_inference.h"

namespace supernova::ir {

size_t InferShapes(Graph&) { return 0; }

}  // namespace supernova::ir

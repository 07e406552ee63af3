// How deep an ONNX file's messages nest, read from the wire format without protobuf's
// recursive parser: when a parse fails, this tells a model nested beyond protobuf's recursion
// limit (Loop/If/Scan bodies within bodies, sequence types within sequence types) from
// corrupt bytes, so that the error can say which.
#pragma once

#include <string_view>

namespace supernova::ir {

// The deepest nesting of messages along the paths that can recurse in an ONNX ModelProto
// (graph -> node -> attribute -> graph, and type -> sequence/map/optional -> type); the
// ModelProto itself is depth 0. Iterative, linear in the input; stops at bytes that do not
// parse and returns the depth reached so far.
int OnnxNestingDepth(std::string_view model_bytes);

}  // namespace supernova::ir

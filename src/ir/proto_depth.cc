#include "ir/proto_depth.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace supernova::ir {
namespace {

// The messages on a recursive path, and for each its fields that hold one of them (field
// numbers from onnx.proto). Fields not listed are skipped unread.
enum class Kind { kModel, kGraph, kFunction, kNode, kAttribute, kValueInfo, kType, kTypeElem };

Kind const* ChildOf(Kind parent, uint64_t field) {
  static constexpr Kind kGraph = Kind::kGraph, kFunction = Kind::kFunction, kNode = Kind::kNode,
                        kAttribute = Kind::kAttribute, kValueInfo = Kind::kValueInfo,
                        kType = Kind::kType, kTypeElem = Kind::kTypeElem;
  switch (parent) {
    case Kind::kModel:  // graph = 7, functions = 25
      return field == 7 ? &kGraph : field == 25 ? &kFunction : nullptr;
    case Kind::kGraph:  // node = 1, input = 11, output = 12, value_info = 13
      return field == 1 ? &kNode : (field >= 11 && field <= 13) ? &kValueInfo : nullptr;
    case Kind::kFunction:  // node = 7
      return field == 7 ? &kNode : nullptr;
    case Kind::kNode:  // attribute = 5
      return field == 5 ? &kAttribute : nullptr;
    case Kind::kAttribute:  // g = 6, graphs = 11, tp = 14, type_protos = 15
      return field == 6 || field == 11 ? &kGraph : field == 14 || field == 15 ? &kType : nullptr;
    case Kind::kValueInfo:  // type = 2
      return field == 2 ? &kType : nullptr;
    case Kind::kType:  // sequence_type = 4, map_type = 5, optional_type = 9
      return field == 4 || field == 5 || field == 9 ? &kTypeElem : nullptr;
    case Kind::kTypeElem:  // Sequence/Optional.elem_type = 1, Map.value_type = 2
      return field == 1 || field == 2 ? &kType : nullptr;
  }
  return nullptr;
}

bool ReadVarint(const uint8_t*& p, const uint8_t* end, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const uint8_t b = *p++;
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

}  // namespace

int OnnxNestingDepth(std::string_view model_bytes) {
  struct Frame {
    Kind kind;
    const uint8_t* end;
  };
  const auto* p = reinterpret_cast<const uint8_t*>(model_bytes.data());
  std::vector<Frame> stack{{Kind::kModel, p + model_bytes.size()}};
  int deepest = 0;
  while (!stack.empty()) {
    const Frame top = stack.back();
    if (p >= top.end) {
      stack.pop_back();
      continue;
    }
    uint64_t tag = 0, v = 0;
    if (!ReadVarint(p, top.end, &tag)) break;
    switch (tag & 7) {
      case 0:
        if (!ReadVarint(p, top.end, &v)) return deepest;
        break;
      case 1:
        if (top.end - p < 8) return deepest;
        p += 8;
        break;
      case 5:
        if (top.end - p < 4) return deepest;
        p += 4;
        break;
      case 2: {
        if (!ReadVarint(p, top.end, &v) || v > static_cast<uint64_t>(top.end - p)) return deepest;
        const Kind* child = ChildOf(top.kind, tag >> 3);
        if (child) {
          stack.push_back({*child, p + v});
          deepest = std::max(deepest, static_cast<int>(stack.size()) - 1);
        } else {
          p += v;
        }
        break;
      }
      default:  // groups (unused by ONNX) and invalid wire types
        return deepest;
    }
  }
  return deepest;
}

}  // namespace supernova::ir

// The head and tail of a cut as models of their own, and the cut codec baked into them.
//
// The head computes the cut tensors from the model's inputs and returns them; the tail reads
// them and computes the model's outputs. With a codec the head ends by encoding each float
// cut tensor and the tail begins by decoding it, so a server that runs the tail needs no
// change: fp16 is a Cast to float16 and back; int8 is DynamicQuantizeLinear (uint8, a scale
// and a zero point per tensor) and DequantizeLinear. Tensors that are not float32 (shapes,
// indices) travel as they are.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/onnx_import.h"
#include "supernova/status.h"

namespace supernova::collab {

enum class CutCodec { kNone, kFp16, kInt8 };
Result<CutCodec> ParseCutCodec(const std::string& text);  // "none", "fp16", "int8"
const char* CutCodecName(CutCodec codec);

// How one cut tensor travels: the names the head returns and the tail reads for it.
struct SentTensor {
  std::string tensor;              // the cut tensor, as the source model names it
  std::vector<std::string> names;  // "t" (none), "t.fp16", or "t.q", "t.scale", "t.zero_point"
};
// Whether the model can carry the codec: int8 needs opset 11 (DynamicQuantizeLinear).
Status CheckCodec(const ir::Graph& graph, CutCodec codec);
// The names a cut tensor of `dtype` travels as under `codec`.
SentTensor WireNames(const std::string& tensor, DataType dtype, CutCodec codec);
// Bytes the codec sends for a cut tensor of `bytes` raw bytes and `dtype`.
size_t SentBytes(CutCodec codec, DataType dtype, size_t bytes);

struct SplitModels {
  ir::Model head, tail;
  std::vector<SentTensor> sent;  // in cut order
  // The head's outputs = the tail's inputs, in order.
  std::vector<std::string> wire_names() const;
};

// Builds head and tail for a valid cut (ValidateCut). Cut tensors take the model's types
// (declared or inferred); `types` (a profile's measured shapes) fills in those it leaves
// unknown; a cut tensor of unknown dtype is an error. Both models keep the source's opsets and
// metadata; the int8 codec needs opset 11 or later (DynamicQuantizeLinear) and says so otherwise.
Result<SplitModels> SplitModel(const ir::Model& model, const std::vector<std::string>& cut,
                               CutCodec codec,
                               const std::map<std::string, ir::ValueType>& types = {});

// Makes `model` also return the cut tensors as a split's head would send them, coded, after
// its own outputs: the edge's detector of feature-level joint inference (docs/joint.md) runs
// its whole model and still has the features a split's tail in the cloud reads. Each tensor
// must be one a node computes; returns how each travels (the outputs added, in order).
Result<std::vector<SentTensor>> AddCutOutputs(ir::Model* model, const std::vector<std::string>& cut,
                                              CutCodec codec);

}  // namespace supernova::collab

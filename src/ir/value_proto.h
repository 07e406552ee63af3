// Sequences and optionals as ONNX stores them in files (SequenceProto, OptionalProto of
// onnx-data.proto): the input_*.pb and output_*.pb of test data sets whose model declares
// such a value, and what `supernova run` reads and writes for them.
#pragma once

#include <string>

#include "supernova/status.h"
#include "supernova/value.h"

namespace supernova::ir {

// Reads a file holding a value of `kind`: a TensorProto (kTensor), a SequenceProto of tensors
// (kSequence) or an OptionalProto (an optional kind; empty: None). `elem_type` is the declared
// element type, which an empty sequence or None takes; `name` (optional) receives the stored
// name.
Result<Value> ReadValueFile(const std::string& path, ValueKind kind, DataType elem_type,
                            std::string* name = nullptr);
// Writes `value` as the file ReadValueFile reads for `kind` (the declared kind: a tensor or a
// sequence that an optional holds is written inside an OptionalProto).
Status WriteValueFile(const std::string& path, const Value& value, ValueKind kind,
                      const std::string& name);

}  // namespace supernova::ir

// Conversion between Tensor and ONNX TensorProto (initializers, Constant attributes, and the
// .pb files of ONNX's test data sets).
#pragma once

#include <string>

#include "supernova/status.h"
#include "supernova/tensor.h"

namespace onnx {
class TensorProto;
}

namespace supernova::ir {

// Decodes a TensorProto (raw_data, typed fields or external data relative to `base_dir`).
Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& base_dir);
// Encodes `tensor` as raw_data with the given name.
void TensorToProto(const Tensor& tensor, const std::string& name, onnx::TensorProto* proto);

// Reads a serialized TensorProto file; `name` (optional) receives the stored name.
Result<Tensor> ReadTensorFile(const std::string& path, std::string* name = nullptr);
Status WriteTensorFile(const std::string& path, const Tensor& tensor, const std::string& name);

// Reads a whole file into a string.
Result<std::string> ReadFileBytes(const std::string& path);

}  // namespace supernova::ir

#include "ir/tensor_proto.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace supernova::ir {
namespace {

template <typename Dst, typename Field>
void CopyField(const Field& field, Tensor& t) {
  Dst* out = t.data<Dst>();
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<Dst>(field.Get(i));
}

Result<std::string> ReadExternal(const onnx::TensorProto& proto, const std::string& base_dir) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : proto.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = std::stoll(kv.value());
    else if (kv.key() == "length")
      length = std::stoll(kv.value());
  }
  if (location.empty())
    return Status::InvalidModel("tensor '" + proto.name() + "' has external data without location");
  std::filesystem::path rel(location);
  if (rel.is_absolute() || location.find("..") != std::string::npos)
    return Status::InvalidModel("tensor '" + proto.name() +
                                "': external data location must be a relative path inside the "
                                "model's directory: " +
                                location);
  std::filesystem::path path = std::filesystem::path(base_dir) / rel;
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("external data file not found: " + path.string());
  f.seekg(0, std::ios::end);
  int64_t size = f.tellg();
  if (length < 0) length = size - offset;
  if (offset < 0 || offset + length > size)
    return Status::InvalidModel("tensor '" + proto.name() + "': external data range [" +
                                std::to_string(offset) + ", +" + std::to_string(length) +
                                ") exceeds " + path.string());
  std::string bytes(static_cast<size_t>(length), '\0');
  f.seekg(offset);
  f.read(bytes.data(), length);
  return bytes;
}

}  // namespace

Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& base_dir) {
  const int32_t dt = proto.data_type();
  if (!IsKnownDataType(dt))
    return Status::Unimplemented("tensor '" + proto.name() + "': unsupported data type " +
                                 std::to_string(dt));
  const DataType dtype = static_cast<DataType>(dt);
  Shape shape;
  int64_t n = 1;
  for (int64_t d : proto.dims()) {
    if (d < 0) return Status::InvalidModel("tensor '" + proto.name() + "' has a negative dim");
    // Reject element counts whose byte size could not be addressed before allocating.
    if (d > 0 && n > (int64_t{1} << 40) / d)
      return Status::InvalidModel("tensor '" + proto.name() + "' is impossibly large");
    n *= d;
    shape.push_back(d);
  }
  const size_t nbytes = static_cast<size_t>(n) * DataTypeSize(dtype);
  auto allocate = [&] { return Tensor(dtype, shape); };
  if (dtype == DataType::kString) {
    // Strings live in string_data only (ONNX forbids raw_data and external data for them).
    if (proto.data_location() == onnx::TensorProto::EXTERNAL || proto.has_raw_data())
      return Status::InvalidModel("tensor '" + proto.name() +
                                  "': a string tensor keeps its values in string_data");
    if (proto.string_data_size() != n)
      return Status::InvalidModel(
          "tensor '" + proto.name() + "' holds " + std::to_string(proto.string_data_size()) +
          " strings, its shape " + ShapeToString(shape) + " needs " + std::to_string(n));
    Tensor t = allocate();
    std::copy(proto.string_data().begin(), proto.string_data().end(), t.data<std::string>());
    return t;
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    SN_ASSIGN_OR_RETURN(std::string bytes, ReadExternal(proto, base_dir));
    if (bytes.size() != nbytes)
      return Status::InvalidModel("tensor '" + proto.name() + "': external data has " +
                                  std::to_string(bytes.size()) + " bytes, expected " +
                                  std::to_string(nbytes));
    Tensor t = allocate();
    if (nbytes) std::memcpy(t.raw_data(), bytes.data(), nbytes);
    return t;
  }
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != nbytes)
      return Status::InvalidModel("tensor '" + proto.name() + "': raw_data has " +
                                  std::to_string(proto.raw_data().size()) + " bytes, expected " +
                                  std::to_string(nbytes) + " for " + DataTypeName(dtype) +
                                  ShapeToString(shape));
    Tensor t = allocate();
    if (nbytes) std::memcpy(t.raw_data(), proto.raw_data().data(), nbytes);
    return t;
  }
  auto check = [&](int count) -> Status {
    if (count != n)
      return Status::InvalidModel("tensor '" + proto.name() + "' holds " + std::to_string(count) +
                                  " values, its shape " + ShapeToString(shape) + " needs " +
                                  std::to_string(n));
    return Status::Ok();
  };
  const int typed_count = dtype == DataType::kFloat32   ? proto.float_data_size()
                          : dtype == DataType::kFloat64 ? proto.double_data_size()
                          : dtype == DataType::kInt64   ? proto.int64_data_size()
                          : (dtype == DataType::kUint32 || dtype == DataType::kUint64)
                              ? proto.uint64_data_size()
                              : proto.int32_data_size();
  SN_RETURN_IF_ERROR(check(typed_count));
  Tensor t = allocate();
  switch (dtype) {
    case DataType::kFloat32:
      SN_RETURN_IF_ERROR(check(proto.float_data_size()));
      CopyField<float>(proto.float_data(), t);
      break;
    case DataType::kFloat64:
      SN_RETURN_IF_ERROR(check(proto.double_data_size()));
      CopyField<double>(proto.double_data(), t);
      break;
    case DataType::kInt64:
      SN_RETURN_IF_ERROR(check(proto.int64_data_size()));
      CopyField<int64_t>(proto.int64_data(), t);
      break;
    case DataType::kUint32:
    case DataType::kUint64:
      SN_RETURN_IF_ERROR(check(proto.uint64_data_size()));
      if (dtype == DataType::kUint32)
        CopyField<uint32_t>(proto.uint64_data(), t);
      else
        CopyField<uint64_t>(proto.uint64_data(), t);
      break;
    case DataType::kInt32:
      SN_RETURN_IF_ERROR(check(proto.int32_data_size()));
      CopyField<int32_t>(proto.int32_data(), t);
      break;
    case DataType::kInt16:
      SN_RETURN_IF_ERROR(check(proto.int32_data_size()));
      CopyField<int16_t>(proto.int32_data(), t);
      break;
    case DataType::kInt8:
      SN_RETURN_IF_ERROR(check(proto.int32_data_size()));
      CopyField<int8_t>(proto.int32_data(), t);
      break;
    case DataType::kUint16:
    case DataType::kFloat16:
    case DataType::kBFloat16:  // 16-bit types keep their bit patterns in int32_data
      SN_RETURN_IF_ERROR(check(proto.int32_data_size()));
      CopyField<uint16_t>(proto.int32_data(), t);
      break;
    case DataType::kUint8:
      SN_RETURN_IF_ERROR(check(proto.int32_data_size()));
      CopyField<uint8_t>(proto.int32_data(), t);
      break;
    case DataType::kBool: {
      SN_RETURN_IF_ERROR(check(proto.int32_data_size()));
      bool* out = t.data<bool>();
      for (int i = 0; i < proto.int32_data_size(); ++i) out[i] = proto.int32_data(i) != 0;
      break;
    }
    default:
      return Status::Unimplemented("tensor '" + proto.name() + "': unsupported data type " +
                                   DataTypeName(dtype));
  }
  return t;
}

void TensorToProto(const Tensor& tensor, const std::string& name, onnx::TensorProto* proto) {
  proto->Clear();
  proto->set_name(name);
  proto->set_data_type(static_cast<int32_t>(tensor.dtype()));
  for (int64_t d : tensor.shape()) proto->add_dims(d);
  if (tensor.dtype() == DataType::kString) {
    const std::string* s = tensor.data<std::string>();
    for (int64_t i = 0; i < tensor.numel(); ++i) proto->add_string_data(s[i]);
    return;
  }
  proto->set_raw_data(static_cast<const char*>(tensor.raw_data()), tensor.nbytes());
}

Result<std::string> ReadFileBytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Status::NotFound("no such file: " + path);
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("cannot open " + path);
  // One read into a buffer of the file's size: streaming through an ostringstream grew and
  // copied the buffer repeatedly (a sixth of a 22 MB model's load time).
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::NotFound("cannot size " + path + ": " + ec.message());
  std::string bytes(size, '\0');
  if (!f.read(bytes.data(), static_cast<std::streamsize>(size)))
    return Status::InvalidArgument("cannot read " + path);
  return bytes;
}

Result<Tensor> ReadTensorFile(const std::string& path, std::string* name) {
  SN_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes))
    return Status::InvalidArgument(path + " is not a serialized ONNX TensorProto");
  if (name) *name = proto.name();
  auto dir = std::filesystem::path(path).parent_path().string();
  Result<Tensor> t = TensorFromProto(proto, dir);
  if (!t.ok()) return t.status().WithContext(path);
  return t;
}

Status WriteTensorFile(const std::string& path, const Tensor& tensor, const std::string& name) {
  onnx::TensorProto proto;
  TensorToProto(tensor, name, &proto);
  std::ofstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("cannot write " + path);
  if (!proto.SerializeToOstream(&f)) return Status::Internal("failed to write " + path);
  return Status::Ok();
}

}  // namespace supernova::ir

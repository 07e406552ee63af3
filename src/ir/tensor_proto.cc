#include "ir/tensor_proto.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/element_count.h"

namespace supernova::ir {
namespace {

template <typename Dst, typename Field>
void CopyField(const Field& field, Tensor& t) {
  Dst* out = t.data<Dst>();
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<Dst>(field.Get(i));
}

// An external_data offset or length: a decimal count, nothing else (std::stoll threw on
// letters and accepted "4x").
Result<int64_t> ParseCount(const onnx::TensorProto& proto, const std::string& key,
                           const std::string& text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty())
    return Status::InvalidModel("tensor '" + proto.name() + "': external data " + key + " '" +
                                text + "' is not a 64-bit integer");
  return v;
}

// The external file, which must resolve (links followed) to a file inside `base_dir`, so that a
// model can read nothing its folder does not hold.
Result<std::filesystem::path> ExternalPath(const onnx::TensorProto& proto,
                                           const std::string& base_dir,
                                           const std::string& location) {
  auto outside = [&] {
    return Status::InvalidModel("tensor '" + proto.name() + "': external data location '" +
                                location + "' is outside the model's directory");
  };
  const std::filesystem::path rel(location);
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory()) return outside();
  for (const auto& part : rel)
    if (part == "..") return outside();
  const std::filesystem::path base = base_dir.empty() ? "." : base_dir;
  std::error_code ec;
  const std::filesystem::path real_base = std::filesystem::canonical(base, ec);
  if (ec) return Status::NotFound("model directory " + base.string() + ": " + ec.message());
  const std::filesystem::path real = std::filesystem::canonical(base / rel, ec);
  if (ec)
    return Status::NotFound("external data file " + (base / rel).string() + ": " + ec.message());
  // Component-wise: "/m/dir2" must not pass as inside "/m/dir".
  auto b = real_base.begin(), r = real.begin();
  for (; b != real_base.end(); ++b, ++r)
    if (r == real.end() || *b != *r) return outside();
  if (r == real.end()) return outside();  // the directory itself
  // A FIFO or a device would block the read or never end it.
  if (!std::filesystem::is_regular_file(real, ec))
    return Status::InvalidModel("tensor '" + proto.name() + "': external data location '" +
                                location + "' is not a regular file");
  return real;
}

// The tensor's `expected` bytes from its external file, checked against the range before
// any is read: a large file named by a small tensor is not loaded to find out.
Result<std::string> ReadExternal(const onnx::TensorProto& proto, const std::string& base_dir,
                                 size_t expected) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : proto.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
    } else if (kv.key() == "offset") {
      SN_ASSIGN_OR_RETURN(offset, ParseCount(proto, "offset", kv.value()));
    } else if (kv.key() == "length") {
      SN_ASSIGN_OR_RETURN(length, ParseCount(proto, "length", kv.value()));
    }
  }
  if (location.empty())
    return Status::InvalidModel("tensor '" + proto.name() + "' has external data without location");
  SN_ASSIGN_OR_RETURN(std::filesystem::path path, ExternalPath(proto, base_dir, location));
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("external data file not found: " + path.string());
  f.seekg(0, std::ios::end);
  const int64_t size = f.tellg();
  // Compared without adding offset and length, which may each be near INT64_MAX.
  const bool fits =
      offset >= 0 && offset <= size && (length < 0 ? length == -1 : length <= size - offset);
  if (!fits || size < 0)
    return Status::InvalidModel("tensor '" + proto.name() + "': external data range [" +
                                std::to_string(offset) + ", +" + std::to_string(length) +
                                ") exceeds " + path.string());
  if (length < 0) length = size - offset;
  if (static_cast<uint64_t>(length) != expected)
    return Status::InvalidModel("tensor '" + proto.name() + "': external data has " +
                                std::to_string(length) + " bytes, expected " +
                                std::to_string(expected));
  std::string bytes(static_cast<size_t>(length), '\0');
  f.seekg(offset);
  f.read(bytes.data(), length);
  if (!f)
    return Status::InvalidModel("cannot read external data of '" + proto.name() + "' from " +
                                path.string());
  return bytes;
}

}  // namespace

Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& base_dir) {
  const int32_t dt = proto.data_type();
  if (!IsKnownDataType(dt))
    return Status::Unimplemented("tensor '" + proto.name() + "': unsupported data type " +
                                 std::to_string(dt));
  const DataType dtype = static_cast<DataType>(dt);
  const Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape)
    if (d < 0) return Status::InvalidModel("tensor '" + proto.name() + "' has a negative dim");
  // Refused before anything is allocated: the count is the file's claim, not its data.
  const int64_t n = CheckedNumElements(shape);
  if (n < 0)
    return Status::InvalidModel("tensor '" + proto.name() + "' has more than 2^40 elements");
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
    SN_ASSIGN_OR_RETURN(std::string bytes, ReadExternal(proto, base_dir, nbytes));
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

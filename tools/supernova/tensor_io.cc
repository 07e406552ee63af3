#include "supernova/tensor_io.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "ir/tensor_proto.h"

namespace supernova::tools {
namespace {

struct NpyType {
  const char* descr;
  DataType dtype;
};
constexpr NpyType kNpyTypes[] = {
    {"<f4", DataType::kFloat32}, {"<f8", DataType::kFloat64}, {"<f2", DataType::kFloat16},
    {"<i8", DataType::kInt64},   {"<i4", DataType::kInt32},   {"<i2", DataType::kInt16},
    {"|i1", DataType::kInt8},    {"|u1", DataType::kUint8},   {"<u2", DataType::kUint16},
    {"<u4", DataType::kUint32},  {"<u8", DataType::kUint64},  {"|b1", DataType::kBool},
};

}  // namespace

Result<Tensor> ReadNpy(const std::string& path) {
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ReadFileBytes(path));
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return Status::InvalidArgument(path + " is not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else {
    if (bytes.size() < 12) return Status::InvalidArgument(path + ": truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i)
      header_len |= size_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
    offset = 12;
  }
  if (offset + header_len > bytes.size())
    return Status::InvalidArgument(path + ": truncated .npy header");
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']+)'")))
    return Status::InvalidArgument(path + ": .npy header has no descr");
  const std::string descr = m[1];
  auto type = std::find_if(std::begin(kNpyTypes), std::end(kNpyTypes),
                           [&](const NpyType& t) { return descr == t.descr; });
  if (type == std::end(kNpyTypes))
    return Status::Unimplemented(path + ": .npy dtype '" + descr + "' is not supported");
  if (std::regex_search(header, std::regex("'fortran_order':\\s*True")))
    return Status::Unimplemented(path + ": Fortran-order .npy arrays are not supported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    return Status::InvalidArgument(path + ": .npy header has no shape");
  Shape shape;
  const std::string dims = m[1];
  const std::regex number("\\d+");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    shape.push_back(std::stoll(it->str()));
  const size_t data_offset = offset + header_len;
  const size_t expected = static_cast<size_t>(NumElements(shape)) * DataTypeSize(type->dtype);
  if (bytes.size() - data_offset != expected)
    return Status::InvalidArgument(path + ": .npy data has " +
                                   std::to_string(bytes.size() - data_offset) + " bytes, shape " +
                                   ShapeToString(shape) + " needs " + std::to_string(expected));
  Tensor t(type->dtype, shape);
  if (expected) std::memcpy(t.raw_data(), bytes.data() + data_offset, expected);
  return t;
}

Status WriteNpy(const std::string& path, const Tensor& t) {
  auto type = std::find_if(std::begin(kNpyTypes), std::end(kNpyTypes),
                           [&](const NpyType& n) { return n.dtype == t.dtype(); });
  if (type == std::end(kNpyTypes))
    return Status::Unimplemented("cannot write " + DataTypeName(t.dtype()) + " as .npy");
  std::string shape = "(";
  for (int64_t d : t.shape()) shape += std::to_string(d) + ",";
  if (t.rank() > 1) shape.pop_back();
  shape += ")";
  std::string header = std::string("{'descr': '") + type->descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("cannot write " + path);
  const uint16_t len = static_cast<uint16_t>(header.size());
  f.write("\x93NUMPY\x01\x00", 8);
  f.put(static_cast<char>(len & 0xff));
  f.put(static_cast<char>(len >> 8));
  f << header;
  f.write(static_cast<const char*>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
  return f ? Status::Ok() : Status::Internal("failed to write " + path);
}

Result<Normalization> ParseNormalization(const std::string& name) {
  if (name == "raw") return Normalization::kRaw;
  if (name == "unit") return Normalization::kUnit;
  if (name == "signed") return Normalization::kSigned;
  if (name == "imagenet") return Normalization::kImageNet;
  if (name == "paddle") return Normalization::kPaddle;
  return Status::InvalidArgument("unknown --preprocess mode '" + name +
                                 "' (raw, unit, signed, imagenet, paddle)");
}

bool LooksLikeImage(const std::string& path) {
  static const char* kExt[] = {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tga", ".gif"};
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  for (const char* e : kExt) {
    const size_t n = std::strlen(e);
    if (lower.size() > n && lower.compare(lower.size() - n, n, e) == 0) return true;
  }
  return false;
}

Result<ImageOptions> ImageOptionsFor(const TensorInfo& info, const InputOptions& args) {
  if (args.preprocess.empty())
    return Status::InvalidArgument("input '" + info.name + "' is an image: give --preprocess " +
                                   "(raw, unit, signed, imagenet or paddle)");
  SN_ASSIGN_OR_RETURN(Normalization norm, ParseNormalization(args.preprocess));
  ImageOptions o;
  o.norm = norm;
  o.bgr = args.bgr;
  if (!info.rank_known || info.dims.size() != 4)
    return Status::InvalidArgument("input '" + info.name + "' is not a 4-D image input");
  if (info.dims[1] == 3)
    o.nchw = true;
  else if (info.dims[3] == 3)
    o.nchw = false;
  else
    return Status::InvalidArgument("input '" + info.name + "' has no 3-channel axis");
  int64_t h = o.nchw ? info.dims[2] : info.dims[1], w = o.nchw ? info.dims[3] : info.dims[2];
  if (!args.size.empty()) {
    int sh = 0, sw = 0;
    if (std::sscanf(args.size.c_str(), "%dx%d", &sh, &sw) != 2 || sh <= 0 || sw <= 0)
      return Status::InvalidArgument("--size must be HxW, e.g. 640x640");
    if ((h > 0 && h != sh) || (w > 0 && w != sw))
      return Status::InvalidArgument("--size " + args.size + " contradicts the model's input " +
                                     info.ToString());
    h = sh;
    w = sw;
  }
  o.height = static_cast<int>(h > 0 ? h : 0);
  o.width = static_cast<int>(w > 0 ? w : 0);
  o.dtype = info.dtype == DataType::kUint8 ? DataType::kUint8 : DataType::kFloat32;
  return o;
}

Result<Tensor> LoadInputFile(const std::string& file, const TensorInfo& info,
                             const InputOptions& args) {
  const std::string ext = std::filesystem::path(file).extension().string();
  if (LooksLikeImage(file)) {
    SN_ASSIGN_OR_RETURN(ImageOptions o, ImageOptionsFor(info, args));
    return ReadImage(file, o);
  }
  if (ext == ".npy") return ReadNpy(file);
  if (ext == ".pb") return ir::ReadTensorFile(file);
  return Status::InvalidArgument("input file " + file +
                                 ": unknown kind (expected .pb, .npy or an image)");
}

Result<std::vector<InputSpec>> MatchInputSpecs(const std::vector<std::string>& specs,
                                               const std::vector<TensorInfo>& infos) {
  std::vector<InputSpec> matched;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    std::string name = eq == std::string::npos ? "" : spec.substr(0, eq);
    const std::string file = eq == std::string::npos ? spec : spec.substr(eq + 1);
    if (eq == std::string::npos) {
      if (infos.size() != 1)
        return Status::InvalidArgument("--input " + spec + ": the model has " +
                                       std::to_string(infos.size()) +
                                       " inputs, name it as NAME=FILE");
      name = infos[0].name;
    }
    auto info = std::find_if(infos.begin(), infos.end(),
                             [&](const TensorInfo& i) { return i.name == name; });
    if (info == infos.end()) return Status::NotFound("the model has no input named '" + name + "'");
    matched.push_back({&*info, file});
  }
  for (const TensorInfo& info : infos)
    if (std::none_of(matched.begin(), matched.end(),
                     [&](const InputSpec& m) { return m.info->name == info.name; }))
      return Status::InvalidArgument("input '" + info.name + "' has no value: give --input " +
                                     info.name + "=FILE");
  return matched;
}

}  // namespace supernova::tools

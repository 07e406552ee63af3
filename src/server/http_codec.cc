// KServe v2 REST bodies <-> the core's requests and responses (see http_codec.h).
#include "server/http_codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "server/bytes.h"

namespace supernova::server::http {
namespace {

using json = nlohmann::json;
// Responses keep the protocol's field order (name first), for people reading them.
using ordered_json = nlohmann::ordered_json;

// Nested "data" arrays deeper than this are refused (no tensor has this many dimensions).
constexpr int kMaxDataDepth = 64;
// Of a whole request document: the data's nesting plus the envelope around it.
constexpr int kMaxJsonDepth = kMaxDataDepth + 16;

Status Invalid(std::string message) { return Status::InvalidArgument(std::move(message)); }

// JSON of the protocol's own messages: invalid UTF-8 in names echoed back (a model name from
// the URL) is replaced rather than thrown.
template <typename J>
std::string Dump(const J& j) {
  return j.dump(-1, ' ', false, J::error_handler_t::replace);
}

// ---- JSON text writing (the infer response is built by hand: it is the hot path) ----------

void AppendEscaped(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

template <typename T>
void AppendNumber(std::string& out, T value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  (void)ec;  // 64 bytes hold any integer and any shortest float or double
  out.append(buf, end);
}

template <typename F>
void AppendFloat(std::string& out, F value) {
  if (std::isnan(value)) {
    out += "\"NaN\"";
  } else if (std::isinf(value)) {
    out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    AppendNumber(out, value);
  }
}

template <typename T>
void AppendElements(std::string& out, const T* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (i) out.push_back(',');
    if constexpr (std::is_same_v<T, bool>) {
      out += p[i] ? "true" : "false";
    } else if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
      AppendFloat(out, p[i].ToFloat());
    } else if constexpr (std::is_floating_point_v<T>) {
      AppendFloat(out, p[i]);
    } else {
      AppendNumber(out, p[i]);
    }
  }
}

// Calls f(T{}) with the C++ element type of `dtype`; false for types a tensor cannot hold.
template <typename F>
bool VisitType(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kBool:
      f(bool{});
      return true;
    case DataType::kUint8:
      f(uint8_t{});
      return true;
    case DataType::kUint16:
      f(uint16_t{});
      return true;
    case DataType::kUint32:
      f(uint32_t{});
      return true;
    case DataType::kUint64:
      f(uint64_t{});
      return true;
    case DataType::kInt8:
      f(int8_t{});
      return true;
    case DataType::kInt16:
      f(int16_t{});
      return true;
    case DataType::kInt32:
      f(int32_t{});
      return true;
    case DataType::kInt64:
      f(int64_t{});
      return true;
    case DataType::kFloat16:
      f(Float16{});
      return true;
    case DataType::kBFloat16:
      f(BFloat16{});
      return true;
    case DataType::kFloat32:
      f(float{});
      return true;
    case DataType::kFloat64:
      f(double{});
      return true;
    default:
      return false;
  }
}

void AppendTensorData(std::string& out, const Tensor& t) {
  if (t.dtype() == DataType::kString) {  // BYTES: JSON strings
    const std::string* s = t.data<std::string>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (i) out.push_back(',');
      AppendEscaped(out, s[i]);
    }
    return;
  }
  VisitType(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    AppendElements(out, t.data<T>(), t.numel());
  });
}

// ---- JSON "data" -> tensor elements --------------------------------------------------------

// Rounds to float with round-to-odd: the float at or toward zero from d, with its lowest bit
// set when inexact. Rounding that float to a type with at most 22 significand bits (half,
// bfloat16) then gives the correctly rounded value of d itself (no double rounding).
float RoundToOddFloat(double d) {
  float f = static_cast<float>(d);
  if (!std::isfinite(f) || static_cast<double>(f) == d) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(d)) f = std::nextafter(f, 0.0f);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(f) | 1u);
}

template <typename T>
std::optional<T> FromJsonScalar(const json& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) return std::nullopt;
    return v.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) return std::nullopt;
    return v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
      return static_cast<T>(u);
    }
    if (v.is_number_integer()) {
      const int64_t i = v.get<int64_t>();
      if constexpr (std::is_unsigned_v<T>) {
        return std::nullopt;  // nlohmann keeps non-negative integers unsigned: this is < 0
      } else {
        if (i < std::numeric_limits<T>::min() || i > std::numeric_limits<T>::max())
          return std::nullopt;
        return static_cast<T>(i);
      }
    }
    return std::nullopt;
  } else {
    double d;
    if (v.is_number()) {
      d = v.get<double>();
    } else if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (s == "NaN") {
        d = std::numeric_limits<double>::quiet_NaN();
      } else if (s == "Infinity") {
        d = std::numeric_limits<double>::infinity();
      } else if (s == "-Infinity") {
        d = -std::numeric_limits<double>::infinity();
      } else {
        return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
    if constexpr (std::is_same_v<T, double>) {
      return d;
    } else if constexpr (std::is_same_v<T, float>) {
      return static_cast<float>(d);
    } else {
      return T::FromFloat(RoundToOddFloat(d));
    }
  }
}

template <typename T>
const char* ExpectedKind() {
  if constexpr (std::is_same_v<T, std::string>)
    return "a string";
  else if constexpr (std::is_same_v<T, bool>)
    return "true or false";
  else if constexpr (std::is_integral_v<T>)
    return "an integer in the datatype's range";
  else
    return "a number (or \"NaN\", \"Infinity\", \"-Infinity\")";
}

// Flattens a (possibly nested) JSON array row-major into out[0, capacity).
template <typename T>
Status FlattenInto(const json& data, T* out, int64_t capacity, int64_t* count, int depth,
                   std::string_view input, std::string_view datatype) {
  if (depth > kMaxDataDepth)
    return Invalid("input '" + std::string(input) + "': data nested too deep");
  for (const json& v : data) {
    if (v.is_array()) {
      SN_RETURN_IF_ERROR(FlattenInto(v, out, capacity, count, depth + 1, input, datatype));
      continue;
    }
    if (*count >= capacity) {
      return Invalid("input '" + std::string(input) +
                     "': data has more elements than its shape holds (" + std::to_string(capacity) +
                     ")");
    }
    std::optional<T> x = FromJsonScalar<T>(v);
    if (!x) {
      return Invalid("input '" + std::string(input) + "': element " + std::to_string(*count) +
                     " (" + Dump(v) + ") is not " + ExpectedKind<T>() + " for " +
                     std::string(datatype));
    }
    out[(*count)++] = *x;
  }
  return Status::Ok();
}

// ---- request JSON helpers -------------------------------------------------------------------

// Whether `text` nests arrays and objects deeper than `limit` (brackets inside strings do not
// count). A linear scan before parsing: nlohmann would build [[[[...]]]] from a 64 MiB body as
// 32 million nested arrays, gigabytes, before any check on the document could run.
bool NestsDeeperThan(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

Result<json> ParseJson(std::string_view text, std::string_view what) {
  if (NestsDeeperThan(text, kMaxJsonDepth))
    return Invalid(std::string(what) + " nests arrays and objects too deep (over " +
                   std::to_string(kMaxJsonDepth) + " levels)");
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Invalid("malformed JSON in " + std::string(what));
  return j;
}

std::optional<uint64_t> NonNegativeInteger(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  return std::nullopt;  // negative integers parse as number_integer, fractions as float
}

const json* Member(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

Result<bool> BoolParameter(const json& params, const char* key, bool fallback,
                           std::string_view where) {
  const json* v = Member(params, key);
  if (!v) return fallback;
  if (!v->is_boolean())
    return Invalid(std::string(where) + ": parameter '" + key + "' must be true or false");
  return v->get<bool>();
}

Result<NamedTensor> ParseInput(const json& in, size_t index, size_t json_length,
                               std::string_view binary, size_t* binary_cursor) {
  const std::string where = "input " + std::to_string(index);
  if (!in.is_object()) return Invalid(where + " is not a JSON object");
  const json* name = Member(in, "name");
  if (!name || !name->is_string()) return Invalid(where + ": 'name' must be a string");
  NamedTensor out;
  out.name = name->get<std::string>();
  const std::string what = "input '" + out.name + "'";

  const json* datatype = Member(in, "datatype");
  if (!datatype || !datatype->is_string()) return Invalid(what + ": 'datatype' must be a string");
  const std::string& dt_name = datatype->get_ref<const std::string&>();
  std::optional<DataType> dtype = DataTypeFromV2(dt_name);
  if (!dtype) return Invalid(what + ": unknown datatype '" + dt_name + "'");

  const json* shape_json = Member(in, "shape");
  if (!shape_json || !shape_json->is_array())
    return Invalid(what + ": 'shape' must be an array of non-negative integers");
  Shape shape;
  shape.reserve(shape_json->size());
  uint64_t numel = 1;
  bool overflow = false;
  for (const json& d : *shape_json) {
    std::optional<uint64_t> dim = NonNegativeInteger(d);
    if (!dim || *dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return Invalid(what + ": 'shape' must be an array of non-negative integers");
    shape.push_back(static_cast<int64_t>(*dim));
    overflow = overflow || __builtin_mul_overflow(numel, *dim, &numel);
  }
  const size_t elem_size = DataTypeSize(*dtype);
  uint64_t nbytes = 0;
  if (overflow || __builtin_mul_overflow(numel, elem_size, &nbytes) ||
      nbytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Invalid(what + ": shape " + ShapeToString(shape) + " is too large");
  }

  std::optional<uint64_t> binary_size;
  if (const json* params = Member(in, "parameters")) {
    if (!params->is_object()) return Invalid(what + ": 'parameters' must be a JSON object");
    if (Member(*params, "shared_memory_region"))
      return Invalid(what + ": shared memory is not supported by this server");
    if (const json* size = Member(*params, "binary_data_size")) {
      binary_size = NonNegativeInteger(*size);
      if (!binary_size)
        return Invalid(what + ": 'binary_data_size' must be a non-negative integer");
    }
  }
  const json* data = Member(in, "data");

  if (binary_size) {
    if (data) return Invalid(what + ": has both 'data' and 'binary_data_size'");
    if (*binary_size > binary.size() - *binary_cursor) {
      return Invalid(what + ": binary_data_size " + std::to_string(*binary_size) +
                     " goes past the end of the body (" +
                     std::to_string(binary.size() - *binary_cursor) + " bytes left)");
    }
    if (*dtype == DataType::kString) {  // length-prefixed elements (server/bytes.h)
      SN_ASSIGN_OR_RETURN(out.tensor, DecodeBytes(binary.substr(*binary_cursor, *binary_size),
                                                  std::move(shape), what));
      *binary_cursor += *binary_size;
      return out;
    }
    if (*binary_size != nbytes) {
      return Invalid(what + ": binary_data_size " + std::to_string(*binary_size) +
                     " does not match shape " + ShapeToString(shape) + " x " + dt_name + " (" +
                     std::to_string(nbytes) + " bytes)");
    }
    out.tensor = Tensor(*dtype, std::move(shape));
    if (nbytes) std::memcpy(out.tensor.raw_data(), binary.data() + *binary_cursor, nbytes);
    if (*dtype == DataType::kBool) {
      const uint8_t* b = static_cast<const uint8_t*>(out.tensor.raw_data());
      if (std::any_of(b, b + nbytes, [](uint8_t x) { return x > 1; }))
        return Invalid(what + ": BOOL bytes must be 0 or 1");
    }
    *binary_cursor += nbytes;
    return out;
  }

  if (!data) return Invalid(what + ": has neither 'data' nor a 'binary_data_size' parameter");
  if (!data->is_array()) return Invalid(what + ": 'data' must be an array");
  // Refuse before allocating when the JSON text cannot hold that many elements (each takes at
  // least one byte), so a small body cannot make the server allocate a huge tensor.
  if (numel > json_length) {
    return Invalid(what + ": shape " + ShapeToString(shape) + " needs " + std::to_string(numel) +
                   " elements, more than the request's JSON can hold");
  }
  out.tensor = Tensor(*dtype, shape);
  int64_t count = 0;
  const auto capacity = static_cast<int64_t>(numel);
  Status s;
  if (*dtype == DataType::kString)
    s = FlattenInto(*data, out.tensor.data<std::string>(), capacity, &count, 1, out.name, dt_name);
  VisitType(*dtype, [&](auto tag) {
    using T = decltype(tag);
    s = FlattenInto(*data, out.tensor.data<T>(), capacity, &count, 1, out.name, dt_name);
  });
  SN_RETURN_IF_ERROR(s);
  if (count != capacity) {
    return Invalid(what + ": data has " + std::to_string(count) + " elements, shape " +
                   ShapeToString(out.tensor.shape()) + " needs " + std::to_string(capacity));
  }
  return out;
}

// ---- model config JSON ------------------------------------------------------------------------

void FixInt64Fields(const google::protobuf::Descriptor* message, json& j);

void FixInt64Value(const google::protobuf::FieldDescriptor* field, json& v) {
  using FD = google::protobuf::FieldDescriptor;
  switch (field->cpp_type()) {
    case FD::CPPTYPE_INT64:
      if (v.is_string()) {
        int64_t x = 0;
        const auto& s = v.get_ref<const std::string&>();
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
        if (ec == std::errc() && p == s.data() + s.size()) v = x;
      }
      break;
    case FD::CPPTYPE_UINT64:
      if (v.is_string()) {
        uint64_t x = 0;
        const auto& s = v.get_ref<const std::string&>();
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
        if (ec == std::errc() && p == s.data() + s.size()) v = x;
      }
      break;
    case FD::CPPTYPE_MESSAGE:
      FixInt64Fields(field->message_type(), v);
      break;
    default:
      break;
  }
}

void FixInt64Fields(const google::protobuf::Descriptor* message, json& j) {
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const google::protobuf::FieldDescriptor* field = message->FindFieldByName(it.key());
    if (!field) continue;
    json& v = it.value();
    if (field->is_map()) {
      const google::protobuf::FieldDescriptor* value_field = field->message_type()->map_value();
      if (v.is_object())
        for (auto e = v.begin(); e != v.end(); ++e) FixInt64Value(value_field, e.value());
    } else if (field->is_repeated()) {
      if (v.is_array())
        for (json& e : v) FixInt64Value(field, e);
    } else {
      FixInt64Value(field, v);
    }
  }
}

Result<json> ParseOptionalObject(std::string_view body, std::string_view what) {
  if (std::all_of(body.begin(), body.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
    return json::object();
  SN_ASSIGN_OR_RETURN(json j, ParseJson(body, what));
  if (!j.is_object()) return Invalid(std::string(what) + " must be a JSON object");
  return j;
}

}  // namespace

bool OutputFormat::IsBinary(std::string_view name) const {
  for (const auto& [n, binary] : per_output)
    if (n == name) return binary;
  return binary_default;
}

Result<ParsedInferRequest> ParseInferRequest(std::string_view body,
                                             std::optional<uint64_t> header_length,
                                             std::string model, std::string version) {
  size_t json_length = body.size();
  if (header_length) {
    if (*header_length > body.size()) {
      return Invalid("Inference-Header-Content-Length " + std::to_string(*header_length) +
                     " exceeds the body's " + std::to_string(body.size()) + " bytes");
    }
    json_length = static_cast<size_t>(*header_length);
  }
  const std::string_view binary = body.substr(json_length);
  SN_ASSIGN_OR_RETURN(json j, ParseJson(body.substr(0, json_length), "the inference request"));
  if (!j.is_object()) return Invalid("the inference request must be a JSON object");

  ParsedInferRequest parsed;
  InferRequest& req = parsed.request;
  req.model = std::move(model);
  req.version = std::move(version);

  if (const json* id = Member(j, "id")) {
    if (!id->is_string()) return Invalid("'id' must be a string");
    req.id = id->get<std::string>();
  }
  if (const json* params = Member(j, "parameters")) {
    if (!params->is_object()) return Invalid("'parameters' must be a JSON object");
    SN_ASSIGN_OR_RETURN(parsed.output_format.binary_default,
                        BoolParameter(*params, "binary_data_output", false, "request"));
    if (const json* timeout = Member(*params, "timeout")) {
      std::optional<uint64_t> us = NonNegativeInteger(*timeout);
      if (!us) return Invalid("parameter 'timeout' must be a non-negative integer (microseconds)");
      req.timeout_us = *us;
    }
  }

  const json* inputs = Member(j, "inputs");
  if (!inputs || !inputs->is_array()) return Invalid("'inputs' must be an array");
  size_t binary_cursor = 0;
  req.inputs.reserve(inputs->size());
  for (size_t i = 0; i < inputs->size(); ++i) {
    SN_ASSIGN_OR_RETURN(NamedTensor t,
                        ParseInput((*inputs)[i], i, json_length, binary, &binary_cursor));
    for (const NamedTensor& prev : req.inputs)
      if (prev.name == t.name) return Invalid("input '" + t.name + "' appears twice");
    req.inputs.push_back(std::move(t));
  }
  if (binary_cursor != binary.size()) {
    return Invalid(std::to_string(binary.size() - binary_cursor) +
                   " bytes of binary data after the JSON belong to no input");
  }

  if (const json* outputs = Member(j, "outputs")) {
    if (!outputs->is_array()) return Invalid("'outputs' must be an array");
    for (size_t i = 0; i < outputs->size(); ++i) {
      const json& out = (*outputs)[i];
      const std::string where = "output " + std::to_string(i);
      if (!out.is_object()) return Invalid(where + " is not a JSON object");
      const json* name = Member(out, "name");
      if (!name || !name->is_string()) return Invalid(where + ": 'name' must be a string");
      std::string n = name->get<std::string>();
      if (std::find(req.outputs.begin(), req.outputs.end(), n) != req.outputs.end())
        return Invalid("output '" + n + "' is requested twice");
      if (const json* params = Member(out, "parameters")) {
        if (!params->is_object())
          return Invalid("output '" + n + "': 'parameters' must be a JSON object");
        if (Member(*params, "shared_memory_region"))
          return Invalid("output '" + n + "': shared memory is not supported by this server");
        if (Member(*params, "classification"))
          return Invalid("output '" + n + "': classification is not supported by this server");
        if (Member(*params, "binary_data")) {
          SN_ASSIGN_OR_RETURN(bool as_binary,
                              BoolParameter(*params, "binary_data", false, "output '" + n + "'"));
          parsed.output_format.per_output.emplace_back(n, as_binary);
        }
      }
      req.outputs.push_back(std::move(n));
    }
  }
  return parsed;
}

EncodedInferResponse EncodeInferResponse(const InferResponse& response,
                                         const OutputFormat& format) {
  EncodedInferResponse out;
  std::string& s = out.body;
  size_t binary_bytes = 0;
  size_t json_guess = 96 + response.model.size() + response.id.size();
  std::vector<bool> binary(response.outputs.size());
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    const Tensor& t = response.outputs[i].tensor;
    binary[i] = format.IsBinary(response.outputs[i].name);
    json_guess += 96 + response.outputs[i].name.size();
    if (binary[i])
      binary_bytes += t.dtype() == DataType::kString ? EncodedBytesSize(t) : t.nbytes();
    else
      json_guess += static_cast<size_t>(t.numel()) * 12;
  }
  s.reserve(json_guess + binary_bytes);

  s += "{\"model_name\":";
  AppendEscaped(s, response.model);
  s += ",\"model_version\":";
  AppendEscaped(s, response.version);
  if (!response.id.empty()) {
    s += ",\"id\":";
    AppendEscaped(s, response.id);
  }
  s += ",\"outputs\":[";
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    const NamedTensor& o = response.outputs[i];
    if (i) s.push_back(',');
    s += "{\"name\":";
    AppendEscaped(s, o.name);
    s += ",\"datatype\":";
    AppendEscaped(s, DataTypeToV2(o.tensor.dtype()));
    s += ",\"shape\":[";
    for (size_t d = 0; d < o.tensor.rank(); ++d) {
      if (d) s.push_back(',');
      AppendNumber(s, o.tensor.dim(d));
    }
    s += "]";
    if (binary[i]) {
      s += ",\"parameters\":{\"binary_data_size\":";
      AppendNumber(s, o.tensor.dtype() == DataType::kString ? EncodedBytesSize(o.tensor)
                                                            : o.tensor.nbytes());
      s += "}}";
    } else {
      s += ",\"data\":[";
      AppendTensorData(s, o.tensor);
      s += "]}";
    }
  }
  s += "]}";
  if (binary_bytes == 0 && std::none_of(binary.begin(), binary.end(), [](bool b) { return b; }))
    return out;
  out.header_length = s.size();
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    if (!binary[i]) continue;
    const Tensor& t = response.outputs[i].tensor;
    if (t.dtype() == DataType::kString)
      AppendEncodedBytes(s, t);
    else
      s.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  }
  return out;
}

std::string ErrorJson(std::string_view message) {
  std::string s = "{\"error\":";
  AppendEscaped(s, message);
  s += "}";
  return s;
}

std::string ServerMetadataJson(std::string_view name, std::string_view version,
                               const std::vector<std::string>& extensions) {
  ordered_json j = {{"name", name}, {"version", version}, {"extensions", extensions}};
  return Dump(j);
}

std::string ModelMetadataJson(const ModelMetadata& m) {
  auto tensors = [](const std::vector<ModelTensorMetadata>& ts) {
    ordered_json a = ordered_json::array();
    for (const ModelTensorMetadata& t : ts)
      a.push_back({{"name", t.name}, {"datatype", t.datatype}, {"shape", t.shape}});
    return a;
  };
  ordered_json j = {{"name", m.name},
                    {"versions", m.versions},
                    {"platform", m.platform},
                    {"inputs", tensors(m.inputs)},
                    {"outputs", tensors(m.outputs)}};
  return Dump(j);
}

Result<std::string> ModelConfigJson(const inference::ModelConfig& config) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  auto status = google::protobuf::util::MessageToJsonString(config, &text, options);
  if (!status.ok()) return Status::Internal("model config to JSON: " + status.ToString());
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Internal("model config to JSON: protobuf wrote bad JSON");
  FixInt64Fields(config.GetDescriptor(), j);
  return Dump(j);
}

std::string RepositoryIndexJson(const std::vector<RepositoryEntry>& entries) {
  ordered_json a = ordered_json::array();
  for (const RepositoryEntry& e : entries) {
    ordered_json row = {{"name", e.name}};
    if (!e.version.empty()) row["version"] = e.version;
    row["state"] = e.state;
    if (!e.reason.empty()) row["reason"] = e.reason;
    a.push_back(std::move(row));
  }
  return Dump(a);
}

std::string ModelStatsJson(const std::vector<ModelStatsEntry>& entries) {
  auto duration = [](uint64_t count, uint64_t us) {
    return ordered_json{{"count", count}, {"ns", us * 1000}};
  };
  ordered_json stats = ordered_json::array();
  for (const ModelStatsEntry& e : entries) {
    const ModelMetrics::Counters& c = e.counters;
    stats.push_back({{"name", e.name},
                     {"version", e.version},
                     {"last_inference", 0},
                     {"inference_count", c.inference_count},
                     {"execution_count", c.exec_count},
                     {"inference_stats",
                      {{"success", duration(c.success, c.request_us)},
                       {"fail", duration(c.failure, 0)},
                       {"queue", duration(c.success, c.queue_us)},
                       {"compute_input", duration(c.success, 0)},
                       {"compute_infer", duration(c.success, c.compute_us)},
                       {"compute_output", duration(c.success, 0)},
                       {"cache_hit", duration(0, 0)},
                       {"cache_miss", duration(0, 0)}}},
                     {"batch_stats", ordered_json::array()}});
  }
  return Dump(ordered_json{{"model_stats", std::move(stats)}});
}

Result<bool> ParseRepositoryIndexRequest(std::string_view body) {
  SN_ASSIGN_OR_RETURN(json j, ParseOptionalObject(body, "the repository index request"));
  return BoolParameter(j, "ready", false, "repository index request");
}

Result<std::string> ParseLoadRequest(std::string_view body) {
  SN_ASSIGN_OR_RETURN(json j, ParseOptionalObject(body, "the load request"));
  const json* params = Member(j, "parameters");
  if (!params) return std::string();
  if (!params->is_object()) return Invalid("load request: 'parameters' must be a JSON object");
  std::string config;
  for (auto it = params->begin(); it != params->end(); ++it) {
    if (it.key() == "config") {
      if (!it.value().is_string())
        return Invalid("load request: parameter 'config' must be a string holding JSON");
      config = it.value().get<std::string>();
    } else if (it.key().rfind("file:", 0) == 0) {
      return Invalid("load request: file overrides ('" + it.key() +
                     "') are not supported by this server");
    }
  }
  return config;
}

Status ParseUnloadRequest(std::string_view body) {
  SN_ASSIGN_OR_RETURN(json j, ParseOptionalObject(body, "the unload request"));
  (void)j;
  return Status::Ok();
}

int HttpStatusFor(Status::Code code) {
  using C = Status::Code;
  switch (code) {
    case C::kOk:
      return 200;
    case C::kInvalidArgument:
    case C::kInvalidModel:
    case C::kOutOfRange:
    case C::kFailedPrecondition:
      return 400;
    case C::kUnauthenticated:
      return 401;
    case C::kPermissionDenied:
      return 403;
    case C::kNotFound:
      return 404;
    case C::kAlreadyExists:
      return 409;
    case C::kUnimplemented:
      return 501;
    case C::kUnavailable:
    case C::kResourceExhausted:
      return 503;
    case C::kDeadlineExceeded:
      return 504;
    case C::kCancelled:
    case C::kInternal:
      return 500;
  }
  return 500;
}

std::optional<std::string> DecodePathSegment(std::string_view segment) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '%') {
      out.push_back(segment[i]);
      continue;
    }
    if (i + 2 >= segment.size()) return std::nullopt;
    const int hi = hex(segment[i + 1]), lo = hex(segment[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace supernova::server::http

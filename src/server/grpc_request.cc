// The KServe v2 gRPC infer request into the core's InferRequest (grpc_request.h).
#include "server/grpc_request.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "server/bytes.h"

namespace supernova::server {
namespace {

// Product of the dims, or nullopt when a dim is negative or the product overflows.
std::optional<int64_t> CheckedElementCount(const google::protobuf::RepeatedField<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return n;
}

std::string ShapeString(const google::protobuf::RepeatedField<int64_t>& dims) {
  return ShapeToString(Shape(dims.begin(), dims.end()));
}

// A tensor of `dtype` and `shape` made from a repeated field, converting each value to T;
// values that T cannot hold are an error, not a silent wrap-around. The tensor is allocated
// only once the field is known to hold its element count: a request of a few bytes may claim
// a shape of 2^40 elements (found by fuzzing).
template <typename T, typename Field>
Status CopyTyped(const Field& values, std::string_view field, const std::string& input,
                 DataType dtype, Shape shape, Tensor* t) {
  const int64_t numel = NumElements(shape);
  if (static_cast<int64_t>(values.size()) != numel)
    return Status::InvalidArgument(
        "input '" + input + "': " + std::to_string(numel) + " elements expected from its shape, " +
        std::to_string(values.size()) + " given in " + std::string(field));
  *t = Tensor(dtype, std::move(shape));
  T* dst = t->data<T>();
  int64_t i = 0;
  for (auto v : values) {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                  sizeof(T) < sizeof(decltype(v))) {
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
        return Status::InvalidArgument("input '" + input + "': value " + std::to_string(v) +
                                       " at element " + std::to_string(i) + " does not fit " +
                                       std::string(DataTypeToV2(dtype)));
    }
    dst[i++] = static_cast<T>(v);
  }
  return Status::Ok();
}

Status CopyContents(const inference::InferTensorContents& c, const std::string& input,
                    DataType dtype, Shape shape, Tensor* t) {
  switch (dtype) {
    case DataType::kBool:
      return CopyTyped<bool>(c.bool_contents(), "bool_contents", input, dtype, std::move(shape), t);
    case DataType::kInt8:
      return CopyTyped<int8_t>(c.int_contents(), "int_contents", input, dtype, std::move(shape), t);
    case DataType::kInt16:
      return CopyTyped<int16_t>(c.int_contents(), "int_contents", input, dtype, std::move(shape),
                                t);
    case DataType::kInt32:
      return CopyTyped<int32_t>(c.int_contents(), "int_contents", input, dtype, std::move(shape),
                                t);
    case DataType::kInt64:
      return CopyTyped<int64_t>(c.int64_contents(), "int64_contents", input, dtype,
                                std::move(shape), t);
    case DataType::kUint8:
      return CopyTyped<uint8_t>(c.uint_contents(), "uint_contents", input, dtype, std::move(shape),
                                t);
    case DataType::kUint16:
      return CopyTyped<uint16_t>(c.uint_contents(), "uint_contents", input, dtype, std::move(shape),
                                 t);
    case DataType::kUint32:
      return CopyTyped<uint32_t>(c.uint_contents(), "uint_contents", input, dtype, std::move(shape),
                                 t);
    case DataType::kUint64:
      return CopyTyped<uint64_t>(c.uint64_contents(), "uint64_contents", input, dtype,
                                 std::move(shape), t);
    case DataType::kFloat32:
      return CopyTyped<float>(c.fp32_contents(), "fp32_contents", input, dtype, std::move(shape),
                              t);
    case DataType::kFloat64:
      return CopyTyped<double>(c.fp64_contents(), "fp64_contents", input, dtype, std::move(shape),
                               t);
    default:
      return Status::InvalidArgument("input '" + input + "': " + std::string(DataTypeToV2(dtype)) +
                                     " has no typed contents field; send it in raw_input_contents");
  }
}

bool HasTypedContents(const inference::InferTensorContents& c) {
  return c.bool_contents_size() || c.int_contents_size() || c.int64_contents_size() ||
         c.uint_contents_size() || c.uint64_contents_size() || c.fp32_contents_size() ||
         c.fp64_contents_size() || c.bytes_contents_size();
}

// A BYTES input: length-prefixed elements in raw_input_contents (server/bytes.h), or one
// bytes_contents entry per element.
Result<Tensor> ParseBytesInput(const inference::ModelInferRequest& req, int i, bool raw,
                               int64_t numel) {
  const auto& in = req.inputs(i);
  const std::string what = "input '" + in.name() + "'";
  Shape shape(in.shape().begin(), in.shape().end());
  if (raw) {
    if (in.has_contents() && HasTypedContents(in.contents()))
      return Status::InvalidArgument(what + ": contents given both raw and typed; send one form");
    return DecodeBytes(req.raw_input_contents(i), std::move(shape), what);
  }
  const auto& values = in.contents().bytes_contents();
  if (static_cast<int64_t>(values.size()) != numel)
    return Status::InvalidArgument(what + ": " + std::to_string(numel) +
                                   " elements expected from its shape, " +
                                   std::to_string(values.size()) + " given in bytes_contents");
  Tensor t(DataType::kString, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<std::string>());
  return t;
}

// The request's own consistency: datatypes known, shapes non-negative, the data present and
// exactly as long as the shape says. Whether the tensors fit the model is the core's check.
// Raw bytes are copied into fresh tensors rather than wrapped: the request message belongs to
// gRPC and is freed when the RPC finishes, which a cancelled request's running batch may
// outlive.
Status ParseInputs(const inference::ModelInferRequest& req, std::vector<NamedTensor>* out) {
  const bool raw = req.raw_input_contents_size() > 0;
  if (raw && req.raw_input_contents_size() != req.inputs_size())
    return Status::InvalidArgument("raw_input_contents has " +
                                   std::to_string(req.raw_input_contents_size()) + " entries for " +
                                   std::to_string(req.inputs_size()) +
                                   " inputs: send one per input, in input order");
  out->reserve(static_cast<size_t>(req.inputs_size()));
  for (int i = 0; i < req.inputs_size(); ++i) {
    const auto& in = req.inputs(i);
    for (const NamedTensor& seen : *out)
      if (seen.name == in.name())
        return Status::InvalidArgument("input '" + in.name() + "' given twice");
    const std::optional<DataType> dtype = DataTypeFromV2(in.datatype());
    if (!dtype)
      return Status::InvalidArgument("input '" + in.name() + "': datatype '" + in.datatype() +
                                     "' is not a KServe v2 type");
    const std::optional<int64_t> numel = CheckedElementCount(in.shape());
    if (!numel)
      return Status::InvalidArgument("input '" + in.name() + "': invalid shape " +
                                     ShapeString(in.shape()));
    if (*dtype == DataType::kString) {
      SN_ASSIGN_OR_RETURN(Tensor t, ParseBytesInput(req, i, raw, *numel));
      out->push_back(NamedTensor{in.name(), std::move(t)});
      continue;
    }
    const size_t elem = DataTypeSize(*dtype);
    if (*numel > static_cast<int64_t>(std::numeric_limits<size_t>::max() / elem / 2))
      return Status::InvalidArgument("input '" + in.name() + "': shape " + ShapeString(in.shape()) +
                                     " is too large");
    const size_t nbytes = static_cast<size_t>(*numel) * elem;
    if (raw) {
      if (in.has_contents() && HasTypedContents(in.contents()))
        return Status::InvalidArgument("input '" + in.name() +
                                       "': contents given both raw and typed; send one form");
      const std::string& bytes = req.raw_input_contents(i);
      if (bytes.size() != nbytes)
        return Status::InvalidArgument("input '" + in.name() + "': raw contents are " +
                                       std::to_string(bytes.size()) + " bytes, shape " +
                                       ShapeString(in.shape()) + " of " + in.datatype() +
                                       " needs " + std::to_string(nbytes));
    } else if (*numel > 0 && !(in.has_contents() && HasTypedContents(in.contents()))) {
      return Status::InvalidArgument("input '" + in.name() +
                                     "' has no data (neither contents nor raw_input_contents)");
    }
    Shape shape(in.shape().begin(), in.shape().end());
    Tensor t;
    if (raw) {
      t = Tensor(*dtype, std::move(shape));
      if (nbytes > 0) std::memcpy(t.raw_data(), req.raw_input_contents(i).data(), nbytes);
    } else {
      SN_RETURN_IF_ERROR(CopyContents(in.contents(), in.name(), *dtype, std::move(shape), &t));
    }
    out->push_back(NamedTensor{in.name(), std::move(t)});
  }
  return Status::Ok();
}

// Triton's "timeout" request parameter (microseconds), which may shorten the deadline.
Result<uint64_t> RequestTimeoutUs(const inference::ModelInferRequest& req, uint64_t timeout_us) {
  auto it = req.parameters().find("timeout");
  if (it != req.parameters().end()) {
    const inference::InferParameter& p = it->second;
    int64_t us = 0;
    if (p.parameter_choice_case() == inference::InferParameter::kInt64Param) {
      us = p.int64_param();
    } else if (p.parameter_choice_case() == inference::InferParameter::kUint64Param) {
      us = static_cast<int64_t>(
          std::min<uint64_t>(p.uint64_param(), std::numeric_limits<int64_t>::max()));
    } else {
      return Status::InvalidArgument("parameter 'timeout' must be an integer (microseconds)");
    }
    if (us < 0) return Status::InvalidArgument("parameter 'timeout' must not be negative");
    if (us > 0)
      timeout_us = timeout_us == 0 ? static_cast<uint64_t>(us)
                                   : std::min(timeout_us, static_cast<uint64_t>(us));
  }
  return timeout_us;
}

}  // namespace

Result<InferRequest> FromModelInferRequest(const inference::ModelInferRequest& req,
                                           uint64_t deadline_timeout_us) {
  InferRequest r;
  r.model = req.model_name();
  r.version = req.model_version();
  r.id = req.id();
  SN_ASSIGN_OR_RETURN(r.timeout_us, RequestTimeoutUs(req, deadline_timeout_us));
  SN_RETURN_IF_ERROR(ParseInputs(req, &r.inputs));
  r.outputs.reserve(static_cast<size_t>(req.outputs_size()));
  for (const auto& out : req.outputs()) {
    if (out.parameters().count("classification"))
      return Status::InvalidArgument("output '" + out.name() +
                                     "': the classification extension is not supported");
    r.outputs.push_back(out.name());
  }
  return r;
}

}  // namespace supernova::server

// The KServe v2 REST encoding (and Triton's binary tensor extension): request bodies into the
// core's InferRequest, the core's answers into response bodies. Pure functions, no sockets,
// so that the transport (http_server.cc, Boost.Beast) stays small and this part is testable
// and quick to compile.
//
//   auto parsed = ParseInferRequest(body, header_length, "simple", "");
//   if (!parsed.ok()) reply(400, ErrorJson(parsed.status().message()));
//   core->Infer(std::move(parsed->request), ...);
//   EncodedInferResponse out = EncodeInferResponse(response, parsed->output_format);
//
// Data conversion (JSON "data" <-> tensors), exact per datatype:
// - BOOL: JSON true/false only.
// - INT8..INT64, UINT8..UINT64: JSON integers only (1.0 is refused), range-checked, so INT64
//   and UINT64 values beyond 2^53 travel exactly as JSON integers.
// - FP64: the JSON number as parsed (correctly rounded to double).
// - FP32: parsed to the nearest double, then rounded to float. This equals direct decimal to
//   float rounding except for decimals within 2^-29 ulp of a midpoint between two floats,
//   which no float printer produces.
// - FP16, BF16: JSON numbers, rounded from the double once (round-to-odd to float, then to
//   nearest-even), so the result is the correctly rounded half / bfloat16 of the double.
// - Non-finite values cannot be JSON numbers: they are written as the strings "NaN",
//   "Infinity", "-Infinity" (protobuf's JSON mapping; numpy.array(..., dtype) reads them) and
//   the same strings are accepted in requests. Floats out of range round to infinity (IEEE).
// - BYTES (strings) is not supported: the runtime's tensors hold numbers only.
// Response numbers are the shortest decimal that reads back to the same value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model_config.pb.h"
#include "server/inference_server.h"
#include "server/metrics.h"
#include "supernova/status.h"

namespace supernova::server::http {

// Which outputs of a response are binary (the "binary_data_output" request parameter, and
// each requested output's "binary_data" parameter, which wins).
struct OutputFormat {
  bool binary_default = false;
  std::vector<std::pair<std::string, bool>> per_output;  // name -> binary, where the client said
  bool IsBinary(std::string_view name) const;
};

struct ParsedInferRequest {
  InferRequest request;
  OutputFormat output_format;
};

// Parses and validates an infer request: `body` is the whole HTTP body; `header_length` the
// Inference-Header-Content-Length header's value when the request had one (the JSON is then
// body[0, header_length) and the binary inputs follow in order). Checks everything that needs
// no model: well-formed JSON, known datatypes, non-negative shapes, element counts (JSON) and
// byte counts (binary) that match shape x datatype size, binary sizes that add up to the body
// exactly, no duplicate names. Errors are kInvalidArgument with a message for the client.
Result<ParsedInferRequest> ParseInferRequest(std::string_view body,
                                             std::optional<uint64_t> header_length,
                                             std::string model, std::string version);

struct EncodedInferResponse {
  std::string body;
  // Length of the JSON at the start of `body` when binary outputs follow it (the value of the
  // response's Inference-Header-Content-Length header); nullopt: `body` is all JSON.
  std::optional<size_t> header_length;
};
// The response body: JSON with model_name, model_version, id (when the request had one) and
// outputs (flat "data", or "parameters": {"binary_data_size": n} with the bytes after the
// JSON, in output order, little-endian row-major). Host tensors only.
EncodedInferResponse EncodeInferResponse(const InferResponse& response, const OutputFormat& format);

// {"error": "message"}
std::string ErrorJson(std::string_view message);
// {"name": ..., "version": ..., "extensions": [...]}
std::string ServerMetadataJson(std::string_view name, std::string_view version,
                               const std::vector<std::string>& extensions);
// {"name", "versions", "platform", "inputs": [{"name", "datatype", "shape"}], "outputs"}
std::string ModelMetadataJson(const ModelMetadata& metadata);
// Triton's model configuration JSON: proto field names, default values printed, and 64-bit
// integers (dims, microseconds) as JSON numbers rather than protobuf's JSON strings, as
// Triton writes them.
Result<std::string> ModelConfigJson(const inference::ModelConfig& config);
// [{"name", "version", "state", "reason"}] (version and reason only when not empty).
std::string RepositoryIndexJson(const std::vector<RepositoryEntry>& entries);

// Triton's statistics extension: {"model_stats": [{"name", "version", "last_inference",
// "inference_count", "execution_count", "inference_stats": {"success": {"count", "ns"}, "fail",
// "queue", "compute_input", "compute_infer", "compute_output", "cache_hit", "cache_miss"},
// "batch_stats": []}]}. As the gRPC front end reports them: input and output copies are inside
// compute_infer (compute_input and compute_output carry the count with zero time).
struct ModelStatsEntry {
  std::string name;
  std::string version;
  ModelMetrics::Counters counters;
};
std::string ModelStatsJson(const std::vector<ModelStatsEntry>& entries);

// POST /v2/repository/index body (may be empty): {"ready": bool}. Returns ready_only.
Result<bool> ParseRepositoryIndexRequest(std::string_view body);
// POST /v2/repository/models/{m}/load body (may be empty): {"parameters": {"config": "..."}}.
// Returns the config JSON ("" when none). File overrides ("file:..." parameters) are refused.
Result<std::string> ParseLoadRequest(std::string_view body);
// POST /v2/repository/models/{m}/unload body (may be empty): {"parameters": {...}}; checks
// only that it is a JSON object.
Status ParseUnloadRequest(std::string_view body);

// The HTTP status for a core error (see http_server.h for the table).
int HttpStatusFor(Status::Code code);

// Percent-decoding of one path segment ("my%20model"); nullopt when malformed.
std::optional<std::string> DecodePathSegment(std::string_view segment);

}  // namespace supernova::server::http

// The HTTP infer request decoder (ParseInferRequest): the JSON body, and the binary tensor
// extension's JSON header followed by raw tensors. The input's first byte picks the form: 0
// is all JSON; otherwise the next 4 bytes (little-endian) are the
// Inference-Header-Content-Length header's value, as a client could send any.

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "server/http_codec.h"
#include "touch_tensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using supernova::server::http::ParseInferRequest;
  if (size < 1) return 0;
  std::optional<uint64_t> header_length;
  size_t skip = 1;
  if (data[0] != 0) {
    if (size < 5) return 0;
    uint32_t h = 0;
    std::memcpy(&h, data + 1, 4);  // a little-endian host, as every supported target is
    header_length = h;
    skip = 5;
  }
  const std::string_view body(reinterpret_cast<const char*>(data) + skip, size - skip);
  auto parsed = ParseInferRequest(body, header_length, "m", "1");
  if (!parsed.ok()) return 0;
  supernova::fuzz::TouchTensors(parsed->request.inputs);
  return 0;
}

// The other client bytes the HTTP front end decodes before the core sees them
// (server/http_codec.h); the input's first byte picks which (mod 4), the rest is the bytes:
//   0  a URL path segment (DecodePathSegment: model names, versions, resource paths)
//   1  the body of POST /v2/repository/index (ParseRepositoryIndexRequest)
//   2  the body of POST /v2/repository/models/M/load (ParseLoadRequest), and the "config"
//      JSON it carries, parsed as InferenceServer::LoadModel parses it (ParseModelConfigJson)
//   3  the body of POST /v2/repository/models/M/unload (ParseUnloadRequest)

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/http_codec.h"
#include "server/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = supernova::server::http;
  if (size < 1) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto decoded = http::DecodePathSegment(bytes);
      // Each %XX becomes one byte, everything else stays: never longer than the segment.
      if (decoded && decoded->size() > bytes.size()) std::abort();
      break;
    }
    case 1:
      (void)http::ParseRepositoryIndexRequest(bytes);
      break;
    case 2: {
      auto config = http::ParseLoadRequest(bytes);
      if (config.ok() && !config->empty()) (void)supernova::server::ParseModelConfigJson(*config);
      break;
    }
    case 3:
      (void)http::ParseUnloadRequest(bytes);
      break;
  }
  return 0;
}

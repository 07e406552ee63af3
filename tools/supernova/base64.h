// Base64 (RFC 4648, the standard alphabet, padded) for what JSON carries as text, such as the
// images of a request to a learned classifier's classes (serve_learn.cc).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace supernova::tools {

// The bytes `text` encodes; nullopt unless it is canonical padded base64 (length a multiple of
// 4, only the alphabet, '=' only as the last one or two characters). Whitespace is not skipped:
// JSON strings have no reason to hold any.
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace supernova::tools

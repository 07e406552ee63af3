#include "kserve/bytes.h"

#include <cstdint>

namespace supernova::kserve {

Result<Tensor> DecodeBytes(std::string_view raw, Shape shape, const std::string& what) {
  int64_t numel = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(numel, d, &numel))
      return Status::InvalidArgument(what + ": invalid shape " + ShapeToString(shape));
  // Each element takes at least its 4-byte length: refuse before allocating what the body
  // cannot hold.
  if (numel > static_cast<int64_t>(raw.size() / 4))
    return Status::InvalidArgument(what + ": " + std::to_string(raw.size()) +
                                   " bytes cannot hold " + std::to_string(numel) +
                                   " BYTES elements of shape " + ShapeToString(shape));
  Tensor t(DataType::kString, std::move(shape));
  std::string* out = t.data<std::string>();
  size_t at = 0;
  for (int64_t i = 0; i < numel; ++i) {
    if (raw.size() - at < 4)
      return Status::InvalidArgument(what + ": BYTES element " + std::to_string(i) +
                                     " has no 4-byte length");
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data() + at);
    const uint32_t len =
        uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    at += 4;
    if (len > raw.size() - at)
      return Status::InvalidArgument(what + ": BYTES element " + std::to_string(i) + " of " +
                                     std::to_string(len) + " bytes goes past the end of the data");
    out[i].assign(raw.data() + at, len);
    at += len;
  }
  if (at != raw.size())
    return Status::InvalidArgument(what + ": " + std::to_string(raw.size() - at) +
                                   " bytes left after " + std::to_string(numel) +
                                   " BYTES elements");
  return t;
}

size_t EncodedBytesSize(const Tensor& t) {
  size_t n = 0;
  const std::string* s = t.data<std::string>();
  for (int64_t i = 0; i < t.numel(); ++i) n += 4 + s[i].size();
  return n;
}

void AppendEncodedBytes(std::string& out, const Tensor& t) {
  const std::string* s = t.data<std::string>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    const auto len = static_cast<uint32_t>(s[i].size());
    const char prefix[4] = {static_cast<char>(len & 0xff), static_cast<char>((len >> 8) & 0xff),
                            static_cast<char>((len >> 16) & 0xff),
                            static_cast<char>((len >> 24) & 0xff)};
    out.append(prefix, 4);
    out.append(s[i]);
  }
}

}  // namespace supernova::kserve

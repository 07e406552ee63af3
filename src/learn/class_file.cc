#include "learn/class_file.h"

#include <zlib.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

namespace supernova::learn {
namespace {

using json = nlohmann::json;

constexpr std::string_view kMagic = "SNCLASS1";
constexpr size_t kFixedBytes = 8 + 4 + 4;  // magic, header length, CRC

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetU32(std::string_view bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

void PutFloats(std::string* out, const std::vector<float>& v) {
  for (float f : v) PutU32(out, std::bit_cast<uint32_t>(f));
}

uint32_t Crc32(std::string_view bytes) {
  const uLong seed = crc32_z(0L, Z_NULL, 0);
  return static_cast<uint32_t>(
      crc32_z(seed, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

Status Corrupt(const std::string& path, const std::string& why) {
  return Status::Internal("class file '" + path + "' is corrupt: " + why);
}

// A non-negative integer field of the header, or why not.
bool GetCount(const json& h, const char* key, int64_t* out) {
  auto it = h.find(key);
  if (it == h.end() || !it->is_number_integer()) return false;
  *out = it->get<int64_t>();
  return *out >= 0;
}

}  // namespace

bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past Unicode are not UTF-8.
    constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

Result<std::string> EncodeClassFile(const ClassRecord& r, const std::string& embedder,
                                    int64_t dim) {
  json metadata = json::object();
  for (const auto& [k, v] : r.metadata) {
    if (!IsUtf8(k) || !IsUtf8(v))
      return Status::InvalidArgument("metadata of class '" + r.name + "' is not UTF-8");
    metadata[k] = v;
  }
  if (!IsUtf8(embedder)) return Status::InvalidArgument("embedder identity is not UTF-8");
  const json header = {{"format", kClassFileFormat},
                       {"version", r.version},
                       {"embedder", embedder},
                       {"dim", dim},
                       {"count", r.count},
                       {"num_examples", r.num_examples(dim)},
                       {"refinements", r.refinements},
                       {"metadata", std::move(metadata)},
                       {"created_unix", r.created_unix},
                       {"updated_unix", r.updated_unix}};
  const std::string text = header.dump();
  std::string out;
  out.reserve(kFixedBytes + text.size() + 4 * (2 * dim + r.examples.size()));
  out.append(kMagic);
  PutU32(&out, static_cast<uint32_t>(text.size()));
  out.append(text);
  PutFloats(&out, r.prototype);
  PutFloats(&out, r.anchor);
  PutFloats(&out, r.examples);
  PutU32(&out, Crc32(out));
  return out;
}

Result<ClassRecord> DecodeClassFile(std::string_view bytes, const std::string& path,
                                    const std::string& embedder, int64_t dim) {
  if (bytes.size() < kFixedBytes || bytes.substr(0, kMagic.size()) != kMagic)
    return Corrupt(path, "not a class file (no " + std::string(kMagic) + " magic)");
  // The checksum first: every later check then reads bytes a writer wrote whole.
  const uint32_t stored = GetU32(bytes, bytes.size() - 4);
  const uint32_t computed = Crc32(bytes.substr(0, bytes.size() - 4));
  if (stored != computed) return Corrupt(path, "checksum mismatch");
  const size_t header_len = GetU32(bytes, kMagic.size());
  if (header_len > bytes.size() - kFixedBytes) return Corrupt(path, "header past the end");
  const json h = json::parse(bytes.substr(12, header_len), nullptr, /*allow_exceptions=*/false);
  if (h.is_discarded() || !h.is_object()) return Corrupt(path, "header is not JSON");

  int64_t format = 0, file_dim = 0, n = 0;
  ClassRecord r;
  auto version = h.find("version");
  auto file_embedder = h.find("embedder");
  auto metadata = h.find("metadata");
  auto created = h.find("created_unix"), updated = h.find("updated_unix");
  if (!GetCount(h, "format", &format) || !GetCount(h, "dim", &file_dim) ||
      !GetCount(h, "num_examples", &n) || !GetCount(h, "count", &r.count) ||
      !GetCount(h, "refinements", &r.refinements) || version == h.end() ||
      !version->is_number_unsigned() || file_embedder == h.end() || !file_embedder->is_string() ||
      metadata == h.end() || !metadata->is_object() || created == h.end() ||
      !created->is_number() || updated == h.end() || !updated->is_number())
    return Corrupt(path, "header lacks a field or has one of the wrong type");
  if (format != kClassFileFormat)
    return Status::Unimplemented("class file '" + path + "' is of format " +
                                 std::to_string(format) + "; this build reads format " +
                                 std::to_string(kClassFileFormat));
  if (*file_embedder != embedder || file_dim != dim)
    return Status::InvalidArgument("class file '" + path + "' holds embeddings of '" +
                                   file_embedder->get<std::string>() + "' (dim " +
                                   std::to_string(file_dim) + "), not of this store's '" +
                                   embedder + "' (dim " + std::to_string(dim) + ")");
  for (const auto& [k, v] : metadata->items()) {
    if (!v.is_string()) return Corrupt(path, "metadata '" + k + "' is not a string");
    r.metadata[k] = v.get<std::string>();
  }
  r.version = version->get<uint64_t>();
  r.created_unix = created->get<double>();
  r.updated_unix = updated->get<double>();
  if (n > r.count) return Corrupt(path, "more examples than the count");

  const size_t floats_at = 12 + header_len;
  const size_t float_bytes = bytes.size() - 4 - floats_at;
  const uint64_t rows = 2 + static_cast<uint64_t>(n);
  if (float_bytes % 4 != 0 || float_bytes / 4 / rows != static_cast<uint64_t>(dim) ||
      float_bytes / 4 % rows != 0)
    return Corrupt(path, "array sizes disagree with the header");
  std::vector<float> all(float_bytes / 4);
  for (size_t i = 0; i < all.size(); ++i) {
    all[i] = std::bit_cast<float>(GetU32(bytes, floats_at + 4 * i));
    if (!std::isfinite(all[i])) return Corrupt(path, "a value is not finite");
  }
  const auto d = static_cast<size_t>(dim);
  r.prototype.assign(all.begin(), all.begin() + d);
  r.anchor.assign(all.begin() + d, all.begin() + 2 * d);
  r.examples.assign(all.begin() + 2 * d, all.end());
  return r;
}

}  // namespace supernova::learn

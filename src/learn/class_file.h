// The bytes of one class file (class_store.h), all integers and floats little-endian:
//
//   "SNCLASS1"          8 bytes, the magic
//   uint32              the header's length in bytes
//   header              JSON: {"format": 1, "version", "embedder", "dim", "count",
//                       "num_examples", "refinements", "metadata", "created_unix",
//                       "updated_unix"}
//   float32[dim]        prototype
//   float32[dim]        anchor
//   float32[n * dim]    examples, oldest first (n = num_examples)
//   uint32              CRC-32 (zlib's) of every byte before it
//
// The class's name is not inside: it is the file's name, so a rename is one rename(2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "learn/class_store.h"
#include "supernova/status.h"

namespace supernova::learn {

inline constexpr int kClassFileFormat = 1;

// `record` as a class file of a store for `embedder` and `dim`. InvalidArgument when a string
// (a metadata key or value) is not UTF-8, the one thing the caller can get wrong.
Result<std::string> EncodeClassFile(const ClassRecord& record, const std::string& embedder,
                                    int64_t dim);

// The record in `bytes` (its name left empty), checked whole: magic, length, checksum, header
// fields, array sizes, finite values, and that it belongs to a store of `embedder` and `dim`.
// `path` names the file in errors; a damaged file is Internal ("... is corrupt: ...").
Result<ClassRecord> DecodeClassFile(std::string_view bytes, const std::string& path,
                                    const std::string& embedder, int64_t dim);

// Whether `s` is well-formed UTF-8 (JSON strings must be).
bool IsUtf8(std::string_view s);

}  // namespace supernova::learn

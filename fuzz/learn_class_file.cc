// The learn store's class file (learn/class_file.h): the bytes a store reads from
// DIR/classes/<name>.class, which a damaged disk or another program may have written. A store
// of the crash test's embedder and dimension reads them, as ClassStore::Get does.
//
// Each input is decoded twice: as it is, and with its CRC-32 trailer made right. A mutated
// file almost never keeps a valid checksum, so without the second pass the fuzzer would stop at
// the checksum and never reach the header and array checks behind it.
//
// What an accepted file promises is checked too: encoding the record again and decoding that
// gives the same record (a decoder that accepted what the encoder cannot represent would
// corrupt the store at its next write).

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "learn/class_file.h"

namespace {

namespace sl = supernova::learn;

// The crash test's store (tests/learn/crash_content.h), which wrote the seeds.
constexpr const char* kEmbedder = "crash-test:rows";
constexpr int64_t kDim = 8;

bool Same(const sl::ClassRecord& a, const sl::ClassRecord& b) {
  return a.version == b.version && a.count == b.count && a.prototype == b.prototype &&
         a.anchor == b.anchor && a.examples == b.examples && a.refinements == b.refinements &&
         a.metadata == b.metadata && a.created_unix == b.created_unix &&
         a.updated_unix == b.updated_unix;
}

void DecodeAndCheck(std::string_view bytes) {
  auto record = sl::DecodeClassFile(bytes, "fuzz.class", kEmbedder, kDim);
  if (!record.ok()) return;
  auto again = sl::EncodeClassFile(*record, kEmbedder, kDim);
  if (!again.ok()) std::abort();  // the decoder accepted a record the encoder refuses
  auto back = sl::DecodeClassFile(*again, "fuzz.class", kEmbedder, kDim);
  if (!back.ok() || !Same(*record, *back)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  DecodeAndCheck(bytes);
  if (bytes.size() < 4) return 0;
  const uint32_t crc = static_cast<uint32_t>(
      crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), size - 4));
  for (int i = 0; i < 4; ++i) bytes[size - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  DecodeAndCheck(bytes);
  return 0;
}

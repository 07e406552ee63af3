#include "providers/cpu/dnnl/dnnl_common.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

// libxxhash-dev, used header-only: the hash compiles into this library, no shared object.
#define XXH_INLINE_ALL
#include <xxhash.h>

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace supernova::cpu::dnnl_ops {

using dnnl::memory;

bool HardSwishPostOpBroken() {
  static const bool broken = [] {
    if (const char* e = std::getenv("SUPERNOVA_ONEDNN_HARDSWISH_POST_OP")) {
      if (std::strcmp(e, "off") == 0) return true;
      if (std::strcmp(e, "on") == 0) return false;
    }
#if defined(__aarch64__)
    return (getauxval(AT_HWCAP) & HWCAP_SVE) != 0 && dnnl_version()->major < 3;
#else
    return false;
#endif
  }();
  return broken;
}

const dnnl::engine& Engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// dnnl::cpu_isa and get_effective_cpu_isa() describe x86 only: oneDNN's aarch64 build answers
// with a value whose bits mean nothing in that enum (0x1f under qemu, which would read as avx2).
// So the ISA is asked on x86-64 alone; elsewhere bf16 is not native (Debian's aarch64 oneDNN
// has no bf16 primitives outside SVE-512) and the name is the architecture's.
#if defined(__x86_64__)
bool Bf16Native() {
  const auto need = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (static_cast<unsigned>(dnnl::get_effective_cpu_isa()) & need) == need;
}

std::string CpuIsaName() {
  using Isa = dnnl::cpu_isa;
  // Widest first: each name's bits include those of the ones below it.
  static const std::pair<Isa, const char*> kNames[] = {{Isa::avx512_core_amx, "avx512_core_amx"},
                                                       {Isa::avx512_core_bf16, "avx512_core_bf16"},
                                                       {Isa::avx512_core_vnni, "avx512_core_vnni"},
                                                       {Isa::avx512_core, "avx512_core"},
                                                       {Isa::avx2_vnni, "avx2_vnni"},
                                                       {Isa::avx2, "avx2"},
                                                       {Isa::avx, "avx"},
                                                       {Isa::sse41, "sse41"}};
  const auto have = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  for (const auto& [isa, name] : kNames)
    if ((have & static_cast<unsigned>(isa)) == static_cast<unsigned>(isa)) return name;
  return "generic";
}
#else
bool Bf16Native() { return false; }

std::string CpuIsaName() {
#if defined(__aarch64__)
  return "aarch64";
#else
  return "generic";
#endif
}
#endif

memory::format_tag PlainTag(int ndims) {
  switch (ndims) {
    case 1:
      return memory::format_tag::a;
    case 2:
      return memory::format_tag::ab;
    case 3:
      return memory::format_tag::abc;
    case 4:
      return memory::format_tag::abcd;
    case 5:
      return memory::format_tag::abcde;
    case 6:
      return memory::format_tag::abcdef;
    default:
      throw std::invalid_argument("no plain oneDNN layout for rank " + std::to_string(ndims));
  }
}

memory::dims ToDims(const Shape& shape) {
  if (shape.empty()) return {1};  // a scalar is one element
  return memory::dims(shape.begin(), shape.end());
}

memory::desc PlainDesc(const Shape& shape) {
  memory::dims dims = ToDims(shape);
  return memory::desc(dims, memory::data_type::f32, PlainTag(static_cast<int>(dims.size())));
}

namespace {

// XXH3's 128-bit hash of the weight bytes: the key holds it, the size and both layouts, so
// equal keys mean equal bytes for any practical purpose, without keeping a copy of the source
// around to compare. It is not a cryptographic hash: the models of one process are trusted
// alike (docs/security.md, "Out of scope"). XXH3 reads 32-64 bytes a step with vector instructions
// (SSE2, NEON); the byte-serial hash it replaced took 134 M of the 1.09 G instructions of a face
// embedding's load and first run on arm64 (bench/arm64_profile.py).
void Fingerprint(const void* data, size_t n, uint64_t out[2]) {
  const XXH128_hash_t h = XXH3_128bits(data, n);
  out[0] = h.low64;
  out[1] = h.high64;
}

struct Cache {
  std::mutex mu;
  std::map<std::string, std::weak_ptr<const PackedWeights>> entries;  // GUARDED_BY(mu)
};

Cache& GlobalCache() {
  static Cache* cache = new Cache;  // never destroyed: sessions may outlive static teardown
  return *cache;
}

std::string KeyOf(const Tensor& source, const memory::desc& src_md, const memory::desc& dst_md) {
  std::string key(reinterpret_cast<const char*>(&src_md.data), sizeof(src_md.data));
  key.append(reinterpret_cast<const char*>(&dst_md.data), sizeof(dst_md.data));
  uint64_t h[2];
  Fingerprint(source.raw_data(), source.nbytes(), h);
  key.append(reinterpret_cast<const char*>(h), sizeof(h));
  return key;
}

}  // namespace

std::shared_ptr<const PackedWeights> PackWeights(const Tensor& source, const memory::desc& src_md,
                                                 const memory::desc& dst_md) {
  Cache& cache = GlobalCache();
  const std::string key = KeyOf(source, src_md, dst_md);
  std::lock_guard<std::mutex> lock(cache.mu);
  auto it = cache.entries.find(key);
  if (it != cache.entries.end())
    if (std::shared_ptr<const PackedWeights> live = it->second.lock()) return live;
  std::erase_if(cache.entries, [](const auto& e) { return e.second.expired(); });
  auto packed = std::make_shared<PackedWeights>();
  packed->memory = memory(dst_md, Engine());
  packed->bytes = dst_md.get_size();
  memory src(src_md, Engine(), const_cast<void*>(source.raw_data()));
  dnnl::stream stream(Engine());
  dnnl::reorder(src, packed->memory).execute(stream, src, packed->memory);
  stream.wait();
  std::shared_ptr<const PackedWeights> result = std::move(packed);
  cache.entries[key] = result;
  return result;
}

PackStats LivePackStats() {
  Cache& cache = GlobalCache();
  std::lock_guard<std::mutex> lock(cache.mu);
  PackStats stats;
  for (const auto& [key, entry] : cache.entries)
    if (auto live = entry.lock()) {
      ++stats.entries;
      stats.bytes += live->bytes;
    }
  return stats;
}

}  // namespace supernova::cpu::dnnl_ops

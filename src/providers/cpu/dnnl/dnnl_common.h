// What the oneDNN parts of the cpu provider share: the engine, plain-layout descriptors, and
// the cache of prepacked weights that lets several sessions of one model hold them once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <string>

#include "oneapi/dnnl/dnnl.hpp"
#include "supernova/tensor.h"

namespace supernova::cpu::dnnl_ops {

// The process-wide cpu engine.
const dnnl::engine& Engine();

// Whether oneDNN runs bf16 arithmetic natively here (AVX512-BF16 or AMX). Elsewhere its bf16
// kernels emulate the format in float or fall to reference code, slower than float itself, so
// a bf16 request computes in float instead.
bool Bf16Native();
// The instruction set oneDNN dispatches to, for reports ("avx512_core_bf16").
std::string CpuIsaName();
// Whether a HardSwish must not be a post-op of another primitive here. On an SVE CPU, oneDNN
// 2.6's convolution (jit:sve_512) with an eltwise_hardswish post-op computes wrong values,
// every shape tried, while its other eltwise post-ops and a HardSwish primitive on its own are
// exact (found under qemu-aarch64; oneDNN 3.0 fixed the registers its eltwise code preserves
// on SVE). True on aarch64 with SVE and oneDNN older than 3; SUPERNOVA_ONEDNN_HARDSWISH_POST_OP
// set to "off" or "on" decides instead (tests run the workaround on x86-64 this way).
bool HardSwishPostOpBroken();

// The row-major ("plain") format tag for `ndims` dims (1..6).
dnnl::memory::format_tag PlainTag(int ndims);
dnnl::memory::desc PlainDesc(const Shape& shape);
dnnl::memory::dims ToDims(const Shape& shape);

// Weights reordered into the layout a primitive asked for. Immutable once made.
struct PackedWeights {
  dnnl::memory memory;
  size_t bytes = 0;
};

// Returns `source` (a constant tensor seen through `source_md`) reordered to `packed_md`,
// shared with every other caller that asks for the same bytes in the same layout: two
// sessions of one model hold each packed weight once. Entries die with their last user.
std::shared_ptr<const PackedWeights> PackWeights(const Tensor& source,
                                                 const dnnl::memory::desc& source_md,
                                                 const dnnl::memory::desc& packed_md);

// Live packed weights in the process (for tests and for `supernova info`).
struct PackStats {
  size_t entries = 0;
  size_t bytes = 0;
};
PackStats LivePackStats();

}  // namespace supernova::cpu::dnnl_ops

// The cpu execution provider: the fallback every session ends with.
//
// It claims every node whose operator has a reference kernel (providers/cpu/kernel.h), on the
// host. Compiling a piece copies its nodes into a graph of the piece's own, applies the
// cpu-only fusions there (FusedConv, which other providers cannot read, so they are made only
// after placement), groups the nodes oneDNN takes into regions (providers/cpu/dnnl/region.h)
// and runs the rest with the reference kernels. Intermediate values are released after their
// last reader, into the run's buffer pool (RunContext::host_allocator).
//
// kReference ("cpu_reference") skips the fusions and oneDNN: the reference kernels alone, as
// written, the oracle the tests compare other providers against.
#pragma once

#include <memory>
#include <string>

#include "providers/provider.h"

namespace supernova::cpu {

enum class CpuKind { kDnnl, kReference };

// Always succeeds. Fusions follow options.optimization; threads come with each run
// (RunContext::num_threads).
Result<std::unique_ptr<providers::ExecutionProvider>> MakeCpuProvider(
    const providers::ProviderOptions& options, CpuKind kind);

// Whether options.bf16 computes in bf16 here (native AVX512-BF16 or AMX), and the
// instruction set oneDNN dispatches to ("avx512_core_bf16"), for reports.
bool NativeBf16();
std::string CpuIsa();

}  // namespace supernova::cpu

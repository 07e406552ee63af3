#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status Split(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const int64_t r = static_cast<int64_t>(x->rank());
  int64_t axis = ctx.node.AttrInt("axis", 0);
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r));
  const int64_t dim = x->dim(static_cast<size_t>(axis));
  const int64_t n = static_cast<int64_t>(ctx.num_outputs());
  if (n == 0) return ctx.Error("needs at least one output");
  std::vector<int64_t> split;
  bool given = false;
  if (ctx.opset >= 13) {
    if (const Tensor* s = ctx.input(1)) {
      SN_RETURN_IF_ERROR(ReadInts(ctx, *s, "split", &split));
      given = true;
    }
  } else if (ctx.node.HasAttr("split")) {
    split = ctx.node.AttrInts("split");
    given = true;
  }
  if (given) {
    if (static_cast<int64_t>(split.size()) != n)
      return ctx.Error("split has " + std::to_string(split.size()) + " entries for " +
                       std::to_string(n) + " outputs");
    int64_t total = 0;
    for (int64_t s : split) {
      if (s < 0) return ctx.Error("negative entry in split");
      total += s;
    }
    if (total != dim)
      return ctx.Error("split sums to " + std::to_string(total) + " but axis " +
                       std::to_string(axis) + " has size " + std::to_string(dim));
  } else if (ctx.node.HasAttr("num_outputs")) {
    // Opset 18: chunks of ceil(dim / n), the last one smaller.
    const int64_t chunk = (dim + n - 1) / n;
    for (int64_t i = 0; i < n; ++i)
      split.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
  } else {
    if (dim % n != 0)
      return ctx.Error("axis " + std::to_string(axis) + " of size " + std::to_string(dim) +
                       " does not split evenly into " + std::to_string(n) + " outputs");
    split.assign(static_cast<size_t>(n), dim / n);
  }
  const size_t es = DataTypeSize(x->dtype());
  if (es == 0) return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= x->dim(k);
  for (int64_t k = axis + 1; k < r; ++k) inner *= x->dim(k);
  const int64_t in_row = dim * inner * static_cast<int64_t>(es);
  int64_t start = 0;
  for (int64_t i = 0; i < n; ++i) {
    Shape shape = x->shape();
    shape[axis] = split[i];
    const int64_t row = split[i] * inner * static_cast<int64_t>(es);
    const int64_t begin = start;
    start += row;
    if (!ctx.output_wanted(i)) continue;
    Tensor* y;
    SN_RETURN_IF_ERROR(AllocOutput(ctx, i, x->dtype(), shape, &y));
    if (row == 0) continue;
    char* dst = static_cast<char*>(y->raw_data());
    const char* src = static_cast<const char*>(x->raw_data()) + begin;
    if (outer == 1) {
      ParallelCopy(dst, src, static_cast<size_t>(row), ctx.num_threads);
      continue;
    }
    const int nt = y->nbytes() >= (256u << 10) ? ctx.num_threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(dst + o * row, src + o * in_row, static_cast<size_t>(row));
  }
  return Status::Ok();
}

namespace {
constexpr OpDef kOps[] = {
    {"Split", Split, SameDtype, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> SplitOps() { return kOps; }

}  // namespace supernova::ops

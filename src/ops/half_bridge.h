// float16/bfloat16 support for element-wise kernels by widening to float32.
//
// The kernels only implement float32/float64/integer loops; half-precision inputs are rare in
// the models we target, so rather than instantiating every loop for Float16 we convert the
// inputs, run the float32 kernel, and narrow the outputs back. Arithmetic happens in float,
// which is what the half types promise anyway (see tensor.h).
#pragma once

#include <cstdint>
#include <vector>

#include "ops/broadcast.h"
#include "ops/kernel.h"

namespace supernova::ops {

inline bool IsHalf(DataType t) { return t == DataType::kFloat16 || t == DataType::kBFloat16; }

// A float32 copy of a float16/bfloat16 tensor.
inline Tensor WidenToFloat32(const Tensor& t, int num_threads) {
  Tensor out(DataType::kFloat32, t.shape());
  float* o = out.data<float>();
  if (t.dtype() == DataType::kFloat16) {
    const Float16* p = t.data<Float16>();
    ParallelBlocks(t.numel(), num_threads, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = p[i].ToFloat();
    });
  } else {
    const BFloat16* p = t.data<BFloat16>();
    ParallelBlocks(t.numel(), num_threads, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = p[i].ToFloat();
    });
  }
  return out;
}

// Narrows a float32 tensor into a new `half` tensor from `ctx`'s allocator.
inline Tensor NarrowFromFloat32(const Tensor& t, DataType half, KernelContext& ctx) {
  Tensor out(half, t.shape(), ctx.allocator());
  const float* p = t.data<float>();
  if (half == DataType::kFloat16) {
    Float16* o = out.data<Float16>();
    ParallelBlocks(t.numel(), ctx.num_threads, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = Float16::FromFloat(p[i]);
    });
  } else {
    BFloat16* o = out.data<BFloat16>();
    ParallelBlocks(t.numel(), ctx.num_threads, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = BFloat16::FromFloat(p[i]);
    });
  }
  return out;
}

// Whether any present input is float16/bfloat16.
inline bool AnyHalfInput(const KernelContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.input(i) && IsHalf(ctx.input(i)->dtype())) return true;
  return false;
}

// Runs `fn` with every half input widened to float32. When input `like_input` was half, the
// float32 outputs are narrowed back to its dtype (bool/int outputs such as masks are kept).
inline Status RunWidened(KernelContext& ctx, KernelFn fn, size_t like_input = 0) {
  std::vector<Tensor> widened(ctx.num_inputs());
  std::vector<const Tensor*> inputs(ctx.num_inputs(), nullptr);
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (t && IsHalf(t->dtype())) {
      widened[i] = WidenToFloat32(*t, ctx.num_threads);
      inputs[i] = &widened[i];
    } else {
      inputs[i] = t;
    }
  }
  KernelContext inner(ctx.node, ctx.opset, std::move(inputs), ctx.allocator(), ctx.num_threads);
  SN_RETURN_IF_ERROR(fn(inner));
  const Tensor* like = ctx.input(like_input);
  const bool narrow = like && IsHalf(like->dtype());
  for (size_t i = 0; i < inner.num_outputs(); ++i) {
    Tensor& o = inner.outputs()[i];
    if (narrow && o.defined() && o.dtype() == DataType::kFloat32)
      ctx.SetOutput(i, NarrowFromFloat32(o, like->dtype(), ctx));
    else
      ctx.SetOutput(i, o);
  }
  return Status::Ok();
}

}  // namespace supernova::ops

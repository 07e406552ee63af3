// LSTM (opsets 1-22), gates i, o, f, c in that order in W, R and B; peepholes P are i, o, f:
//   i = f(X W_i^T + H R_i^T + P_i . C + Wb_i + Rb_i)     f gate likewise (1 - i with
//   c = g(X W_c^T + H R_c^T + Wb_c + Rb_c)                 input_forget)
//   C = f . C + i . c
//   o = f(X W_o^T + H R_o^T + P_o . C + Wb_o + Rb_o)     (the new C)
//   H = o . h(C)                                         (clip clips C here too)
#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/recurrent.h"

namespace supernova::ops {
namespace {
constexpr size_t kInitialC = 6, kP = 7;
}  // namespace

Status LSTM(KernelContext& ctx) {
  if (AnyHalfInput(ctx)) return RunWidened(ctx, LSTM);
  static constexpr std::string_view kFns[] = {"Sigmoid", "Tanh", "Tanh"};
  recurrent::Recurrence rc;
  SN_RETURN_IF_ERROR(recurrent::Parse(ctx, {4, kFns}, &rc));
  SN_RETURN_IF_ERROR(recurrent::CheckState(ctx, rc, kInitialC, "initial_c"));
  SN_RETURN_IF_ERROR(recurrent::CheckVector(ctx, rc, kP, "P", 3 * rc.hidden));
  const bool input_forget = ctx.node.AttrInt("input_forget", 0) != 0;
  return DispatchFloat(ctx.input(recurrent::kX)->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Row = recurrent::Row<T>;
    const int64_t batch = rc.batch, hid = rc.hidden, w = rc.width();
    const T* r = ctx.input(recurrent::kR)->data<T>();
    const Tensor* p = ctx.input(kP);
    std::vector<T> g(static_cast<size_t>(batch * w));
    auto peep = [&](T* gate, const T* weights, const T* cell) {
      if (weights)
        for (int64_t j = 0; j < hid; ++j) gate[j] += weights[j] * cell[j];
    };
    auto activate = [&](const recurrent::Fn& fn, T* x) {
      recurrent::ClipTo(x, hid, rc.clip);
      recurrent::Apply(fn, x, hid);
    };
    auto cell = [&](int d, std::span<const Row> rows, T* h, T* c) {
      DenseGemm<T>(false, true, batch, w, hid, T(1), h, hid, r + d * w * hid, hid, T(0), g.data(),
                   w, ctx.num_threads);
      const T* pd = p ? p->data<T>() + d * 3 * hid : nullptr;
      const T* pi = pd;
      const T* po = pd ? pd + hid : nullptr;
      const T* pf = pd ? pd + 2 * hid : nullptr;
      recurrent::ForRows(rows, w, ctx.num_threads, [&](const Row& row) {
        T* gi = g.data() + row.b * w;
        for (int64_t j = 0; j < w; ++j) gi[j] += row.x[j];
        T *go = gi + hid, *gf = gi + 2 * hid, *gc = gi + 3 * hid;
        T* cr = c + row.b * hid;
        peep(gi, pi, cr);
        activate(rc.fn(d, 0), gi);
        if (input_forget) {
          for (int64_t j = 0; j < hid; ++j) gf[j] = T(1) - gi[j];
        } else {
          peep(gf, pf, cr);
          activate(rc.fn(d, 0), gf);
        }
        activate(rc.fn(d, 1), gc);
        for (int64_t j = 0; j < hid; ++j) cr[j] = gf[j] * cr[j] + gi[j] * gc[j];
        peep(go, po, cr);
        activate(rc.fn(d, 0), go);
        // gc is spent: it takes h(C), clipped like every activation's input while C is not.
        std::copy_n(cr, hid, gc);
        activate(rc.fn(d, 2), gc);
        T* hr = h + row.b * hid;
        for (int64_t j = 0; j < hid; ++j) hr[j] = go[j] * gc[j];
      });
    };
    return recurrent::Run<T>(ctx, rc, recurrent::FoldedBias<T>(ctx, rc, w), 2, cell);
  });
}

}  // namespace supernova::ops

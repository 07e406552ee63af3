// GRU (opsets 1-22), gates z (update), r (reset), h in that order in W, R and B:
//   z = f(X W_z^T + H R_z^T + Wb_z + Rb_z)        r likewise
//   h = g(X W_h^T + (r . H) R_h^T + Rb_h + Wb_h)  (linear_before_reset 0)
//   h = g(X W_h^T + r . (H R_h^T + Rb_h) + Wb_h)  (linear_before_reset 1)
//   H = (1 - z) . h + z . H
#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/recurrent.h"

namespace supernova::ops {

Status GRU(KernelContext& ctx) {
  if (AnyHalfInput(ctx)) return RunWidened(ctx, GRU);
  static constexpr std::string_view kFns[] = {"Sigmoid", "Tanh"};
  recurrent::Recurrence rc;
  SN_RETURN_IF_ERROR(recurrent::Parse(ctx, {3, kFns}, &rc));
  const bool linear_before_reset = ctx.node.AttrInt("linear_before_reset", 0) != 0;
  return DispatchFloat(ctx.input(recurrent::kX)->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Row = recurrent::Row<T>;
    const int64_t batch = rc.batch, hid = rc.hidden, w = rc.width();
    const T* r = ctx.input(recurrent::kR)->data<T>();
    const Tensor* b = ctx.input(recurrent::kB);
    // g holds each row's recurrent products [z | r | h]; reset holds r . H for the product
    // that comes after the gates when the reset is applied before R_h.
    std::vector<T> g(static_cast<size_t>(batch * w)), reset(static_cast<size_t>(batch * hid));
    auto gates = [&](int d, const Row& row) {
      T* gr = g.data() + row.b * w;
      for (int64_t j = 0; j < 2 * hid; ++j) gr[j] += row.x[j];
      recurrent::ClipTo(gr, 2 * hid, rc.clip);
      recurrent::Apply(rc.fn(d, 0), gr, 2 * hid);
    };
    auto update = [&](int d, const Row& row, T* h, T* hh) {
      const T* z = g.data() + row.b * w;
      recurrent::ClipTo(hh, hid, rc.clip);
      recurrent::Apply(rc.fn(d, 1), hh, hid);
      T* hr = h + row.b * hid;
      for (int64_t j = 0; j < hid; ++j) hr[j] = (T(1) - z[j]) * hh[j] + z[j] * hr[j];
    };
    auto cell = [&](int d, std::span<const Row> rows, T* h, T*) {
      const T* rd = r + d * w * hid;
      if (linear_before_reset) {
        DenseGemm<T>(false, true, batch, w, hid, T(1), h, hid, rd, hid, T(0), g.data(), w,
                     ctx.num_threads);
        const T* rbh = b ? b->data<T>() + d * 2 * w + w + 2 * hid : nullptr;
        recurrent::ForRows(rows, w, ctx.num_threads, [&](const Row& row) {
          gates(d, row);
          T* gr = g.data() + row.b * w;
          T* hh = gr + 2 * hid;
          for (int64_t j = 0; j < hid; ++j)
            hh[j] = row.x[2 * hid + j] + gr[hid + j] * (hh[j] + (rbh ? rbh[j] : T(0)));
          update(d, row, h, hh);
        });
        return;
      }
      DenseGemm<T>(false, true, batch, 2 * hid, hid, T(1), h, hid, rd, hid, T(0), g.data(), w,
                   ctx.num_threads);
      recurrent::ForRows(rows, w, ctx.num_threads, [&](const Row& row) {
        gates(d, row);
        const T* rg = g.data() + row.b * w + hid;
        const T* hr = h + row.b * hid;
        T* out = reset.data() + row.b * hid;
        for (int64_t j = 0; j < hid; ++j) out[j] = rg[j] * hr[j];
      });
      // Rows outside their sequence keep stale (finite) values in `reset`: their products
      // are computed and never read.
      DenseGemm<T>(false, true, batch, hid, hid, T(1), reset.data(), hid, rd + 2 * hid * hid, hid,
                   T(0), g.data() + 2 * hid, w, ctx.num_threads);
      recurrent::ForRows(rows, w, ctx.num_threads, [&](const Row& row) {
        T* hh = g.data() + row.b * w + 2 * hid;
        for (int64_t j = 0; j < hid; ++j) hh[j] += row.x[2 * hid + j];
        update(d, row, h, hh);
      });
    };
    // With linear_before_reset, Rb_h is scaled by r and so stays out of the projection.
    const int64_t folded = linear_before_reset ? 2 * hid : w;
    return recurrent::Run<T>(ctx, rc, recurrent::FoldedBias<T>(ctx, rc, folded), 1, cell);
  });
}

}  // namespace supernova::ops

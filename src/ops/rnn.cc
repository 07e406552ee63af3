// RNN (opsets 1-22): H_t = f(X_t W^T + H_{t-1} R^T + Wb + Rb), one gate, the Elman network.
#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/recurrent.h"

namespace supernova::ops {

Status RNN(KernelContext& ctx) {
  if (AnyHalfInput(ctx)) return RunWidened(ctx, RNN);
  static constexpr std::string_view kFns[] = {"Tanh"};
  recurrent::Recurrence rc;
  SN_RETURN_IF_ERROR(recurrent::Parse(ctx, {1, kFns}, &rc));
  return DispatchFloat(ctx.input(recurrent::kX)->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Row = recurrent::Row<T>;
    const int64_t batch = rc.batch, hid = rc.hidden;
    const T* r = ctx.input(recurrent::kR)->data<T>();
    std::vector<T> g(static_cast<size_t>(batch * hid));
    auto cell = [&](int d, std::span<const Row> rows, T* h, T*) {
      DenseGemm<T>(false, true, batch, hid, hid, T(1), h, hid, r + d * hid * hid, hid, T(0),
                   g.data(), hid, ctx.num_threads);
      recurrent::ForRows(rows, hid, ctx.num_threads, [&](const Row& row) {
        T* gr = g.data() + row.b * hid;
        for (int64_t j = 0; j < hid; ++j) gr[j] += row.x[j];
        recurrent::ClipTo(gr, hid, rc.clip);
        recurrent::Apply(rc.fn(d, 0), gr, hid);
        std::copy_n(gr, hid, h + row.b * hid);
      });
    };
    return recurrent::Run<T>(ctx, rc, recurrent::FoldedBias<T>(ctx, rc, rc.width()), 1, cell);
  });
}

}  // namespace supernova::ops

// What ONNX's recurrent ops (RNN, GRU, LSTM: rnn.cc, gru.cc, lstm.cc) share: reading and
// checking their common inputs and attributes, the activation functions their `activations`
// attribute names, and the driver that runs the recurrence over time.
//
// Run() projects the inputs of all time steps at once (one GEMM over seq_length * batch rows,
// with the biases that can be folded in), then at each step hands the op's cell the batch rows
// still inside their sequence; the cell does the recurrent GEMM and the gate arithmetic and
// updates the states in place. A sequence shorter than seq_length (sequence_lens) stops early:
// its later Y rows are zero and Y_h / Y_c keep its last step. A sequence of length 0 has zero
// Y_h and Y_c, not its initial state: ONNX Runtime does so, and models are checked against it.
// In the reverse direction every sequence starts from its own last step.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "ops/activation.h"
#include "ops/broadcast.h"
#include "ops/dense_gemm.h"
#include "ops/infer.h"
#include "ops/kernel.h"

namespace supernova::ops {

// The kernels (rnn.cc, gru.cc, lstm.cc), registered by recurrent.cc.
Status RNN(KernelContext& ctx);
Status GRU(KernelContext& ctx);
Status LSTM(KernelContext& ctx);

namespace recurrent {

// Inputs every recurrent op has at these indices; LSTM adds initial_c (6) and P (7).
enum Input : size_t { kX = 0, kW = 1, kR = 2, kB = 3, kSeqLens = 4, kInitialH = 5 };

// The functions the `activations` attribute may name.
enum class FnKind : uint8_t {
  kRelu,
  kTanh,
  kSigmoid,
  kAffine,           // alpha * x + beta
  kLeakyRelu,        // alpha
  kThresholdedRelu,  // alpha
  kScaledTanh,       // alpha * tanh(beta * x)
  kHardSigmoid,      // alpha, beta
  kElu,              // alpha
  kSoftsign,
  kSoftplus,
};

struct Fn {
  FnKind kind = FnKind::kTanh;
  float alpha = 0;
  float beta = 0;
};

// x[i] = f(x[i]) for i in [0, n).
template <typename T>
void Apply(const Fn& f, T* x, int64_t n);

// Clamps x[0, n) to [-limit, limit]: the `clip` attribute, applied to every activation's input.
template <typename T>
inline void ClipTo(T* x, int64_t n, float limit) {
  if (!(limit < std::numeric_limits<float>::infinity())) return;
  const T lo = T(-limit), hi = T(limit);
  for (int64_t i = 0; i < n; ++i) x[i] = act::Clip(x[i], lo, hi);
}

// What tells the ops apart to the shared code.
struct OpTraits {
  int gates;                              // blocks of hidden_size rows in W and R
  std::span<const std::string_view> fns;  // the default activations of one direction
};

// One node's geometry and attributes, checked against its inputs.
struct Recurrence {
  int64_t seq_length = 0, batch = 0, input_size = 0, hidden = 0;
  int gates = 1;
  int num_dir = 1;
  bool reverse = false;      // direction "reverse" (num_dir 1)
  bool batch_first = false;  // layout 1: X [batch, seq, input], states [batch, num_dir, hidden]
  float clip = std::numeric_limits<float>::infinity();
  std::vector<Fn> fns;        // gates' functions per direction, forward's first
  std::vector<int64_t> lens;  // each batch entry's sequence length

  int num_fns() const { return static_cast<int>(fns.size()) / num_dir; }
  const Fn& fn(int d, int i) const { return fns[static_cast<size_t>(d * num_fns() + i)]; }
  bool reversed(int d) const { return reverse || d == 1; }
  int64_t width() const { return gates * hidden; }  // one row of a projection
  // Row of X (and of the projections) that holds time step t of batch entry b.
  int64_t x_row(int64_t t, int64_t b) const {
    return batch_first ? b * seq_length + t : t * batch + b;
  }
  // Offset of direction d's row b in a state tensor (initial_h, Y_h, ...).
  int64_t state_at(int d, int64_t b) const {
    return (batch_first ? b * num_dir + d : d * batch + b) * hidden;
  }
  Shape state_shape() const {
    return batch_first ? Shape{batch, num_dir, hidden} : Shape{num_dir, batch, hidden};
  }
};

// Reads the attributes and checks inputs X, W, R, B, sequence_lens and initial_h.
Status Parse(const KernelContext& ctx, const OpTraits& op, Recurrence* rc);
// Checks that optional input `index` (named `what`) is absent or [num_dir, `cols`]: B, P.
Status CheckVector(const KernelContext& ctx, const Recurrence& rc, size_t index, const char* what,
                   int64_t cols);
// Checks that optional input `index` is absent or shaped as a state: initial_h, initial_c.
Status CheckState(const KernelContext& ctx, const Recurrence& rc, size_t index, const char* what);
// Output 0 (Y) of every recurrent op, for shape inference.
std::optional<Dims> InferY(InferContext& ctx);

// The bias each direction's input projection starts from: Wb + Rb of B, but only Wb for the
// gate columns from `wb_only_from` on (GRU's linear_before_reset keeps its Rbh apart); zero
// without B.
template <typename T>
std::vector<T> FoldedBias(const KernelContext& ctx, const Recurrence& rc, int64_t wb_only_from) {
  const int64_t w = rc.width();
  std::vector<T> bias(static_cast<size_t>(rc.num_dir * w), T(0));
  const Tensor* b = ctx.input(kB);
  if (!b) return bias;
  for (int d = 0; d < rc.num_dir; ++d) {
    const T* wb = b->data<T>() + d * 2 * w;
    const T* rb = wb + w;
    for (int64_t j = 0; j < w; ++j) bias[d * w + j] = wb[j] + (j < wb_only_from ? rb[j] : T(0));
  }
  return bias;
}

// A batch row that takes part in the current step: batch entry b at time t, and its input
// projection (rc.width() values: X[t, b] * W^T plus the folded bias).
template <typename T>
struct Row {
  int64_t b, t;
  const T* x;
};

// Calls f(row) for every row, spread over threads when the step has enough work.
template <typename T, typename F>
void ForRows(std::span<const Row<T>> rows, int64_t work_per_row, int num_threads, F&& f) {
  const int64_t n = static_cast<int64_t>(rows.size());
  const bool parallel = num_threads > 1 && n > 1 && n * work_per_row >= kParallelThreshold;
#pragma omp parallel for num_threads(num_threads) schedule(static) if (parallel)
  for (int64_t i = 0; i < n; ++i) f(rows[static_cast<size_t>(i)]);
}

// Runs the recurrence and writes the wanted outputs: Y (0), Y_h (1) and, with two states,
// Y_c (2). `bias` holds num_dir rows of rc.width() (FoldedBias). At each step of direction d,
// cell(d, rows, h, c) advances the active rows of the states h and c ([batch, hidden] each;
// c only with two states), which start from initial_h (input 5) and initial_c (input 6) or 0.
template <typename T, typename Cell>
Status Run(KernelContext& ctx, const Recurrence& rc, const std::vector<T>& bias, int num_states,
           Cell&& cell) {
  const int64_t seq = rc.seq_length, batch = rc.batch, hid = rc.hidden, w = rc.width();
  const int64_t rows = seq * batch;
  const bool full =
      std::all_of(rc.lens.begin(), rc.lens.end(), [&](int64_t l) { return l == seq; });
  T* y = nullptr;
  if (ctx.output_wanted(0)) {
    const Shape ys =
        rc.batch_first ? Shape{batch, seq, rc.num_dir, hid} : Shape{seq, rc.num_dir, batch, hid};
    Tensor& out = ctx.Output(0, DataTypeOf<T>(), ys);
    y = out.data<T>();
    if (!full) std::fill(y, y + out.numel(), T(0));  // past a sequence's end
  }
  T* final_state[2] = {nullptr, nullptr};
  for (int s = 0; s < num_states; ++s)
    if (ctx.output_wanted(1 + s)) {
      Tensor& out = ctx.Output(1 + s, DataTypeOf<T>(), rc.state_shape());
      final_state[s] = out.data<T>();
    }

  const T* x = ctx.input(kX)->data<T>();
  const T* wt = ctx.input(kW)->data<T>();
  std::vector<T> proj(static_cast<size_t>(rows * w));
  std::vector<T> state[2];
  for (int s = 0; s < num_states; ++s) state[s].resize(static_cast<size_t>(batch * hid));
  const int64_t steps = rc.lens.empty() ? 0 : *std::max_element(rc.lens.begin(), rc.lens.end());
  std::vector<Row<T>> active;
  active.reserve(static_cast<size_t>(batch));
  for (int d = 0; d < rc.num_dir; ++d) {
    for (int64_t r = 0; r < rows; ++r) std::copy_n(bias.data() + d * w, w, proj.data() + r * w);
    if (rows > 0 && w > 0)
      DenseGemm<T>(false, true, rows, w, rc.input_size, T(1), x, rc.input_size,
                   wt + d * w * rc.input_size, rc.input_size, T(1), proj.data(), w,
                   ctx.num_threads);
    for (int s = 0; s < num_states; ++s) {
      const Tensor* init = ctx.input(kInitialH + s);
      for (int64_t b = 0; b < batch; ++b) {
        T* dst = state[s].data() + b * hid;
        if (init)
          std::copy_n(init->data<T>() + rc.state_at(d, b), hid, dst);
        else
          std::fill(dst, dst + hid, T(0));
      }
    }
    for (int64_t step = 0; step < steps; ++step) {
      active.clear();
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t len = rc.lens[static_cast<size_t>(b)];
        if (step >= len) continue;
        const int64_t t = rc.reversed(d) ? len - 1 - step : step;
        active.push_back({b, t, proj.data() + rc.x_row(t, b) * w});
      }
      cell(d, std::span<const Row<T>>(active), state[0].data(),
           num_states > 1 ? state[1].data() : nullptr);
      if (y)
        for (const Row<T>& r : active) {
          const int64_t at = rc.batch_first ? ((r.b * seq + r.t) * rc.num_dir + d) * hid
                                            : ((r.t * rc.num_dir + d) * batch + r.b) * hid;
          std::copy_n(state[0].data() + r.b * hid, hid, y + at);
        }
    }
    for (int s = 0; s < num_states; ++s)
      if (final_state[s])
        for (int64_t b = 0; b < batch; ++b) {
          T* dst = final_state[s] + rc.state_at(d, b);
          if (rc.lens[static_cast<size_t>(b)] == 0)
            std::fill(dst, dst + hid, T(0));
          else
            std::copy_n(state[s].data() + b * hid, hid, dst);
        }
  }
  return Status::Ok();
}

}  // namespace recurrent
}  // namespace supernova::ops

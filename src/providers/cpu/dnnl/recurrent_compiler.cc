// LSTM and GRU on oneDNN's RNN primitives. ONNX and oneDNN order the gates differently and
// lay out outputs differently, so the weights are rearranged once at compile time and the
// outputs reach ONNX's layout through one reorder each.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "providers/cpu/dnnl/plan_builder.h"

namespace supernova::cpu::dnnl_ops {

namespace {

// For each oneDNN gate, the ONNX gate it reads. LSTM: ONNX i, o, f, c; oneDNN i, f, c, o.
// GRU: ONNX z, r, h are oneDNN's u, r, o as they are.
constexpr std::array<int, 4> kLstmGates = {0, 2, 3, 1};
constexpr std::array<int, 4> kGruGates = {0, 1, 2, 3};
// Peepholes: ONNX i, o, f; oneDNN i, f, o.
constexpr std::array<int, 3> kPeepholes = {0, 2, 1};

memory::desc Strided(const memory::dims& dims, const memory::dims& strides) {
  return memory::desc(dims, kF32, strides);
}

// The ONNX state tensor [D, B, H] (layout 0) or [B, D, H] (layout 1) seen as oneDNN's
// {1, D, B, H}.
memory::desc StateView(int64_t d, int64_t b, int64_t h, bool batch_first) {
  return batch_first ? Strided({1, d, b, h}, {d * b * h, h, d * h, 1})
                     : memory::desc({1, d, b, h}, kF32, FormatTag::ldnc);
}

}  // namespace

void PlanBuilder::Recurrent(const ir::Node& n) {
  const bool lstm = n.op_type == "LSTM";
  const bool lbr = !lstm && n.AttrInt("linear_before_reset", 0) != 0;
  const int64_t gates = lstm ? 4 : 3;
  const Shape xs = Get(n.inputs[0]).shape;
  const Tensor* w = Constant(n.inputs[1]);
  const Tensor* r = Constant(n.inputs[2]);
  if (xs.size() != 3 || !w || !r || w->rank() != 3 || r->rank() != 3 ||
      w->dtype() != DataType::kFloat32 || r->dtype() != DataType::kFloat32)
    throw NotMapped("X, W or R");
  const bool batch_first = n.AttrInt("layout", 0) != 0;
  const int64_t t = batch_first ? xs[1] : xs[0], b = batch_first ? xs[0] : xs[1], in = xs[2];
  const int64_t d = w->dim(0), h = r->dim(2);
  const std::string dir = n.AttrString("direction", "forward");
  if (d != (dir == "bidirectional" ? 2 : 1) || w->shape() != Shape{d, gates * h, in} ||
      r->shape() != Shape{d, gates * h, h} || t == 0 || b == 0 || n.AttrInt("hidden_size", h) != h)
    throw NotMapped("W or R do not match X and the direction");
  auto input = [&](size_t i) -> const std::string* {
    return i < n.inputs.size() && !n.inputs[i].empty() ? &n.inputs[i] : nullptr;
  };
  if (const std::string* lens = input(4)) {
    const Tensor* c = Constant(*lens);
    if (!c || c->dtype() != DataType::kInt32 || c->numel() != b ||
        std::any_of(c->data<int32_t>(), c->data<int32_t>() + b, [&](int32_t v) { return v != t; }))
      throw NotMapped("sequence_lens other than all seq_length");
  }

  // Weights: ONNX [D, G*H, K] is oneDNN's ldgoi once the gates are in oneDNN's order.
  const auto& order = lstm ? kLstmGates : kGruGates;
  auto regate = [&](const Tensor& src, int64_t k) {
    Tensor dst(DataType::kFloat32, {d, gates * h, k});
    for (int64_t j = 0; j < d; ++j)
      for (int64_t g = 0; g < gates; ++g)
        std::copy_n(src.data<float>() + (j * gates + order[g]) * h * k, h * k,
                    dst.data<float>() + (j * gates + g) * h * k);
    return dst;
  };
  const Tensor wl = regate(*w, in), wi = regate(*r, h);
  // Bias: Wb + Rb per gate; lbr_gru keeps Rb of the candidate gate apart as a fourth bias,
  // since ONNX applies it inside the reset gate's product.
  const int64_t bias_gates = lbr ? 4 : gates;
  Tensor bias(DataType::kFloat32, {1, d, bias_gates, h});
  std::fill_n(bias.data<float>(), bias.numel(), 0.f);
  if (const std::string* bname = input(3)) {
    const Tensor* c = Constant(*bname);
    if (!c || c->dtype() != DataType::kFloat32 || c->shape() != Shape{d, 2 * gates * h})
      throw NotMapped("B");
    for (int64_t j = 0; j < d; ++j)
      for (int64_t g = 0; g < gates; ++g) {
        const float* wb = c->data<float>() + j * 2 * gates * h + order[g] * h;
        const float* rb = wb + gates * h;
        float* out = bias.data<float>() + (j * bias_gates + g) * h;
        const bool apart = lbr && g == 2;
        for (int64_t k = 0; k < h; ++k) out[k] = apart ? wb[k] : wb[k] + rb[k];
        if (apart) std::copy_n(rb, h, bias.data<float>() + (j * bias_gates + 3) * h);
      }
  }
  Tensor peep;
  if (const std::string* pname = lstm ? input(7) : nullptr) {
    const Tensor* c = Constant(*pname);
    if (!c || c->dtype() != DataType::kFloat32 || c->shape() != Shape{d, 3 * h})
      throw NotMapped("P");
    peep = Tensor(DataType::kFloat32, {1, d, 3, h});
    for (int64_t j = 0; j < d; ++j)
      for (int64_t g = 0; g < 3; ++g)
        std::copy_n(c->data<float>() + (j * 3 + kPeepholes[g]) * h, h,
                    peep.data<float>() + (j * 3 + g) * h);
  }

  const auto any = FormatTag::any;
  const memory::desc src_md({t, b, in}, kF32, batch_first ? FormatTag::ntc : FormatTag::tnc);
  const memory::desc state_md({1, d, b, h}, kF32, FormatTag::ldnc);
  const memory::desc wl_any({1, d, in, gates, h}, kF32, any);
  const memory::desc wi_any({1, d, h, gates, h}, kF32, any);
  const memory::desc bias_md({1, d, bias_gates, h}, kF32, FormatTag::ldgo);
  const memory::desc peep_md =
      peep.defined() ? memory::desc({1, d, 3, h}, kF32, FormatTag::ldgo) : memory::desc();
  const memory::desc dst_md({t, b, d * h}, kF32, FormatTag::tnc);
  // oneDNN's LSTM takes both states or neither, in and out: a missing one is zeros coming
  // in, or a temporary going out.
  const bool has_h0 = input(5) != nullptr || (lstm && input(6) != nullptr);
  const bool has_c0 = lstm && has_h0;
  auto output = [&](size_t i) { return i < n.outputs.size() && !n.outputs[i].empty(); };
  const bool yh = output(1) || (lstm && output(2)), yc = lstm && yh;
  const memory::desc none;
  const auto direction = dir == "forward"   ? dnnl::rnn_direction::unidirectional_left2right
                         : dir == "reverse" ? dnnl::rnn_direction::unidirectional_right2left
                                            : dnnl::rnn_direction::bidirectional_concat;
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional")
    throw NotMapped("direction " + dir);
  const auto prop = dnnl::prop_kind::forward_inference;
  dnnl::primitive p;
  memory::desc wl_md, wi_md, wp_md, b_md;
  size_t scratch = 0;
  auto take = [&](const auto& pd) {
    wl_md = pd.weights_layer_desc();
    wi_md = pd.weights_iter_desc();
    b_md = pd.bias_desc();
    scratch = pd.scratchpad_desc().get_size();
  };
  if (lstm) {
    dnnl::lstm_forward::desc desc(prop, direction, src_md, has_h0 ? state_md : none,
                                  has_c0 ? state_md : none, wl_any, wi_any, peep_md, bias_md,
                                  dst_md, yh ? state_md : none, yc ? state_md : none);
    dnnl::lstm_forward::primitive_desc pd(desc, Attr(), Engine());
    take(pd);
    if (peep.defined()) wp_md = pd.weights_peephole_desc();
    p = dnnl::lstm_forward(pd);
  } else if (lbr) {
    dnnl::lbr_gru_forward::desc desc(prop, direction, src_md, has_h0 ? state_md : none, wl_any,
                                     wi_any, bias_md, dst_md, yh ? state_md : none);
    dnnl::lbr_gru_forward::primitive_desc pd(desc, Attr(), Engine());
    take(pd);
    p = dnnl::lbr_gru_forward(pd);
  } else {
    dnnl::gru_forward::desc desc(prop, direction, src_md, has_h0 ? state_md : none, wl_any, wi_any,
                                 bias_md, dst_md, yh ? state_md : none);
    dnnl::gru_forward::primitive_desc pd(desc, Attr(), Engine());
    take(pd);
    p = dnnl::gru_forward(pd);
  }

  auto packed = [&](const Tensor& source, const memory::desc& md, const memory::desc& want) {
    return Convert(ConstantBuffer(source, md), want);
  };
  const FormatTag ldgoi = FormatTag::ldgoi;
  std::vector<std::pair<int, int>> args = {
      {DNNL_ARG_SRC_LAYER, Alias(In(n.inputs[0], PlainDesc(xs)), src_md)},
      {DNNL_ARG_WEIGHTS_LAYER, packed(wl, memory::desc({1, d, in, gates, h}, kF32, ldgoi), wl_md)},
      {DNNL_ARG_WEIGHTS_ITER, packed(wi, memory::desc({1, d, h, gates, h}, kF32, ldgoi), wi_md)},
      {DNNL_ARG_BIAS, packed(bias, bias_md, b_md)}};
  if (peep.defined()) args.push_back({DNNL_ARG_WEIGHTS_PEEPHOLE, packed(peep, peep_md, wp_md)});
  // Initial states arrive as ONNX lays them out; oneDNN wants ldnc.
  auto state_in = [&](const std::string& name) {
    const Value& v = Get(name);
    if (v.shape != (batch_first ? Shape{b, d, h} : Shape{d, b, h}))
      throw NotMapped("initial state " + name + " shape");
    return Convert(Alias(In(name, PlainDesc(v.shape)), StateView(d, b, h, batch_first)), state_md);
  };
  auto zeros = [&] {
    Tensor z(DataType::kFloat32, {1, d, b, h});
    std::fill_n(z.data<float>(), z.numel(), 0.f);
    return ConstantBuffer(z, state_md);
  };
  if (has_h0) args.push_back({DNNL_ARG_SRC_ITER, input(5) ? state_in(*input(5)) : zeros()});
  if (has_c0) args.push_back({DNNL_ARG_SRC_ITER_C, input(6) ? state_in(*input(6)) : zeros()});

  // The primitive writes its own layouts into temporaries; one reorder each brings them to
  // the ONNX outputs (Y [T, D, B, H] or [B, T, D, H] against oneDNN's [T, B, D*H]).
  Buffer tmp;
  tmp.md = dst_md;
  const int dst = NewBuffer(tmp);
  args.push_back({DNNL_ARG_DST_LAYER, dst});
  std::vector<std::pair<int, int>> copies;
  if (output(0)) {
    const Shape ys = batch_first ? Shape{b, t, d, h} : Shape{t, d, b, h};
    const int y = Out(n.outputs[0], ys, PlainDesc(ys));
    const memory::dims dims = {t, b, d, h};
    const memory::desc onnx = batch_first ? Strided(dims, {d * h, t * d * h, h, 1})
                                          : Strided(dims, {d * b * h, h, b * h, 1});
    copies.push_back({Alias(dst, memory::desc(dims, kF32, FormatTag::abcd)), Alias(y, onnx)});
  }
  auto state_out = [&](size_t i, int arg) {
    tmp.md = state_md;
    const int s = NewBuffer(tmp);
    args.push_back({arg, s});
    if (!output(i)) return;
    const Shape ss = batch_first ? Shape{b, d, h} : Shape{d, b, h};
    copies.push_back(
        {s, Alias(Out(n.outputs[i], ss, PlainDesc(ss)), StateView(d, b, h, batch_first))});
  };
  if (yh) state_out(1, DNNL_ARG_DST_ITER);
  if (yc) state_out(2, DNNL_ARG_DST_ITER_C);
  AddStep(p, std::move(args), scratch);
  for (const auto& [from, to] : copies) AddReorder(from, to);
}

}  // namespace supernova::cpu::dnnl_ops

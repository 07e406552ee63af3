// The compilers of the products that run as oneDNN matmuls: MatMul (batched, or flattened
// over a 2-D weight) and Gemm, in float or, with quantized operands, in int8; and the dynamic
// int8 product DynamicQuantMatMul.
#include <algorithm>
#include <memory>
#include <optional>

#include "ops/quant.h"
#include "providers/cpu/dnnl/plan_builder.h"

namespace supernova::cpu::dnnl_ops {

// Plain dims of `shape` with leading unit dims up to `rank`.
memory::desc PlanBuilder::PlainView(const Shape& shape, size_t rank) {
  Shape s(rank - shape.size(), 1);
  s.insert(s.end(), shape.begin(), shape.end());
  return PlainDesc(s);
}

// ONNX MatMul with both operands of rank >= 2 (batch dims broadcast). A product of an N-D
// activation and a 2-D weight runs as one 2-D product over the flattened rows.
void PlanBuilder::MatMul(const ir::Node& n) {
  const Shape sa = Get(n.inputs[0]).shape, sb = Get(n.inputs[1]).shape;
  if (sa.size() < 2 || sb.size() < 2) throw NotMapped("1-D MatMul operand");
  const int64_t m = sa[sa.size() - 2], k = sa.back(), nn = sb.back();
  if (sb[sb.size() - 2] != k) throw NotMapped("inner dims differ");
  const size_t r = std::max(sa.size(), sb.size());
  const memory::desc va = PlainView(sa, r), vb = PlainView(sb, r);
  Shape out(r);
  for (size_t i = 0; i + 2 < r; ++i) {
    const int64_t da = va.dims()[i], db = vb.dims()[i];
    if (da != db && da != 1 && db != 1) throw NotMapped("batch dims do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  out[r - 2] = m;
  out[r - 1] = nn;
  const bool flatten = sb.size() == 2 && sa.size() > 2;
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < sa.size(); ++i) rows *= sa[i];
  const memory::desc src_view = flatten ? PlainDesc({rows, k}) : va;
  const memory::desc dst_view = flatten ? PlainDesc({rows, nn}) : PlainDesc(out);
  const bool constant_b = Constant(n.inputs[1]) != nullptr;
  // A quantized activation times a 2-D quantized weight (scales per column) runs in int8.
  const std::optional<Int8Operands> q8 =
      sb.size() == 2 ? Int8Inputs(Get(n.inputs[0]), n.inputs[1], nn, 1) : std::nullopt;
  const memory::data_type wt = q8 ? memory::data_type::s8 : kF32;
  // bf16 compute takes constant weights only: a product of two activations stays float.
  const memory::data_type ct = q8 || !constant_b ? wt : compute_;
  const memory::desc wei_md =
      constant_b ? memory::desc(flatten ? memory::dims{k, nn} : vb.dims(), ct, FormatTag::any) : vb;
  Tail tail;
  tail.output = n.outputs[0];
  tail.last_node = pos_;
  dnnl::primitive_attr attr = Attr();
  std::optional<QuantizedDst> qdst;
  memory::desc src_md = src_view, dst_md = dst_view;
  if (q8) {
    Int8Attr(*q8, static_cast<int>(dst_view.dims().size()) - 1, &attr);
    qdst = QuantizeAfter(tail, false);
    attr.set_post_ops(tail.post_ops);
    src_md = Retyped(src_view, q8->src_type);
    if (qdst) dst_md = Retyped(dst_view, qdst->type);
  } else {
    src_md = Retyped(src_view, ct);
  }
  dnnl::matmul::desc d(src_md, wei_md, dst_md);
  dnnl::matmul::primitive_desc pd(d, attr, Engine());
  const int src = In(n.inputs[0], Retyped(PlainDesc(sa), q8 ? q8->src_type : ct));
  const memory::desc b_onnx = flatten ? PlainDesc(sb) : vb;
  const int wei = q8           ? Int8Weight(*q8->weight, Retyped(b_onnx, wt), pd.weights_desc())
                  : constant_b ? PackedConstant(n.inputs[1], b_onnx, pd.weights_desc())
                               : In(n.inputs[1], PlainDesc(sb));
  const int dst = qdst ? QuantizedOut(*qdst, out, Retyped(PlainDesc(out), qdst->type))
                       : Out(n.outputs[0], out, PlainDesc(out));
  std::vector<std::pair<int, memory::desc>> views = {{DNNL_ARG_SRC, src_md},
                                                     {DNNL_ARG_DST, dst_md}};
  if (!constant_b) views.push_back({DNNL_ARG_WEIGHTS, vb});
  AddStep(dnnl::matmul(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}},
          pd.scratchpad_desc().get_size(), std::move(views));
}

// Gemm: Y = alpha * A' B' + beta * C with C a constant broadcast to [M, N] (folded into a
// bias of [1, N] or [M, N]).
void PlanBuilder::Gemm(const ir::Node& n) {
  const Value x = Get(n.inputs[0]);
  const Shape sa = x.shape;
  const Tensor* b = Constant(n.inputs[1]);
  if (sa.size() != 2 || !b || b->rank() != 2 || b->dtype() != DataType::kFloat32)
    throw NotMapped("Gemm operands");
  const bool ta = n.AttrInt("transA", 0) != 0, tb = n.AttrInt("transB", 0) != 0;
  const float alpha = n.AttrFloat("alpha", 1.f), beta = n.AttrFloat("beta", 1.f);
  const int64_t m = ta ? sa[1] : sa[0], k = ta ? sa[0] : sa[1];
  const int64_t nn = tb ? b->dim(0) : b->dim(1);
  if ((tb ? b->dim(1) : b->dim(0)) != k) throw NotMapped("inner dims differ");
  // Quantized A and B (scales per output column) run in int8; alpha joins the scales.
  std::optional<Int8Operands> q8 = Int8Inputs(x, n.inputs[1], nn, tb ? 0 : 1);
  if (q8)
    for (float& s : q8->scales) s *= alpha;
  const memory::data_type at = q8 ? q8->src_type : compute_;
  const memory::data_type wt = q8 ? memory::data_type::s8 : kF32;
  // A^T and B^T are the stored bytes read with swapped strides.
  const memory::desc a_md({m, k}, at, ta ? FormatTag::ba : FormatTag::ab);
  const memory::desc b_md({k, nn}, wt, tb ? FormatTag::ba : FormatTag::ab);
  memory::desc bias_md;
  Tensor bias;
  if (n.inputs.size() > 2 && !n.inputs[2].empty() && beta != 0.f) {
    const Tensor* c = Constant(n.inputs[2]);
    if (!c || c->dtype() != DataType::kFloat32) throw NotMapped("C is not a float constant");
    Shape sc = c->shape();
    sc.insert(sc.begin(), 2 - std::min<size_t>(2, sc.size()), 1);
    if (sc.size() != 2 || (sc[0] != 1 && sc[0] != m) || (sc[1] != 1 && sc[1] != nn))
      throw NotMapped("C does not broadcast to [M, N]");
    const int64_t rows = sc[0];
    // alpha scales the product and the bias alike; the bias holds beta * C / alpha expanded
    // to full rows so the primitive's output scale leaves it at beta * C.
    if (alpha == 0.f) throw NotMapped("alpha 0");
    bias = Tensor(DataType::kFloat32, {rows, nn});
    float* dst = bias.data<float>();
    const float* src = c->data<float>();
    // In int8 the bias joins the integer sums, before the scales (see Int8Bias).
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < nn; ++j)
        dst[i * nn + j] = beta / alpha * src[(sc[0] == 1 ? 0 : i) * sc[1] + (sc[1] == 1 ? 0 : j)] /
                          (q8 ? q8->scales[q8->scales.size() == 1 ? 0 : j] / alpha : 1.f);
    bias_md = PlainDesc(bias.shape());
  }
  dnnl::primitive_attr attr = Attr();
  Tail tail;
  tail.output = n.outputs[0];
  tail.last_node = pos_;
  std::optional<QuantizedDst> qdst;
  if (q8) {
    Int8Attr(*q8, 1, &attr);
    qdst = QuantizeAfter(tail, false);
    attr.set_post_ops(tail.post_ops);
  } else if (alpha != 1.f) {
    attr.set_output_scales(0, {alpha});
  }
  const memory::desc dst_md = qdst ? Retyped(PlainDesc({m, nn}), qdst->type) : PlainDesc({m, nn});
  dnnl::matmul::desc d(a_md, memory::desc({k, nn}, q8 ? wt : compute_, FormatTag::any), bias_md,
                       dst_md);
  dnnl::matmul::primitive_desc pd(d, attr, Engine());
  const int src = In(n.inputs[0], Retyped(PlainDesc(sa), at));
  const int wei = q8 ? Int8Weight(*q8->weight, b_md, pd.weights_desc())
                     : PackedConstant(n.inputs[1], b_md, pd.weights_desc());
  const int dst = qdst ? QuantizedOut(*qdst, {m, nn}, dst_md) : Out(n.outputs[0], {m, nn}, dst_md);
  std::vector<std::pair<int, int>> args = {
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
  if (bias.defined()) {
    args.push_back({DNNL_ARG_BIAS, ConstantBuffer(bias, bias_md)});
  }
  AddStep(dnnl::matmul(pd), std::move(args), pd.scratchpad_desc().get_size(),
          {{DNNL_ARG_SRC, a_md}});
}

// The argument name our dynamic quantization steps pass x's scale and zero point under.
constexpr int kParams = DNNL_ARG_ATTR_OUTPUT_SCALES;

// One value or one per column of `n`, from a float constant (nullptr: none, an empty vector).
static std::vector<float> Columns(const Tensor* t, int64_t n, const char* what) {
  if (!t) return {};
  if (t->dtype() != DataType::kFloat32 || (t->numel() != 1 && t->numel() != n))
    throw NotMapped(std::string(what) + " has neither 1 nor N values");
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j)
    v[static_cast<size_t>(j)] = t->data<float>()[t->numel() == 1 ? 0 : j];
  return v;
}

// DynamicQuantMatMul (ops/dynamic_quant_matmul.cc) over the flattened rows of x, in three
// steps: ours quantizes x as DynamicQuantizeLinear does (its scale and zero point go to a
// two-float temporary); a plain u8 x s8 -> s32 matmul multiplies the integers; ours then takes
// the zero point out (acc - zero * sum_k W[k, j], exact in int32) and applies the scales and
// the bias with the unfused ops' float operations. The zero point and scale differ per call,
// and oneDNN 2.6 takes run-time ones only on its gemm-based int8 matmul, which packs nothing
// and measured 5-10x slower than the brgemm VNNI kernel these static attributes get.
void PlanBuilder::DynamicQuantMatMul(const ir::Node& n) {
  const Shape sa = Get(n.inputs[0]).shape;
  const Tensor* w = Constant(n.inputs[1]);
  if (!w || w->dtype() != DataType::kInt8 || w->rank() != 2) throw NotMapped("W");
  const int64_t k = sa.back(), nn = w->dim(1);
  if (sa.size() < 2 || w->dim(0) != k) throw NotMapped("inner dims differ");
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < sa.size(); ++i) rows *= sa[i];
  Shape out = sa;
  out.back() = nn;
  struct Epilogue {
    std::vector<float> scales, bias;
    std::vector<int32_t> column_sums;  // sum_k W[k, j]
  };
  auto e = std::make_shared<Epilogue>();
  e->scales = Columns(Constant(n.inputs.at(2)), nn, "w_scale");
  if (e->scales.empty()) throw NotMapped("w_scale");
  e->bias = Columns(n.inputs.size() > 3 && !n.inputs[3].empty() ? Constant(n.inputs[3]) : nullptr,
                    nn, "bias");
  e->column_sums.assign(static_cast<size_t>(nn), 0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < nn; ++j)
      e->column_sums[static_cast<size_t>(j)] += w->data<int8_t>()[i * nn + j];

  const memory::desc src_md({rows, k}, memory::data_type::u8, FormatTag::ab);
  const memory::desc acc_md({rows, nn}, memory::data_type::s32, FormatTag::ab);
  dnnl::matmul::desc d(src_md, memory::desc({k, nn}, memory::data_type::s8, FormatTag::any),
                       acc_md);
  dnnl::matmul::primitive_desc pd(d, Attr(), Engine());
  const int x = In(n.inputs[0], PlainDesc(sa));
  QuantConstant weight;
  weight.data = *w;
  const int wei = Int8Weight(weight, memory::desc({k, nn}, memory::data_type::s8, FormatTag::ab),
                             pd.weights_desc());
  Buffer q, acc, params;
  q.md = src_md;
  acc.md = acc_md;
  params.md = memory::desc({2}, kF32, FormatTag::a);  // x's scale and zero point
  const int qb = NewBuffer(std::move(q)), ab = NewBuffer(std::move(acc)),
            pb = NewBuffer(std::move(params));
  const int64_t count = rows * k;
  AddHostStep(
      [count](const std::unordered_map<int, memory>& args, int threads) {
        const ops::DynamicQuant p = ops::DynamicQuantize(
            static_cast<const float*>(args.at(DNNL_ARG_SRC).get_data_handle()), count,
            static_cast<uint8_t*>(args.at(DNNL_ARG_DST).get_data_handle()), threads);
        float* qp = static_cast<float*>(args.at(kParams).get_data_handle());
        qp[0] = p.scale;
        qp[1] = p.zero;
      },
      {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, qb}, {kParams, pb}});
  AddStep(dnnl::matmul(pd), {{DNNL_ARG_SRC, qb}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, ab}},
          pd.scratchpad_desc().get_size());
  const int dst = Out(n.outputs[0], out, PlainDesc(out));
  AddHostStep(
      [e, rows, nn](const std::unordered_map<int, memory>& args, int threads) {
        const int32_t* a = static_cast<const int32_t*>(args.at(DNNL_ARG_SRC).get_data_handle());
        const float* p = static_cast<const float*>(args.at(kParams).get_data_handle());
        float* y = static_cast<float*>(args.at(DNNL_ARG_DST).get_data_handle());
        const float scale = p[0];
        const int32_t zero = static_cast<int32_t>(p[1]);
        std::vector<float> factor(e->scales.size());
        for (size_t j = 0; j < factor.size(); ++j) factor[j] = scale * e->scales[j];
        std::vector<int32_t> offset(e->column_sums.size());
        for (size_t j = 0; j < offset.size(); ++j) offset[j] = zero * e->column_sums[j];
        const int32_t* off = offset.data();
        const float* f = factor.data();
        const float* bias = e->bias.empty() ? nullptr : e->bias.data();
    // One loop per case, branch-free inside, so that the compiler vectorises it; threads
    // only where the rows are worth a fork (the classifier's 40 x 6625, not 40 x 120).
#pragma omp parallel for num_threads(threads) \
    schedule(static) if (threads > 1 && rows * nn >= 65536)
        for (int64_t r = 0; r < rows; ++r) {
          const int32_t* ar = a + r * nn;
          float* yr = y + r * nn;
          if (bias) {
            for (int64_t j = 0; j < nn; ++j)
              yr[j] = static_cast<float>(ar[j] - off[j]) * f[j] + bias[j];
          } else {
            for (int64_t j = 0; j < nn; ++j) yr[j] = static_cast<float>(ar[j] - off[j]) * f[j];
          }
        }
      },
      {{DNNL_ARG_SRC, ab}, {kParams, pb}, {DNNL_ARG_DST, dst}});
}

}  // namespace supernova::cpu::dnnl_ops

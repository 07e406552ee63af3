// The compiler of each op type a region takes: the node's attributes and shapes mapped to a
// oneDNN primitive (or two) whose layouts the primitive chooses, or to a step of our own. The
// convolutions are in conv_compilers.cc, the products in matmul_compilers.cc, QuantizeLinear
// and DequantizeLinear in quant_compilers.cc.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "ops/activation_kind.h"
#include "ops/resampling.h"
#include "ops/spatial.h"
#include "providers/cpu/dnnl/plan_builder.h"

namespace supernova::cpu::dnnl_ops {

std::vector<Eltwise> ActivationSteps(const ops::Activation& a) {
  using A = dnnl::algorithm;
  switch (a.kind) {
    case ops::ActivationKind::kNone:
      return {};
    case ops::ActivationKind::kRelu:
      return {{A::eltwise_relu, 0, 0}};
    case ops::ActivationKind::kLeakyRelu:
      return {{A::eltwise_relu, a.param(0, 0.01f), 0}};
    case ops::ActivationKind::kSigmoid:
      return {{A::eltwise_logistic, 0, 0}};
    case ops::ActivationKind::kTanh:
      return {{A::eltwise_tanh, 0, 0}};
    case ops::ActivationKind::kHardSwish:
      return {{A::eltwise_hardswish, 0, 0}};
    case ops::ActivationKind::kHardSigmoid:
      return {{A::eltwise_linear, a.param(0, 0.2f), a.param(1, 0.5f)}, {A::eltwise_clip, 0.f, 1.f}};
    case ops::ActivationKind::kClip:
      return {{A::eltwise_clip, a.param(0, -std::numeric_limits<float>::max()),
               a.param(1, std::numeric_limits<float>::max())}};
  }
  return {};
}

bool HasHardSwish(const std::vector<Eltwise>& steps) {
  return std::any_of(steps.begin(), steps.end(),
                     [](const Eltwise& e) { return e.alg == dnnl::algorithm::eltwise_hardswish; });
}

bool HasEltwise(const dnnl::post_ops& po, dnnl::algorithm alg) {
  for (int i = 0; i < po.len(); ++i) {
    if (po.kind(i) != dnnl::primitive::kind::eltwise) continue;
    float scale = 0, alpha = 0, beta = 0;
    dnnl::algorithm a;
    po.get_params_eltwise(i, scale, a, alpha, beta);
    if (a == alg) return true;
  }
  return false;
}

std::optional<std::vector<Eltwise>> EltwiseOf(const ir::Graph& g, const ir::Node& n) {
  using A = dnnl::algorithm;
  if (auto a = ops::ActivationOf(g, n)) return ActivationSteps(*a);
  // oneDNN's other element-wise algorithms that compute an ONNX op exactly.
  if (!n.domain.empty() && n.domain != "ai.onnx") return std::nullopt;
  const std::string& op = n.op_type;
  if (op == "Elu") return std::vector<Eltwise>{{A::eltwise_elu, n.AttrFloat("alpha", 1.f), 0}};
  if (op == "Exp") return std::vector<Eltwise>{{A::eltwise_exp, 0, 0}};
  if (op == "Log") return std::vector<Eltwise>{{A::eltwise_log, 0, 0}};
  if (op == "Abs") return std::vector<Eltwise>{{A::eltwise_abs, 0, 0}};
  if (op == "Sqrt") return std::vector<Eltwise>{{A::eltwise_sqrt, 0, 0}};
  if (op == "Neg") return std::vector<Eltwise>{{A::eltwise_linear, -1.f, 0.f}};
  return std::nullopt;
}

void PlanBuilder::AddNode(const ir::Node& n) {
  const std::string& op = n.op_type;
  if (op == "Conv" || op == "FusedConv") return Conv(n);
  if (op == "ConvTranspose") return ConvTranspose(n);
  if (op == "BatchNormalization") return BatchNorm(n);
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "ReduceMean" ||
      op == "ReduceMax" || op == "GlobalMaxPool")
    return Pool(n);
  if (op == "LRN") return Lrn(n);
  if (op == "Concat") return Concat(n);
  if (op == "Resize" || op == "Upsample") return Resize(n);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Max" || op == "Min")
    return Binary(n);
  if (op == "MatMul") return MatMul(n);
  if (op == "Gemm") return Gemm(n);
  if (op == "DynamicQuantMatMul") return DynamicQuantMatMul(n);
  if (op == "Softmax") return Softmax(n);
  if (op == "Transpose") return Transpose(n);
  if (op == "LSTM" || op == "GRU") return Recurrent(n);
  if (op == "Pad") return Pad(n);
  if (op == "QuantizeLinear") return Quantize(n);
  if (op == "DequantizeLinear") return Dequantize(n);
  return Unary(n);
}

KernelContext PlanBuilder::Ctx(const ir::Node& n) const {
  return KernelContext(n, graph_.Opset(n.domain), {}, nullptr, 1);
}

memory::dims PlanBuilder::Minus1(const std::vector<int64_t>& v) {
  memory::dims d(v.begin(), v.end());
  for (auto& x : d) x -= 1;
  return d;
}

// Transpose moves no data: its output is the input's bytes with the axes permuted in the
// descriptor, and whoever reads it (a reorder into a primitive's layout, or the copy out of
// the region) moves the data once. An NHWC model's input transpose then costs nothing when
// the first convolution reads channels-last, and its output transposes fold into the
// region's exit.
void PlanBuilder::Transpose(const ir::Node& n) {
  const Value x = Get(n.inputs[0]);
  const int r = static_cast<int>(x.shape.size());
  std::vector<int64_t> perm(r);
  for (int i = 0; i < r; ++i) perm[i] = r - 1 - i;
  perm = n.AttrInts("perm", perm);
  if (r == 0 || static_cast<int>(perm.size()) != r) throw NotMapped("perm");
  std::vector<int> inverse(r, -1);  // oneDNN moves axis i to inverse[i]; ONNX reads perm[i]
  Shape out(r);
  for (int i = 0; i < r; ++i) {
    if (perm[i] < 0 || perm[i] >= r || inverse[perm[i]] >= 0) throw NotMapped("perm");
    inverse[perm[i]] = i;
    out[i] = x.shape[perm[i]];
  }
  int buffer = x.buffer;
  // Scales per channel belong to axis 1: where the transpose moves it, it moves real numbers.
  if (const Quant* q = QuantOf(buffer); q && !q->channel.empty() && r > 1 && perm[1] != 1) {
    if (x.integer) throw NotMapped("integers quantized per channel moved off axis 1");
    buffer = Convert(buffer, RealDesc(buffer));
  }
  const memory::desc md = DescOf(buffer).permute_axes(inverse);
  const int seen = Alias(buffer, md);
  if (TagOf(md)) {
    values_[n.outputs[0]] = {out, seen};
  } else {  // a layout no primitive takes (blocked on a spatial axis, say): copy it out plain
    AddReorder(seen, Out(n.outputs[0], out, PlainDesc(out)));
  }
}

void PlanBuilder::BatchNorm(const ir::Node& n) {
  const Value x = Get(n.inputs[0]);
  const int64_t c = x.shape.at(1);
  const auto flags = dnnl::normalization_flags::use_global_stats |
                     dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference, RealDesc(x.buffer),
                                            n.AttrFloat("epsilon", 1e-5f), flags);
  dnnl::batch_normalization_forward::primitive_desc pd(d, Attr(), Engine());
  const int src = In(n.inputs[0], pd.src_desc());
  const int dst = Out(n.outputs[0], x.shape, pd.dst_desc());
  AddStep(dnnl::batch_normalization_forward(pd),
          {{DNNL_ARG_SRC, src},
           {DNNL_ARG_DST, dst},
           {DNNL_ARG_SCALE, ConstantVector(n.inputs[1], c)},
           {DNNL_ARG_SHIFT, ConstantVector(n.inputs[2], c)},
           {DNNL_ARG_MEAN, ConstantVector(n.inputs[3], c)},
           {DNNL_ARG_VARIANCE, ConstantVector(n.inputs[4], c)}},
          pd.scratchpad_desc().get_size());
}

void PlanBuilder::Pool(const ir::Node& n) {
  const Value x = Get(n.inputs[0]);
  // ReduceMean/ReduceMax arrive here only over exactly the spatial axes (SpatialReduction).
  const bool reduce = n.op_type == "ReduceMean" || n.op_type == "ReduceMax";
  const bool global = reduce || n.op_type.rfind("Global", 0) == 0;
  const bool is_max =
      n.op_type == "MaxPool" || n.op_type == "GlobalMaxPool" || n.op_type == "ReduceMax";
  std::vector<int64_t> in_dims(x.shape.begin() + 2, x.shape.end());
  ops::WindowGeometry g;
  if (global) {
    g.in = g.kernel = g.out = in_dims;
    g.strides = g.dilations = std::vector<int64_t>(in_dims.size(), 1);
    g.pad_begin = g.pad_end = std::vector<int64_t>(in_dims.size(), 0);
    std::fill(g.out.begin(), g.out.end(), 1);
  } else {
    const bool ceil_mode = n.AttrInt("ceil_mode", 0) != 0;
    if (!n.HasAttr("kernel_shape")) throw NotMapped("kernel_shape missing");
    if (!ops::ResolveWindow(Ctx(n), in_dims, n.AttrInts("kernel_shape"), ceil_mode, &g).ok())
      throw NotMapped("geometry");
  }
  const bool include_pad = !is_max && !global && n.AttrInt("count_include_pad", 0) != 0;
  // oneDNN derives the output size with floor division: widen the end padding so the
  // windows ceil_mode adds exist. Averages that count padding would then count too much.
  memory::dims pr(g.pad_end.begin(), g.pad_end.end());
  for (size_t i = 0; i < g.rank(); ++i) {
    const int64_t span = (g.kernel[i] - 1) * g.dilations[i] + 1;
    const int64_t need = (g.out[i] - 1) * g.strides[i] + span - g.in[i] - g.pad_begin[i];
    if (need > pr[i]) {
      if (include_pad) throw NotMapped("ceil_mode with count_include_pad");
      pr[i] = need;
    }
    if ((g.in[i] + g.pad_begin[i] + pr[i] - span) / g.strides[i] + 1 != g.out[i])
      throw NotMapped("pooling geometry");
  }
  Shape out = {x.shape[0], x.shape[1]};
  out.insert(out.end(), g.out.begin(), g.out.end());
  const dnnl::algorithm alg = is_max        ? dnnl::algorithm::pooling_max
                              : include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                            : dnnl::algorithm::pooling_avg_exclude_padding;
  // Pooling commutes with dequantizing (an affine map with a positive scale): a quantized
  // input pools as integers and the output keeps its meaning.
  const memory::desc src_md = DescOf(x.buffer);
  dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg, src_md,
                                   memory::desc(ToDims(out), src_md.data_type(), FormatTag::any),
                                   g.strides, g.kernel, Minus1(g.dilations), g.pad_begin, pr);
  dnnl::pooling_v2_forward::primitive_desc pd(d, Attr(), Engine());
  const int src = In(n.inputs[0], pd.src_desc());
  const int dst = Out(n.outputs[0], out, pd.dst_desc());
  if (const Quant* q = QuantOf(x.buffer)) quant_[dst] = *q;
  AddStep(dnnl::pooling_v2_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
          pd.scratchpad_desc().get_size());
}

void PlanBuilder::Lrn(const ir::Node& n) {
  const Value x = Get(n.inputs[0]);
  dnnl::lrn_forward::desc d(dnnl::prop_kind::forward_inference,
                            dnnl::algorithm::lrn_across_channels, RealDesc(x.buffer),
                            n.AttrInt("size", 1), n.AttrFloat("alpha", 1e-4f),
                            n.AttrFloat("beta", 0.75f), n.AttrFloat("bias", 1.f));
  dnnl::lrn_forward::primitive_desc pd(d, Attr(), Engine());
  const int src = In(n.inputs[0], pd.src_desc());
  const int dst = Out(n.outputs[0], x.shape, pd.dst_desc());
  AddStep(dnnl::lrn_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
          pd.scratchpad_desc().get_size());
}

void PlanBuilder::Unary(const ir::Node& n) {
  const std::optional<std::vector<Eltwise>> steps = EltwiseOf(graph_, n);
  if (!steps) throw NotMapped("element-wise " + n.op_type);
  const Value x = Get(n.inputs[0]);
  // A Relu that only a QuantizeLinear to uint8 with zero point 0 reads is that quantization's
  // saturation: quantizing its input gives the same integers, without a pass over the float
  // tensor (the Relu after each of CenterNet's head Concats).
  const bool relu = steps->size() == 1 && (*steps)[0].alg == dnnl::algorithm::eltwise_relu &&
                    (*steps)[0].alpha == 0.f && !x.integer;
  if (relu && QuantizedFromZero(n.outputs[0])) {
    values_[n.outputs[0]] = x;
    return;
  }
  // Real numbers held as uint8 with zero point 0 are never negative: the Relu keeps them (the
  // Relu after a Concat whose inputs were quantized with its result's quantization).
  if (const Quant* q = QuantOf(x.buffer);
      relu && q && q->zero == 0 && DescOf(x.buffer).data_type() == memory::data_type::u8) {
    values_[n.outputs[0]] = x;
    return;
  }
  EltwiseSteps(n, x, *steps);
}

// `x` through element-wise `steps` into n's output, in x's layout.
void PlanBuilder::EltwiseSteps(const ir::Node& n, const Value& x,
                               const std::vector<Eltwise>& steps) {
  if (steps.empty()) throw NotMapped("no element-wise step");
  const memory::desc md = RealDesc(x.buffer);
  const int dst = Out(n.outputs[0], x.shape, md);
  int src = Convert(x.buffer, md);
  for (const Eltwise& e : steps) {  // later steps work in place on dst
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, e.alg, md, e.alpha, e.beta);
    dnnl::eltwise_forward::primitive_desc pd(d, Attr(), Engine());
    AddStep(dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
            pd.scratchpad_desc().get_size());
    src = dst;
  }
}

// A binary op with a scalar constant operand, as one element-wise step on the other
// operand (which keeps its layout); nullopt when the op has no such form.
std::optional<Eltwise> PlanBuilder::ScalarForm(const std::string& op, float c, bool c_first) const {
  using A = dnnl::algorithm;
  constexpr float kMax = std::numeric_limits<float>::max();
  if (op == "Add") return Eltwise{A::eltwise_linear, 1.f, c};
  if (op == "Mul") return Eltwise{A::eltwise_linear, c, 0.f};
  if (op == "Sub")
    return c_first ? Eltwise{A::eltwise_linear, -1.f, c} : Eltwise{A::eltwise_linear, 1.f, -c};
  if (op == "Div") {
    if (c_first) return Eltwise{A::eltwise_pow, c, -1.f};  // c * x^-1
    if (c == 0.f) return std::nullopt;
    return Eltwise{A::eltwise_linear, 1.f / c, 0.f};
  }
  if (op == "Max") return Eltwise{A::eltwise_clip, c, kMax};
  if (op == "Min") return Eltwise{A::eltwise_clip, -kMax, c};
  return std::nullopt;
}

void PlanBuilder::Binary(const ir::Node& n) {
  const std::string& op = n.op_type;
  std::string a = n.inputs[0], b = n.inputs[1];
  for (int k = 0; k < 2; ++k) {
    const Tensor* c = Constant(n.inputs[k]);
    const Value& other = Get(n.inputs[1 - k]);
    if (!c || c->dtype() != DataType::kFloat32 || c->numel() != 1 ||
        c->rank() > other.shape.size() || Constant(n.inputs[1 - k]))
      continue;
    if (auto e = ScalarForm(op, c->data<float>()[0], k == 0)) return EltwiseSteps(n, other, {*e});
  }
  Shape sa = Get(a).shape, sb = Get(b).shape;
  const size_t r = std::max(sa.size(), sb.size());
  sa.insert(sa.begin(), r - sa.size(), 1);
  sb.insert(sb.begin(), r - sb.size(), 1);
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1) throw NotMapped("shapes do not broadcast");
    out[i] = sa[i] == 1 ? sb[i] : sa[i];
  }
  const bool commutative = op == "Add" || op == "Mul" || op == "Max" || op == "Min";
  if (sa != out) {
    if (!commutative || sb != out) throw NotMapped("first operand is broadcast");
    std::swap(a, b);
    std::swap(sa, sb);
  }
  const Value va = Get(a);
  const Value vb = Get(b);
  if (va.shape.size() != r) throw NotMapped("rank");
  // A product of quantized real numbers by a float [N, C, 1, 1] operand (a squeeze-and-
  // excitation gate) reads the integers: src0's scale is an attribute, and its zero point a
  // post-op adding -zero * scale * gate, a vector computed each run.
  const Quant* qa = QuantOf(va.buffer);
  const bool integers = op == "Mul" && qa && qa->channel.empty() && !va.integer && sb != out &&
                        !QuantOf(vb.buffer) && vb.shape.size() == r;
  const memory::desc md0 = integers ? DescOf(va.buffer) : RealDesc(va.buffer);
  int src1;
  if (sb == out) {
    src1 = In(b, md0);  // same layout as the first operand: the fast kernels need that
  } else {
    if (vb.shape.size() == r) {
      src1 = Convert(vb.buffer, RealDesc(vb.buffer));
    } else if (plan_->buffers[vb.buffer].kind == Kind::kConstant) {
      // The constant with leading unit dims.
      src1 = ConstantBuffer(plan_->buffers[vb.buffer].source,
                            memory::desc(ToDims(sb), kF32, PlainTag(static_cast<int>(r))));
    } else {
      throw NotMapped("rank of the broadcast operand");
    }
    // oneDNN's fast broadcast kernels want the broadcast operand in the first one's layout
    // (a per-channel [1, C, 1, 1] scale in nChw16c beside an nChw16c tensor); with a plain
    // operand beside a blocked one only the slow reference kernel takes the pair.
    if (auto tag = TagOf(md0)) src1 = Convert(src1, memory::desc(ToDims(sb), kF32, *tag));
  }
  using A = dnnl::algorithm;
  const A alg = op == "Add"   ? A::binary_add
                : op == "Sub" ? A::binary_sub
                : op == "Mul" ? A::binary_mul
                : op == "Div" ? A::binary_div
                : op == "Max" ? A::binary_max
                              : A::binary_min;
  // A result only a QuantizeLinear reads is written quantized (a squeeze-and-excitation
  // product before the next int8 convolution).
  Tail tail;
  tail.output = n.outputs[0];
  tail.last_node = pos_;
  dnnl::primitive_attr attr = Attr();
  if (integers) {
    attr.set_scales(DNNL_ARG_SRC_0, 0, {qa->scale});
    if (qa->zero != 0) {
      const memory::desc md1 = DescOf(src1);
      Buffer tmp;
      tmp.md = md1;
      const int offset = NewBuffer(std::move(tmp));
      dnnl::eltwise_forward::desc ed(dnnl::prop_kind::forward_inference, A::eltwise_linear, md1,
                                     -static_cast<float>(qa->zero) * qa->scale, 0.f);
      dnnl::eltwise_forward::primitive_desc epd(ed, Attr(), Engine());
      AddStep(dnnl::eltwise_forward(epd), {{DNNL_ARG_SRC, src1}, {DNNL_ARG_DST, offset}},
              epd.scratchpad_desc().get_size());
      tail.post_ops.append_binary(A::binary_add, md1);
      tail.args.push_back({DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, offset});
    }
  }
  const std::optional<QuantizedDst> q = QuantizeAfter(tail, false, &out);
  attr.set_post_ops(tail.post_ops);
  const memory::desc dst_md = integers ? Retyped(md0, kF32) : md0;
  dnnl::binary::desc d(alg, md0, DescOf(src1), q ? Retyped(md0, q->type) : dst_md);
  dnnl::binary::primitive_desc pd(d, attr, Engine());
  const int src0 = In(a, pd.src0_desc());
  const int dst = q ? QuantizedOut(*q, out, pd.dst_desc()) : Out(n.outputs[0], out, pd.dst_desc());
  std::vector<std::pair<int, int>> args = {
      {DNNL_ARG_SRC_0, src0}, {DNNL_ARG_SRC_1, src1}, {DNNL_ARG_DST, dst}};
  args.insert(args.end(), tail.args.begin(), tail.args.end());  // a per-channel quantization's
  AddStep(dnnl::binary(pd), std::move(args), pd.scratchpad_desc().get_size());
}

void PlanBuilder::Concat(const ir::Node& n) {
  const size_t r = Get(n.inputs[0]).shape.size();
  int64_t axis = n.AttrInt("axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(r);
  if (axis < 0 || axis >= static_cast<int64_t>(r)) throw NotMapped("axis");
  Shape out = Get(n.inputs[0]).shape;
  out[axis] = 0;
  std::vector<memory::desc> srcs;
  std::vector<int> bufs;
  // Inputs quantized alike concatenate as integers and the output means what they mean;
  // any other mix concatenates real numbers.
  const Quant* q = QuantOf(Get(n.inputs[0]).buffer);
  const memory::data_type type = DescOf(Get(n.inputs[0]).buffer).data_type();
  for (const std::string& in : n.inputs) {
    const Quant* qi = QuantOf(Get(in).buffer);
    if (!q || !qi || !(*q == *qi) || DescOf(Get(in).buffer).data_type() != type) q = nullptr;
  }
  if (q && !q->channel.empty()) q = nullptr;  // scales per channel would move with the channels
  for (const std::string& in : n.inputs) {
    const Value v = Get(in);
    if (v.shape.size() != r) throw NotMapped("rank");
    for (size_t i = 0; i < r; ++i)
      if (static_cast<int64_t>(i) != axis && v.shape[i] != out[i]) throw NotMapped("shape");
    out[axis] += v.shape[axis];
    if (v.shape[axis] == 0) continue;  // oneDNN rejects empty sources; they add nothing
    bufs.push_back(q ? v.buffer : Convert(v.buffer, RealDesc(v.buffer)));
    srcs.push_back(DescOf(bufs.back()));
  }
  if (srcs.empty()) throw NotMapped("all inputs empty");
  dnnl::concat::primitive_desc pd(static_cast<int>(axis), srcs, Engine(), Attr());
  std::vector<std::pair<int, int>> args;
  for (size_t i = 0; i < bufs.size(); ++i)
    args.push_back({DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), bufs[i]});
  const Quant keep = q ? *q : Quant{};
  const int dst = Out(n.outputs[0], out, pd.dst_desc());
  if (q) quant_[dst] = keep;
  args.push_back({DNNL_ARG_DST, dst});
  AddStep(dnnl::concat(pd), std::move(args), pd.scratchpad_desc().get_size());
}

// Resize of the spatial axes (partition.cc admits no other): oneDNN's resampling where it
// computes what ONNX asks, our own channels-last step for the rest (asymmetric and
// align_corners coordinates, floor and ceil rounding, cubic, fractional nearest factors).
void PlanBuilder::Resize(const ir::Node& n) {
  const Value x = Get(n.inputs[0]);
  std::vector<const Tensor*> given = {nullptr};  // the parser reads X's shape, not its data
  for (size_t i = 1; i < n.inputs.size(); ++i)
    given.push_back(n.inputs[i].empty() ? nullptr : Constant(n.inputs[i]));
  const KernelContext ctx(n, graph_.Opset(n.domain), given, nullptr, 1);
  ops::resampling::ResizeParams p;
  const Status parsed = n.op_type == "Resize" ? ops::resampling::ParseResize(ctx, x.shape, &p)
                                              : ops::resampling::ParseUpsample(ctx, x.shape, &p);
  if (!parsed.ok()) throw NotMapped(parsed.message());
  if (p.antialias) throw NotMapped("antialiased resize");  // wider filters than 4 taps
  const Shape& out = p.out_shape;
  if (x.shape.size() != 4 || out[0] != x.shape[0] || out[1] != x.shape[1])
    throw NotMapped("batch or channel resize");
  for (size_t i = 2; i < 4; ++i)
    if (out[i] <= 0 || x.shape[i] <= 0) throw NotMapped("empty resize");
  const std::optional<Quant> to = ResizesIntegers(n, x, out);
  if (!OneDnnResamples(p, x.shape)) return PixelResize(n, x, p, to);
  // oneDNN's resampling keeps the integers' quantization: only where the result's is the same.
  const bool integers = to && *to == *QuantOf(x.buffer);
  const memory::desc src_md = integers ? DescOf(x.buffer) : RealDesc(x.buffer);
  dnnl::resampling_forward::desc d(
      dnnl::prop_kind::forward_inference,
      p.mode == ops::resampling::Mode::kNearest ? dnnl::algorithm::resampling_nearest
                                                : dnnl::algorithm::resampling_linear,
      src_md, memory::desc(ToDims(out), src_md.data_type(), FormatTag::any));
  dnnl::resampling_forward::primitive_desc pd(d, Attr(), Engine());
  const int src = In(n.inputs[0], pd.src_desc());
  const int dst = Out(n.outputs[0], out, pd.dst_desc());
  if (integers) quant_[dst] = *QuantOf(x.buffer);
  AddStep(dnnl::resampling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
          pd.scratchpad_desc().get_size());
}

// The quantization the resize of `x` writes when it runs on x's integers: x holds 8-bit
// integers with one scale and zero point, and a QuantizeLinear alone reads the result, to the
// same integer type with one scale and zero point of its own (DequantizeLinear, Resize,
// QuantizeLinear, as `supernova compress` writes CenterNet's up-sampling). Each output is then
// the sum of taps over the integers moved to that quantization and rounded half to even, what
// the QuantizeLinear makes of the float resize (up to the float rounding of a tie), and no
// float map is written. Nullopt: the resize runs on real numbers.
std::optional<PlanBuilder::Quant> PlanBuilder::ResizesIntegers(const ir::Node& n, const Value& x,
                                                               const Shape& out) {
  const Quant* q = QuantOf(x.buffer);
  if (!q || !q->channel.empty() || x.integer) return std::nullopt;
  const std::optional<QuantizedDst> to = OnlyQuantization(n.outputs[0], out);
  if (!to || to->type != DescOf(x.buffer).data_type()) return std::nullopt;
  return to->quant;
}

// oneDNN samples at half-pixel centres with the factor out/in, rounds nearest to the closest
// pixel and interpolates linearly: ONNX's half_pixel, where the given scale is that factor.
bool PlanBuilder::OneDnnResamples(const ops::resampling::ResizeParams& p, const Shape& in) {
  using ops::resampling::CoordMode;
  using ops::resampling::NearestMode;
  const bool half = p.coord == CoordMode::kHalfPixel || p.coord == CoordMode::kPytorchHalfPixel;
  const Shape& out = p.out_shape;
  for (size_t i = 2; i < 4; ++i) {
    const double factor = static_cast<double>(out[i]) / static_cast<double>(in[i]);
    if (std::fabs(factor - p.scales[i]) > 1e-6 * factor) return false;
    // pytorch_half_pixel reads the first pixel for a one-pixel output; oneDNN the centre.
    if (out[i] == 1 && in[i] != 1 && p.coord == CoordMode::kPytorchHalfPixel) return false;
    if (p.mode == ops::resampling::Mode::kNearest && out[i] % in[i] != 0) return false;
  }
  if (p.mode == ops::resampling::Mode::kLinear) return half;
  if (p.mode != ops::resampling::Mode::kNearest) return false;
  // With integer factors half-pixel coordinates never tie, so both round modes agree with
  // oneDNN's rounding, and asymmetric coordinates truncated (Upsample's rule when enlarging)
  // land on the same pixels; floor and ceil of half-pixel coordinates pick others.
  const bool rounds =
      p.nearest == NearestMode::kRoundPreferFloor || p.nearest == NearestMode::kRoundPreferCeil;
  const bool truncates = p.nearest == NearestMode::kFloor || p.nearest == NearestMode::kSimple;
  return (half && rounds) || (p.coord == CoordMode::kAsymmetric && truncates);
}

// A resize as our own step on the layout the input already has when that keeps each
// pixel's channels (or a block of them) together, channels-last otherwise: the tap tables
// of the reference kernel applied to whole channel vectors.
void PlanBuilder::PixelResize(const ir::Node& n, const Value& x,
                              const ops::resampling::ResizeParams& p,
                              const std::optional<Quant>& to) {
  const Shape& out = p.out_shape;
  auto mh = std::make_shared<const ops::resampling::AxisMap>(
      ops::resampling::BuildAxisMap(p, 2, x.shape[2], out[2]));
  auto mw = std::make_shared<const ops::resampling::AxisMap>(
      ops::resampling::BuildAxisMap(p, 3, x.shape[3], out[3]));
  // tf_crop_and_resize's points outside take a real number, not the integers' business.
  // A scale ratio so far apart that the requantized sums leave the float grid's exact integers
  // (never seen) resizes real numbers.
  ops::resampling::Requantize rq;
  if (to) {
    const Quant& from = *QuantOf(x.buffer);
    rq = {from.scale / to->scale, static_cast<float>(from.zero), static_cast<float>(to->zero)};
  }
  const bool integers = to && !mh->any_outside && !mw->any_outside && rq.Fits();
  const memory::desc x_md = integers ? DescOf(x.buffer) : RealDesc(x.buffer);
  const memory::data_type type = x_md.data_type();
  std::optional<FormatTag> tag = TagOf(x_md);
  int64_t block = 0;  // channels per pixel vector; 0: all of them (channels-last)
  if (tag == FormatTag::aBcd16b) block = 16;
  if (tag == FormatTag::aBcd8b) block = 8;
  if (tag == FormatTag::aBcd4b) block = 4;
  if (!block) tag = FormatTag::acdb;
  const int src = In(n.inputs[0], memory::desc(ToDims(x.shape), type, *tag));
  const int dst = Out(n.outputs[0], out, memory::desc(ToDims(out), type, *tag));
  if (integers) quant_[dst] = *to;
  const int64_t c = x.shape[1];
  const int64_t vec = block ? block : c;
  const int64_t planes = x.shape[0] * (block ? (c + block - 1) / block : 1);
  const int64_t h = x.shape[2], w = x.shape[3];
  const auto extrapolation = static_cast<float>(p.extrapolation);
  AddHostStep(
      [=](const std::unordered_map<int, memory>& args, int threads) {
        const void* src_data = args.at(DNNL_ARG_SRC).get_data_handle();
        void* dst_data = args.at(DNNL_ARG_DST).get_data_handle();
        if (type == memory::data_type::u8)
          ops::resampling::ResamplePixels(static_cast<const uint8_t*>(src_data),
                                          static_cast<uint8_t*>(dst_data), planes, h, w, vec, *mh,
                                          *mw, rq, threads);
        else if (type == memory::data_type::s8)
          ops::resampling::ResamplePixels(static_cast<const int8_t*>(src_data),
                                          static_cast<int8_t*>(dst_data), planes, h, w, vec, *mh,
                                          *mw, rq, threads);
        else
          ops::resampling::ResamplePixels(static_cast<const float*>(src_data),
                                          static_cast<float*>(dst_data), planes, h, w, vec, *mh,
                                          *mw, extrapolation, threads);
      },
      {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
}

// Output channels this few waste most of a 16-wide channel block (a 1-channel map takes 16
// times its size, and oneDNN has only reference kernels for some ops on it): keep them in
// channels-last (the plain layout when there is one channel).
void PlanBuilder::Pad(const ir::Node& n) {
  const Value x = Get(n.inputs[0]);
  const size_t r = x.shape.size();
  std::vector<int64_t> pads;
  float value = n.AttrFloat("value", 0.f);
  if (graph_.Opset() >= 11) {
    const Tensor* p = Constant(n.inputs.at(1));
    if (!p || p->dtype() != DataType::kInt64) throw NotMapped("pads");
    pads.assign(p->data<int64_t>(), p->data<int64_t>() + p->numel());
    const Tensor* v = n.inputs.size() > 2 && !n.inputs[2].empty() ? Constant(n.inputs[2]) : nullptr;
    if (n.inputs.size() > 2 && !n.inputs[2].empty() && (!v || v->dtype() != DataType::kFloat32))
      throw NotMapped("constant_value");
    value = v ? v->data<float>()[0] : 0.f;
  } else {
    pads = n.AttrInts("pads");
  }
  if (pads.size() != 2 * r) throw NotMapped("pads");
  Shape out = x.shape;
  memory::dims offsets(r);
  for (size_t i = 0; i < r; ++i) {
    if (pads[i] < 0 || pads[i + r] < 0) throw NotMapped("negative pads");
    offsets[i] = pads[i];
    out[i] += pads[i] + pads[i + r];
  }
  const memory::desc md = ChannelsLast(out, kF32);
  if (!TagOf(md)) throw NotMapped("rank");
  const memory::desc interior = md.submemory_desc(ToDims(x.shape), offsets);
  const int src = Convert(x.buffer, memory::desc(ToDims(x.shape), kF32, *TagOf(md)));
  const int dst = Out(n.outputs[0], out, md);
  const size_t count = md.get_size() / sizeof(float);
  AddHostStep(
      [count, value](const std::unordered_map<int, memory>& args, int) {
        float* p = static_cast<float*>(args.at(DNNL_ARG_DST).get_data_handle());
        std::fill(p, p + count, value);
      },
      {{DNNL_ARG_DST, dst}});
  dnnl::reorder::primitive_desc pd(Engine(), DescOf(src), Engine(), interior, Attr());
  AddStep(dnnl::reorder(pd), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}},
          pd.scratchpad_desc().get_size(), {{DNNL_ARG_TO, interior}});
}

// Softmax over one axis (opset 13), or over the last axis in the older flattening form.
void PlanBuilder::Softmax(const ir::Node& n) {
  const Shape s = Get(n.inputs[0]).shape;
  const int64_t r = static_cast<int64_t>(s.size());
  int64_t axis = n.AttrInt("axis", graph_.Opset() >= 13 ? -1 : 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) throw NotMapped("axis");
  if (graph_.Opset() < 13 && axis != r - 1) throw NotMapped("flattening softmax");
  const memory::desc md = PlainDesc(s);
  dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_inference, md, static_cast<int>(axis));
  dnnl::softmax_forward::primitive_desc pd(d, Attr(), Engine());
  const int src = In(n.inputs[0], md);
  const int dst = Out(n.outputs[0], s, md);
  AddStep(dnnl::softmax_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
          pd.scratchpad_desc().get_size());
}

}  // namespace supernova::cpu::dnnl_ops

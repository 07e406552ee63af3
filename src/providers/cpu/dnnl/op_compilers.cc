// The compiler of each op type a region takes: the node's attributes and shapes mapped to a
// oneDNN primitive (or two) whose layouts the primitive chooses, or to a step of our own.
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

void PlanBuilder::Conv(const ir::Node& n) {
  const Value x = Get(n.inputs[0]);
  const Tensor* w = Constant(n.inputs[1]);
  if (!w) throw NotMapped("W is not constant");
  const int64_t group = n.AttrInt("group", 1);
  const int64_t c = x.shape.at(1), m = w->dim(0);
  if (w->rank() != x.shape.size() || group <= 0 || c % group || m % group || w->dim(1) != c / group)
    throw NotMapped("W does not match X");
  std::vector<int64_t> kernel(w->shape().begin() + 2, w->shape().end());
  if (n.HasAttr("kernel_shape") && n.AttrInts("kernel_shape") != kernel)
    throw NotMapped("kernel_shape");
  ops::WindowGeometry g;
  std::vector<int64_t> in_dims(x.shape.begin() + 2, x.shape.end());
  if (!ops::ResolveWindow(Ctx(n), in_dims, kernel, false, &g).ok()) throw NotMapped("geometry");
  Shape out = {x.shape[0], m};
  out.insert(out.end(), g.out.begin(), g.out.end());

  memory::dims wdims = ToDims(w->shape());
  if (group > 1) {
    wdims[0] = m / group;
    wdims.insert(wdims.begin(), group);
  }
  const memory::desc w_onnx(wdims, kF32, PlainTag(static_cast<int>(wdims.size())));
  const bool has_bias = n.inputs.size() > 2 && !n.inputs[2].empty();
  const memory::desc bias_md = has_bias ? memory::desc({m}, kF32, FormatTag::a) : memory::desc();

  // A depthwise convolution is bound by memory, not arithmetic: bf16 would only add the
  // reorder of its input.
  const memory::data_type ct = group > 1 && group == c ? kF32 : compute_;
  dnnl::primitive_attr attr = Attr();
  // A quantized input and weight make an int8 convolution (see quant_compilers.cc). Its
  // result goes channels-last, as oneDNN's int8 kernels write it, so that a residual can be
  // added by a binary post-op in that layout, which (unlike a sum) lets the result be
  // quantized on the way out.
  const std::optional<Int8Operands> q8 =
      Int8Inputs(x, n.inputs[1], m, 0, group > 1 && group == c && m == c);
  memory::desc dst_md = q8 ? ChannelsLast(out, kF32) : ConvDst(out);
  dnnl::post_ops po;
  std::vector<std::pair<int, int>> residual_args;
  const bool fused_residual =
      n.op_type == "FusedConv" && n.inputs.size() > 3 && !n.inputs[3].empty();
  const memory::desc src_any(ToDims(x.shape), q8 ? q8->src_type : ct, FormatTag::any);
  const memory::desc wei_any(wdims, q8 ? memory::data_type::s8 : ct, FormatTag::any);
  // oneDNN 2.6's gemm-based int8 convolution (what its aarch64 build has for int8 with
  // post-ops; x86 takes it where no int8 kernel fits) reads a binary post-op's whole-tensor
  // operand at the wrong places: a residual added that way came out wrong under qemu-aarch64.
  // Where oneDNN would choose it, found by asking for the convolution with such a post-op,
  // the residual is a sum into a float result, which it gets right.
  // The convolution with these attributes and destination, as oneDNN would run it.
  auto conv_pd = [&](const dnnl::primitive_attr& a, const memory::desc& dst) {
    const dnnl::convolution_forward::desc d(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_any, wei_any,
        bias_md, dst, g.strides, Minus1(g.dilations), g.pad_begin, g.pad_end);
    return dnnl::convolution_forward::primitive_desc(d, a, Engine());
  };
  bool residual_as_binary = q8.has_value();
  if (q8) {
    // Asked with the binary post-op itself: without it, oneDNN 2.6 on an SVE-512 aarch64
    // named jit_int8:sve_512 for a source without a zero point, then took the gemm kernel
    // for the convolution with the post-op, and a residual block came out wrong
    // (DnnlRegionInt8.ResidualStreamStaysInteger under qemu-aarch64).
    dnnl::primitive_attr probe = Attr();
    Int8Attr(*q8, 1, &probe);
    dnnl::post_ops with_binary;
    with_binary.append_binary(dnnl::algorithm::binary_add, dst_md);
    probe.set_post_ops(with_binary);
    try {
      const std::string impl = conv_pd(probe, dst_md).impl_info_str();
      residual_as_binary = impl.rfind("gemm", 0) != 0;
    } catch (const dnnl::error&) {
      residual_as_binary = false;  // no kernel takes the binary post-op
    }
  }
  std::vector<Eltwise> activation;
  if (n.op_type == "FusedConv") {
    const std::optional<ops::Activation> act = ops::FusedActivation(n);
    if (!act) throw NotMapped("activation " + n.AttrString("activation", ""));
    activation = ActivationSteps(*act);
  }
  // A HardSwish that may not be a post-op here (HardSwishPostOpBroken) is a primitive of its
  // own after the convolution, which writes a value of its own and takes no other post-op.
  const bool activation_apart = HardSwishPostOpBroken() && HasHardSwish(activation);
  // A quantized residual (integers read as real numbers) added to a result that is quantized
  // too: the destination holds the residual's integers, a sum post-op adds them as real
  // numbers (its scale and zero point), and the result overwrites them quantized. Nothing of
  // the residual stream is ever float.
  const std::optional<Quant> residual_quant =
      fused_residual && residual_as_binary && !activation_apart
          ? QuantizedSum(
                n.outputs[0], n.inputs[3], out, activation,
                // A copy of the name: the primitive descriptor ends with the call.
                [&](const dnnl::primitive_attr& a, const memory::desc& d) -> std::string {
                  return conv_pd(a, d).impl_info_str();
                },
                *q8, dst_md)
          : std::nullopt;
  // The sum adds in place, which is faster where the result stays float; a binary add lets
  // a QuantizeLinear that alone reads the result join the convolution.
  const bool binary_residual =
      fused_residual && residual_as_binary && !residual_quant && OnlyQuantizer(n.outputs[0]);
  const bool has_sum = fused_residual && !binary_residual && !residual_quant;
  if (has_sum) po.append_sum(1.f);
  if (residual_quant)
    po.append_sum(residual_quant->scale, residual_quant->zero,
                  DescOf(Get(n.inputs[3]).buffer).data_type());
  if (binary_residual) {
    if (Get(n.inputs[3]).shape != out) throw NotMapped("residual shape differs from the output");
    AddResidual(n.inputs[3], dst_md, &po, &residual_args);
  }
  std::vector<Eltwise> separate_activation;
  if (activation_apart)
    separate_activation = std::move(activation);
  else
    for (const Eltwise& e : activation) po.append_eltwise(1.f, e.alg, e.alpha, e.beta);
  const std::string conv_output =
      separate_activation.empty() ? n.outputs[0] : n.outputs[0] + "#before_activation";
  Tail tail = CollectTail(conv_output, out, has_sum || residual_quant, po,
                          residual_as_binary ? &dst_md : nullptr);
  tail.args.insert(tail.args.begin(), residual_args.begin(), residual_args.end());
  std::optional<QuantizedDst> qdst;
  if (q8) {
    Int8Attr(*q8, 1, &attr);
    qdst = QuantizeAfter(tail, has_sum, &out);
    if (qdst) dst_md = Retyped(dst_md, qdst->type);
  }
  // QuantizedSum saw the QuantizeLinear this finds.
  if (residual_quant && !qdst) throw NotMapped("the quantized residual's result is not quantized");
  attr.set_post_ops(tail.post_ops);

  const dnnl::convolution_forward::primitive_desc pd = conv_pd(attr, dst_md);
  const int src = In(n.inputs[0], pd.src_desc());
  const int wei =
      q8 ? Int8Weight(*q8->weight, Retyped(w_onnx, memory::data_type::s8), pd.weights_desc())
         : PackedConstant(n.inputs[1], w_onnx, pd.weights_desc());
  // The sum post-op adds what dst holds: the residual goes there first, or dst is the
  // residual's own buffer when nothing reads the residual afterwards.
  std::string residual = tail.sum_value;
  if (has_sum) {
    residual = n.inputs[3];
    if (Get(residual).shape != out) throw NotMapped("residual shape differs from the output");
  }
  int dst;
  if (residual_quant) {
    dst = QuantizedSumOut(*qdst, n.inputs[3], out, pd.dst_desc(), src, tail.last_node);
  } else if (qdst) {
    dst = QuantizedOut(*qdst, out, pd.dst_desc());
  } else if (!residual.empty() && Overwritable(residual, pd.dst_desc(), src, tail.last_node)) {
    dst = values_[residual].buffer;
    values_[tail.output] = {out, dst};
  } else {
    dst = Out(tail.output, out, pd.dst_desc());
    if (!residual.empty()) AddReorder(Get(residual).buffer, dst);
  }
  std::vector<std::pair<int, int>> args = {
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
  if (has_bias)
    args.push_back(
        {DNNL_ARG_BIAS, q8 ? ConstantBuffer(Int8Bias(n.inputs[2], q8->scales, m), bias_md)
                           : ConstantVector(n.inputs[2], m)});
  args.insert(args.end(), tail.args.begin(), tail.args.end());
  AddStep(dnnl::convolution_forward(pd), std::move(args), pd.scratchpad_desc().get_size());
  if (!separate_activation.empty()) EltwiseSteps(n, Get(conv_output), separate_activation);
}

void PlanBuilder::ConvTranspose(const ir::Node& n) {
  const Value x = Get(n.inputs[0]);
  const Tensor* w = Constant(n.inputs[1]);
  if (!w) throw NotMapped("W is not constant");
  const int64_t group = n.AttrInt("group", 1);
  const int64_t c = x.shape.at(1);
  if (w->rank() != x.shape.size() || group <= 0 || c % group || w->dim(0) != c)
    throw NotMapped("W does not match X");
  // Attributes may hold anything: arithmetic that overflows is not ours to map.
  auto checked = [](int64_t a, int64_t b, bool multiply) {
    int64_t r;
    if (multiply ? __builtin_mul_overflow(a, b, &r) : __builtin_add_overflow(a, b, &r))
      throw NotMapped("geometry overflows");
    return r;
  };
  const int64_t m = checked(w->dim(1), group, true);
  const size_t sd = x.shape.size() - 2;
  std::vector<int64_t> kernel(w->shape().begin() + 2, w->shape().end());
  auto ints = [&](const char* key, int64_t fallback, size_t count) {
    std::vector<int64_t> v = n.AttrInts(key, std::vector<int64_t>(count, fallback));
    if (v.size() != count) throw NotMapped(key);
    return v;
  };
  const auto strides = ints("strides", 1, sd), dil = ints("dilations", 1, sd);
  const auto pads = ints("pads", 0, 2 * sd), out_pad = ints("output_padding", 0, sd);
  Shape out = {x.shape[0], m};
  memory::dims pl(sd), pr(sd);
  for (size_t i = 0; i < sd; ++i) {
    pl[i] = pads[i];
    pr[i] = checked(pads[i + sd], -out_pad[i], false);  // output padding extends the end
    if (pl[i] < 0 || pr[i] < 0 || out_pad[i] < 0) throw NotMapped("negative padding");
    const int64_t span = checked(checked(kernel[i] - 1, dil[i], true), 1, false);
    const int64_t grown = checked(checked(strides[i], x.shape[2 + i] - 1, true), span, false);
    // pads and out_pad are non-negative here, so negating them is safe.
    out.push_back(
        checked(checked(checked(grown, out_pad[i], false), -pads[i], false), -pads[i + sd], false));
    if (out.back() <= 0) throw NotMapped("empty output");
  }
  const bool has_bias = n.inputs.size() > 2 && !n.inputs[2].empty();
  bool tiles = sd == 2 && group == 1 && m < 8;  // few channels: see StridedTiles
  for (size_t i = 0; i < sd && tiles; ++i)
    tiles = kernel[i] == strides[i] && dil[i] == 1 && pads[i] == 0 && pads[i + sd] == 0 &&
            out_pad[i] == 0;
  if (tiles) return StridedTiles(n, x, *w, m, kernel, out, has_bias);
  // ONNX stores W as [C, M/group, k...]: oneDNN's dims are {[group,] M/group, C/group, k...}
  // and the ONNX bytes are that with the first two (per group) axes swapped.
  memory::dims wdims = {m / group, c / group};
  wdims.insert(wdims.end(), kernel.begin(), kernel.end());
  static const FormatTag kSwapped[] = {FormatTag::bac, FormatTag::bacd, FormatTag::bacde};
  static const FormatTag kGroupSwapped[] = {FormatTag::acbd, FormatTag::acbde, FormatTag::acbdef};
  FormatTag onnx_tag = kSwapped[sd - 1];
  if (group > 1) {
    wdims.insert(wdims.begin(), group);
    onnx_tag = kGroupSwapped[sd - 1];
  }
  const memory::desc bias_md = has_bias ? memory::desc({m}, kF32, FormatTag::a) : memory::desc();
  // Quantized input and weight (scales per output channel, W's axis 1; one group) run in
  // int8, with a float result.
  const std::optional<Int8Operands> q8 =
      group == 1 ? Int8Inputs(x, n.inputs[1], m, 1) : std::nullopt;
  const memory::data_type wt = q8 ? memory::data_type::s8 : kF32;
  dnnl::deconvolution_forward::desc d(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
      memory::desc(ToDims(x.shape), q8 ? q8->src_type : compute_, FormatTag::any),
      memory::desc(wdims, q8 ? wt : compute_, FormatTag::any), bias_md, ConvDst(out),
      memory::dims(strides.begin(), strides.end()), Minus1(dil), pl, pr);
  // No post-ops: oneDNN 2.6's deconvolutions run them per element (a binary add made one
  // 50x slower), so what follows a ConvTranspose stays a primitive of its own.
  dnnl::primitive_attr attr = Attr();
  if (q8) Int8Attr(*q8, 1, &attr);
  dnnl::deconvolution_forward::primitive_desc pd(d, attr, Engine());
  const int src = In(n.inputs[0], pd.src_desc());
  const memory::desc w_onnx(wdims, wt, onnx_tag);
  const int wei = q8 ? Int8Weight(*q8->weight, w_onnx, pd.weights_desc())
                     : PackedConstant(n.inputs[1], w_onnx, pd.weights_desc());
  const int dst = Out(n.outputs[0], out, pd.dst_desc());
  std::vector<std::pair<int, int>> args = {
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
  if (has_bias)
    args.push_back(
        {DNNL_ARG_BIAS, q8 ? ConstantBuffer(Int8Bias(n.inputs[2], q8->scales, m), bias_md)
                           : ConstantVector(n.inputs[2], m)});
  AddStep(dnnl::deconvolution_forward(pd), std::move(args), pd.scratchpad_desc().get_size());
}

// A 2-D ConvTranspose whose kernel equals its stride (no padding, no dilation) writes each
// input pixel's C values, times W viewed as a [C, M*kh*kw] matrix, to its own kh x kw tile of
// the output: one matmul over the pixels (input channels-last) and one strided reorder that
// scatters the tiles. oneDNN's deconvolution has only its reference kernel for the few-output-
// channel case (a text detector's 1-channel map took 54 ms of a 100 ms run this way).
void PlanBuilder::StridedTiles(const ir::Node& n, const Value& x, const Tensor& w, int64_t m,
                               const std::vector<int64_t>& kernel, const Shape& out,
                               bool has_bias) {
  const int64_t nb = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
  const int64_t kh = kernel[0], kw = kernel[1], cols = m * kh * kw, rows = nb * h * wd;
  if (w.numel() != c * cols) throw NotMapped("W does not match X");
  const memory::desc src_md(ToDims(x.shape), kF32, FormatTag::acdb);
  const memory::desc rows_md({rows, c}, kF32, FormatTag::ab);
  const memory::desc tiles_md({rows, cols}, kF32, FormatTag::ab);
  memory::desc bias_md;
  Tensor bias;
  if (has_bias) {  // bias[m] for each of m's kh*kw columns
    const Tensor* b = Constant(n.inputs[2]);
    if (!b || b->dtype() != DataType::kFloat32 || b->numel() != m) throw NotMapped("bias");
    bias = Tensor(DataType::kFloat32, {1, cols});
    for (int64_t j = 0; j < cols; ++j) bias.data<float>()[j] = b->data<float>()[j / (kh * kw)];
    bias_md = PlainDesc(bias.shape());
  }
  dnnl::matmul::desc d(rows_md, memory::desc({c, cols}, kF32, FormatTag::any), bias_md, tiles_md);
  dnnl::matmul::primitive_desc pd(d, Attr(), Engine());
  const int src = In(n.inputs[0], src_md);
  const int wei =
      PackedConstant(n.inputs[1], memory::desc({c, cols}, kF32, FormatTag::ab), pd.weights_desc());
  Buffer t;
  t.md = tiles_md;
  const int tmp = NewBuffer(std::move(t));
  std::vector<std::pair<int, int>> args = {
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, tmp}};
  if (bias.defined()) {
    args.push_back({DNNL_ARG_BIAS, ConstantBuffer(bias, bias_md)});
  }
  AddStep(dnnl::matmul(pd), std::move(args), pd.scratchpad_desc().get_size(),
          {{DNNL_ARG_SRC, rows_md}});
  // Both sides as [N, M, H, kh, W, kw]: the output is that shape contiguous; the matmul wrote
  // it as [N, H, W, M, kh, kw].
  const memory::dims six = {nb, m, h, kh, wd, kw};
  const memory::desc from(six, kF32, memory::dims{h * wd * cols, kh * kw, wd * cols, kw, cols, 1});
  const memory::desc to(six, kF32, FormatTag::abcdef);
  const int dst = Out(n.outputs[0], out, PlainDesc(out));
  dnnl::reorder::primitive_desc rpd(Engine(), from, Engine(), to, Attr());
  AddStep(dnnl::reorder(rpd), {{DNNL_ARG_FROM, tmp}, {DNNL_ARG_TO, dst}},
          rpd.scratchpad_desc().get_size(), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
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
  if (!OneDnnResamples(p, x.shape)) return PixelResize(n, x, p);
  dnnl::resampling_forward::desc d(
      dnnl::prop_kind::forward_inference,
      p.mode == ops::resampling::Mode::kNearest ? dnnl::algorithm::resampling_nearest
                                                : dnnl::algorithm::resampling_linear,
      RealDesc(x.buffer), memory::desc(ToDims(out), kF32, FormatTag::any));
  dnnl::resampling_forward::primitive_desc pd(d, Attr(), Engine());
  const int src = In(n.inputs[0], pd.src_desc());
  const int dst = Out(n.outputs[0], out, pd.dst_desc());
  AddStep(dnnl::resampling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
          pd.scratchpad_desc().get_size());
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
                              const ops::resampling::ResizeParams& p) {
  std::optional<FormatTag> tag = TagOf(RealDesc(x.buffer));
  int64_t block = 0;  // channels per pixel vector; 0: all of them (channels-last)
  if (tag == FormatTag::aBcd16b) block = 16;
  if (tag == FormatTag::aBcd8b) block = 8;
  if (tag == FormatTag::aBcd4b) block = 4;
  if (!block) tag = FormatTag::acdb;
  const Shape& out = p.out_shape;
  const int src = In(n.inputs[0], memory::desc(ToDims(x.shape), kF32, *tag));
  const int dst = Out(n.outputs[0], out, memory::desc(ToDims(out), kF32, *tag));
  const int64_t c = x.shape[1];
  const int64_t vec = block ? block : c;
  const int64_t planes = x.shape[0] * (block ? (c + block - 1) / block : 1);
  const int64_t h = x.shape[2], w = x.shape[3];
  auto mh = std::make_shared<const ops::resampling::AxisMap>(
      ops::resampling::BuildAxisMap(p, 2, h, out[2]));
  auto mw = std::make_shared<const ops::resampling::AxisMap>(
      ops::resampling::BuildAxisMap(p, 3, w, out[3]));
  const auto extrapolation = static_cast<float>(p.extrapolation);
  AddHostStep(
      [=](const std::unordered_map<int, memory>& args, int threads) {
        ops::resampling::ResamplePixels(
            static_cast<const float*>(args.at(DNNL_ARG_SRC).get_data_handle()),
            static_cast<float*>(args.at(DNNL_ARG_DST).get_data_handle()), planes, h, w, vec, *mh,
            *mw, extrapolation, threads);
      },
      {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
}

// Output channels this few waste most of a 16-wide channel block (a 1-channel map takes 16
// times its size, and oneDNN has only reference kernels for some ops on it): keep them in
// channels-last (the plain layout when there is one channel).
memory::desc PlanBuilder::ConvDst(const Shape& out) {
  if (out[1] >= 8) return memory::desc(ToDims(out), kF32, FormatTag::any);
  return ChannelsLast(out, kF32);
}

// Channels-last for 3 to 5 dims, whatever the primitive likes otherwise.
memory::desc PlanBuilder::ChannelsLast(const Shape& shape, memory::data_type type) {
  const int nd = static_cast<int>(shape.size());
  if (nd < 3 || nd > 5) return memory::desc(ToDims(shape), type, FormatTag::any);
  static const FormatTag kChannelsLast[] = {FormatTag::acb, FormatTag::acdb, FormatTag::acdeb};
  return memory::desc(ToDims(shape), type, kChannelsLast[nd - 3]);
}

// Pad with a constant (partition.cc admits no other mode and no cropping): the output is
// filled with the constant and the input copied into its interior, a sub-memory of the
// output's channels-last layout (a channel block would not start at every channel offset).
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

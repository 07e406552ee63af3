// The compilers of the convolutions a region takes: Conv (float, bf16 and int8, with the
// activations, residual sums and quantization that follow it as post-ops), ConvTranspose, and
// the layouts their results are written in.
#include <algorithm>
#include <cmath>
#include <optional>

#include "ops/spatial.h"
#include "providers/cpu/dnnl/plan_builder.h"

namespace supernova::cpu::dnnl_ops {

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
  if (has_bias) args.push_back({DNNL_ARG_BIAS, ConvBias(n.inputs[2], q8, bias_md, m)});
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
  if (has_bias) args.push_back({DNNL_ARG_BIAS, ConvBias(n.inputs[2], q8, bias_md, m)});
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

}  // namespace supernova::cpu::dnnl_ops

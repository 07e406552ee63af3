// The int8 side of a region: QDQ models (QuantizeLinear/DequantizeLinear around weights and
// activations) run as oneDNN int8 primitives, and values stay 8-bit between quantized nodes.
//
// A buffer may hold 8-bit integers that stand for real numbers (quant_). QuantizeLinear
// writes such a buffer (a scaling reorder, or the int8 primitive before it writes its result
// quantized); DequantizeLinear emits nothing: its output is the same bytes, and only a
// consumer that wants float pays for a dequantizing reorder (Convert). DequantizeLinear of a
// constant keeps the integers for the int8 primitives and a float copy for everyone else.
#include <algorithm>
#include <cmath>
#include <optional>

#include "providers/cpu/dnnl/plan_builder.h"

namespace supernova::cpu::dnnl_ops {

namespace {

using DT = memory::data_type;

// A scalar scale and zero point of QuantizeLinear or DequantizeLinear (inputs 1 and 2).
struct ScalarQuant {
  float scale = 1.f;
  int32_t zero = 0;
  DataType type = DataType::kUint8;  // the zero point's type: the integers'
};

}  // namespace

void PlanBuilder::Dequantize(const ir::Node& n) {
  const Tensor* scale = Constant(n.inputs.at(1));
  const Tensor* zero =
      n.inputs.size() > 2 && !n.inputs[2].empty() ? Constant(n.inputs[2]) : nullptr;
  if (!scale || scale->dtype() != DataType::kFloat32) throw NotMapped("scale is not constant");
  if (n.inputs.size() > 2 && !n.inputs[2].empty() && !zero)
    throw NotMapped("zero point is not constant");
  auto raw = constants_.find(n.inputs[0]);
  if (raw != constants_.end()) {
    const Tensor& data = raw->second;
    QuantConstant q;
    q.data = data;
    const int64_t rank = static_cast<int64_t>(data.rank());
    q.axis = n.AttrInt("axis", 1);
    if (q.axis < 0) q.axis += rank;
    const bool per_tensor = scale->numel() == 1 && scale->rank() <= 1;
    if (!per_tensor &&
        (scale->rank() != 1 || q.axis < 0 || q.axis >= rank || data.dim(q.axis) != scale->numel()))
      throw NotMapped("scales do not match the data");
    if (zero && (zero->numel() != scale->numel() || zero->dtype() != data.dtype()))
      throw NotMapped("zero points do not match the scales");
    for (int64_t i = 0; i < scale->numel(); ++i) {
      q.scales.push_back(scale->data<float>()[i]);
      q.zeros.push_back(zero ? static_cast<int32_t>(zero->GetAsDouble(i)) : 0);
    }
    // Element i lies in slice (i / inner) % channels along the axis.
    int64_t inner = 1;
    for (int64_t d = q.axis + 1; d < rank && !per_tensor; ++d) inner *= data.dim(d);
    const int64_t channels = static_cast<int64_t>(q.scales.size());
    Tensor real(DataType::kFloat32, data.shape());
    float* out = real.data<float>();
    for (int64_t i = 0; i < data.numel(); ++i) {
      const size_t c = per_tensor ? 0 : static_cast<size_t>((i / inner) % channels);
      out[i] = static_cast<float>(data.GetAsDouble(i) - q.zeros[c]) * q.scales[c];
    }
    dequantized_[n.outputs[0]] = std::move(real);
    quant_constants_[n.outputs[0]] = std::move(q);
    return;
  }
  const Value x = Get(n.inputs[0]);
  if (!x.integer) throw NotMapped("input is not quantized");
  const Quant q = ActivationQuant(n, x.shape);
  int b = x.buffer;
  const Quant* have = QuantOf(b);
  if (have && !(*have == q)) b = Alias(b, DescOf(b));  // the same bytes read another way
  quant_[b] = q;
  values_[n.outputs[0]] = {x.shape, b, false};
}

// The scale and zero point of a QuantizeLinear or DequantizeLinear of an activation of
// `shape` (inputs 1 and 2): one of each, or a scale per channel (axis 1) with zero points 0.
PlanBuilder::Quant PlanBuilder::ActivationQuant(const ir::Node& n, const Shape& shape) const {
  const Tensor* scale = Constant(n.inputs.at(1));
  const bool has_zero = n.inputs.size() > 2 && !n.inputs[2].empty();
  const Tensor* zero = has_zero ? Constant(n.inputs[2]) : nullptr;
  if (!scale || scale->dtype() != DataType::kFloat32) throw NotMapped("scale is not constant");
  if (has_zero &&
      (!zero || (zero->dtype() != DataType::kUint8 && zero->dtype() != DataType::kInt8)))
    throw NotMapped("zero point is not a constant of 8 bits");
  if (scale->numel() == 1 && scale->rank() <= 1) {
    if (zero && zero->numel() != 1) throw NotMapped("zero points do not match the scale");
    if (!(scale->data<float>()[0] > 0.f)) throw NotMapped("scale is not positive");
    return {scale->data<float>()[0], zero ? static_cast<int32_t>(zero->GetAsDouble(0)) : 0, {}};
  }
  int64_t axis = n.AttrInt("axis", 1);
  if (axis < 0) axis += static_cast<int64_t>(shape.size());
  if (axis != 1 || shape.size() < 3 || scale->rank() != 1 || scale->numel() != shape[1] ||
      (zero && zero->numel() != scale->numel()))
    throw NotMapped("scales per channel not along axis 1");
  Quant q;
  for (int64_t c = 0; c < scale->numel(); ++c) {
    if (zero && zero->GetAsDouble(c) != 0) throw NotMapped("zero points per channel");
    if (!(scale->data<float>()[c] > 0.f)) throw NotMapped("scale is not positive");
    q.channel.push_back(scale->data<float>()[c]);
  }
  return q;
}

// The integers a QuantizeLinear writes: int8 where its zero point is, else uint8 (ONNX's
// default without one).
memory::data_type PlanBuilder::QuantizedType(const ir::Node& n) const {
  const Tensor* zero =
      n.inputs.size() > 2 && !n.inputs[2].empty() ? Constant(n.inputs[2]) : nullptr;
  return zero && zero->dtype() == DataType::kInt8 ? DT::s8 : DT::u8;
}

void PlanBuilder::Quantize(const ir::Node& n) {
  const Value x = Get(n.inputs[0]);
  if (x.integer) throw NotMapped("input is already quantized");
  const Quant q = ActivationQuant(n, x.shape);
  const DT type = QuantizedType(n);
  const Quant* have = QuantOf(x.buffer);
  if (have && *have == q && DescOf(x.buffer).data_type() == type) {
    values_[n.outputs[0]] = {x.shape, x.buffer, true};  // already these integers
    return;
  }
  // Channels-last, which the int8 primitives read fastest, unless the value is blocked.
  memory::desc md = Retyped(RealDesc(x.buffer), type);
  static const FormatTag kChannelsLast[] = {FormatTag::acb, FormatTag::acdb, FormatTag::acdeb};
  const std::optional<FormatTag> tag = TagOf(md);
  const size_t rank = x.shape.size();
  if (rank >= 3 && rank <= 5 && tag && *tag == PlainTag(static_cast<int>(rank)))
    md = memory::desc(ToDims(x.shape), type, kChannelsLast[rank - 3]);
  const int dst = Out(n.outputs[0], x.shape, md);
  quant_[dst] = q;
  values_[n.outputs[0]].integer = true;
  AddReorder(x.buffer, dst);
}

// The int8 form of a product of `x` and the constant `w` (whose output channels lie along
// `axis`, `channels` of them), or nullopt when either side is not quantized as oneDNN's int8
// primitives take it: u8/s8 source with one scale and zero point, s8 weight with zero points 0.
std::optional<PlanBuilder::Int8Operands> PlanBuilder::Int8Inputs(const Value& x,
                                                                 const std::string& w,
                                                                 int64_t channels, int64_t axis,
                                                                 bool depthwise) const {
  const Quant* xq = QuantOf(x.buffer);
  auto it = quant_constants_.find(w);
  if (!xq || x.integer || it == quant_constants_.end()) return std::nullopt;
  if (!xq->channel.empty() && (!depthwise || static_cast<int64_t>(xq->channel.size()) != channels))
    return std::nullopt;
  const QuantConstant& wq = it->second;
  if (wq.data.dtype() != DataType::kInt8) return std::nullopt;
  for (int32_t z : wq.zeros)
    if (z != 0) return std::nullopt;
  const bool per_channel = wq.scales.size() != 1;
  if (per_channel && (wq.axis != axis || static_cast<int64_t>(wq.scales.size()) != channels))
    return std::nullopt;
  Int8Operands r;
  r.src_type = DescOf(x.buffer).data_type();
  r.src_zero = xq->zero;
  r.weight = &wq;
  if (xq->channel.empty()) {
    for (float s : wq.scales) r.scales.push_back(xq->scale * s);
  } else {  // depthwise: output channel c reads input channel c alone
    for (int64_t c = 0; c < channels; ++c)
      r.scales.push_back(xq->channel[static_cast<size_t>(c)] *
                         wq.scales[per_channel ? static_cast<size_t>(c) : 0]);
  }
  return r;
}

// `value`'s one reader where it is a QuantizeLinear of it (in this region), else null.
const ir::Node* PlanBuilder::OnlyQuantizer(const std::string& value) {
  if (uses_[value] != 1 || outputs_.count(value)) return nullptr;
  for (size_t j = pos_ + 1; j < nodes_.size(); ++j) {
    const ir::Node& n = *nodes_[j];
    if (std::find(n.inputs.begin(), n.inputs.end(), value) != n.inputs.end())
      return n.op_type == "QuantizeLinear" && n.inputs[0] == value ? &n : nullptr;
  }
  return nullptr;
}

std::optional<PlanBuilder::QuantizedDst> PlanBuilder::OnlyQuantization(const std::string& value,
                                                                       const Shape& shape) {
  const ir::Node* quantize = OnlyQuantizer(value);
  if (!quantize) return std::nullopt;
  QuantizedDst q;
  try {
    q.quant = ActivationQuant(*quantize, shape);
  } catch (const NotMapped&) {
    return std::nullopt;
  }
  if (!q.quant.channel.empty()) return std::nullopt;
  q.output = quantize->outputs[0];
  q.type = QuantizedType(*quantize);
  return q;
}

// Whether `value`'s one reader is a QuantizeLinear to uint8 with zero points 0 (one, or one a
// channel), whose conversion turns everything below zero into 0, as a Relu would.
bool PlanBuilder::QuantizedFromZero(const std::string& value) {
  const ir::Node* q = OnlyQuantizer(value);
  if (!q) return false;
  if (q->inputs.size() < 3 || q->inputs[2].empty()) return true;  // uint8, zero point 0
  const Tensor* zero = Constant(q->inputs[2]);
  if (!zero || zero->dtype() != DataType::kUint8) return false;
  for (int64_t i = 0; i < zero->numel(); ++i)
    if (zero->GetAsDouble(i) != 0) return false;
  return true;
}

// The attributes of an int8 product: output scales (per channel along `channel_dim` of the
// destination when the weight has several) and the source's zero point.
void PlanBuilder::Int8Attr(const Int8Operands& q8, int channel_dim, dnnl::primitive_attr* attr) {
  attr->set_output_scales(q8.scales.size() > 1 ? 1 << channel_dim : 0, q8.scales);
  if (q8.src_zero != 0) attr->set_zero_points(DNNL_ARG_SRC, 0, {q8.src_zero});
}

// When the tail's result is read by one QuantizeLinear alone, the primitive writes the
// quantized values itself: a last post-op divides by the scale and adds the zero point, and
// the conversion to 8 bits rounds and saturates. A float residual's sum post-op would add the
// destination's old contents as integers, so a tail with one keeps a float destination (a
// quantized residual is a sum of integers with their own scale: QuantizedSum).
std::optional<PlanBuilder::QuantizedDst> PlanBuilder::QuantizeAfter(Tail& tail, bool has_sum,
                                                                    const Shape* shape) {
  const std::string& v = tail.output;
  if (has_sum || !tail.sum_value.empty() || uses_[v] != 1 || outputs_.count(v)) return std::nullopt;
  // The quantization is a linear post-op: not a second one (HasEltwise). A HardSigmoid's
  // result is then written as float and quantized by a step of its own.
  if (HasEltwise(tail.post_ops, dnnl::algorithm::eltwise_linear)) return std::nullopt;
  for (size_t j = tail.last_node + 1; j < nodes_.size(); ++j) {
    const ir::Node& n = *nodes_[j];
    if (std::find(n.inputs.begin(), n.inputs.end(), v) == n.inputs.end()) continue;
    if (n.op_type != "QuantizeLinear" || n.inputs[0] != v || absorbed_.count(j))
      return std::nullopt;
    Quant quant;
    try {
      quant = ActivationQuant(n, shape ? *shape : Shape{});
    } catch (const NotMapped&) {
      return std::nullopt;
    }
    QuantizedDst q;
    q.output = n.outputs[0];
    q.type = QuantizedType(n);
    q.quant = quant;
    if (quant.channel.empty()) {
      tail.post_ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / q.quant.scale,
                                   static_cast<float>(q.quant.zero));
    } else {  // a scale per channel: a multiplication by their inverses
      Shape dims(shape->size(), 1);
      dims[1] = (*shape)[1];
      Tensor inverse(DataType::kFloat32, dims);
      for (size_t c = 0; c < quant.channel.size(); ++c)
        inverse.data<float>()[c] = 1.f / quant.channel[c];
      const memory::desc md(ToDims(dims), kF32, PlainTag(static_cast<int>(dims.size())));
      const int index = tail.post_ops.len();
      tail.post_ops.append_binary(dnnl::algorithm::binary_mul, md);
      tail.args.push_back(
          {DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1, ConstantBuffer(inverse, md)});
    }
    absorbed_.insert(j);
    tail.last_node = j;
    return q;
  }
  return std::nullopt;
}

// oneDNN 2.x adds the bias to the integer accumulator before the output scales, so a bias of
// real numbers goes in divided by them.
Tensor PlanBuilder::Int8Bias(const std::string& name, const std::vector<float>& scales,
                             int64_t m) const {
  const Tensor* b = Constant(name);
  if (!b || b->dtype() != DataType::kFloat32 || b->numel() != m)
    throw NotMapped("bias must be float[" + std::to_string(m) + "]");
  Tensor out(DataType::kFloat32, {m});
  for (int64_t i = 0; i < m; ++i)
    out.data<float>()[i] = b->data<float>()[i] / scales[scales.size() == 1 ? 0 : i];
  return out;
}

int PlanBuilder::ConvBias(const std::string& name, const std::optional<Int8Operands>& q8,
                          const memory::desc& bias_md, int64_t m) {
  return q8 ? ConstantBuffer(Int8Bias(name, q8->scales, m), bias_md) : ConstantVector(name, m);
}

// The integers of a quantized weight seen through `md`, packed into `packed_md` (with the
// compensation terms oneDNN's int8 kernels keep beside them).
int PlanBuilder::Int8Weight(const QuantConstant& w, const memory::desc& md,
                            const memory::desc& packed_md) {
  if (static_cast<size_t>(w.data.nbytes()) != md.get_size())
    throw NotMapped("quantized weight has an unexpected size");
  Buffer b;
  b.kind = Kind::kConstant;
  b.md = packed_md;
  b.packed = PackWeights(w.data, md, packed_md);
  b.constant = b.packed->memory;
  return NewBuffer(std::move(b));
}

// The buffer a primitive with an absorbed QuantizeLinear writes: that node's integers.
int PlanBuilder::QuantizedOut(const QuantizedDst& q, const Shape& out, const memory::desc& md) {
  const int dst = Out(q.output, out, md);
  quant_[dst] = q.quant;
  values_[q.output].integer = true;
  return dst;
}

std::optional<PlanBuilder::Quant> PlanBuilder::QuantizedSum(
    const std::string& output, const std::string& residual, const Shape& out,
    const std::vector<Eltwise>& activation, const ImplOf& impl, const Int8Operands& q8,
    const memory::desc& dst_md) {
  const Value r = Get(residual);
  const Quant* rq = QuantOf(r.buffer);
  if (!rq || !rq->channel.empty() || r.integer || r.shape != out) return std::nullopt;
  // QuantizeAfter's conditions: the quantization is the one linear post-op.
  if (std::any_of(activation.begin(), activation.end(),
                  [](const Eltwise& e) { return e.alg == dnnl::algorithm::eltwise_linear; }))
    return std::nullopt;
  const std::optional<QuantizedDst> quantized = OnlyQuantization(output, out);
  if (!quantized) return std::nullopt;
  const Quant& result = quantized->quant;
  const DT type = quantized->type;
  // Ask oneDNN for the kernel with these post-ops (the sum's zero point among them).
  dnnl::primitive_attr attr = Attr();
  Int8Attr(q8, 1, &attr);
  dnnl::post_ops po;
  po.append_sum(rq->scale, rq->zero, DescOf(r.buffer).data_type());
  for (const Eltwise& e : activation) po.append_eltwise(1.f, e.alg, e.alpha, e.beta);
  po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / result.scale,
                    static_cast<float>(result.zero));
  attr.set_post_ops(po);
  try {
    // The reference kernels would cost more than the reorders this saves, and the gemm-based
    // one's post-ops are trusted only as the float path uses them (conv_compilers.cc).
    const std::string name = impl(attr, Retyped(dst_md, type));
    if (name.rfind("ref", 0) == 0 || name.rfind("gemm", 0) == 0) return std::nullopt;
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
  return *rq;
}

int PlanBuilder::QuantizedSumOut(const QuantizedDst& q, const std::string& residual,
                                 const Shape& out, const memory::desc& md, int src,
                                 size_t last_node) {
  const int r = Get(residual).buffer;
  const DT type = DescOf(r).data_type();
  if (type == q.type && Overwritable(residual, md, src, last_node)) {
    quant_[r] = q.quant;  // the same bytes, from now on the result's integers
    values_[q.output] = {out, r, true};
    return r;
  }
  const int dst = QuantizedOut(q, out, md);
  AddCopy(r, Alias(dst, Retyped(md, type)));
  return dst;
}

void PlanBuilder::AddCopy(int from, int to) {
  dnnl::reorder::primitive_desc pd(Engine(), DescOf(from), Engine(), DescOf(to), Attr());
  AddStep(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}},
          pd.scratchpad_desc().get_size());
}

}  // namespace supernova::cpu::dnnl_ops

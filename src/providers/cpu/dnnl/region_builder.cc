// Compiling a region: one oneDNN primitive (or two) per node, layouts chosen by the
// primitives themselves ("any"), reorders only where a consumer wants another layout than
// its producer made, or where a value leaves the region.
#include "providers/cpu/dnnl/region_builder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "providers/cpu/spatial.h"

namespace supernova::cpu::dnnl_ops {

using dnnl::memory;
using Buffer = Region::Plan::Buffer;
using Kind = Region::Plan::Buffer::Kind;
using FormatTag = memory::format_tag;

namespace {

constexpr auto kF32 = memory::data_type::f32;

// Raised when a node's shapes or attributes are outside what this compiler maps to oneDNN;
// the region then falls back to the reference kernels.
struct NotMapped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One element-wise operation: oneDNN algorithm with its alpha and beta.
struct Eltwise {
  dnnl::algorithm alg;
  float alpha = 0, beta = 0;
};

// The oneDNN form of an ONNX activation (HardSigmoid needs two steps).
std::vector<Eltwise> ActivationSteps(const std::string& op, const std::vector<float>& p) {
  using A = dnnl::algorithm;
  auto param = [&](size_t i, float fallback) { return i < p.size() ? p[i] : fallback; };
  if (op.empty()) return {};
  if (op == "Relu") return {{A::eltwise_relu, 0, 0}};
  if (op == "LeakyRelu") return {{A::eltwise_relu, param(0, 0.01f), 0}};
  if (op == "Sigmoid") return {{A::eltwise_logistic, 0, 0}};
  if (op == "Tanh") return {{A::eltwise_tanh, 0, 0}};
  if (op == "HardSwish") return {{A::eltwise_hardswish, 0, 0}};
  if (op == "HardSigmoid")
    return {{A::eltwise_linear, param(0, 0.2f), param(1, 0.5f)}, {A::eltwise_clip, 0.f, 1.f}};
  if (op == "Clip")
    return {{A::eltwise_clip, param(0, -std::numeric_limits<float>::max()),
             param(1, std::numeric_limits<float>::max())}};
  if (op == "Elu") return {{A::eltwise_elu, param(0, 1.0f), 0}};
  if (op == "Exp") return {{A::eltwise_exp, 0, 0}};
  if (op == "Log") return {{A::eltwise_log, 0, 0}};
  if (op == "Abs") return {{A::eltwise_abs, 0, 0}};
  if (op == "Sqrt") return {{A::eltwise_sqrt, 0, 0}};
  if (op == "Neg") return {{A::eltwise_linear, -1.f, 0.f}};
  throw NotMapped("activation " + op);
}

class Builder {
 public:
  Builder(const ir::Graph& graph, const std::map<std::string, Tensor>& constants,
          Region::Plan* plan)
      : graph_(graph), constants_(constants), plan_(plan) {}

  void AddInput(const std::string& name, int index, const Tensor& t) {
    if (t.dtype() != DataType::kFloat32)
      throw NotMapped("input " + name + " is " + DataTypeName(t.dtype()));
    Buffer b;
    b.kind = Kind::kInput;
    b.md = PlainDesc(t.shape());
    b.index = index;
    values_[name] = {t.shape(), NewBuffer(std::move(b))};
  }

  void AddNode(const ir::Node& n) {
    const std::string& op = n.op_type;
    if (op == "Conv" || op == "FusedConv") return Conv(n);
    if (op == "ConvTranspose") return ConvTranspose(n);
    if (op == "BatchNormalization") return BatchNorm(n);
    if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" ||
        op == "GlobalMaxPool")
      return Pool(n);
    if (op == "LRN") return Lrn(n);
    if (op == "Concat") return Concat(n);
    if (op == "Resize" || op == "Upsample") return Resize(n);
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Max" || op == "Min")
      return Binary(n);
    return Unary(n);
  }

  // Hands each region output to the caller in plain layout.
  void Finish(const std::vector<std::string>& outputs) {
    for (size_t j = 0; j < outputs.size(); ++j) {
      const Value& v = Get(outputs[j]);
      const memory::desc plain = PlainDesc(v.shape);
      Buffer& b = plan_->buffers[v.buffer];
      if (b.kind == Kind::kTemp && b.md == plain && !handed_out_.count(v.buffer)) {
        b.kind = Kind::kOutput;  // produced in plain layout already: write it in place
        b.index = static_cast<int>(j);
        b.shape = v.shape;
        handed_out_.insert(v.buffer);
        continue;
      }
      Buffer out;
      out.kind = Kind::kOutput;
      out.md = plain;
      out.index = static_cast<int>(j);
      out.shape = v.shape;
      const int ob = NewBuffer(std::move(out));
      AddReorder(v.buffer, ob);
    }
    ComputeLifetimes();
  }

 private:
  struct Value {
    Shape shape;
    int buffer = -1;  // the buffer its producer wrote
  };

  int NewBuffer(Buffer b) {
    plan_->buffers.push_back(std::move(b));
    return static_cast<int>(plan_->buffers.size()) - 1;
  }

  const Tensor* Constant(const std::string& name) const {
    auto it = constants_.find(name);
    return it == constants_.end() ? nullptr : &it->second;
  }

  const Value& Get(const std::string& name) {
    auto it = values_.find(name);
    if (it != values_.end()) return it->second;
    const Tensor* c = Constant(name);
    if (!c) throw NotMapped("value " + name + " is not available");
    if (c->dtype() != DataType::kFloat32) throw NotMapped("constant " + name + " is not float");
    Buffer b;
    b.kind = Kind::kConstant;
    b.md = PlainDesc(c->shape());
    b.source = *c;
    b.constant = memory(b.md, Engine(), const_cast<void*>(c->raw_data()));
    return values_[name] = {c->shape(), NewBuffer(std::move(b))};
  }

  const memory::desc& DescOf(int buffer) const { return plan_->buffers[buffer].md; }

  // The buffer holding `name` in layout `md`, reordering (once per layout) when needed.
  int In(const std::string& name, const memory::desc& md) {
    const Value& v = Get(name);
    if (DescOf(v.buffer) == md) return v.buffer;
    auto key = std::make_pair(
        v.buffer, std::string(reinterpret_cast<const char*>(&md.data), sizeof(md.data)));
    auto it = converted_.find(key);
    if (it != converted_.end()) return it->second;
    int b;
    const Buffer& src = plan_->buffers[v.buffer];
    if (src.kind == Kind::kConstant) {  // constants are reordered once, now
      Buffer packed;
      packed.kind = Kind::kConstant;
      packed.md = md;
      packed.packed = PackWeights(src.source, src.md, md);
      packed.constant = packed.packed->memory;
      b = NewBuffer(std::move(packed));
    } else {
      Buffer tmp;
      tmp.md = md;
      b = NewBuffer(std::move(tmp));
      AddReorder(v.buffer, b);
    }
    converted_[key] = b;
    return b;
  }

  int Out(const std::string& name, const Shape& shape, const memory::desc& md) {
    Buffer b;
    b.md = md;
    const int id = NewBuffer(std::move(b));
    values_[name] = {shape, id};
    return id;
  }

  // A weight constant seen through `md` (its ONNX layout), packed into `packed_md`.
  int PackedConstant(const std::string& name, const memory::desc& md,
                     const memory::desc& packed_md) {
    const Tensor* c = Constant(name);
    if (!c || c->dtype() != DataType::kFloat32) throw NotMapped("weight " + name);
    if (static_cast<size_t>(c->nbytes()) != md.get_size())
      throw NotMapped("weight " + name + " has an unexpected size");
    Buffer b;
    b.kind = Kind::kConstant;
    b.md = packed_md;
    b.packed = PackWeights(*c, md, packed_md);
    b.constant = b.packed->memory;
    return NewBuffer(std::move(b));
  }

  int ConstantVector(const std::string& name, int64_t expected) {
    const Tensor* c = Constant(name);
    if (!c || c->dtype() != DataType::kFloat32 || c->numel() != expected)
      throw NotMapped("constant " + name + " must be float[" + std::to_string(expected) + "]");
    Buffer b;
    b.kind = Kind::kConstant;
    b.md = memory::desc({expected}, kF32, FormatTag::a);
    b.source = *c;
    b.constant = memory(b.md, Engine(), const_cast<void*>(c->raw_data()));
    return NewBuffer(std::move(b));
  }

  void AddStep(dnnl::primitive p, std::vector<std::pair<int, int>> args, size_t scratch) {
    plan_->scratch_bytes = std::max(plan_->scratch_bytes, scratch);
    plan_->steps.push_back({std::move(p), std::move(args), {}, {}});
  }

  void AddReorder(int from, int to) {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::reorder::primitive_desc pd(Engine(), DescOf(from), Engine(), DescOf(to), attr);
    AddStep(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}},
            pd.scratchpad_desc().get_size());
  }

  static dnnl::primitive_attr Attr() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
  }

  KernelContext Ctx(const ir::Node& n) const {
    return KernelContext(n, graph_.Opset(n.domain), {}, nullptr, 1);
  }

  static memory::dims Minus1(const std::vector<int64_t>& v) {
    memory::dims d(v.begin(), v.end());
    for (auto& x : d) x -= 1;
    return d;
  }

  void Conv(const ir::Node& n) {
    const Value x = Get(n.inputs[0]);
    const Tensor* w = Constant(n.inputs[1]);
    if (!w) throw NotMapped("W is not constant");
    const int64_t group = n.AttrInt("group", 1);
    const int64_t c = x.shape.at(1), m = w->dim(0);
    if (w->rank() != x.shape.size() || group <= 0 || c % group || m % group ||
        w->dim(1) != c / group)
      throw NotMapped("W does not match X");
    std::vector<int64_t> kernel(w->shape().begin() + 2, w->shape().end());
    if (n.HasAttr("kernel_shape") && n.AttrInts("kernel_shape") != kernel)
      throw NotMapped("kernel_shape");
    WindowGeometry g;
    std::vector<int64_t> in_dims(x.shape.begin() + 2, x.shape.end());
    if (!ResolveWindow(Ctx(n), in_dims, kernel, false, &g).ok()) throw NotMapped("geometry");
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

    dnnl::primitive_attr attr = Attr();
    dnnl::post_ops po;
    const bool has_sum = n.op_type == "FusedConv" && n.inputs.size() > 3 && !n.inputs[3].empty();
    if (has_sum) po.append_sum(1.f);
    const std::string act = n.op_type == "FusedConv" ? n.AttrString("activation", "") : "";
    for (const Eltwise& e : ActivationSteps(act, n.AttrFloats("activation_params")))
      po.append_eltwise(1.f, e.alg, e.alpha, e.beta);
    attr.set_post_ops(po);

    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::convolution_direct,
                                      memory::desc(ToDims(x.shape), kF32, FormatTag::any),
                                      memory::desc(wdims, kF32, FormatTag::any), bias_md,
                                      memory::desc(ToDims(out), kF32, FormatTag::any), g.strides,
                                      Minus1(g.dilations), g.pad_begin, g.pad_end);
    dnnl::convolution_forward::primitive_desc pd(d, attr, Engine());
    const int src = In(n.inputs[0], pd.src_desc());
    const int wei = PackedConstant(n.inputs[1], w_onnx, pd.weights_desc());
    const int dst = Out(n.outputs[0], out, pd.dst_desc());
    if (has_sum) {  // the sum post-op adds what dst holds: put the residual there first
      const Value& z = Get(n.inputs[3]);
      if (z.shape != out) throw NotMapped("residual shape differs from the output");
      AddReorder(z.buffer, dst);
    }
    std::vector<std::pair<int, int>> args = {
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
    if (has_bias) args.push_back({DNNL_ARG_BIAS, ConstantVector(n.inputs[2], m)});
    AddStep(dnnl::convolution_forward(pd), std::move(args), pd.scratchpad_desc().get_size());
  }

  void ConvTranspose(const ir::Node& n) {
    const Value x = Get(n.inputs[0]);
    const Tensor* w = Constant(n.inputs[1]);
    if (!w) throw NotMapped("W is not constant");
    const int64_t group = n.AttrInt("group", 1);
    const int64_t c = x.shape.at(1);
    if (w->rank() != x.shape.size() || group <= 0 || c % group || w->dim(0) != c)
      throw NotMapped("W does not match X");
    const int64_t m = w->dim(1) * group;
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
      pr[i] = pads[i + sd] - out_pad[i];  // output padding extends the end
      if (pl[i] < 0 || pr[i] < 0) throw NotMapped("negative padding");
      out.push_back(strides[i] * (x.shape[2 + i] - 1) + out_pad[i] + (kernel[i] - 1) * dil[i] + 1 -
                    pads[i] - pads[i + sd]);
      if (out.back() <= 0) throw NotMapped("empty output");
    }
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
    const bool has_bias = n.inputs.size() > 2 && !n.inputs[2].empty();
    const memory::desc bias_md = has_bias ? memory::desc({m}, kF32, FormatTag::a) : memory::desc();
    dnnl::deconvolution_forward::desc d(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
        memory::desc(ToDims(x.shape), kF32, FormatTag::any),
        memory::desc(wdims, kF32, FormatTag::any), bias_md,
        memory::desc(ToDims(out), kF32, FormatTag::any),
        memory::dims(strides.begin(), strides.end()), Minus1(dil), pl, pr);
    dnnl::deconvolution_forward::primitive_desc pd(d, Attr(), Engine());
    const int src = In(n.inputs[0], pd.src_desc());
    const int wei =
        PackedConstant(n.inputs[1], memory::desc(wdims, kF32, onnx_tag), pd.weights_desc());
    const int dst = Out(n.outputs[0], out, pd.dst_desc());
    std::vector<std::pair<int, int>> args = {
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
    if (has_bias) args.push_back({DNNL_ARG_BIAS, ConstantVector(n.inputs[2], m)});
    AddStep(dnnl::deconvolution_forward(pd), std::move(args), pd.scratchpad_desc().get_size());
  }

  void BatchNorm(const ir::Node& n) {
    const Value x = Get(n.inputs[0]);
    const int64_t c = x.shape.at(1);
    const auto flags = dnnl::normalization_flags::use_global_stats |
                       dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference, DescOf(x.buffer),
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

  void Pool(const ir::Node& n) {
    const Value x = Get(n.inputs[0]);
    const bool global = n.op_type.rfind("Global", 0) == 0;
    const bool is_max = n.op_type == "MaxPool" || n.op_type == "GlobalMaxPool";
    std::vector<int64_t> in_dims(x.shape.begin() + 2, x.shape.end());
    WindowGeometry g;
    if (global) {
      g.in = g.kernel = g.out = in_dims;
      g.strides = g.dilations = std::vector<int64_t>(in_dims.size(), 1);
      g.pad_begin = g.pad_end = std::vector<int64_t>(in_dims.size(), 0);
      std::fill(g.out.begin(), g.out.end(), 1);
    } else {
      const bool ceil_mode = n.AttrInt("ceil_mode", 0) != 0;
      if (!n.HasAttr("kernel_shape")) throw NotMapped("kernel_shape missing");
      if (!ResolveWindow(Ctx(n), in_dims, n.AttrInts("kernel_shape"), ceil_mode, &g).ok())
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
    dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg, DescOf(x.buffer),
                                     memory::desc(ToDims(out), kF32, FormatTag::any), g.strides,
                                     g.kernel, Minus1(g.dilations), g.pad_begin, pr);
    dnnl::pooling_v2_forward::primitive_desc pd(d, Attr(), Engine());
    const int src = In(n.inputs[0], pd.src_desc());
    const int dst = Out(n.outputs[0], out, pd.dst_desc());
    AddStep(dnnl::pooling_v2_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
            pd.scratchpad_desc().get_size());
  }

  void Lrn(const ir::Node& n) {
    const Value x = Get(n.inputs[0]);
    dnnl::lrn_forward::desc d(dnnl::prop_kind::forward_inference,
                              dnnl::algorithm::lrn_across_channels, DescOf(x.buffer),
                              n.AttrInt("size", 1), n.AttrFloat("alpha", 1e-4f),
                              n.AttrFloat("beta", 0.75f), n.AttrFloat("bias", 1.f));
    dnnl::lrn_forward::primitive_desc pd(d, Attr(), Engine());
    const int src = In(n.inputs[0], pd.src_desc());
    const int dst = Out(n.outputs[0], x.shape, pd.dst_desc());
    AddStep(dnnl::lrn_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
            pd.scratchpad_desc().get_size());
  }

  void Unary(const ir::Node& n) {
    const Value x = Get(n.inputs[0]);
    std::vector<float> params;
    if (n.op_type == "LeakyRelu") params = {n.AttrFloat("alpha", 0.01f)};
    if (n.op_type == "Elu") params = {n.AttrFloat("alpha", 1.f)};
    if (n.op_type == "HardSigmoid")
      params = {n.AttrFloat("alpha", 0.2f), n.AttrFloat("beta", 0.5f)};
    if (n.op_type == "Clip") {
      params = {n.AttrFloat("min", -std::numeric_limits<float>::max()),
                n.AttrFloat("max", std::numeric_limits<float>::max())};
      for (size_t i = 1; i < 3 && i < n.inputs.size(); ++i) {
        if (n.inputs[i].empty()) continue;
        const Tensor* bound = Constant(n.inputs[i]);
        if (!bound || bound->dtype() != DataType::kFloat32 || bound->numel() != 1)
          throw NotMapped("Clip bound");
        params[i - 1] = bound->data<float>()[0];
      }
    }
    const std::vector<Eltwise> steps = ActivationSteps(n.op_type, params);
    const memory::desc md = DescOf(x.buffer);  // a copy: Out() may move the buffers
    const int dst = Out(n.outputs[0], x.shape, md);
    int src = x.buffer;
    for (const Eltwise& e : steps) {  // later steps work in place on dst
      dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, e.alg, md, e.alpha, e.beta);
      dnnl::eltwise_forward::primitive_desc pd(d, Attr(), Engine());
      AddStep(dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
              pd.scratchpad_desc().get_size());
      src = dst;
    }
  }

  void Binary(const ir::Node& n) {
    const std::string& op = n.op_type;
    std::string a = n.inputs[0], b = n.inputs[1];
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
    const memory::desc md0 = DescOf(va.buffer);  // a copy: In() may move the buffers
    int src1;
    if (sb == out) {
      src1 = In(b, md0);  // same layout as the first operand: the fast kernels need that
    } else if (vb.shape.size() == r) {
      src1 = vb.buffer;
    } else if (plan_->buffers[vb.buffer].kind == Kind::kConstant) {
      Buffer view = plan_->buffers[vb.buffer];  // the constant with leading unit dims
      view.md = memory::desc(ToDims(sb), kF32, PlainTag(static_cast<int>(r)));
      view.constant = memory(view.md, Engine(), const_cast<void*>(view.source.raw_data()));
      src1 = NewBuffer(std::move(view));
    } else {
      throw NotMapped("rank of the broadcast operand");
    }
    using A = dnnl::algorithm;
    const A alg = op == "Add"   ? A::binary_add
                  : op == "Sub" ? A::binary_sub
                  : op == "Mul" ? A::binary_mul
                  : op == "Div" ? A::binary_div
                  : op == "Max" ? A::binary_max
                                : A::binary_min;
    dnnl::binary::desc d(alg, md0, DescOf(src1), md0);
    dnnl::binary::primitive_desc pd(d, Attr(), Engine());
    const int src0 = In(a, pd.src0_desc());
    const int dst = Out(n.outputs[0], out, pd.dst_desc());
    AddStep(dnnl::binary(pd), {{DNNL_ARG_SRC_0, src0}, {DNNL_ARG_SRC_1, src1}, {DNNL_ARG_DST, dst}},
            pd.scratchpad_desc().get_size());
  }

  void Concat(const ir::Node& n) {
    const size_t r = Get(n.inputs[0]).shape.size();
    int64_t axis = n.AttrInt("axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(r);
    if (axis < 0 || axis >= static_cast<int64_t>(r)) throw NotMapped("axis");
    Shape out = Get(n.inputs[0]).shape;
    out[axis] = 0;
    std::vector<memory::desc> srcs;
    std::vector<int> bufs;
    for (const std::string& in : n.inputs) {
      const Value v = Get(in);
      if (v.shape.size() != r) throw NotMapped("rank");
      for (size_t i = 0; i < r; ++i)
        if (static_cast<int64_t>(i) != axis && v.shape[i] != out[i]) throw NotMapped("shape");
      out[axis] += v.shape[axis];
      if (v.shape[axis] == 0) continue;  // oneDNN rejects empty sources; they add nothing
      srcs.push_back(DescOf(v.buffer));
      bufs.push_back(v.buffer);
    }
    if (srcs.empty()) throw NotMapped("all inputs empty");
    dnnl::concat::primitive_desc pd(static_cast<int>(axis), srcs, Engine(), Attr());
    std::vector<std::pair<int, int>> args;
    for (size_t i = 0; i < bufs.size(); ++i)
      args.push_back({DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), bufs[i]});
    args.push_back({DNNL_ARG_DST, Out(n.outputs[0], out, pd.dst_desc())});
    AddStep(dnnl::concat(pd), std::move(args), pd.scratchpad_desc().get_size());
  }

  void Resize(const ir::Node& n) {
    const Value x = Get(n.inputs[0]);
    const int64_t opset = graph_.Opset();
    std::vector<float> scales;
    Shape out;
    auto input = [&](size_t i) -> const Tensor* {
      return i < n.inputs.size() && !n.inputs[i].empty() ? Constant(n.inputs[i]) : nullptr;
    };
    if (n.op_type == "Upsample" && opset < 9) {
      scales = n.AttrFloats("scales");
    } else {
      const size_t scales_at = n.op_type == "Resize" && opset >= 11 ? 2 : 1;
      if (const Tensor* s = input(scales_at); s && s->numel() > 0) {
        if (s->dtype() != DataType::kFloat32) throw NotMapped("scales");
        scales.assign(s->data<float>(), s->data<float>() + s->numel());
      } else if (const Tensor* sz = input(3); sz && sz->numel() == 4) {
        for (int64_t i = 0; i < 4; ++i) out.push_back(sz->GetAsInt64(i));
      }
    }
    if (out.empty()) {
      if (scales.size() != 4) throw NotMapped("scales");
      for (size_t i = 0; i < 4; ++i)
        out.push_back(
            static_cast<int64_t>(std::floor(static_cast<double>(x.shape[i]) * scales[i])));
    }
    if (out[0] != x.shape[0] || out[1] != x.shape[1]) throw NotMapped("batch or channel resize");
    const bool nearest = n.AttrString("mode", "nearest") == "nearest";
    for (size_t i = 2; i < 4; ++i) {
      if (out[i] <= 0 || x.shape[i] <= 0) throw NotMapped("empty resize");
      const double factor = static_cast<double>(out[i]) / static_cast<double>(x.shape[i]);
      // The given scale drives ONNX's coordinate transform; oneDNN uses out/in.
      if (!scales.empty() && std::fabs(factor - scales[i]) > 1e-6 * factor)
        throw NotMapped("scale does not divide the size");
      if (nearest && out[i] % x.shape[i] != 0) throw NotMapped("non-integer nearest factor");
      // pytorch_half_pixel reads the first pixel for a one-pixel output; oneDNN the centre.
      if (out[i] == 1 && x.shape[i] != 1 &&
          n.AttrString("coordinate_transformation_mode", "half_pixel") == "pytorch_half_pixel")
        throw NotMapped("pytorch_half_pixel to one pixel");
    }
    dnnl::resampling_forward::desc d(
        dnnl::prop_kind::forward_inference,
        nearest ? dnnl::algorithm::resampling_nearest : dnnl::algorithm::resampling_linear,
        DescOf(x.buffer), memory::desc(ToDims(out), kF32, FormatTag::any));
    dnnl::resampling_forward::primitive_desc pd(d, Attr(), Engine());
    const int src = In(n.inputs[0], pd.src_desc());
    const int dst = Out(n.outputs[0], out, pd.dst_desc());
    AddStep(dnnl::resampling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
            pd.scratchpad_desc().get_size());
  }

  // Temporaries live from the step that first touches them to the step that last does.
  void ComputeLifetimes() {
    const size_t nb = plan_->buffers.size();
    std::vector<int> first(nb, -1), last(nb, -1);
    for (size_t s = 0; s < plan_->steps.size(); ++s)
      for (const auto& [arg, b] : plan_->steps[s].args) {
        if (first[b] < 0) first[b] = static_cast<int>(s);
        last[b] = static_cast<int>(s);
      }
    for (size_t b = 0; b < nb; ++b) {
      if (plan_->buffers[b].kind != Kind::kTemp || first[b] < 0) continue;
      plan_->steps[first[b]].allocate.push_back(static_cast<int>(b));
      plan_->steps[last[b]].release.push_back(static_cast<int>(b));
    }
  }

  const ir::Graph& graph_;
  const std::map<std::string, Tensor>& constants_;
  Region::Plan* plan_;
  std::unordered_map<std::string, Value> values_;
  std::map<std::pair<int, std::string>, int> converted_;
  std::set<int> handed_out_;
};

}  // namespace

std::shared_ptr<const Region::Plan> BuildPlan(const ir::Graph& graph,
                                              const std::vector<const ir::Node*>& nodes,
                                              const std::vector<std::string>& inputs,
                                              const std::vector<std::string>& outputs,
                                              const std::map<std::string, Tensor>& constants,
                                              const std::vector<const Tensor*>& input_tensors) {
  auto plan = std::make_shared<Region::Plan>();
  try {
    Builder b(graph, constants, plan.get());
    for (size_t i = 0; i < inputs.size(); ++i)
      b.AddInput(inputs[i], static_cast<int>(i), *input_tensors[i]);
    for (const ir::Node* n : nodes) {
      try {
        b.AddNode(*n);
      } catch (const std::exception& e) {
        throw NotMapped(n->Label() + ": " + e.what());
      }
    }
    b.Finish(outputs);
  } catch (const std::exception& e) {  // NotMapped, dnnl::error, a bad shape access
    auto fallback = std::make_shared<Region::Plan>();
    fallback->reference = true;
    fallback->why = e.what();
    return fallback;
  }
  return plan;
}

Status ExecutePlan(const Region::Plan& plan, KernelContext& ctx) {
  const size_t nb = plan.buffers.size();
  std::vector<memory> mem(nb);
  std::vector<Tensor> temp(nb);
  try {
    for (size_t i = 0; i < nb; ++i) {
      const Buffer& b = plan.buffers[i];
      if (b.kind == Kind::kInput) {
        mem[i] = memory(b.md, Engine(), const_cast<void*>(ctx.input(b.index)->raw_data()));
      } else if (b.kind == Kind::kOutput) {
        Tensor& t = ctx.Output(b.index, DataType::kFloat32, b.shape);
        mem[i] = memory(b.md, Engine(), t.raw_data());
      } else if (b.kind == Kind::kConstant) {
        mem[i] = b.constant;
      }
    }
    Tensor scratch;
    memory scratch_mem;
    if (plan.scratch_bytes > 0) {
      scratch =
          Tensor(DataType::kUint8, {static_cast<int64_t>(plan.scratch_bytes)}, ctx.allocator());
      scratch_mem =
          memory({{static_cast<int64_t>(plan.scratch_bytes)}, memory::data_type::u8, FormatTag::a},
                 Engine(), scratch.raw_data());
    }
    dnnl::stream stream(Engine());
    std::unordered_map<int, memory> args;
    for (const Region::Plan::Step& st : plan.steps) {
      for (int b : st.allocate) {
        temp[b] = Tensor(DataType::kUint8, {static_cast<int64_t>(plan.buffers[b].md.get_size())},
                         ctx.allocator());
        mem[b] = memory(plan.buffers[b].md, Engine(), temp[b].raw_data());
      }
      args.clear();
      for (const auto& [arg, b] : st.args) args.emplace(arg, mem[b]);
      if (plan.scratch_bytes > 0) args.emplace(DNNL_ARG_SCRATCHPAD, scratch_mem);
      st.primitive.execute(stream, args);
      for (int b : st.release) {
        mem[b] = memory();
        temp[b] = Tensor();
      }
    }
    stream.wait();
  } catch (const dnnl::error& e) {
    return Status::Internal(ctx.node.Label() + ": oneDNN: " + e.what());
  }
  return Status::Ok();
}

}  // namespace supernova::cpu::dnnl_ops

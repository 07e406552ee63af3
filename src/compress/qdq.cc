#include "compress/qdq.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "optimizer/graph_utils.h"

namespace supernova::compress {
namespace {

bool IsOnnx(const ir::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool IsFloatValue(const ir::Graph& g, const std::string& v) {
  const ir::ValueType* t = g.TypeOf(v);
  return t && t->is_tensor() && t->dtype == DataType::kFloat32;
}

std::optional<Shape> StaticShape(const ir::Graph& g, const std::string& v) {
  const ir::ValueType* t = g.TypeOf(v);
  if (!t || !t->is_tensor() || !t->HasStaticShape()) return std::nullopt;
  return t->StaticShape();
}

const Tensor* FloatConstant(const ir::Graph& g, const std::string& v) {
  auto it = g.initializers.find(v);
  if (it == g.initializers.end() || it->second.dtype() != DataType::kFloat32) return nullptr;
  return &it->second;
}

// Why `n` cannot be quantized ("" when it can); fills the site.
std::string Check(const ir::Graph& g, const ir::Node& n, const QuantizeOptions& o,
                  QuantizePlan::Site* site) {
  if (Excluded(n, o.exclude)) return "excluded (--exclude)";
  const std::string& op = n.op_type;
  if (op == "Conv" || op == "ConvTranspose") {
    if (n.NumInputs() < 2) return "no weight";
    const Tensor* w = FloatConstant(g, n.inputs[1]);
    if (!w || w->rank() < 3) return "weight is not a float32 constant";
    if (n.NumInputs() > 2 && !FloatConstant(g, n.inputs[2])) return "bias is not a constant";
    site->activation = 0;
    site->weight = 1;
    site->bias = n.NumInputs() > 2 ? 2 : -1;
    site->axis = op == "Conv" ? 0 : 1;
    if (op == "ConvTranspose" && n.AttrInt("group", 1) != 1 && o.per_channel)
      site->axis = -1;  // grouped: axis 1 holds M/group channels, not M: one scale
  } else if (op == "Gemm") {
    if (n.AttrInt("transA", 0) != 0) return "transA";
    const Tensor* b = FloatConstant(g, n.inputs[1]);
    if (!b || b->rank() != 2) return "B is not a 2-D float32 constant";
    site->activation = 0;
    site->weight = 1;
    site->axis = n.AttrInt("transB", 0) ? 0 : 1;
    // The bias joins the int32 accumulator only as plain Y = A*B + C with C one value per
    // column; anything else stays float.
    const Tensor* c = n.NumInputs() > 2 ? FloatConstant(g, n.inputs[2]) : nullptr;
    if (c && c->rank() == 1 && c->dim(0) == b->dim(site->axis) && n.AttrFloat("alpha", 1) == 1 &&
        n.AttrFloat("beta", 1) == 1)
      site->bias = 2;
  } else if (op == "MatMul") {
    const Tensor* b = FloatConstant(g, n.inputs[1]);
    if (!b || b->rank() != 2) return "B is not a 2-D float32 constant (activation x activation)";
    site->activation = 0;
    site->weight = 1;
    site->axis = 1;
  } else {
    return "not quantizable";
  }
  if (!IsFloatValue(g, n.inputs[static_cast<size_t>(site->activation)]))
    return "input is not float32";
  if (g.IsInitializer(n.inputs[static_cast<size_t>(site->activation)]))
    return "input is a constant";
  if (!o.per_channel) site->axis = -1;
  return "";
}

// How a node is named in new value names: its name, or its first output's where it has none.
std::string OutputName(const ir::Node& n) {
  return !n.name.empty() || n.outputs.empty() ? n.name : n.outputs[0];
}

ir::Node QdqNode(const char* op, const std::string& name, std::vector<std::string> inputs,
                 const std::string& output, int axis) {
  ir::Node n;
  n.op_type = op;
  n.name = name;
  n.inputs = std::move(inputs);
  n.outputs = {output};
  if (axis >= 0) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = axis;
    n.attributes["axis"] = a;
  }
  return n;
}

// The output channels of a quantized node and, for weight element i, which output channel and
// which input channel it joins (Conv [M, C/g, k...], ConvTranspose [C, M, k...] with one group,
// Gemm/MatMul B [K, N] or, transposed, [N, K]). Empty `out_channels` where it cannot tell.
struct WeightLayout {
  int64_t out_channels = 0;
  std::function<std::pair<int64_t, int64_t>(int64_t)> channels_of;  // i -> (out, in)
};
WeightLayout LayoutOf(const ir::Node& n, const Shape& w) {
  WeightLayout l;
  int64_t k = 1;
  for (size_t d = 2; d < w.size(); ++d) k *= w[d];
  if (n.op_type == "Conv") {
    const int64_t m = w[0], cg = w[1], groups = n.AttrInt("group", 1);
    if (groups <= 0 || m % groups) return l;
    const int64_t per_group = m / groups;
    l.out_channels = m;
    l.channels_of = [=](int64_t i) {
      const int64_t out = i / (cg * k);
      return std::make_pair(out, (out / per_group) * cg + (i / k) % cg);
    };
  } else if (n.op_type == "ConvTranspose") {
    if (n.AttrInt("group", 1) != 1) return l;
    const int64_t mg = w[1];
    l.out_channels = mg;
    l.channels_of = [=](int64_t i) { return std::make_pair((i / k) % mg, i / (mg * k)); };
  } else if (w.size() == 2) {
    const bool trans = n.op_type == "Gemm" && n.AttrInt("transB", 0);
    const int64_t cols = w[1];
    l.out_channels = trans ? w[0] : w[1];
    l.channels_of = [=](int64_t i) {
      return trans ? std::make_pair(i / cols, i % cols) : std::make_pair(i % cols, i / cols);
    };
  }
  return l;
}

// Bias correction: the expected shift of each output channel that rounding the weights puts
// there, sum over its weights of (dequantized - float) * the mean of the input they multiply.
// Empty where the layout or the means do not fit.
std::vector<double> WeightShift(const ir::Node& n, const Tensor& w, const QuantizedWeight& qw,
                                int axis, const std::vector<double>& means) {
  const WeightLayout l = LayoutOf(n, w.shape());
  if (l.out_channels == 0 || means.empty()) return {};
  const Shape& s = w.shape();
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; axis >= 0 && d < s.size(); ++d) inner *= s[d];
  const int64_t scale_channels = static_cast<int64_t>(qw.scales.size());
  std::vector<double> shift(static_cast<size_t>(l.out_channels), 0.0);
  const float* f = w.data<float>();
  const int8_t* q = qw.q.data<int8_t>();
  for (int64_t i = 0; i < w.numel(); ++i) {
    const auto [out, in] = l.channels_of(i);
    if (in >= static_cast<int64_t>(means.size())) return {};
    const float scale =
        qw.scales[static_cast<size_t>(axis >= 0 ? (i / inner) % scale_channels : 0)];
    const double delta = static_cast<double>(q[i]) * scale - f[i];
    shift[static_cast<size_t>(out)] += delta * means[static_cast<size_t>(in)];
  }
  return shift;
}

}  // namespace

QuantizedWeight QuantizeWeight(const Tensor& w, int axis) {
  const Shape& s = w.shape();
  const int64_t channels = axis >= 0 ? s[static_cast<size_t>(axis)] : 1;
  int64_t inner = 1;  // elements between two consecutive channels
  for (size_t d = static_cast<size_t>(axis) + 1; axis >= 0 && d < s.size(); ++d) inner *= s[d];
  const float* p = w.data<float>();
  auto channel_of = [&](int64_t i) { return (i / inner) % channels; };
  std::vector<float> absmax(static_cast<size_t>(channels), 0.f);
  for (int64_t i = 0; i < w.numel(); ++i) {
    float& m = absmax[static_cast<size_t>(channel_of(i))];
    if (std::isfinite(p[i])) m = std::max(m, std::fabs(p[i]));
  }
  QuantizedWeight r;
  r.scales.resize(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const float m = absmax[static_cast<size_t>(c)];
    r.scales[static_cast<size_t>(c)] = m > 0 ? m / 127.f : 1.f;
  }
  r.q = Tensor(DataType::kInt8, s);
  int8_t* q = r.q.data<int8_t>();
  for (int64_t i = 0; i < w.numel(); ++i) {
    const float v = std::nearbyint(p[i] / r.scales[static_cast<size_t>(channel_of(i))]);
    q[i] = static_cast<int8_t>(std::clamp(std::isfinite(v) ? v : 0.f, -127.f, 127.f));
  }
  if (axis >= 0) {
    r.scale = Tensor::FromVector(r.scales, {channels});
    r.zero_point = Tensor(DataType::kInt8, {channels});
    std::fill_n(r.zero_point.data<int8_t>(), channels, int8_t{0});
  } else {
    r.scale = Tensor::Scalar(r.scales[0]);
    r.zero_point = Tensor::Scalar(int8_t{0});
  }
  return r;
}

QuantParams ActivationParams(const Range& r) {
  const float lo = std::min(r.min, 0.f), hi = std::max(r.max, 0.f);
  QuantParams p;
  p.scale = (hi - lo) / 255.f;
  if (!(p.scale > 0) || !std::isfinite(p.scale)) {
    p.scale = 1;
    return p;
  }
  p.zero_point = static_cast<uint8_t>(std::clamp(std::nearbyint(-lo / p.scale), 0.f, 255.f));
  return p;
}

Status CheckExcludes(const ir::Graph& g, const std::set<std::string>& exclude) {
  std::set<std::string> names;  // a node goes by its name or, unnamed, its first output's
  for (const ir::Node& n : g.nodes) {
    names.insert(n.name);
    if (!n.outputs.empty()) names.insert(n.outputs[0]);
  }
  for (const std::string& x : exclude)
    if (!names.count(x))
      return Status::InvalidArgument("--exclude: the model has no node or node output '" + x + "'");
  return Status::Ok();
}

bool Excluded(const ir::Node& n, const std::set<std::string>& exclude) {
  return exclude.count(n.name) || (!n.outputs.empty() && exclude.count(n.outputs[0]));
}

void DropUnreadInitializers(ir::Graph& g) {
  std::unordered_set<std::string> read(g.outputs.begin(), g.outputs.end());
  for (const ir::Node& n : g.nodes) {
    read.insert(n.inputs.begin(), n.inputs.end());
    ir::CollectSubgraphReads(n, &read);
  }
  for (auto it = g.initializers.begin(); it != g.initializers.end();)
    it = read.count(it->first) ? std::next(it) : g.initializers.erase(it);
}

Result<QuantizePlan> PlanQuantization(const ir::Graph& g, const QuantizeOptions& options) {
  SN_RETURN_IF_ERROR(CheckExcludes(g, options.exclude));
  if (g.Opset() < 10)
    return Status::InvalidArgument(
        "int8 needs opset 10 or newer (QuantizeLinear); the model is "
        "opset " +
        std::to_string(g.Opset()));
  if (options.per_channel && g.Opset() < 13)
    return Status::InvalidArgument(
        "--per-channel needs opset 13 or newer (DequantizeLinear's axis); the model is opset " +
        std::to_string(g.Opset()));
  QuantizePlan plan;
  std::set<std::string> seen;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    if (!IsOnnx(n)) continue;
    if (n.op_type != "Conv" && n.op_type != "ConvTranspose" && n.op_type != "Gemm" &&
        n.op_type != "MatMul")
      continue;
    QuantizePlan::Site site;
    site.node = i;
    NodeDecision d;
    d.node = n.Label();
    d.index = i;
    d.reason = Check(g, n, options, &site);
    d.quantized = d.reason.empty();
    plan.decisions.push_back(d);
    if (!d.quantized) continue;
    const std::string& x = n.inputs[static_cast<size_t>(site.activation)];
    site.channel_axis = n.op_type == "MatMul" ? -1 : 1;
    if (seen.insert(x).second) {
      plan.activations.push_back(x);
      plan.activation_axes.push_back(site.channel_axis);
    }
    plan.sites.push_back(site);
  }
  const std::set<std::string> quantized(plan.activations.begin(), plan.activations.end());
  // A squeeze-and-excitation product whose result is quantized: its full-size operand too.
  for (const ir::Node& n : g.nodes) {
    if (!IsOnnx(n) || n.op_type != "Mul" || n.inputs.size() != 2 || n.outputs.size() != 1 ||
        !quantized.count(n.outputs[0]))
      continue;
    const std::optional<Shape> out = StaticShape(g, n.outputs[0]);
    for (size_t k = 0; k < 2 && out && out->size() == 4; ++k) {
      const std::string &x = n.inputs[k], &gate = n.inputs[1 - k];
      const std::optional<Shape> xs = StaticShape(g, x), gs = StaticShape(g, gate);
      if (!xs || !gs || *xs != *out || *gs != Shape{(*out)[0], (*out)[1], 1, 1} ||
          !IsFloatValue(g, x) || !IsFloatValue(g, gate) || g.IsInitializer(x) ||
          g.IsInitializer(gate))
        continue;
      plan.gated[x] = n.outputs[0];
      if (!std::count(plan.activations.begin(), plan.activations.end(), x)) {
        plan.activations.push_back(x);
        plan.activation_axes.push_back(1);
      }
      break;
    }
  }
  if (options.per_channel)
    for (const std::string& x : plan.activations) {
      auto reads = [&](const QuantizePlan::Site& s) {
        return g.nodes[s.node].inputs[static_cast<size_t>(s.activation)] == x;
      };
      if (std::any_of(plan.sites.begin(), plan.sites.end(), reads) &&
          std::all_of(plan.sites.begin(), plan.sites.end(), [&](const QuantizePlan::Site& s) {
            return !reads(s) || IsDepthwise(g, g.nodes[s.node]);
          }))
        plan.channelwise.insert(x);
    }
  // A channel Concat whose result is quantized, or goes through a Relu (a feature pyramid's
  // merge, as CenterNet's head has three): its inputs are quantized alike, so that a runtime
  // concatenates integers instead of float maps. Where the Relu alone reads the result and
  // its own result is quantized with one scale, the inputs take that quantization: its zero
  // point is 0, so quantizing is the Relu (exactly: it commutes with the Concat) and the Relu
  // has nothing left to do. Otherwise they take the result's.
  for (const ir::Node& n : g.nodes) {
    if (!IsOnnx(n) || n.op_type != "Concat" || n.outputs.size() != 1 ||
        !IsFloatValue(g, n.outputs[0]))
      continue;
    const ir::ValueType* t = g.TypeOf(n.outputs[0]);
    const int64_t rank = t && t->dims ? static_cast<int64_t>(t->dims->size()) : 0;
    const int64_t axis = n.AttrInt("axis", 0);
    if (rank < 3 || (axis != 1 && axis != 1 - rank)) continue;
    if (!std::all_of(n.inputs.begin(), n.inputs.end(), [&](const std::string& in) {
          return IsFloatValue(g, in) && !g.IsInitializer(in);
        }))
      continue;
    const std::string& c = n.outputs[0];
    std::vector<const ir::Node*> readers;
    for (const ir::Node& m : g.nodes)
      if (std::count(m.inputs.begin(), m.inputs.end(), c)) readers.push_back(&m);
    const bool relu = std::any_of(readers.begin(), readers.end(), [&](const ir::Node* m) {
      return IsOnnx(*m) && m->op_type == "Relu" && m->inputs[0] == c;
    });
    if (!quantized.count(c) && !relu) continue;
    const bool graph_output = std::count(g.outputs.begin(), g.outputs.end(), c) > 0;
    if (!quantized.count(c) && readers.size() == 1 && !graph_output) {
      const std::string& r = readers[0]->outputs[0];
      if (std::count(plan.activations.begin(), plan.activations.end(), r) &&
          !plan.channelwise.count(r)) {
        plan.aligned_concats[c] = r;
        continue;
      }
    }
    plan.aligned_concats[c] = c;
    if (!quantized.count(c)) {
      plan.activations.push_back(c);
      plan.activation_axes.push_back(1);
    }
  }
  // An aligned Concat's input that a Resize makes from a float map only it reads: the map is
  // quantized too (its own range: the Concat's may be a Relu's, and a Relu does not commute
  // with interpolation), so that the Resize reads integers and writes the Concat's.
  std::map<std::string, int> readers;
  for (const ir::Node& n : g.nodes)
    for (const std::string& in : n.inputs) ++readers[in];
  std::map<std::string, const ir::Node*> producer;
  for (const ir::Node& n : g.nodes)
    for (const std::string& o : n.outputs) producer[o] = &n;
  for (const ir::Node& n : g.nodes) {
    if (!IsOnnx(n) || n.op_type != "Concat" || n.outputs.empty() ||
        !plan.aligned_concats.count(n.outputs[0]))
      continue;
    for (const std::string& in : n.inputs) {
      const auto p = producer.find(in);
      if (p == producer.end() || readers[in] != 1) continue;
      const ir::Node& r = *p->second;
      if (!IsOnnx(r) || r.op_type != "Resize" || r.inputs.empty()) continue;
      const std::string& x = r.inputs[0];
      if (!IsFloatValue(g, x) || g.IsInitializer(x) || readers[x] != 1 ||
          std::count(plan.activations.begin(), plan.activations.end(), x))
        continue;
      plan.resized[x] = n.outputs[0];
      plan.activations.push_back(x);
      plan.activation_axes.push_back(1);
    }
  }
  return plan;
}

bool IsDepthwise(const ir::Graph& g, const ir::Node& n) {
  if (!IsOnnx(n) || n.op_type != "Conv" || n.NumInputs() < 2) return false;
  const Tensor* w = FloatConstant(g, n.inputs[1]);
  const int64_t group = n.AttrInt("group", 1);
  return w && w->rank() >= 3 && group > 1 && w->dim(0) == group && w->dim(1) == 1;
}

void KeepFloat(const ir::Graph& g, QuantizePlan* plan, size_t index, const std::string& reason) {
  for (NodeDecision& d : plan->decisions)
    if (d.index == plan->sites[index].node) {
      d.quantized = false;
      d.reason = reason;
    }
  plan->sites.erase(plan->sites.begin() + static_cast<std::ptrdiff_t>(index));
  // What stays quantized: the remaining sites' inputs, the operands of products still
  // quantized, the activations whose quantization aligned Concats take.
  std::set<std::string> keep;
  for (const QuantizePlan::Site& s : plan->sites)
    keep.insert(g.nodes[s.node].inputs[static_cast<size_t>(s.activation)]);
  std::erase_if(plan->gated, [&](const auto& p) { return !keep.count(p.second); });
  for (const auto& p : plan->gated) keep.insert(p.first);
  // A Concat aligned with a Relu after it that is no longer quantized goes back to float.
  std::erase_if(plan->aligned_concats,
                [&](const auto& p) { return p.first != p.second && !keep.count(p.second); });
  for (const auto& p : plan->aligned_concats) keep.insert(p.second);
  std::erase_if(plan->resized,
                [&](const auto& p) { return !plan->aligned_concats.count(p.second); });
  for (const auto& p : plan->resized) keep.insert(p.first);
  std::vector<std::string> activations;
  std::vector<int> axes;
  for (size_t a = 0; a < plan->activations.size(); ++a) {
    if (!keep.count(plan->activations[a])) continue;
    activations.push_back(plan->activations[a]);
    axes.push_back(plan->activation_axes[a]);
  }
  plan->activations = std::move(activations);
  plan->activation_axes = std::move(axes);
  std::erase_if(plan->channelwise, [&](const std::string& x) {
    return std::find(plan->activations.begin(), plan->activations.end(), x) ==
           plan->activations.end();
  });
}

Status ApplyQuantization(ir::Graph& g, const QuantizePlan& plan,
                         const std::map<std::string, Range>& ranges,
                         const std::map<std::string, std::vector<double>>& means,
                         const QuantizeOptions& options) {
  (void)options;
  // New names only: the editor's UniqueName knows every value, initializer and type the graph
  // holds. The nodes are rebuilt directly at the end, where the editor is no longer used.
  optimizer::GraphEditor names(g);
  // Activations: QuantizeLinear + DequantizeLinear right after the producer.
  std::unordered_map<std::string, std::string> dequantized;      // T -> T_dequantized
  std::unordered_map<std::string, std::vector<float>> x_scales;  // one, or one per channel
  std::unordered_map<std::string, std::vector<ir::Node>> after;  // producer output -> new nodes
  std::vector<ir::Node> front;                                   // for graph inputs, weights
  std::unordered_set<std::string> produced;
  for (const ir::Node& n : g.nodes)
    for (const std::string& o : n.outputs) produced.insert(o);
  for (const std::string& t : plan.activations) {
    auto r = ranges.find(t);
    if (r == ranges.end()) return Status::Internal("no calibrated range for '" + t + "'");
    const std::string scale = names.UniqueName(t + "_scale"),
                      zp = names.UniqueName(t + "_zero_point");
    const std::vector<float>& channel_max = r->second.channel_max_abs;
    const bool per_channel = plan.channelwise.count(t) && !channel_max.empty();
    ir::ValueType qt = *g.TypeOf(t);
    if (per_channel) {
      // Symmetric, a scale per channel: channels whose ranges differ tenfold (a hard-swish's)
      // each get all their bits. uint8 where the values were never negative (zero point 0:
      // oneDNN's fastest depthwise kernels take no zero point), else int8.
      const bool never_negative = r->second.min >= 0;
      const float levels = never_negative ? 255.f : 127.f;
      const int64_t c = static_cast<int64_t>(channel_max.size());
      const DataType type = never_negative ? DataType::kUint8 : DataType::kInt8;
      Tensor sc(DataType::kFloat32, {c}), z(type, {c});
      std::fill_n(static_cast<char*>(z.raw_data()), z.nbytes(), 0);
      std::vector<float>& xs = x_scales[t];
      for (int64_t i = 0; i < c; ++i) {
        const float m = channel_max[static_cast<size_t>(i)];
        sc.data<float>()[i] = m > 0 && std::isfinite(m) ? m / levels : 1.f;
        xs.push_back(sc.data<float>()[i]);
      }
      g.initializers[scale] = std::move(sc);
      g.initializers[zp] = std::move(z);
      g.value_types[scale] = ir::ValueType::Static(DataType::kFloat32, {c});
      g.value_types[zp] = ir::ValueType::Static(type, {c});
      qt.dtype = type;
    } else {
      const QuantParams p = ActivationParams(r->second);
      x_scales[t] = {p.scale};
      g.initializers[scale] = Tensor::Scalar(p.scale);
      g.initializers[zp] = Tensor::Scalar(p.zero_point);
      g.value_types[scale] = ir::ValueType::Static(DataType::kFloat32, {});
      g.value_types[zp] = ir::ValueType::Static(DataType::kUint8, {});
      qt.dtype = DataType::kUint8;
    }
    const std::string q = names.UniqueName(t + "_quantized"),
                      dq = names.UniqueName(t + "_dequantized");
    g.value_types[q] = qt;
    g.value_types[dq] = *g.TypeOf(t);
    auto& list = produced.count(t) ? after[t] : front;
    const int axis = per_channel ? 1 : -1;
    list.push_back(QdqNode("QuantizeLinear", names.UniqueName(t + "_QuantizeLinear"),
                           {t, scale, zp}, q, axis));
    list.push_back(QdqNode("DequantizeLinear", names.UniqueName(t + "_DequantizeLinear"),
                           {q, scale, zp}, dq, axis));
    dequantized[t] = dq;
  }
  // Weights (shared between nodes that quantize them alike) and biases (one per node: the
  // scale depends on the node's input).
  struct Packed {
    std::string dequantized;
    QuantizedWeight weight;
  };
  std::map<std::pair<std::string, int>, Packed> weights;
  for (const QuantizePlan::Site& s : plan.sites) {
    ir::Node& n = g.nodes[s.node];
    std::string& x = n.inputs[static_cast<size_t>(s.activation)];
    const std::string x_name = x;
    const std::vector<float>& xs = x_scales.at(x);
    x = dequantized.at(x);
    std::string& w = n.inputs[static_cast<size_t>(s.weight)];
    const Tensor float_weight = g.initializers.at(w);
    auto key = std::make_pair(w, s.axis);
    auto it = weights.find(key);
    if (it == weights.end()) {
      const QuantizedWeight qw = QuantizeWeight(g.initializers.at(w), s.axis);
      const std::string q = names.UniqueName(w + "_quantized"),
                        scale = names.UniqueName(w + "_scale"),
                        zp = names.UniqueName(w + "_zero_point"),
                        dq = names.UniqueName(w + "_dequantized");
      g.initializers[q] = qw.q;
      g.initializers[scale] = qw.scale;
      g.initializers[zp] = qw.zero_point;
      g.value_types[q] = ir::ValueType::Static(DataType::kInt8, qw.q.shape());
      g.value_types[scale] = ir::ValueType::Static(DataType::kFloat32, qw.scale.shape());
      g.value_types[zp] = ir::ValueType::Static(DataType::kInt8, qw.zero_point.shape());
      g.value_types[dq] = ir::ValueType::Static(DataType::kFloat32, qw.q.shape());
      front.push_back(QdqNode("DequantizeLinear", names.UniqueName(w + "_DequantizeLinear"),
                              {q, scale, zp}, dq, s.axis));
      it = weights.emplace(key, Packed{dq, qw}).first;
    }
    w = it->second.dequantized;
    const std::vector<float>& w_scales = it->second.weight.scales;
    std::vector<double> shift;
    const auto axis_of = std::find(plan.activations.begin(), plan.activations.end(), x_name);
    const bool same_axis =
        plan.activation_axes[static_cast<size_t>(axis_of - plan.activations.begin())] ==
        s.channel_axis;
    if (auto mean = means.find(x_name); mean != means.end() && same_axis)
      shift = WeightShift(n, float_weight, it->second.weight, s.axis, mean->second);
    int bias_input = s.bias;
    if (bias_input < 0 && !shift.empty() && (n.op_type == "Conv" || n.op_type == "ConvTranspose")) {
      // A bias of zeros to carry the correction.
      const std::string zeros = names.UniqueName(OutputName(n) + "_bias");
      Tensor z(DataType::kFloat32, {static_cast<int64_t>(shift.size())});
      std::fill_n(z.data<float>(), z.numel(), 0.f);
      g.initializers[zeros] = z;
      g.value_types[zeros] = ir::ValueType::Static(DataType::kFloat32, z.shape());
      n.inputs.resize(3);
      n.inputs[2] = zeros;
      bias_input = 2;
    }
    if (bias_input < 0) continue;
    std::string& b = n.inputs[static_cast<size_t>(bias_input)];
    Tensor bias = g.initializers.at(b).Clone();
    const int64_t m = bias.numel();
    if (static_cast<int64_t>(shift.size()) == m)
      for (int64_t c = 0; c < m; ++c)
        bias.data<float>()[c] -= static_cast<float>(shift[static_cast<size_t>(c)]);
    if ((static_cast<size_t>(m) != w_scales.size() && w_scales.size() != 1) ||
        (static_cast<size_t>(m) != xs.size() && xs.size() != 1))
      return Status::InvalidModel(n.Label() + ": bias has " + std::to_string(m) + " values for " +
                                  std::to_string(std::max(w_scales.size(), xs.size())) +
                                  " channels");
    // One scale for every channel where the weight and the input have one: a scalar, which
    // DequantizeLinear takes at any opset (a vector of scales needs 13).
    const bool one_scale = w_scales.size() == 1 && xs.size() == 1;
    const Shape scale_shape = one_scale ? Shape{} : Shape{m};
    Tensor bq(DataType::kInt32, {m}), bs(DataType::kFloat32, scale_shape),
        bz(DataType::kInt32, scale_shape);
    for (int64_t c = 0; c < m; ++c) {
      const size_t i = static_cast<size_t>(c);
      const float scale = xs[xs.size() == 1 ? 0 : i] * w_scales[w_scales.size() == 1 ? 0 : i];
      const double v = std::nearbyint(static_cast<double>(bias.data<float>()[c]) / scale);
      bq.data<int32_t>()[c] = static_cast<int32_t>(
          std::clamp(std::isfinite(v) ? v : 0.0, double{std::numeric_limits<int32_t>::min()},
                     double{std::numeric_limits<int32_t>::max()}));
      if (!one_scale || c == 0) bs.data<float>()[one_scale ? 0 : c] = scale;
    }
    std::fill_n(bz.data<int32_t>(), bz.numel(), 0);
    const std::string base = b + "_" + OutputName(n);
    const std::string q = names.UniqueName(base + "_quantized"),
                      scale = names.UniqueName(base + "_scale"),
                      zp = names.UniqueName(base + "_zero_point"),
                      dq = names.UniqueName(base + "_dequantized");
    g.initializers[q] = bq;
    g.initializers[scale] = bs;
    g.initializers[zp] = bz;
    g.value_types[q] = ir::ValueType::Static(DataType::kInt32, {m});
    g.value_types[scale] = ir::ValueType::Static(DataType::kFloat32, scale_shape);
    g.value_types[zp] = ir::ValueType::Static(DataType::kInt32, scale_shape);
    g.value_types[dq] = ir::ValueType::Static(DataType::kFloat32, {m});
    front.push_back(QdqNode("DequantizeLinear", names.UniqueName(base + "_DequantizeLinear"),
                            {q, scale, zp}, dq, one_scale ? -1 : 0));
    b = dq;
  }
  // Every other reader of a quantized activation reads its dequantized form too (a residual
  // Add, pooling, a Concat, the float nodes around it), as ONNX Runtime's quantizer shares one
  // QDQ pair among a tensor's readers: the producer then writes integers alone, and a
  // runtime keeps the residual stream 8-bit (measured on the face embedding: no block's
  // result is written as float and quantized again). The graph's outputs stay float.
  for (ir::Node& n : g.nodes)
    for (std::string& in : n.inputs)
      if (auto d = dequantized.find(in); d != dequantized.end()) in = d->second;
  // An aligned Concat's inputs: QuantizeLinear + DequantizeLinear with its output's
  // parameters, just before it.
  std::unordered_map<size_t, std::vector<ir::Node>> before;  // node index -> new nodes
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& n = g.nodes[i];
    if (n.op_type != "Concat" || n.outputs.empty()) continue;
    const auto aligned = plan.aligned_concats.find(n.outputs[0]);
    if (aligned == plan.aligned_concats.end()) continue;
    const std::string& c = aligned->second;  // whose quantization the inputs take
    const auto cq = std::find_if(after[c].begin(), after[c].end(),
                                 [](const ir::Node& x) { return x.op_type == "QuantizeLinear"; });
    if (cq == after[c].end() || cq->HasAttr("axis")) continue;  // scales would move with channels
    for (std::string& in : n.inputs) {
      const std::string q = names.UniqueName(in + "_to_" + c + "_quantized"),
                        dq = names.UniqueName(in + "_to_" + c + "_dequantized");
      ir::ValueType qt = *g.TypeOf(in);  // float (PlanQuantization checked), the input's shape
      g.value_types[dq] = qt;
      qt.dtype = g.TypeOf(cq->outputs[0])->dtype;
      g.value_types[q] = qt;
      before[i].push_back(QdqNode("QuantizeLinear", names.UniqueName(q + "_QuantizeLinear"),
                                  {in, cq->inputs[1], cq->inputs[2]}, q, -1));
      before[i].push_back(QdqNode("DequantizeLinear", names.UniqueName(dq + "_DequantizeLinear"),
                                  {q, cq->inputs[1], cq->inputs[2]}, dq, -1));
      in = dq;
    }
  }
  // New nodes: weights and input quantization first, each activation's right after its
  // producer, so that the order stays topological.
  std::vector<ir::Node> nodes = std::move(front);
  nodes.reserve(nodes.size() + g.nodes.size() + 2 * after.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& n = g.nodes[i];
    if (auto b = before.find(i); b != before.end())
      for (ir::Node& x : b->second) nodes.push_back(std::move(x));
    nodes.push_back(std::move(n));
    for (const std::string& o : nodes.back().outputs) {
      auto a = after.find(o);
      if (a == after.end()) continue;
      for (ir::Node& x : a->second) nodes.push_back(std::move(x));
    }
  }
  g.nodes = std::move(nodes);
  DropUnreadInitializers(g);  // the float weights and biases
  return g.Validate();
}

}  // namespace supernova::compress

// Which nodes oneDNN takes, and the execution order that keeps them together.
#include <initializer_list>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "providers/cpu/dnnl/plan_builder.h"
#include "providers/cpu/dnnl/region.h"

namespace supernova::cpu::dnnl_ops {

namespace {

const std::unordered_set<std::string>& BinaryOps() {
  static const std::unordered_set<std::string> ops = {"Add", "Sub", "Mul", "Div", "Max", "Min"};
  return ops;
}
// The ops a region is built around: without one of them a region saves nothing.
const std::unordered_set<std::string>& AnchorOps() {
  static const std::unordered_set<std::string> ops = {"Conv",
                                                      "FusedConv",
                                                      "ConvTranspose",
                                                      "BatchNormalization",
                                                      "MaxPool",
                                                      "AveragePool",
                                                      "GlobalAveragePool",
                                                      "GlobalMaxPool",
                                                      "LRN",
                                                      "MatMul",
                                                      "Gemm",
                                                      "DynamicQuantMatMul",
                                                      "LSTM",
                                                      "GRU"};
  return ops;
}

// Float32 with a known rank in [lo, hi].
bool FloatOfRank(const ir::Graph& g, const std::string& value, size_t lo, size_t hi) {
  const ir::ValueType* t = g.TypeOf(value);
  if (!t || t->dtype != DataType::kFloat32 || !t->dims) return false;
  return t->dims->size() >= lo && t->dims->size() <= hi;
}

bool ConstantOrAbsent(const ir::Graph& g, const ir::Node& n, size_t i) {
  return i >= n.inputs.size() || n.inputs[i].empty() || g.IsInitializer(n.inputs[i]);
}

bool AllConstant(const ir::Graph& g, const ir::Node& n) {
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (!ConstantOrAbsent(g, n, i)) return false;
  return true;
}

bool IsOnnx(const ir::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// A QDQ model's weight: DequantizeLinear of initializers. The region keeps its integers for
// int8 primitives (quant_compilers.cc), so it counts as a constant.
bool ConstantDequantize(const ir::Node& n, const ir::Graph& g) {
  return IsOnnx(n) && n.op_type == "DequantizeLinear" && AllConstant(g, n);
}

bool ConstantLike(const ir::Graph& g, const std::string& value) {
  if (g.IsInitializer(value)) return true;
  for (const ir::Node& n : g.nodes)
    if (!n.outputs.empty() && n.outputs[0] == value) return ConstantDequantize(n, g);
  return false;
}

bool ConstantLikeOrAbsent(const ir::Graph& g, const ir::Node& n, size_t i) {
  return i >= n.inputs.size() || n.inputs[i].empty() || ConstantLike(g, n.inputs[i]);
}

// A constant scalar of one of `types` (or absent, when `optional`).
bool ConstantScalar(const ir::Graph& g, const ir::Node& n, size_t i,
                    std::initializer_list<DataType> types, bool optional) {
  if (i >= n.inputs.size() || n.inputs[i].empty()) return optional;
  if (!g.IsInitializer(n.inputs[i])) return false;
  const Tensor& t = g.initializers.at(n.inputs[i]);
  if (t.numel() != 1 || t.rank() > 1) return false;
  for (DataType d : types)
    if (t.dtype() == d) return true;
  return false;
}

bool ConstantScalarOrAbsent(const ir::Graph& g, const ir::Node& n, size_t i) {
  return ConstantScalar(g, n, i, {DataType::kFloat32}, true);
}

// A QuantizeLinear's or DequantizeLinear's scale per channel of `x` (axis 1, of known
// length), with zero points 0 of an 8-bit type: symmetric per-channel activations.
bool ChannelScales(const ir::Graph& g, const ir::Node& n, const std::string& x) {
  const ir::ValueType* t = g.TypeOf(x);
  if (!t || !t->dims || t->dims->size() < 3 || t->dims->size() > 6 || !(*t->dims)[1].known())
    return false;
  int64_t axis = n.AttrInt("axis", 1);
  if (axis < 0) axis += static_cast<int64_t>(t->dims->size());
  const int64_t channels = (*t->dims)[1].value;
  if (axis != 1 || !g.IsInitializer(n.inputs[1])) return false;
  const Tensor& scale = g.initializers.at(n.inputs[1]);
  if (scale.dtype() != DataType::kFloat32 || scale.rank() != 1 || scale.numel() != channels)
    return false;
  if (n.inputs.size() < 3 || n.inputs[2].empty()) return true;
  if (!g.IsInitializer(n.inputs[2])) return false;
  const Tensor& zero = g.initializers.at(n.inputs[2]);
  if ((zero.dtype() != DataType::kInt8 && zero.dtype() != DataType::kUint8) ||
      zero.numel() != channels)
    return false;
  for (int64_t i = 0; i < zero.numel(); ++i)
    if (zero.GetAsDouble(i) != 0) return false;
  return true;
}

// QuantizeLinear to 8 bits with one constant scale and zero point (or a scale per channel and
// zero points 0), and DequantizeLinear of such integers or of a constant (a weight or bias,
// per channel or not); opset 21's blocked quantization and other integer types stay with the
// reference kernels.
bool QdqSupported(const ir::Graph& g, const ir::Node& n) {
  if (n.inputs.size() < 2 || n.HasAttr("block_size") || n.HasAttr("output_dtype")) return false;
  const std::string& x = n.inputs[0];
  if (n.op_type == "QuantizeLinear")
    return FloatOfRank(g, x, 1, 6) &&
           ((ConstantScalar(g, n, 1, {DataType::kFloat32}, false) &&
             ConstantScalar(g, n, 2, {DataType::kUint8, DataType::kInt8}, true)) ||
            ChannelScales(g, n, x));
  if (!g.IsInitializer(n.inputs[1]) ||
      g.initializers.at(n.inputs[1]).dtype() != DataType::kFloat32 || !ConstantOrAbsent(g, n, 2))
    return false;
  if (g.IsInitializer(x)) {
    const DataType d = g.initializers.at(x).dtype();
    return d == DataType::kInt8 || d == DataType::kUint8 || d == DataType::kInt32;
  }
  const ir::ValueType* t = g.TypeOf(x);
  if (!t || (t->dtype != DataType::kUint8 && t->dtype != DataType::kInt8) || !t->dims ||
      t->dims->empty() || t->dims->size() > 6)
    return false;
  return (ConstantScalar(g, n, 1, {DataType::kFloat32}, false) &&
          ConstantScalar(g, n, 2, {t->dtype}, true)) ||
         ChannelScales(g, n, x);
}

bool OnlyFirstOutput(const ir::Node& n) {
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty()) return false;
  return !n.outputs.empty() && !n.outputs[0].empty();
}

// Resize and Upsample of the two spatial axes of a 4-D tensor with constant scales or sizes:
// oneDNN's resampling where it agrees with ONNX's coordinates, our channels-last step
// otherwise (region_builder.cc). What the reference kernel rejects stays with it, so that the
// error comes from there.
bool ResizeSupported(const ir::Graph& g, const ir::Node& n) {
  const std::string& x = n.inputs[0];
  if (!FloatOfRank(g, x, 4, 4) || !FloatOfRank(g, n.outputs[0], 4, 4)) return false;
  for (size_t i = 1; i < n.inputs.size(); ++i)
    if (!ConstantOrAbsent(g, n, i)) return false;
  auto given = [&](size_t i) -> const Tensor* {
    if (i >= n.inputs.size() || n.inputs[i].empty()) return nullptr;
    const Tensor& t = g.initializers.at(n.inputs[i]);
    return t.numel() > 0 ? &t : nullptr;
  };
  const bool resize11 = n.op_type == "Resize" && g.Opset() >= 11;
  const std::string mode = n.AttrString("mode", "nearest");
  if (mode != "nearest" && mode != "linear" && mode != "bilinear" && !(resize11 && mode == "cubic"))
    return false;
  std::vector<double> scales;
  if (resize11) {
    // oneDNN has no antialiasing, no axes subset and no aspect-ratio policy, and neither do
    // the reference kernels: leave those to the reference kernel's error.
    if (n.AttrInt("antialias", 0) != 0 || n.HasAttr("axes") ||
        n.AttrString("keep_aspect_ratio_policy", "stretch") != "stretch")
      return false;
    static const std::unordered_set<std::string> coords = {
        "half_pixel", "pytorch_half_pixel",   "align_corners",
        "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
    static const std::unordered_set<std::string> roundings = {"round_prefer_floor",
                                                              "round_prefer_ceil", "floor", "ceil"};
    if (!coords.count(n.AttrString("coordinate_transformation_mode", "half_pixel")) ||
        !roundings.count(n.AttrString("nearest_mode", "round_prefer_floor")))
      return false;
    const Tensor* s = given(2);
    const Tensor* sizes = given(3);
    if (s && sizes) return false;  // an error the reference kernel reports
    if (sizes) {
      // Batch and channels must stay: the sizes must repeat the input's known dims.
      const std::vector<ir::Dim>& dims = *g.TypeOf(x)->dims;
      if (sizes->dtype() != DataType::kInt64 || sizes->numel() != 4) return false;
      for (int64_t i = 0; i < 2; ++i)
        if (!dims[i].known() || dims[i].value != sizes->data<int64_t>()[i]) return false;
      return true;
    }
    if (!s || s->dtype() != DataType::kFloat32) return false;
    scales.assign(s->data<float>(), s->data<float>() + s->numel());
  } else if (n.op_type == "Upsample" && g.Opset() < 9) {
    for (float v : n.AttrFloats("scales")) scales.push_back(v);
  } else {
    const Tensor* s = given(1);
    if (!s || s->dtype() != DataType::kFloat32) return false;
    scales.assign(s->data<float>(), s->data<float>() + s->numel());
  }
  return scales.size() == 4 && scales[0] == 1 && scales[1] == 1;
}

// LSTM and GRU with what oneDNN's RNN primitives compute: float32, the default activations,
// no clip, no coupled input and forget gates. W, R, B and P must be initializers (they are
// rearranged into oneDNN's gate order once, at compile time); sequence_lens absent or an
// initializer (the plan checks that every sequence runs the full length). Anything else keeps
// the reference kernel.
bool RecurrentSupported(const ir::Graph& g, const ir::Node& n) {
  const bool lstm = n.op_type == "LSTM";
  if (!FloatOfRank(g, n.inputs[0], 3, 3) || n.inputs.size() < 3 || !g.IsInitializer(n.inputs[1]) ||
      !g.IsInitializer(n.inputs[2]) || !ConstantOrAbsent(g, n, 3) || !ConstantOrAbsent(g, n, 4) ||
      (lstm && !ConstantOrAbsent(g, n, 7)))
    return false;
  for (size_t i = 5; i < (lstm ? 7u : 6u); ++i)
    if (i < n.inputs.size() && !n.inputs[i].empty() && !FloatOfRank(g, n.inputs[i], 3, 3))
      return false;
  if (n.HasAttr("clip") || n.AttrInt("input_forget", 0) != 0) return false;
  if (const ir::Attribute* a = n.FindAttr("activations")) {
    const std::vector<std::string> want = lstm ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                               : std::vector<std::string>{"Sigmoid", "Tanh"};
    const std::vector<std::string>& given = a->strings;
    if (given.size() % want.size() != 0) return false;
    for (size_t i = 0; i < given.size(); ++i)
      if (given[i] != want[i % want.size()]) return false;
  }
  for (const std::string& out : n.outputs)
    if (!out.empty()) return true;
  return false;
}

}  // namespace

bool SpatialReduction(const ir::Graph& g, const ir::Node& n) {
  if (n.AttrInt("keepdims", 1) != 1 || !FloatOfRank(g, n.inputs[0], 3, 5)) return false;
  std::vector<int64_t> axes;
  if (n.inputs.size() > 1 && !n.inputs[1].empty()) {  // opset 18: axes as an input
    if (!g.IsInitializer(n.inputs[1])) return false;
    const Tensor& t = g.initializers.at(n.inputs[1]);
    if (t.dtype() != DataType::kInt64) return false;
    axes.assign(t.data<int64_t>(), t.data<int64_t>() + t.numel());
  } else {
    axes = n.AttrInts("axes");
  }
  const int64_t r = static_cast<int64_t>(g.TypeOf(n.inputs[0])->dims->size());
  std::vector<bool> reduced(r, false);
  for (int64_t a : axes) {
    if (a < 0) a += r;
    if (a < 0 || a >= r || reduced[a]) return false;
    reduced[a] = true;
  }
  // Exactly the spatial axes: a global pooling.
  for (int64_t i = 0; i < r; ++i)
    if (reduced[i] != (i >= 2)) return false;
  return true;
}

bool Supported(const ir::Graph& g, const ir::Node& n) {
  const bool onnx = n.domain.empty() || n.domain == "ai.onnx";
  const bool ours = n.domain == "com.supernova" &&
                    (n.op_type == "FusedConv" || n.op_type == "DynamicQuantMatMul");
  if (onnx && (n.op_type == "LSTM" || n.op_type == "GRU") && !n.inputs.empty())
    return RecurrentSupported(g, n);
  if ((!onnx && !ours) || !OnlyFirstOutput(n) || n.inputs.empty() || n.inputs[0].empty())
    return false;
  const std::string& op = n.op_type;
  const std::string& x = n.inputs[0];
  const std::string& y = n.outputs[0];
  if (op == "QuantizeLinear" || op == "DequantizeLinear") return onnx && QdqSupported(g, n);
  if (op == "Conv" || op == "FusedConv" || op == "ConvTranspose") {
    if (n.inputs.size() < 2 || !ConstantLike(g, n.inputs[1]) || !ConstantLikeOrAbsent(g, n, 2))
      return false;
    if (op == "ConvTranspose" &&
        (n.HasAttr("output_shape") || n.AttrString("auto_pad", "NOTSET") != "NOTSET"))
      return false;
    if (op == "FusedConv" && !ops::FusedActivation(n)) return false;
    return FloatOfRank(g, x, 3, 5) && FloatOfRank(g, y, 3, 5);
  }
  if (op == "BatchNormalization") {
    if (n.inputs.size() != 5 || n.AttrInt("training_mode", 0) != 0) return false;
    for (size_t i = 1; i < 5; ++i)
      if (!g.IsInitializer(n.inputs[i])) return false;
    return FloatOfRank(g, x, 3, 5);
  }
  if (op == "ReduceMean" || op == "ReduceMax") return SpatialReduction(g, n);
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "GlobalMaxPool")
    return FloatOfRank(g, x, 3, 5) && n.AttrInt("storage_order", 0) == 0;
  if (op == "LRN")
    return FloatOfRank(g, x, 4, 4) && n.HasAttr("size") && n.AttrInt("size", 0) > 0 &&
           n.AttrInt("size", 0) % 2 == 1;
  if (EltwiseOf(g, n)) return FloatOfRank(g, x, 1, 6) && FloatOfRank(g, y, 1, 6);
  if (BinaryOps().count(op)) {
    if (n.NumInputs() != 2 || n.inputs[1].empty()) return false;
    for (const std::string& in : n.inputs)
      if (!FloatOfRank(g, in, 0, 6)) return false;
    return FloatOfRank(g, y, 1, 6);
  }
  if (op == "MatMul")
    return n.NumInputs() == 2 && FloatOfRank(g, x, 2, 6) && FloatOfRank(g, n.inputs[1], 2, 6);
  if (op == "DynamicQuantMatMul") {  // int8 W and float scales and bias, all constant
    if (n.inputs.size() < 3 || !ConstantOrAbsent(g, n, 1) || n.inputs[1].empty() ||
        !ConstantOrAbsent(g, n, 2) || n.inputs[2].empty() || !ConstantOrAbsent(g, n, 3))
      return false;
    const Tensor& w = g.initializers.at(n.inputs[1]);
    return w.dtype() == DataType::kInt8 && w.rank() == 2 && FloatOfRank(g, x, 2, 6);
  }
  if (op == "Gemm") {
    if (n.NumInputs() < 2 || !ConstantLike(g, n.inputs[1]) || !ConstantLikeOrAbsent(g, n, 2))
      return false;
    return FloatOfRank(g, x, 2, 2) && FloatOfRank(g, n.inputs[1], 2, 2);
  }
  if (op == "Softmax") {
    if (!FloatOfRank(g, x, 1, 6)) return false;
    const int64_t r = static_cast<int64_t>(g.TypeOf(x)->dims->size());
    const int64_t axis = n.AttrInt("axis", g.Opset() >= 13 ? -1 : 1);
    return g.Opset() >= 13 || axis == -1 || axis == r - 1;
  }
  if (op == "Concat") {
    for (const std::string& in : n.inputs)
      if (in.empty() || !FloatOfRank(g, in, 1, 6)) return false;
    return FloatOfRank(g, y, 1, 6);
  }
  if (op == "Resize" || op == "Upsample") return ResizeSupported(g, n);
  if (op == "Pad") {  // constant mode, constant pads and value, no axes (opset 18)
    if (n.AttrString("mode", "constant") != "constant" || n.inputs.size() > 3) return false;
    std::vector<int64_t> pads = n.AttrInts("pads");
    if (g.Opset() >= 11) {
      if (n.inputs.size() < 2 || !g.IsInitializer(n.inputs[1]) || !ConstantScalarOrAbsent(g, n, 2))
        return false;
      const Tensor& p = g.initializers.at(n.inputs[1]);
      if (p.dtype() != DataType::kInt64) return false;
      pads.assign(p.data<int64_t>(), p.data<int64_t>() + p.numel());
    }
    for (int64_t p : pads)
      if (p < 0) return false;  // cropping: the reference kernel
    return FloatOfRank(g, x, 3, 5) && FloatOfRank(g, y, 3, 5);
  }
  if (op == "Transpose") return FloatOfRank(g, x, 3, 5) && FloatOfRank(g, y, 3, 5);
  return false;
}

std::vector<std::pair<size_t, size_t>> Partition(ir::Graph& g) {
  const size_t n = g.nodes.size();
  std::vector<bool> ok(n);
  std::unordered_map<std::string, size_t> producer;
  for (size_t i = 0; i < n; ++i) {
    ok[i] = Supported(g, g.nodes[i]);
    for (const std::string& out : g.nodes[i].outputs)
      if (!out.empty()) producer[out] = i;
  }
  // Kahn's algorithm that keeps going with the kind of node it ran last: supported nodes
  // cluster into long runs, and unsupported side work (shape arithmetic, say) runs before a
  // region starts instead of splitting it.
  std::vector<std::vector<size_t>> consumers(n);
  std::vector<std::vector<std::string>> reads_of(n);
  std::vector<int> pending(n, 0);
  for (size_t i = 0; i < n; ++i) {
    std::unordered_set<size_t> seen;
    // A node with bodies (If, Loop, Scan) also depends on what its bodies read from here.
    std::vector<std::string>& reads = reads_of[i];
    reads = g.nodes[i].inputs;
    std::unordered_set<std::string> captured;
    ir::CollectSubgraphReads(g.nodes[i], &captured);
    reads.insert(reads.end(), captured.begin(), captured.end());
    for (const std::string& in : reads) {
      auto it = in.empty() ? producer.end() : producer.find(in);
      if (it != producer.end() && it->second != i && seen.insert(it->second).second) {
        consumers[it->second].push_back(i);
        ++pending[i];
      }
    }
  }
  std::set<size_t> ready[2];  // by original index: stable for graphs already in order
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready[ok[i]].insert(i);
  std::vector<size_t> order;
  order.reserve(n);
  bool current = false;
  while (order.size() < n) {
    if (ready[current].empty()) current = !current;
    if (ready[current].empty()) break;  // a cycle: leave the graph as it was
    const size_t i = *ready[current].begin();
    ready[current].erase(ready[current].begin());
    order.push_back(i);
    for (size_t c : consumers[i])
      if (--pending[c] == 0) ready[ok[c]].insert(c);
  }
  if (order.size() != n) return {};
  // DequantizeLinear emits nothing in a region (quant_compilers.cc), but it is ready early: a
  // weight's reads only constants and would run first of all, an activation's right after its
  // QuantizeLinear, and either could end up in another region than its reader, which would
  // then see floats instead of the integers. Each goes just before its first reader (a body
  // that reads it counts) instead; one that no node reads keeps its place.
  std::vector<bool> deferred(n), placed(n);
  for (size_t i = 0; i < n; ++i)
    deferred[i] = ok[i] && IsOnnx(g.nodes[i]) && g.nodes[i].op_type == "DequantizeLinear" &&
                  !consumers[i].empty();
  std::vector<size_t> placed_order;
  placed_order.reserve(n);
  for (size_t i : order) {
    if (deferred[i]) continue;
    for (const std::string& in : reads_of[i]) {
      auto it = in.empty() ? producer.end() : producer.find(in);
      if (it != producer.end() && deferred[it->second] && !placed[it->second]) {
        placed_order.push_back(it->second);
        placed[it->second] = true;
      }
    }
    placed_order.push_back(i);
  }
  order = std::move(placed_order);

  std::vector<ir::Node> sorted;
  std::vector<bool> sorted_ok;
  sorted.reserve(n);
  for (size_t i : order) {
    sorted.push_back(std::move(g.nodes[i]));
    sorted_ok.push_back(ok[i]);
  }
  g.nodes = std::move(sorted);

  std::vector<std::pair<size_t, size_t>> regions;
  for (size_t i = 0; i < n;) {
    if (!sorted_ok[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    bool anchored = false;
    while (j < n && sorted_ok[j]) anchored |= AnchorOps().count(g.nodes[j++].op_type) != 0;
    if (anchored) regions.emplace_back(i, j);
    i = j;
  }
  return regions;
}

}  // namespace supernova::cpu::dnnl_ops

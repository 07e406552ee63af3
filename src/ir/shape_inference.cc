#include "ir/shape_inference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <unordered_map>

namespace supernova::ir {
namespace {

using Dims = std::vector<Dim>;

// What inference knows about one node's inputs.
struct In {
  const ValueType* type = nullptr;   // null when unknown
  const Tensor* constant = nullptr;  // set when the input is an initializer
  bool has_rank() const { return type && type->dims; }
  const Dims& dims() const { return *type->dims; }
};

std::optional<std::vector<int64_t>> ConstInts(const In& in) {
  if (!in.constant) return std::nullopt;
  const Tensor& t = *in.constant;
  if (t.dtype() != DataType::kInt64 && t.dtype() != DataType::kInt32) return std::nullopt;
  std::vector<int64_t> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(t.GetAsInt64(i));
  return v;
}

// A dim from arithmetic on attribute values, which may be anything: unknown when a step
// overflows or the result is negative (the kernel reports such a node at run time).
struct DimMath {
  bool ok = true;
  int64_t v;
  explicit DimMath(int64_t x) : v(x) {}
  DimMath& operator+=(int64_t x) {
    ok = ok && !__builtin_add_overflow(v, x, &v);
    return *this;
  }
  DimMath& operator-=(int64_t x) {
    ok = ok && !__builtin_sub_overflow(v, x, &v);
    return *this;
  }
  DimMath& operator*=(int64_t x) {
    ok = ok && !__builtin_mul_overflow(v, x, &v);
    return *this;
  }
  Dim dim() const { return ok && v >= 0 ? Dim::Known(v) : Dim{}; }
};

std::optional<Dims> Broadcast(const std::vector<In>& ins) {
  size_t rank = 0;
  for (const In& in : ins) {
    if (!in.has_rank()) return std::nullopt;
    rank = std::max(rank, in.dims().size());
  }
  Dims out(rank, Dim::Known(1));
  for (const In& in : ins) {
    const Dims& d = in.dims();
    const size_t off = rank - d.size();
    for (size_t i = 0; i < d.size(); ++i) {
      Dim& o = out[off + i];
      const Dim& x = d[i];
      if (x.known() && x.value == 1) continue;
      if (o.known() && o.value == 1)
        o = x;
      else if (!(o == x)) {
        if (x.known() && o.known()) return std::nullopt;  // incompatible: leave to run time
        if (x.known()) o = x;  // a known dim beats a symbol that must equal it
      }
    }
  }
  return out;
}

Dim Pooled(const Dim& in, int64_t k, int64_t stride, int64_t pad_total, int64_t dilation,
           bool ceil_mode) {
  if (!in.known()) return Dim{};
  const int64_t eff = (k - 1) * dilation + 1;
  const int64_t span = in.value + pad_total - eff;
  if (span < 0) return Dim{};
  const int64_t n = ceil_mode ? (span + stride - 1) / stride : span / stride;
  return Dim::Known(n + 1);
}

// Conv and pooling: [N, C, spatial...] with kernel from attribute or weight.
std::optional<Dims> SpatialOp(const Node& n, const std::vector<In>& ins, bool is_conv) {
  if (ins.empty() || !ins[0].has_rank()) return std::nullopt;
  const Dims& x = ins[0].dims();
  if (x.size() < 3) return std::nullopt;
  const size_t sp = x.size() - 2;
  std::vector<int64_t> kernel = n.AttrInts("kernel_shape");
  Dim channels = x[1];
  if (is_conv) {
    if (ins.size() < 2 || !ins[1].has_rank() || ins[1].dims().size() != x.size())
      return std::nullopt;
    channels = ins[1].dims()[0];
    if (kernel.empty())
      for (size_t i = 0; i < sp; ++i) {
        if (!ins[1].dims()[2 + i].known()) return std::nullopt;
        kernel.push_back(ins[1].dims()[2 + i].value);
      }
  }
  if (kernel.size() != sp) return std::nullopt;
  const auto strides = n.AttrInts("strides", std::vector<int64_t>(sp, 1));
  const auto dil = n.AttrInts("dilations", std::vector<int64_t>(sp, 1));
  const auto pads = n.AttrInts("pads", std::vector<int64_t>(2 * sp, 0));
  const std::string auto_pad = n.AttrString("auto_pad", "NOTSET");
  const bool ceil_mode = n.AttrInt("ceil_mode", 0) != 0;
  if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp) return std::nullopt;
  Dims out = {x[0], channels};
  for (size_t i = 0; i < sp; ++i) {
    const Dim& d = x[2 + i];
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out.push_back(d.known() ? Dim::Known((d.value + strides[i] - 1) / strides[i]) : Dim{});
    } else if (auto_pad == "VALID") {
      out.push_back(Pooled(d, kernel[i], strides[i], 0, dil[i], false));
    } else {
      out.push_back(Pooled(d, kernel[i], strides[i], pads[i] + pads[i + sp], dil[i], ceil_mode));
    }
  }
  return out;
}

std::optional<Dims> Infer(const Node& n, const std::vector<In>& ins, DataType* dtype,
                          int64_t opset) {
  const std::string& op = n.op_type;
  static const std::set<std::string> kUnary = {"Relu",
                                               "LeakyRelu",
                                               "Sigmoid",
                                               "Tanh",
                                               "HardSigmoid",
                                               "HardSwish",
                                               "Clip",
                                               "Softmax",
                                               "LogSoftmax",
                                               "Erf",
                                               "Sqrt",
                                               "Exp",
                                               "Log",
                                               "Neg",
                                               "Abs",
                                               "Floor",
                                               "Ceil",
                                               "Identity",
                                               "Dropout",
                                               "BatchNormalization",
                                               "InstanceNormalization",
                                               "LRN",
                                               "Reciprocal",
                                               "Elu",
                                               "Selu",
                                               "Softplus",
                                               "PRelu",
                                               "Cast",
                                               "Not",
                                               "Sign",
                                               "Round",
                                               "Sin",
                                               "Cos"};
  static const std::set<std::string> kBroadcast = {"Add",
                                                   "Sub",
                                                   "Mul",
                                                   "Div",
                                                   "Pow",
                                                   "Mod",
                                                   "Max",
                                                   "Min",
                                                   "Sum",
                                                   "Mean",
                                                   "And",
                                                   "Or",
                                                   "Xor",
                                                   "Equal",
                                                   "Greater",
                                                   "Less",
                                                   "GreaterOrEqual",
                                                   "LessOrEqual",
                                                   "Where"};
  static const std::set<std::string> kBool = {
      "And", "Or", "Xor", "Not", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"};
  if (kBool.count(op)) *dtype = DataType::kBool;
  if (op == "Cast") *dtype = static_cast<DataType>(n.AttrInt("to", 0));
  if (op == "Where" && ins.size() == 3 && ins[1].type) *dtype = ins[1].type->dtype;

  if (kUnary.count(op))
    return ins.empty() || !ins[0].has_rank() ? std::nullopt : std::optional(ins[0].dims());
  if (kBroadcast.count(op)) return Broadcast(ins);
  // FusedConv (com.supernova) is a Conv with an element-wise epilogue: same output shape.
  if (op == "Conv" || op == "FusedConv") return SpatialOp(n, ins, true);
  if (op == "MaxPool" || op == "AveragePool") return SpatialOp(n, ins, false);
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    if (!ins[0].has_rank()) return std::nullopt;
    Dims d = ins[0].dims();
    for (size_t i = 2; i < d.size(); ++i) d[i] = Dim::Known(1);
    return d;
  }
  if (op == "Gemm") {
    if (ins.size() < 2 || !ins[0].has_rank() || !ins[1].has_rank()) return std::nullopt;
    const Dims &a = ins[0].dims(), &b = ins[1].dims();
    if (a.size() != 2 || b.size() != 2) return std::nullopt;
    return Dims{n.AttrInt("transA", 0) ? a[1] : a[0], n.AttrInt("transB", 0) ? b[0] : b[1]};
  }
  if (op == "MatMul") {
    if (ins.size() < 2 || !ins[0].has_rank() || !ins[1].has_rank()) return std::nullopt;
    Dims a = ins[0].dims(), b = ins[1].dims();
    if (a.size() < 2 || b.size() < 2) return std::nullopt;  // 1-D cases left to run time
    In ba{nullptr, nullptr}, bb{nullptr, nullptr};
    ValueType ta{DataType::kFloat32, Dims(a.begin(), a.end() - 2)};
    ValueType tb{DataType::kFloat32, Dims(b.begin(), b.end() - 2)};
    ba.type = &ta;
    bb.type = &tb;
    auto batch = Broadcast({ba, bb});
    if (!batch) return std::nullopt;
    batch->push_back(a[a.size() - 2]);
    batch->push_back(b.back());
    return batch;
  }
  if (op == "Transpose") {
    if (!ins[0].has_rank()) return std::nullopt;
    const Dims& x = ins[0].dims();
    std::vector<int64_t> perm = n.AttrInts("perm");
    if (perm.empty())
      for (size_t i = 0; i < x.size(); ++i) perm.push_back(static_cast<int64_t>(x.size() - 1 - i));
    if (perm.size() != x.size()) return std::nullopt;
    Dims out;
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(x.size())) return std::nullopt;
      out.push_back(x[p]);
    }
    return out;
  }
  if (op == "Flatten") {
    if (!ins[0].has_rank()) return std::nullopt;
    const Dims& x = ins[0].dims();
    int64_t axis = n.AttrInt("axis", 1);
    if (axis < 0) axis += static_cast<int64_t>(x.size());
    if (axis < 0 || axis > static_cast<int64_t>(x.size())) return std::nullopt;
    int64_t a = 1, b = 1;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!x[i].known()) return Dims{Dim{}, Dim{}};
      (static_cast<int64_t>(i) < axis ? a : b) *= x[i].value;
    }
    return Dims{Dim::Known(a), Dim::Known(b)};
  }
  if (op == "Reshape") {
    auto shape = ins.size() > 1 ? ConstInts(ins[1]) : std::nullopt;
    if (!shape) {  // a computed shape of known length still gives the rank
      if (ins.size() > 1 && ins[1].has_rank() && ins[1].dims().size() == 1 &&
          ins[1].dims()[0].known())
        return Dims(ins[1].dims()[0].value, Dim{});
      return std::nullopt;
    }
    Dims out;
    int64_t known = 1, infer = -1;
    bool all_known = ins[0].has_rank();
    int64_t total = 1;
    if (all_known)
      for (const Dim& d : ins[0].dims()) {
        if (!d.known())
          all_known = false;
        else
          total *= d.value;
      }
    for (size_t i = 0; i < shape->size(); ++i) {
      int64_t s = (*shape)[i];
      if (s == 0 && !n.AttrInt("allowzero", 0)) {
        if (!ins[0].has_rank() || i >= ins[0].dims().size()) return std::nullopt;
        out.push_back(ins[0].dims()[i]);
        if (out.back().known()) known *= out.back().value;
      } else if (s == -1) {
        infer = static_cast<int64_t>(i);
        out.push_back(Dim{});
      } else {
        out.push_back(Dim::Known(s));
        known *= s;
      }
    }
    if (infer >= 0 && all_known && known > 0) out[infer] = Dim::Known(total / known);
    return out;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    if (!ins[0].has_rank()) return std::nullopt;
    std::optional<std::vector<int64_t>> axes;
    if (opset >= 13)
      axes = ins.size() > 1 ? ConstInts(ins[1]) : std::optional<std::vector<int64_t>>{};
    else
      axes = n.AttrInts("axes");
    Dims x = ins[0].dims();
    if (op == "Squeeze") {
      if (!axes || axes->empty()) {
        Dims out;
        for (const Dim& d : x) {
          if (!d.known()) return std::nullopt;
          if (d.value != 1) out.push_back(d);
        }
        return out;
      }
      std::vector<bool> drop(x.size(), false);
      for (int64_t a : *axes) {
        if (a < 0) a += static_cast<int64_t>(x.size());
        if (a < 0 || a >= static_cast<int64_t>(x.size())) return std::nullopt;
        drop[a] = true;
      }
      Dims out;
      for (size_t i = 0; i < x.size(); ++i)
        if (!drop[i]) out.push_back(x[i]);
      return out;
    }
    if (!axes) return std::nullopt;
    const int64_t rank = static_cast<int64_t>(x.size() + axes->size());
    std::vector<bool> add(rank, false);
    for (int64_t a : *axes) {
      if (a < 0) a += rank;
      if (a < 0 || a >= rank || add[a]) return std::nullopt;  // a repeated axis is invalid
      add[a] = true;
    }
    Dims out;
    size_t k = 0;
    for (int64_t i = 0; i < rank; ++i) out.push_back(add[i] ? Dim::Known(1) : x[k++]);
    return out;
  }
  if (op == "Concat") {
    for (const In& in : ins)
      if (!in.has_rank()) return std::nullopt;
    Dims out = ins[0].dims();
    int64_t axis = n.AttrInt("axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(out.size());
    if (axis < 0 || axis >= static_cast<int64_t>(out.size())) return std::nullopt;
    int64_t sum = 0;
    for (const In& in : ins) {
      if (in.dims().size() != out.size()) return std::nullopt;
      if (!in.dims()[axis].known())
        sum = -1;
      else if (sum >= 0)
        sum += in.dims()[axis].value;
    }
    out[axis] = sum >= 0 ? Dim::Known(sum) : Dim{};
    return out;
  }
  if (op == "Shape") {
    *dtype = DataType::kInt64;
    if (!ins[0].has_rank()) return Dims{Dim{}};
    const int64_t r = static_cast<int64_t>(ins[0].dims().size());
    int64_t start = n.AttrInt("start", 0), end = n.AttrInt("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, 0, r);
    return Dims{Dim::Known(std::max<int64_t>(0, end - start))};
  }
  if (op == "Constant") {
    if (const Attribute* a = n.FindAttr("value"); a && a->kind == Attribute::Kind::kTensor) {
      *dtype = a->t.dtype();
      Dims out;
      for (int64_t d : a->t.shape()) out.push_back(Dim::Known(d));
      return out;
    }
    return std::nullopt;
  }
  if (op == "ReduceMean" || op == "ReduceMax" || op == "ReduceSum" || op == "ReduceMin") {
    if (!ins[0].has_rank()) return std::nullopt;
    std::optional<std::vector<int64_t>> axes = n.AttrInts("axes");
    if (op == "ReduceSum" && opset >= 13)
      axes = ins.size() > 1 ? ConstInts(ins[1])
                            : std::optional<std::vector<int64_t>>(std::vector<int64_t>{});
    if (!axes) return std::nullopt;
    Dims x = ins[0].dims();
    const bool keep = n.AttrInt("keepdims", 1) != 0;
    std::vector<bool> red(x.size(), axes->empty());
    for (int64_t a : *axes) {
      if (a < 0) a += static_cast<int64_t>(x.size());
      if (a < 0 || a >= static_cast<int64_t>(x.size())) return std::nullopt;
      red[a] = true;
    }
    Dims out;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!red[i])
        out.push_back(x[i]);
      else if (keep)
        out.push_back(Dim::Known(1));
    }
    return out;
  }
  if (op == "Pad") {  // rank kept; dims known when the pads are
    if (!ins[0].has_rank()) return std::nullopt;
    Dims out = ins[0].dims();
    std::optional<std::vector<int64_t>> pads;
    if (opset >= 11)
      pads = ins.size() > 1 ? ConstInts(ins[1]) : std::nullopt;
    else
      pads = n.AttrInts("pads");
    const bool all_axes = opset < 18 || ins.size() < 4 || !ins[3].type;
    for (size_t i = 0; i < out.size(); ++i) {
      if (pads && all_axes && pads->size() == 2 * out.size() && out[i].known()) {
        DimMath d(out[i].value);
        d += (*pads)[i];
        d += (*pads)[i + out.size()];
        out[i] = d.dim();
      } else if (!pads || !all_axes || pads->size() != 2 * out.size())
        out[i] = Dim{};
    }
    return out;
  }
  if (op == "Slice") {  // rank kept; dims known when every parameter is
    if (!ins[0].has_rank()) return std::nullopt;
    Dims out = ins[0].dims();
    const int64_t r = static_cast<int64_t>(out.size());
    std::optional<std::vector<int64_t>> starts, ends, axes, steps;
    if (opset >= 10) {
      starts = ins.size() > 1 ? ConstInts(ins[1]) : std::nullopt;
      ends = ins.size() > 2 ? ConstInts(ins[2]) : std::nullopt;
      axes = ins.size() > 3 && ins[3].type ? ConstInts(ins[3]) : std::nullopt;
      steps = ins.size() > 4 && ins[4].type ? ConstInts(ins[4]) : std::nullopt;
      if (ins.size() > 3 && ins[3].type && !axes) starts.reset();
      if (ins.size() > 4 && ins[4].type && !steps) starts.reset();
    } else {
      starts = n.AttrInts("starts");
      ends = n.AttrInts("ends");
      if (n.HasAttr("axes")) axes = n.AttrInts("axes");
    }
    if (!starts || !ends || starts->size() != ends->size() ||
        (axes && axes->size() != starts->size()) || (steps && steps->size() != starts->size())) {
      for (Dim& d : out) d = Dim{};
      return out;
    }
    for (size_t k = 0; k < starts->size(); ++k) {
      int64_t a = axes ? (*axes)[k] : static_cast<int64_t>(k);
      if (a < 0) a += r;
      if (a < 0 || a >= r) return std::nullopt;
      const int64_t step = steps ? (*steps)[k] : 1;
      if (step == 0) return std::nullopt;
      if (!out[a].known()) continue;
      const int64_t dim = out[a].value;
      // ONNX clamps to [0, dim] for a positive step; for a negative one starts to
      // [0, dim - 1] and ends to [-1, dim - 1].
      auto clamp = [&](int64_t v, bool is_end) {
        if (v < 0) v += dim;
        if (step > 0) return std::clamp<int64_t>(v, 0, dim);
        return std::clamp<int64_t>(v, is_end ? -1 : 0, dim - 1);
      };
      const int64_t b = clamp((*starts)[k], false), e = clamp((*ends)[k], true);
      // b and e lie in [-1, dim]: nothing below overflows, whatever the step.
      int64_t len = 0;
      if (step > 0 && e > b) len = (e - b - 1) / step + 1;
      if (step < 0 && b > e)
        len = step == std::numeric_limits<int64_t>::min() ? 1 : (b - e - 1) / -step + 1;
      out[a] = Dim::Known(len);
    }
    return out;
  }
  if (op == "ConstantOfShape") {
    *dtype = DataType::kFloat32;
    if (const Attribute* a = n.FindAttr("value"); a && a->kind == Attribute::Kind::kTensor)
      *dtype = a->t.dtype();
    if (auto shape = ConstInts(ins[0])) {
      Dims out;
      for (int64_t d : *shape) out.push_back(d >= 0 ? Dim::Known(d) : Dim{});
      return out;
    }
    if (ins[0].has_rank() && ins[0].dims().size() == 1 && ins[0].dims()[0].known())
      return Dims(ins[0].dims()[0].value, Dim{});
    return std::nullopt;
  }
  if (op == "ConvTranspose") {
    if (ins.size() < 2 || !ins[0].has_rank() || !ins[1].has_rank()) return std::nullopt;
    const Dims &x = ins[0].dims(), &w = ins[1].dims();
    if (x.size() < 3 || w.size() != x.size()) return std::nullopt;
    const size_t sp = x.size() - 2;
    Dims out(x.size());
    out[0] = x[0];
    const int64_t group = n.AttrInt("group", 1);
    if (w[1].known()) out[1] = (DimMath(w[1].value) *= group).dim();
    const auto strides = n.AttrInts("strides", std::vector<int64_t>(sp, 1));
    const auto dil = n.AttrInts("dilations", std::vector<int64_t>(sp, 1));
    const auto pads = n.AttrInts("pads", std::vector<int64_t>(2 * sp, 0));
    const auto opad = n.AttrInts("output_padding", std::vector<int64_t>(sp, 0));
    const auto oshape = n.AttrInts("output_shape");
    const bool plain = n.AttrString("auto_pad", "NOTSET") == "NOTSET";
    if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp || opad.size() != sp)
      return out;
    for (size_t i = 0; i < sp; ++i) {
      if (oshape.size() == sp) {
        out[2 + i] = Dim::Known(oshape[i]);
      } else if (plain && x[2 + i].known() && w[2 + i].known()) {
        DimMath span(w[2 + i].value - 1);  // (k - 1) * dilation + 1
        span *= dil[i];
        span += 1;
        DimMath d(x[2 + i].value - 1);  // stride * (in - 1) + output_padding + span - pads
        d *= strides[i];
        d += opad[i];
        d += span.v;
        d -= pads[i];
        d -= pads[i + sp];
        out[2 + i] = span.ok ? d.dim() : Dim{};
      }
    }
    return out;
  }
  if (op == "Gather") {
    if (ins.size() < 2 || !ins[0].has_rank() || !ins[1].has_rank()) return std::nullopt;
    const Dims &x = ins[0].dims(), &idx = ins[1].dims();
    int64_t axis = n.AttrInt("axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(x.size());
    if (axis < 0 || axis >= static_cast<int64_t>(x.size())) return std::nullopt;
    Dims out(x.begin(), x.begin() + axis);
    out.insert(out.end(), idx.begin(), idx.end());
    out.insert(out.end(), x.begin() + axis + 1, x.end());
    return out;
  }
  if (op == "Tile") {
    if (!ins[0].has_rank()) return std::nullopt;
    Dims out = ins[0].dims();
    auto reps = ins.size() > 1 ? ConstInts(ins[1]) : std::nullopt;
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = reps && reps->size() == out.size() && out[i].known()
                   ? (DimMath(out[i].value) *= (*reps)[i]).dim()
                   : Dim{};
    return out;
  }
  if (op == "Resize" || op == "Upsample") {
    if (!ins[0].has_rank()) return std::nullopt;
    const Dims& x = ins[0].dims();
    if (op == "Resize" && ins.size() > 3) {
      if (auto sizes = ConstInts(ins[3]); sizes && sizes->size() == x.size()) {
        Dims out;
        for (int64_t s : *sizes) out.push_back(Dim::Known(s));
        return out;
      }
    }
    const In* scales_in = op == "Resize"
                              ? (ins.size() > 2 ? &ins[2] : (ins.size() > 1 ? &ins[1] : nullptr))
                              : (ins.size() > 1 ? &ins[1] : nullptr);
    if (op == "Resize" && opset >= 11) scales_in = ins.size() > 2 ? &ins[2] : nullptr;
    std::vector<float> scales = n.AttrFloats("scales");
    if (scales_in && scales_in->constant && scales_in->constant->dtype() == DataType::kFloat32) {
      const Tensor& t = *scales_in->constant;
      scales.assign(t.data<float>(), t.data<float>() + t.numel());
    }
    if (scales.size() != x.size()) return std::nullopt;
    Dims out;
    for (size_t i = 0; i < x.size(); ++i)
      out.push_back(x[i].known()
                        ? Dim::Known(static_cast<int64_t>(std::floor(x[i].value * scales[i])))
                        : Dim{});
    return out;
  }
  return std::nullopt;
}

}  // namespace

size_t InferShapes(Graph& graph) {
  size_t changed = 0;
  // Initializers made after import (hoisted or folded constants) have no declared type yet.
  for (const auto& [name, t] : graph.initializers) {
    ValueType& vt = graph.value_types[name];
    if (vt.dtype != DataType::kUndefined && vt.dims) continue;
    vt.dtype = t.dtype();
    vt.dims.emplace();
    for (int64_t d : t.shape()) vt.dims->push_back(Dim::Known(d));
    ++changed;
  }
  for (const Node& n : graph.nodes) {
    std::vector<In> ins;
    for (const std::string& name : n.inputs) {
      In in;
      if (!name.empty()) {
        in.type = graph.TypeOf(name);
        auto it = graph.initializers.find(name);
        if (it != graph.initializers.end()) in.constant = &it->second;
      }
      ins.push_back(in);
    }
    DataType dtype = !ins.empty() && ins[0].type ? ins[0].type->dtype : DataType::kUndefined;
    std::optional<Dims> dims;
    if (!ins.empty() || n.op_type == "Constant")
      dims = Infer(n, ins, &dtype, graph.Opset(n.domain));
    if (n.outputs.empty() || n.outputs[0].empty()) continue;
    ValueType& out = graph.value_types[n.outputs[0]];
    // Declared types from the file win where they say more.
    if (out.dtype == DataType::kUndefined && dtype != DataType::kUndefined) {
      out.dtype = dtype;
      ++changed;
    }
    if (dims) {
      bool refine = !out.dims;
      if (out.dims && out.dims->size() == dims->size())
        for (size_t i = 0; i < dims->size(); ++i)
          if (!(*out.dims)[i].known() && (*dims)[i].known()) {
            (*out.dims)[i] = (*dims)[i];
            ++changed;
          }
      if (refine) {
        out.dims = std::move(dims);
        ++changed;
      }
    }
  }
  return changed;
}

}  // namespace supernova::ir

// ONNX Runtime's QOperator nodes of its com.microsoft domain (version 1), as its quantizer
// writes them beside ONNX's QLinearConv and QLinearMatMul:
//   QLinearAdd, QLinearMul (A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
//     C_zero_point): C = quantize(dequantize(A) op dequantize(B)), numpy broadcasting;
//   QLinearConcat (Y_scale, Y_zero_point, then X, X_scale, X_zero_point per input; `axis`):
//     each input requantized to Y's scale and zero point, then concatenated;
//   QLinearGlobalAveragePool (X, x_scale, x_zero_point, y_scale, y_zero_point;
//     `channels_last`): the mean of each channel's plane, requantized;
//   QLinearSigmoid, QLinearLeakyRelu (`alpha`), QLinearAveragePool (AveragePool's attributes;
//     `channels_last`), QLinearSoftmax (`axis`, and `opset`: the Softmax it stands for,
//     whose semantics changed at 13), all (X, X_scale, X_zero_point, Y_scale, Y_zero_point):
//     Y = quantize(op(dequantize(X)));
//   QGemm (A, a_scale, a_zero_point, B, b_scale, b_zero_point [, C, y_scale, y_zero_point];
//     `alpha`, `transA`, `transB`): Y = alpha * A' B' + C, B's scale and zero point one value or
//     one per column, C int32 at scale alpha * a_scale * b_scale (it joins the integer sums);
//     Y float where y_scale is omitted, else quantized like QuantizeLinear.
// Each scale is one float and each zero point one value of the tensors' type (omitted: 0);
// the integers are all uint8 or all int8 (QGemm's A, B and Y each either).
//
// The arithmetic is DequantizeLinear's, the float op's and QuantizeLinear's in turn (float
// values, the quotient by the output scale in float, rounded half to even, the zero point
// added, then saturated), so the QDQ form the optimizer expands these nodes into
// (optimizer/expand_qoperators.cc) computes the same integers, but for a value on a rounding
// boundary: the global pooling sums its integers exactly instead of summing floats, and where
// the compiler fuses a multiply and an add (aarch64's does, in QLinearAdd's dequantizing sum)
// the float rounds once where the QDQ form rounds twice. The one-input nodes run ONNX's own float
// kernel for their op: an elementwise one once over the 256 values an 8-bit X can hold (a table,
// then one lookup per element), a pooling or Softmax over X dequantized.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "ops/broadcast.h"
#include "ops/dispatch.h"
#include "ops/infer.h"
#include "ops/op.h"
#include "ops/quant.h"

namespace supernova::ops {
namespace {

struct ScalarQuant {
  float scale = 1.f;
  float zero = 0.f;
};

Status ReadQuant(const KernelContext& ctx, size_t scale_slot, DataType type, const char* name,
                 ScalarQuant* q) {
  const Tensor* s = ctx.input(scale_slot);
  if (!s || s->dtype() != DataType::kFloat32 || s->numel() != 1)
    return ctx.Error(std::string(name) + "_scale must be one float");
  q->scale = s->data<float>()[0];
  const Tensor* z = ctx.input(scale_slot + 1);
  if (!z) return Status::Ok();
  if (z->dtype() != type || z->numel() != 1)
    return ctx.Error(std::string(name) + "_zero_point must be one value of the tensors' type");
  q->zero = static_cast<float>(z->GetAsDouble(0));
  return Status::Ok();
}

// DequantizeLinear's rule for an integer: (x - zero point) * scale, in float.
inline float Dequantize(float x, const ScalarQuant& q) { return (x - q.zero) * q.scale; }

// QuantizeLinear's rule for a float value: the quotient in float, rounded half to even, the
// zero point added, saturated.
template <typename T>
T Quantize(float real, const ScalarQuant& q) {
  return SaturateTo<T>(RoundHalfEven(static_cast<double>(real / q.scale)) + q.zero);
}

// f(T{}) for the integer type of the tensors: uint8 or int8 (checked by the caller).
template <typename F>
void ByType(DataType type, F&& f) {
  if (type == DataType::kUint8)
    f(uint8_t{});
  else
    f(int8_t{});
}

template <typename T, typename Op>
void Compute(const BroadcastPlan& plan, const Tensor& a, const Tensor& b, Tensor* c,
             const ScalarQuant& qa, const ScalarQuant& qb, const ScalarQuant& qc, int threads,
             Op op) {
  BinaryBroadcastLoop(plan, a.data<T>(), b.data<T>(), c->data<T>(), threads, [&](T x, T y) {
    return Quantize<T>(op(Dequantize(x, qa), Dequantize(y, qb)), qc);
  });
}

template <typename Op>
Status QLinearBinary(KernelContext& ctx, Op op) {
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(3);
  if (!a || !b) return ctx.Error("needs A and B");
  const DataType type = a->dtype();
  if (!IsInt8Type(type) || b->dtype() != type)
    return ctx.Error("A and B must both be uint8 or both int8");
  ScalarQuant qa, qb, qc;
  SN_RETURN_IF_ERROR(ReadQuant(ctx, 1, type, "A", &qa));
  SN_RETURN_IF_ERROR(ReadQuant(ctx, 4, type, "B", &qb));
  SN_RETURN_IF_ERROR(ReadQuant(ctx, 6, type, "C", &qc));
  Result<Shape> shape = BroadcastShapes({a->shape(), b->shape()});
  if (!shape.ok()) return ctx.Error(shape.status().message());
  const BroadcastPlan plan = MakeBroadcastPlan(*shape, {a->shape(), b->shape()});
  Tensor& c = ctx.Output(0, type, *shape);
  ByType(type, [&](auto tag) {
    Compute<decltype(tag)>(plan, *a, *b, &c, qa, qb, qc, ctx.num_threads, op);
  });
  return Status::Ok();
}

// dequantize(x) requantized to `to`: what DequantizeLinear then QuantizeLinear give.
template <typename T>
T Requantize(T x, const ScalarQuant& from, const ScalarQuant& to) {
  return Quantize<T>(Dequantize(x, from), to);
}

Status QLinearConcat(KernelContext& ctx) {
  const size_t n = ctx.num_inputs();
  if (n < 5 || (n - 2) % 3 != 0)
    return ctx.Error("needs Y_scale, Y_zero_point and a (X, X_scale, X_zero_point) per input");
  const Tensor* first = ctx.input(2);
  const Tensor* yz = ctx.input(1);
  if (!first || !yz) return ctx.Error("needs Y_zero_point and a first input");
  const DataType type = yz->dtype();
  if (!IsInt8Type(type)) return ctx.Error("Y_zero_point must be uint8 or int8");
  ScalarQuant qy;
  SN_RETURN_IF_ERROR(ReadQuant(ctx, 0, type, "Y", &qy));
  const int64_t rank = static_cast<int64_t>(first->rank());
  int64_t axis = ctx.node.AttrInt("axis", 0);
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, rank));
  Shape out = first->shape();
  out[static_cast<size_t>(axis)] = 0;
  std::vector<ScalarQuant> quants;
  for (size_t i = 2; i < n; i += 3) {
    const Tensor* x = ctx.input(i);
    if (!x) return ctx.Error("input " + std::to_string((i - 2) / 3) + " is missing");
    if (x->dtype() != type) return ctx.Error("inputs must be of Y_zero_point's type");
    if (static_cast<int64_t>(x->rank()) != rank)
      return ctx.Error("inputs differ in rank: " + ShapeToString(x->shape()) + " and " +
                       ShapeToString(first->shape()));
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && x->dim(d) != first->dim(d))
        return ctx.Error("inputs " + ShapeToString(first->shape()) + " and " +
                         ShapeToString(x->shape()) + " differ off the axis");
    out[static_cast<size_t>(axis)] += x->dim(axis);
    ScalarQuant q;
    SN_RETURN_IF_ERROR(ReadQuant(ctx, i + 1, type, "X", &q));
    quants.push_back(q);
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= out[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= out[static_cast<size_t>(d)];
  const int64_t row = out[static_cast<size_t>(axis)] * inner;
  Tensor& y = ctx.Output(0, type, out);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    int64_t offset = 0;  // where this input's slice starts in an output row
    for (size_t k = 0; k < quants.size(); ++k) {
      const Tensor& x = *ctx.input(2 + 3 * k);
      const int64_t len = x.dim(axis) * inner;
      const T* px = x.data<T>();
      T* py = y.data<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < len; ++j)
          py[o * row + offset + j] = Requantize<T>(px[o * len + j], quants[k], qy);
      offset += len;
    }
  };
  ByType(type, run);
  return Status::Ok();
}

Status QLinearGlobalAveragePool(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("needs X");
  const DataType type = x->dtype();
  if (!IsInt8Type(type)) return ctx.Error("X must be uint8 or int8");
  if (x->rank() < 3)
    return ctx.Error("X must be [N, C, spatial...], got " + ShapeToString(x->shape()));
  ScalarQuant qx, qy;
  SN_RETURN_IF_ERROR(ReadQuant(ctx, 1, type, "x", &qx));
  SN_RETURN_IF_ERROR(ReadQuant(ctx, 3, type, "y", &qy));
  const bool last = ctx.node.AttrInt("channels_last", 0) != 0;
  const size_t rank = x->rank();
  const int64_t n = x->dim(0), c = last ? x->dim(static_cast<int64_t>(rank) - 1) : x->dim(1);
  Shape out = x->shape();
  int64_t plane = 1;
  for (size_t d = 1; d < rank; ++d) {
    if (d == (last ? rank - 1 : 1)) continue;
    plane *= out[d];
    out[d] = 1;
  }
  if (plane == 0 && n * c > 0) return ctx.Error("global pooling over an empty spatial extent");
  Tensor& y = ctx.Output(0, type, out);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T* px = x->data<T>();
    T* py = y.data<T>();
    // Channel ch of image b: `plane` values `stride` apart from p.
    const int64_t stride = last ? c : 1;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        const T* p = px + b * c * plane + (last ? ch : ch * plane);
        int64_t sum = 0;
        for (int64_t i = 0; i < plane; ++i) sum += p[i * stride];
        const double mean = (static_cast<double>(sum) / static_cast<double>(plane) - qx.zero) *
                            static_cast<double>(qx.scale);
        py[b * c + ch] = Quantize<T>(static_cast<float>(mean), qy);
      }
  };
  ByType(type, run);
  return Status::Ok();
}

// X (input 0) and its quantization (slots 1, 2) and Y's (slots 3, 4), of a one-input node.
struct UnaryQuant {
  const Tensor* x = nullptr;
  DataType type = DataType::kUint8;
  ScalarQuant qx, qy;
};

Status ReadUnary(const KernelContext& ctx, UnaryQuant* u) {
  u->x = ctx.input(0);
  if (!u->x) return ctx.Error("needs X");
  u->type = u->x->dtype();
  if (!IsInt8Type(u->type)) return ctx.Error("X must be uint8 or int8");
  SN_RETURN_IF_ERROR(ReadQuant(ctx, 1, u->type, "X", &u->qx));
  return ReadQuant(ctx, 3, u->type, "Y", &u->qy);
}

// ONNX's float `op_type`, at `opset`, with the attributes of `node` (by default this node's),
// run on `real`: its output.
Result<Tensor> RunFloatOp(const KernelContext& ctx, const char* op_type, int64_t opset,
                          const Tensor& real, const ir::Node* node = nullptr) {
  const OpDef* def = FindOp("", op_type);
  if (!def) return Status::Internal(std::string("no float kernel for ") + op_type);
  KernelContext inner(node ? *node : ctx.node, opset, {&real}, ctx.allocator(), ctx.num_threads);
  SN_RETURN_IF_ERROR(RunKernel(*def, inner));
  return std::move(inner.outputs()[0]);
}

// An elementwise node: the float op on each of the 256 values of X's type, quantized with Y's
// scale and zero point, is a table that X's integers index.
Status QLinearElementwise(KernelContext& ctx, const char* op_type, int64_t opset) {
  UnaryQuant u;
  SN_RETURN_IF_ERROR(ReadUnary(ctx, &u));
  Status status = Status::Ok();
  ByType(u.type, [&](auto tag) {
    using T = decltype(tag);
    constexpr int lo = std::numeric_limits<T>::lowest();
    Tensor real(DataType::kFloat32, {256});
    for (int v = lo; v < lo + 256; ++v)
      real.data<float>()[v - lo] = Dequantize(static_cast<float>(v), u.qx);
    Result<Tensor> f = RunFloatOp(ctx, op_type, opset, real);
    if (!f.ok()) {
      status = f.status();
      return;
    }
    T table[256];
    for (int i = 0; i < 256; ++i) table[i] = Quantize<T>(f->data<float>()[i], u.qy);
    const T* px = u.x->data<T>();
    T* py = ctx.Output(0, u.type, u.x->shape()).template data<T>();
    const int64_t n = u.x->numel();
    for (int64_t i = 0; i < n; ++i) py[i] = table[static_cast<int>(px[i]) - lo];
  });
  return status;
}

// A node whose op mixes values (a pooling, Softmax): the float op on X dequantized, its result
// quantized with Y's scale and zero point.
Status QLinearThroughFloat(KernelContext& ctx, const char* op_type, int64_t opset,
                           const ir::Node* node = nullptr) {
  UnaryQuant u;
  SN_RETURN_IF_ERROR(ReadUnary(ctx, &u));
  Tensor real(DataType::kFloat32, u.x->shape(), ctx.allocator());
  Status status = Status::Ok();
  ByType(u.type, [&](auto tag) {
    using T = decltype(tag);
    const T* px = u.x->data<T>();
    float* pr = real.data<float>();
    const int64_t n = u.x->numel();
    for (int64_t i = 0; i < n; ++i) pr[i] = Dequantize(px[i], u.qx);
    Result<Tensor> f = RunFloatOp(ctx, op_type, opset, real, node);
    if (!f.ok()) {
      status = f.status();
      return;
    }
    const float* pf = f->data<float>();
    T* py = ctx.Output(0, u.type, f->shape()).template data<T>();
    const int64_t m = f->numel();
    for (int64_t i = 0; i < m; ++i) py[i] = Quantize<T>(pf[i], u.qy);
  });
  return status;
}

// Opsets of the float ops these nodes run: the versions whose attributes match the
// com.microsoft nodes' (AveragePool 19's dilations default to 1).
constexpr int64_t kFloatOpset = 19;

Status QLinearSigmoid(KernelContext& ctx) {
  return QLinearElementwise(ctx, "Sigmoid", kFloatOpset);
}

Status QLinearLeakyRelu(KernelContext& ctx) {
  return QLinearElementwise(ctx, "LeakyRelu", kFloatOpset);
}

Status QLinearAveragePool(KernelContext& ctx) {
  if (ctx.node.AttrInt("channels_last", 0) != 0)
    return ctx.Unsupported("channels_last=1 (ONNX Runtime's internal NHWC form) is not supported");
  return QLinearThroughFloat(ctx, "AveragePool", kFloatOpset);
}

// `opset` is the version of the Softmax the node replaced: before 13 it flattens X to 2-D at
// `axis`, from 13 it normalises along `axis` alone.
Status QLinearSoftmax(KernelContext& ctx) {
  const int64_t opset = ctx.node.AttrInt("opset", 0);
  if (opset < 1) return ctx.Error("needs the `opset` attribute: the Softmax version it stands for");
  // Its axis defaults to -1 at any opset, where ONNX's Softmax took 1 before 13.
  ir::Node node = ctx.node;
  ir::Attribute& axis = node.attributes["axis"];
  axis.kind = ir::Attribute::Kind::kInt;
  axis.i = ctx.node.AttrInt("axis", -1);
  return QLinearThroughFloat(ctx, "Softmax", opset, &node);
}

// A matrix's integers, less their zero point (one value, or one per row or per column), as
// int32, row by row.
std::vector<int32_t> Centered(const Tensor& t, const std::vector<double>& zeros, bool per_row) {
  const int64_t cols = t.dim(1);
  std::vector<int32_t> out(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    const size_t z = zeros.size() == 1 ? 0 : static_cast<size_t>(per_row ? i / cols : i % cols);
    out[static_cast<size_t>(i)] = static_cast<int32_t>(t.GetAsDouble(i) - zeros[z]);
  }
  return out;
}

Status QGemm(KernelContext& ctx) {
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(3);
  if (!a || !b || !ctx.input(1) || !ctx.input(4))
    return ctx.Error("needs A, a_scale, B and b_scale");
  if (!IsInt8Type(a->dtype()) || !IsInt8Type(b->dtype()))
    return ctx.Error("A and B must be uint8 or int8");
  if (a->rank() != 2 || b->rank() != 2)
    return ctx.Error("A and B must be matrices, got " + ShapeToString(a->shape()) + " and " +
                     ShapeToString(b->shape()));
  const bool ta = ctx.node.AttrInt("transA", 0) != 0;
  const bool tb = ctx.node.AttrInt("transB", 0) != 0;
  const int64_t m = a->dim(ta ? 1 : 0), k = a->dim(ta ? 0 : 1);
  const int64_t n = b->dim(tb ? 0 : 1);
  if (b->dim(tb ? 1 : 0) != k)
    return ctx.Error("A " + ShapeToString(a->shape()) + " and B " + ShapeToString(b->shape()) +
                     " do not multiply (transA " + std::to_string(ta) + ", transB " +
                     std::to_string(tb) + ")");
  for (const auto& [slot, type, name] : {std::tuple{size_t{2}, a->dtype(), "a_zero_point"},
                                         std::tuple{size_t{5}, b->dtype(), "b_zero_point"}})
    if (const Tensor* z = ctx.input(slot); z && z->dtype() != type)
      return ctx.Error(std::string(name) + " must be of its matrix's type");
  double a_scale = 1, a_zero = 0;
  SN_RETURN_IF_ERROR(SingleValue(ctx, ctx.input(1), 1, "a_scale", &a_scale));
  SN_RETURN_IF_ERROR(SingleValue(ctx, ctx.input(2), 0, "a_zero_point", &a_zero));
  std::vector<double> b_scale, b_zero;
  SN_RETURN_IF_ERROR(PerChannel(ctx, ctx.input(4), n, 1, "b_scale", &b_scale));
  SN_RETURN_IF_ERROR(PerChannel(ctx, ctx.input(5), n, 0, "b_zero_point", &b_zero));
  // C: one value, one per column, or [1 or M, 1 or N]; its entry for (i, j) is
  // c[i * c_row + j * c_col].
  const Tensor* c = ctx.input(6);
  int64_t c_row = 0, c_col = 0;
  if (c) {
    if (c->dtype() != DataType::kInt32) return ctx.Error("C must be int32");
    const bool one = c->numel() == 1 && c->rank() <= 2;
    const bool row = c->rank() == 1 && c->dim(0) == n;
    const bool matrix =
        c->rank() == 2 && (c->dim(0) == 1 || c->dim(0) == m) && (c->dim(1) == 1 || c->dim(1) == n);
    if (!one && !row && !matrix)
      return ctx.Error("C " + ShapeToString(c->shape()) + " does not broadcast to [" +
                       std::to_string(m) + ", " + std::to_string(n) + "]");
    if (row) c_col = 1;
    if (matrix && !one) {
      c_col = c->dim(1) == 1 ? 0 : 1;
      c_row = c->dim(0) == 1 ? 0 : c->dim(1);
    }
  }
  const Tensor* ys = ctx.input(7);
  const Tensor* yz = ctx.input(8);
  if ((ys == nullptr) != (yz == nullptr))
    return ctx.Error(
        "y_scale and y_zero_point come together: Y is quantized with both (its type is "
        "y_zero_point's), or float without either");
  if (yz && !IsInt8Type(yz->dtype())) return ctx.Error("y_zero_point must be uint8 or int8");
  double y_scale = 1, y_zero = 0;
  SN_RETURN_IF_ERROR(SingleValue(ctx, ys, 1, "y_scale", &y_scale));
  SN_RETURN_IF_ERROR(SingleValue(ctx, yz, 0, "y_zero_point", &y_zero));

  // A' [M, K] and B' [K, N], centred; B's zero points go with its columns, which are the
  // stored matrix's rows under transB.
  const std::vector<int32_t> ac = Centered(*a, {a_zero}, false);
  const std::vector<int32_t> bc = Centered(*b, b_zero, tb);
  const int64_t a_cols = a->dim(1), b_cols = b->dim(1);
  auto a_at = [&](int64_t i, int64_t p) {
    return ac[static_cast<size_t>(ta ? p * a_cols + i : i * a_cols + p)];
  };
  auto b_at = [&](int64_t p, int64_t j) {
    return bc[static_cast<size_t>(tb ? j * b_cols + p : p * b_cols + j)];
  };
  const double alpha = ctx.node.AttrFloat("alpha", 1.f);
  Tensor& y = ctx.Output(0, yz ? yz->dtype() : DataType::kFloat32, {m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t acc = c ? c->data<int32_t>()[i * c_row + j * c_col] : 0;
      for (int64_t p = 0; p < k; ++p) acc += int64_t{a_at(i, p)} * b_at(p, j);
      const double real =
          alpha * a_scale * b_scale[static_cast<size_t>(j)] * static_cast<double>(acc);
      if (!yz) {
        y.data<float>()[i * n + j] = static_cast<float>(real);
        continue;
      }
      ByType(yz->dtype(), [&](auto tag) {
        using T = decltype(tag);
        y.data<T>()[i * n + j] = SaturateTo<T>(RoundHalfEven(real / y_scale) + y_zero);
      });
    }
  return Status::Ok();
}

Status QLinearAdd(KernelContext& ctx) {
  return QLinearBinary(ctx, [](float x, float y) { return x + y; });
}

Status QLinearMul(KernelContext& ctx) {
  return QLinearBinary(ctx, [](float x, float y) { return x * y; });
}

// Broadcast of A (input 0) and B (input 3); A's type.
std::optional<Dims> QLinearBinaryShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank() || !ctx.in(3).has_rank()) return std::nullopt;
  return BroadcastDims({&ctx.in(0).dims(), &ctx.in(3).dims()});
}

// Y's zero point's type (input 1); the inputs' shapes joined along `axis`.
std::optional<Dims> QLinearConcatShape(InferContext& ctx) {
  if (ctx.in(1).type) ctx.dtype = ctx.in(1).type->dtype;
  std::vector<const Dims*> dims;
  for (size_t i = 2; i < ctx.inputs.size(); i += 3) {
    if (!ctx.in(i).has_rank()) return std::nullopt;
    dims.push_back(&ctx.in(i).dims());
  }
  if (dims.empty()) return std::nullopt;
  const int64_t rank = static_cast<int64_t>(dims[0]->size());
  int64_t axis = ctx.node.AttrInt("axis", 0);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return std::nullopt;
  Dims out = *dims[0];
  int64_t total = 0;
  for (const Dims* d : dims) {
    if (static_cast<int64_t>(d->size()) != rank) return std::nullopt;
    const ir::Dim& a = (*d)[static_cast<size_t>(axis)];
    if (!a.known() || total < 0) {
      total = -1;
      continue;
    }
    total += a.value;
  }
  out[static_cast<size_t>(axis)] = total < 0 ? ir::Dim() : ir::Dim::Known(total);
  return out;
}

// X's dims with every spatial one 1.
std::optional<Dims> QLinearGlobalAveragePoolShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  Dims d = ctx.in(0).dims();
  if (d.size() < 3) return std::nullopt;
  const bool last = ctx.node.AttrInt("channels_last", 0) != 0;
  for (size_t i = 1; i < d.size(); ++i)
    if (i != (last ? d.size() - 1 : 1)) d[i] = ir::Dim::Known(1);
  return d;
}

// [M, N] of A' B'; float, or y_zero_point's type where the node has one.
std::optional<Dims> QGemmShape(InferContext& ctx) {
  const bool quantized = ctx.node.inputs.size() > 8 && !ctx.node.inputs[8].empty();
  ctx.dtype = !quantized       ? DataType::kFloat32
              : ctx.in(8).type ? ctx.in(8).type->dtype
                               : DataType::kUndefined;
  if (!ctx.in(0).has_rank() || !ctx.in(3).has_rank()) return std::nullopt;
  const Dims& a = ctx.in(0).dims();
  const Dims& b = ctx.in(3).dims();
  if (a.size() != 2 || b.size() != 2) return std::nullopt;
  const bool ta = ctx.node.AttrInt("transA", 0) != 0;
  const bool tb = ctx.node.AttrInt("transB", 0) != 0;
  return Dims{a[ta ? 1 : 0], b[tb ? 0 : 1]};
}

// AveragePool's window shape on X, channels first.
std::optional<Dims> QLinearAveragePoolShape(InferContext& ctx) {
  if (ctx.node.AttrInt("channels_last", 0) != 0) return std::nullopt;
  return WindowShape(ctx, false);
}

constexpr OpDef kOps[] = {
    {"QGemm", QGemm, QGemmShape, OpKind::kCompute, ActivationKind::kNone, "com.microsoft"},
    {"QLinearAdd", QLinearAdd, QLinearBinaryShape, OpKind::kCompute, ActivationKind::kNone,
     "com.microsoft"},
    {"QLinearAveragePool", QLinearAveragePool, QLinearAveragePoolShape, OpKind::kCompute,
     ActivationKind::kNone, "com.microsoft"},
    {"QLinearConcat", QLinearConcat, QLinearConcatShape, OpKind::kCompute, ActivationKind::kNone,
     "com.microsoft"},
    {"QLinearGlobalAveragePool", QLinearGlobalAveragePool, QLinearGlobalAveragePoolShape,
     OpKind::kCompute, ActivationKind::kNone, "com.microsoft"},
    {"QLinearLeakyRelu", QLinearLeakyRelu, SameShape, OpKind::kCompute, ActivationKind::kNone,
     "com.microsoft"},
    {"QLinearMul", QLinearMul, QLinearBinaryShape, OpKind::kCompute, ActivationKind::kNone,
     "com.microsoft"},
    {"QLinearSigmoid", QLinearSigmoid, SameShape, OpKind::kCompute, ActivationKind::kNone,
     "com.microsoft"},
    {"QLinearSoftmax", QLinearSoftmax, SameShape, OpKind::kCompute, ActivationKind::kNone,
     "com.microsoft"},
};

}  // namespace

std::span<const OpDef> QLinearContribOps() { return kOps; }

}  // namespace supernova::ops

// The random ops: RandomUniform, RandomNormal (opset 1; shape from the `shape` attribute),
// RandomUniformLike, RandomNormalLike (opset 1; shape, and dtype unless given, from the input),
// Bernoulli (opset 15; one draw per probability) and Multinomial (opset 7; sample_size class
// indices per row of unnormalised log-probabilities).
//
// The `seed` attribute (a float) maps to the 32-bit seed of ops/random_source.h by truncation
// toward zero, modulo 2^32, as ONNX's reference implementation passes int(seed) to NumPy; a
// node without it draws a fresh seed from std::random_device on every run. The draws, in
// row-major order: RandomUniform low + u * (high - low); RandomNormal mean + scale * n;
// Bernoulli 1 when u < p; Multinomial the first class whose cumulative softmax exceeds u.
// Every OpDef here says deterministic = false, so no pass folds or merges these nodes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/random_source.h"

namespace supernova::ops {
namespace {

bool IsFloatType(DataType t) {
  return t == DataType::kFloat16 || t == DataType::kFloat32 || t == DataType::kFloat64;
}

// The output types Bernoulli may produce (its T2): the float types, bfloat16, the integers and
// bool.
bool IsBernoulliOutput(DataType t) {
  switch (t) {
    case DataType::kFloat16:
    case DataType::kFloat32:
    case DataType::kFloat64:
    case DataType::kBFloat16:
    case DataType::kUint8:
    case DataType::kUint16:
    case DataType::kUint32:
    case DataType::kUint64:
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kBool:
      return true;
    default:
      return false;
  }
}

// The `dtype` attribute as a DataType, or `fallback` when absent.
DataType DtypeAttr(const ir::Node& node, DataType fallback) {
  if (!node.HasAttr("dtype")) return fallback;
  const int64_t v = node.AttrInt("dtype", 0);
  return v > 0 && v <= 255 ? static_cast<DataType>(v) : DataType::kUndefined;
}

Status MakeSource(const KernelContext& ctx, std::optional<RandomSource>* source) {
  uint32_t seed = RandomSource::FreshSeed();
  if (ctx.node.HasAttr("seed")) {
    const double s = ctx.node.AttrFloat("seed", 0.0f);
    if (!std::isfinite(s)) return ctx.Error("seed is not a finite number");
    // fmod keeps seeds beyond int64's range defined; the result is that of int(seed) % 2^32.
    double t = std::fmod(std::trunc(s), 4294967296.0);
    if (t < 0) t += 4294967296.0;
    seed = static_cast<uint32_t>(t);
  }
  source->emplace(seed);
  return Status::Ok();
}

// Writes draw() (a double) into every element of `out`, in row-major order, converted to the
// output's dtype.
template <typename Draw>
Status Fill(const KernelContext& ctx, Tensor& out, Draw&& draw) {
  const int64_t n = out.numel();
  const auto fill = [&](auto* p, auto convert) {
    for (int64_t i = 0; i < n; ++i) p[i] = convert(draw());
  };
  switch (out.dtype()) {
    case DataType::kFloat16:
      fill(out.data<Float16>(), [](double v) { return Float16::FromFloat(static_cast<float>(v)); });
      break;
    case DataType::kBFloat16:
      fill(out.data<BFloat16>(),
           [](double v) { return BFloat16::FromFloat(static_cast<float>(v)); });
      break;
    case DataType::kBool:
      fill(out.data<bool>(), [](double v) { return v != 0.0; });
      break;
    default: {
      Status st = DispatchNumeric(out.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        fill(out.data<T>(), [](double v) { return static_cast<T>(v); });
        return Status::Ok();
      });
      if (!st.ok()) return ctx.Unsupported(st.message());
    }
  }
  return Status::Ok();
}

// The shape of RandomUniform/RandomNormal: the `shape` attribute, required.
Status AttrShape(const KernelContext& ctx, Shape* shape) {
  if (!ctx.node.HasAttr("shape")) return ctx.Error("missing attribute shape");
  *shape = ctx.node.AttrInts("shape");
  for (int64_t d : *shape)
    if (d < 0) return ctx.Error("shape " + ShapeToString(*shape) + " has a negative dim");
  return Status::Ok();
}

// The output of the four RandomUniform/RandomNormal ops: its shape from the attribute or from
// input 0 (`like`), its dtype from the attribute, else float (or the input's dtype for `like`).
Status RandomOutput(KernelContext& ctx, bool like, Tensor** out) {
  Shape shape;
  DataType fallback = DataType::kFloat32;
  if (like) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.Error("missing input");
    shape = x->shape();
    fallback = x->dtype();
  } else {
    SN_RETURN_IF_ERROR(AttrShape(ctx, &shape));
  }
  const DataType dtype = DtypeAttr(ctx.node, fallback);
  if (!IsFloatType(dtype))
    return ctx.Error("dtype " + DataTypeName(dtype) +
                     " is not float16, float or double, the output types of " + ctx.node.op_type);
  *out = &ctx.Output(0, dtype, shape);
  return Status::Ok();
}

// The four RandomUniform/RandomNormal ops: offset + spread * draw, where a uniform draw takes
// offset `low` and spread `high - low`, a normal one `mean` and `scale`.
Status Sample(KernelContext& ctx, bool like, bool normal) {
  Tensor* out = nullptr;
  SN_RETURN_IF_ERROR(RandomOutput(ctx, like, &out));
  const ir::Node& n = ctx.node;
  const double offset = normal ? n.AttrFloat("mean", 0.0f) : n.AttrFloat("low", 0.0f);
  const double spread = normal ? n.AttrFloat("scale", 1.0f) : n.AttrFloat("high", 1.0f) - offset;
  std::optional<RandomSource> gen;
  SN_RETURN_IF_ERROR(MakeSource(ctx, &gen));
  return Fill(ctx, *out,
              [&] { return offset + spread * (normal ? gen->Normal() : gen->Uniform()); });
}

Status RandomUniform(KernelContext& ctx) { return Sample(ctx, false, false); }
Status RandomUniformLike(KernelContext& ctx) { return Sample(ctx, true, false); }
Status RandomNormal(KernelContext& ctx) { return Sample(ctx, false, true); }
Status RandomNormalLike(KernelContext& ctx) { return Sample(ctx, true, true); }

// Input 0 of Bernoulli and Multinomial, which must be float16, float or double `what`.
Status FloatInput(const KernelContext& ctx, const std::string& what, const Tensor** x) {
  *x = ctx.input(0);
  if (!*x) return ctx.Error("missing input");
  if (!IsFloatType((*x)->dtype()))
    return ctx.Error("input of dtype " + DataTypeName((*x)->dtype()) + "; " + ctx.node.op_type +
                     " takes float16, float or double " + what);
  return Status::Ok();
}

Status Bernoulli(KernelContext& ctx) {
  const Tensor* x = nullptr;
  SN_RETURN_IF_ERROR(FloatInput(ctx, "probabilities", &x));
  const DataType dtype = DtypeAttr(ctx.node, x->dtype());
  if (!IsBernoulliOutput(dtype))
    return ctx.Error("dtype " + DataTypeName(dtype) + " is not an output type of Bernoulli");
  for (int64_t i = 0, n = x->numel(); i < n; ++i) {
    const double p = x->GetAsDouble(i);
    if (!(p >= 0.0 && p <= 1.0))
      return ctx.Error("probability " + std::to_string(p) + " at element " + std::to_string(i) +
                       " is outside [0, 1]");
  }
  Tensor& out = ctx.Output(0, dtype, x->shape());
  std::optional<RandomSource> gen;
  SN_RETURN_IF_ERROR(MakeSource(ctx, &gen));
  int64_t i = 0;
  return Fill(ctx, out, [&] { return gen->Uniform() < x->GetAsDouble(i++) ? 1.0 : 0.0; });
}

Status Multinomial(KernelContext& ctx) {
  const Tensor* x = nullptr;
  SN_RETURN_IF_ERROR(FloatInput(ctx, "log-probabilities", &x));
  if (x->rank() != 2)
    return ctx.Error("input must be [batch_size, class_size], got " + ShapeToString(x->shape()));
  const int64_t samples = ctx.node.AttrInt("sample_size", 1);
  if (samples < 0) return ctx.Error("sample_size " + std::to_string(samples) + " is negative");
  const DataType dtype = DtypeAttr(ctx.node, DataType::kInt32);
  if (dtype != DataType::kInt32 && dtype != DataType::kInt64)
    return ctx.Error("dtype " + DataTypeName(dtype) + " is not int32 or int64");
  const int64_t batch = x->dim(0), classes = x->dim(1);
  if (classes == 0 && samples > 0 && batch > 0) return ctx.Error("no classes to sample from");
  Tensor& out = ctx.Output(0, dtype, {batch, samples});
  if (out.numel() == 0) return Status::Ok();
  std::optional<RandomSource> gen;
  SN_RETURN_IF_ERROR(MakeSource(ctx, &gen));
  std::vector<double> cumulative(static_cast<size_t>(classes));
  for (int64_t b = 0; b < batch; ++b) {
    // Softmax of the row, shifted by its maximum so that exp cannot overflow.
    double top = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < classes; ++c) top = std::max(top, x->GetAsDouble(b * classes + c));
    if (!std::isfinite(top))
      return ctx.Error("row " + std::to_string(b) + " has no finite maximum log-probability");
    double total = 0.0;
    for (int64_t c = 0; c < classes; ++c) {
      const double l = x->GetAsDouble(b * classes + c);
      if (std::isnan(l)) return ctx.Error("row " + std::to_string(b) + " has a NaN");
      total += std::exp(l - top);
      cumulative[static_cast<size_t>(c)] = total;
    }
    for (int64_t s = 0; s < samples; ++s) {
      const double u = gen->Uniform() * total;
      // The first class whose cumulative weight exceeds u; classes of weight 0 never win.
      const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
      const int64_t k = std::min<int64_t>(it - cumulative.begin(), classes - 1);
      if (dtype == DataType::kInt32)
        out.data<int32_t>()[b * samples + s] = static_cast<int32_t>(k);
      else
        out.data<int64_t>()[b * samples + s] = k;
    }
  }
  return Status::Ok();
}

// --- shape inference ------------------------------------------------------------------------

// RandomUniform/RandomNormal: the `shape` attribute; dtype from the attribute (default float).
std::optional<Dims> InferFromAttr(InferContext& ctx) {
  const DataType dtype = DtypeAttr(ctx.node, DataType::kFloat32);
  if (!ctx.node.HasAttr("shape") || !IsFloatType(dtype)) return std::nullopt;
  ctx.dtype = dtype;
  Dims dims;
  for (int64_t d : ctx.node.AttrInts("shape")) dims.push_back(DimMath(d).dim());
  return dims;
}

// The Like ops and Bernoulli: input 0's shape; dtype from the attribute, else input 0's.
std::optional<Dims> InferLike(InferContext& ctx) {
  ctx.dtype = DtypeAttr(ctx.node, ctx.dtype);
  return SameShape(ctx);
}

// Multinomial: [batch_size, sample_size] of int32 (default) or int64.
std::optional<Dims> InferMultinomial(InferContext& ctx) {
  ctx.dtype = DtypeAttr(ctx.node, DataType::kInt32);
  const InferInput& x = ctx.in(0);
  const ir::Dim batch = x.has_rank() && x.dims().size() == 2 ? x.dims()[0] : ir::Dim{};
  return Dims{batch, DimMath(ctx.node.AttrInt("sample_size", 1)).dim()};
}

// Positional fields: op_type, kernel, infer, kind, activation, domain, strings, deterministic.
// The Like ops read only their input's shape and dtype, so any input type will do (strings too).
constexpr OpDef kOps[] = {
    {"Bernoulli", Bernoulli, InferLike, OpKind::kCompute, ActivationKind::kNone, {}, false, false},
    {"Multinomial",
     Multinomial,
     InferMultinomial,
     OpKind::kCompute,
     ActivationKind::kNone,
     {},
     false,
     false},
    {"RandomNormal",
     RandomNormal,
     InferFromAttr,
     OpKind::kCompute,
     ActivationKind::kNone,
     {},
     false,
     false},
    {"RandomNormalLike",
     RandomNormalLike,
     InferLike,
     OpKind::kCompute,
     ActivationKind::kNone,
     {},
     true,
     false},
    {"RandomUniform",
     RandomUniform,
     InferFromAttr,
     OpKind::kCompute,
     ActivationKind::kNone,
     {},
     false,
     false},
    {"RandomUniformLike",
     RandomUniformLike,
     InferLike,
     OpKind::kCompute,
     ActivationKind::kNone,
     {},
     true,
     false},
};

}  // namespace

std::span<const OpDef> RandomOps() { return kOps; }

}  // namespace supernova::ops

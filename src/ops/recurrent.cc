// The recurrent ops' shared attributes and checks, their activation functions, Y's shape rule,
// and the family's registration (the kernels are in rnn.cc, gru.cc and lstm.cc).
#include "ops/recurrent.h"

#include <cctype>
#include <string>

#include "ops/fast_math.h"
#include "ops/op.h"

namespace supernova::ops {
namespace recurrent {
namespace {

template <typename T>
inline T Exp(T x) {
  if constexpr (std::is_same_v<T, float>)
    return ExpF(x);
  else
    return std::exp(x);
}

// What the `activations` attribute may name, and which of activation_alpha / activation_beta
// each one takes from those lists (in order), with the defaults of the ONNX op of that name.
struct FnInfo {
  std::string_view name;
  FnKind kind;
  bool takes_alpha, takes_beta;
  float alpha, beta;
};
constexpr FnInfo kFns[] = {
    {"Relu", FnKind::kRelu, false, false, 0, 0},
    {"Tanh", FnKind::kTanh, false, false, 0, 0},
    {"Sigmoid", FnKind::kSigmoid, false, false, 0, 0},
    {"Affine", FnKind::kAffine, true, true, 1.0f, 0.0f},
    {"LeakyRelu", FnKind::kLeakyRelu, true, false, 0.01f, 0},
    {"ThresholdedRelu", FnKind::kThresholdedRelu, true, false, 1.0f, 0},
    {"ScaledTanh", FnKind::kScaledTanh, true, true, 1.0f, 1.0f},
    {"HardSigmoid", FnKind::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"Elu", FnKind::kElu, true, false, 1.0f, 0},
    {"Softsign", FnKind::kSoftsign, false, false, 0, 0},
    {"Softplus", FnKind::kSoftplus, false, false, 0, 0},
};

// Exporters differ in the case they write ("tanh", "Tanh"); the names are otherwise exact.
bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Status ParseFns(const KernelContext& ctx, const OpTraits& op, Recurrence* rc) {
  const size_t per_dir = op.fns.size();
  const ir::Attribute* attr = ctx.node.FindAttr("activations");
  std::vector<std::string> names;
  if (attr && !attr->strings.empty()) {
    names = attr->strings;
  } else {
    for (int d = 0; d < rc->num_dir; ++d) names.insert(names.end(), op.fns.begin(), op.fns.end());
  }
  const std::vector<float> alphas = ctx.node.AttrFloats("activation_alpha");
  const std::vector<float> betas = ctx.node.AttrFloats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  for (const std::string& name : names) {
    const FnInfo* info = nullptr;
    for (const FnInfo& f : kFns)
      if (SameName(f.name, name)) info = &f;
    if (!info) return ctx.Unsupported("activation '" + name + "' is not one of ONNX's");
    Fn fn{info->kind, info->alpha, info->beta};
    if (info->takes_alpha && next_alpha < alphas.size()) fn.alpha = alphas[next_alpha++];
    if (info->takes_beta && next_beta < betas.size()) fn.beta = betas[next_beta++];
    rc->fns.push_back(fn);
  }
  const size_t want = per_dir * static_cast<size_t>(rc->num_dir);
  // One direction's list serves both; a unidirectional node may list two directions' worth,
  // as RNN's documented default (Tanh, Tanh) does.
  if (rc->fns.size() == per_dir && rc->num_dir == 2)
    rc->fns.insert(rc->fns.end(), rc->fns.begin(), rc->fns.end());
  else if (rc->fns.size() == 2 * per_dir && rc->num_dir == 1)
    rc->fns.resize(per_dir);
  if (rc->fns.size() != want)
    return ctx.Error("activations names " + std::to_string(names.size()) + " functions, " +
                     std::to_string(want) + " expected (" + std::to_string(per_dir) +
                     " per direction)");
  return Status::Ok();
}

Status CheckDtype(const KernelContext& ctx, const Tensor& t, const char* what) {
  if (t.dtype() != ctx.input(kX)->dtype())
    return ctx.Error(std::string(what) + " is " + DataTypeName(t.dtype()) + ", X is " +
                     DataTypeName(ctx.input(kX)->dtype()));
  return Status::Ok();
}

Status CheckShape(const KernelContext& ctx, const Tensor& t, const char* what, const Shape& want) {
  SN_RETURN_IF_ERROR(CheckDtype(ctx, t, what));
  if (t.shape() != want)
    return ctx.Error(std::string(what) + " must be " + ShapeToString(want) + ", got " +
                     ShapeToString(t.shape()));
  return Status::Ok();
}

Status ParseLens(const KernelContext& ctx, Recurrence* rc) {
  const Tensor* t = ctx.input(kSeqLens);
  rc->lens.assign(static_cast<size_t>(rc->batch), rc->seq_length);
  if (!t) return Status::Ok();
  if (t->dtype() != DataType::kInt32 && t->dtype() != DataType::kInt64)
    return ctx.Error("sequence_lens must be int32, got " + DataTypeName(t->dtype()));
  if (t->shape() != Shape{rc->batch})
    return ctx.Error("sequence_lens must be [" + std::to_string(rc->batch) + "], got " +
                     ShapeToString(t->shape()));
  for (int64_t b = 0; b < rc->batch; ++b) {
    const int64_t len = static_cast<int64_t>(t->GetAsDouble(b));
    if (len < 0 || len > rc->seq_length)
      return ctx.Error("sequence_lens[" + std::to_string(b) + "] is " + std::to_string(len) +
                       ", outside [0, " + std::to_string(rc->seq_length) + "]");
    rc->lens[static_cast<size_t>(b)] = len;
  }
  return Status::Ok();
}

}  // namespace

template <typename T>
void Apply(const Fn& f, T* x, int64_t n) {
  const T a = T(f.alpha), b = T(f.beta);
  switch (f.kind) {
    case FnKind::kRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = act::Relu(x[i]);
      break;
    case FnKind::kTanh:
      for (int64_t i = 0; i < n; ++i) x[i] = act::Tanh(x[i]);
      break;
    case FnKind::kSigmoid:
      for (int64_t i = 0; i < n; ++i) x[i] = act::Sigmoid(x[i]);
      break;
    case FnKind::kAffine:
      for (int64_t i = 0; i < n; ++i) x[i] = a * x[i] + b;
      break;
    case FnKind::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = act::LeakyRelu(x[i], f.alpha);
      break;
    case FnKind::kThresholdedRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = Select(x[i] > a, x[i], T(0));
      break;
    case FnKind::kScaledTanh:
      for (int64_t i = 0; i < n; ++i) x[i] = a * act::Tanh(b * x[i]);
      break;
    case FnKind::kHardSigmoid:
      for (int64_t i = 0; i < n; ++i) x[i] = act::HardSigmoid(x[i], f.alpha, f.beta);
      break;
    case FnKind::kElu:
      for (int64_t i = 0; i < n; ++i) x[i] = Select(x[i] < T(0), a * (Exp(x[i]) - T(1)), x[i]);
      break;
    case FnKind::kSoftsign:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (T(1) + std::abs(x[i]));
      break;
    case FnKind::kSoftplus:
      // log(1 + e^x) without overflowing e^x for large x.
      for (int64_t i = 0; i < n; ++i)
        x[i] = x[i] > T(0) ? x[i] + std::log1p(std::exp(-x[i])) : std::log1p(std::exp(x[i]));
      break;
  }
}
template void Apply<float>(const Fn&, float*, int64_t);
template void Apply<double>(const Fn&, double*, int64_t);

Status Parse(const KernelContext& ctx, const OpTraits& op, Recurrence* rc) {
  const Tensor* x = ctx.input(kX);
  const Tensor* w = ctx.input(kW);
  const Tensor* r = ctx.input(kR);
  if (!x || !w || !r) return ctx.Error("needs inputs X, W and R");
  if (x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64)
    return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  const std::string direction = ctx.node.AttrString("direction", "forward");
  if (direction == "bidirectional")
    rc->num_dir = 2;
  else if (direction == "reverse")
    rc->reverse = true;
  else if (direction != "forward")
    return ctx.Error("direction '" + direction + "' is none of forward, reverse, bidirectional");
  const int64_t layout = ctx.node.AttrInt("layout", 0);
  if (layout != 0 && layout != 1)
    return ctx.Error("layout must be 0 or 1, got " + std::to_string(layout));
  rc->batch_first = layout == 1;
  if (x->rank() != 3) return ctx.Error("X must be 3-D, got " + ShapeToString(x->shape()));
  rc->seq_length = x->dim(rc->batch_first ? 1 : 0);
  rc->batch = x->dim(rc->batch_first ? 0 : 1);
  rc->input_size = x->dim(2);
  rc->gates = op.gates;
  if (r->rank() != 3) return ctx.Error("R must be 3-D, got " + ShapeToString(r->shape()));
  rc->hidden = r->dim(2);
  if (ctx.node.HasAttr("hidden_size") && ctx.node.AttrInt("hidden_size", 0) != rc->hidden)
    return ctx.Error("hidden_size " + std::to_string(ctx.node.AttrInt("hidden_size", 0)) +
                     " does not match R " + ShapeToString(r->shape()));
  SN_RETURN_IF_ERROR(CheckShape(ctx, *r, "R", {rc->num_dir, rc->width(), rc->hidden}));
  SN_RETURN_IF_ERROR(CheckShape(ctx, *w, "W", {rc->num_dir, rc->width(), rc->input_size}));
  SN_RETURN_IF_ERROR(CheckVector(ctx, *rc, kB, "B", 2 * rc->width()));
  SN_RETURN_IF_ERROR(ParseLens(ctx, rc));
  SN_RETURN_IF_ERROR(CheckState(ctx, *rc, kInitialH, "initial_h"));
  if (ctx.node.HasAttr("clip")) {
    rc->clip = ctx.node.AttrFloat("clip", 0);
    if (!(rc->clip > 0)) return ctx.Error("clip must be positive, got " + std::to_string(rc->clip));
  }
  return ParseFns(ctx, op, rc);
}

Status CheckVector(const KernelContext& ctx, const Recurrence& rc, size_t index, const char* what,
                   int64_t cols) {
  const Tensor* t = ctx.input(index);
  return t ? CheckShape(ctx, *t, what, {rc.num_dir, cols}) : Status::Ok();
}

Status CheckState(const KernelContext& ctx, const Recurrence& rc, size_t index, const char* what) {
  const Tensor* t = ctx.input(index);
  return t ? CheckShape(ctx, *t, what, rc.state_shape()) : Status::Ok();
}

std::optional<Dims> InferY(InferContext& ctx) {
  const InferInput& x = ctx.in(kX);
  if (!x.has_rank() || x.dims().size() != 3) return std::nullopt;
  const std::string direction = ctx.node.AttrString("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    return std::nullopt;
  const ir::Dim num_dir = ir::Dim::Known(direction == "bidirectional" ? 2 : 1);
  ir::Dim hidden;
  const InferInput& r = ctx.in(kR);
  if (r.has_rank() && r.dims().size() == 3) hidden = r.dims()[2];
  const bool batch_first = ctx.node.AttrInt("layout", 0) == 1;
  const ir::Dim seq = x.dims()[batch_first ? 1 : 0], batch = x.dims()[batch_first ? 0 : 1];
  return batch_first ? Dims{batch, seq, num_dir, hidden} : Dims{seq, num_dir, batch, hidden};
}

}  // namespace recurrent

namespace {
constexpr OpDef kOps[] = {
    {"GRU", GRU, recurrent::InferY},
    {"LSTM", LSTM, recurrent::InferY},
    {"RNN", RNN, recurrent::InferY},
};

}  // namespace

std::span<const OpDef> RecurrentOps() { return kOps; }

}  // namespace supernova::ops

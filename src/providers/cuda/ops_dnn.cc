// Convolution (Conv, and the optimizer's FusedConv) through cuDNN, plus the ops of the same
// family that run on the provider's own kernels: inference BatchNormalization and the pools.
//
// The window geometry (pads, auto_pad, strides, dilations, ceil_mode) is resolved by
// ops::ResolveWindow, as for the cpu, so both providers agree on output shapes by construction.
// cuDNN takes symmetric padding only; an asymmetric one (SAME_* with an even total, explicit
// pads) is applied first by a padding kernel. The pools run on an own kernel rather than cuDNN
// pooling, which has neither ceil_mode, dilations nor asymmetric padding, and whose
// exclude-padding average counts differently at the end padding than ONNX does.
#include <array>
#include <climits>
#include <cmath>
#include <compare>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ops/activation_kind.h"
#include "ops/window.h"
#include "providers/cuda/cuda_common.h"
#include "providers/cuda/kernels.h"
#include "providers/cuda/ops.h"

namespace supernova::providers::cuda {
namespace {

// Largest cuDNN workspace a convolution may take; algorithms wanting more are passed over.
constexpr size_t kMaxWorkspace = size_t{256} << 20;

// Owners of cuDNN descriptors. Made once per input shape of a node (ConvPlan) and only read
// after that; not copyable, since each destroys its handle.
class TensorDesc {
 public:
  TensorDesc() = default;
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  ~TensorDesc() {
    if (d_) (void)cudnnDestroyTensorDescriptor(d_);
  }
  Status Init(const std::string& label, const std::array<int, 4>& dims) {
    SN_CUDNN_CHECK(label, cudnnCreateTensorDescriptor(&d_));
    SN_CUDNN_CHECK(label, cudnnSetTensor4dDescriptor(d_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                     dims[0], dims[1], dims[2], dims[3]));
    return Status::Ok();
  }
  cudnnTensorDescriptor_t get() const { return d_; }

 private:
  cudnnTensorDescriptor_t d_ = nullptr;
};

class FilterDesc {
 public:
  FilterDesc() = default;
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
  ~FilterDesc() {
    if (d_) (void)cudnnDestroyFilterDescriptor(d_);
  }
  Status Init(const std::string& label, const std::array<int, 4>& dims) {
    SN_CUDNN_CHECK(label, cudnnCreateFilterDescriptor(&d_));
    SN_CUDNN_CHECK(label, cudnnSetFilter4dDescriptor(d_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                                     dims[0], dims[1], dims[2], dims[3]));
    return Status::Ok();
  }
  cudnnFilterDescriptor_t get() const { return d_; }

 private:
  cudnnFilterDescriptor_t d_ = nullptr;
};

class ConvDesc {
 public:
  ConvDesc() = default;
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
  ~ConvDesc() {
    if (d_) (void)cudnnDestroyConvolutionDescriptor(d_);
  }
  Status Init(const std::string& label, const std::array<int, 2>& pad,
              const std::array<int, 2>& stride, const std::array<int, 2>& dilation, int group) {
    SN_CUDNN_CHECK(label, cudnnCreateConvolutionDescriptor(&d_));
    // ONNX's Conv is a cross-correlation (no kernel flip).
    SN_CUDNN_CHECK(label, cudnnSetConvolution2dDescriptor(
                              d_, pad[0], pad[1], stride[0], stride[1], dilation[0], dilation[1],
                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    SN_CUDNN_CHECK(label, cudnnSetConvolutionGroupCount(d_, group));
    // FMA only: on Ampere and later the default lets float32 convolutions run in TF32, whose
    // 10-bit mantissa would make this provider disagree with the cpu one by ~1e-3.
    SN_CUDNN_CHECK(label, cudnnSetConvolutionMathType(d_, CUDNN_FMA_MATH));
    return Status::Ok();
  }
  cudnnConvolutionDescriptor_t get() const { return d_; }

 private:
  cudnnConvolutionDescriptor_t d_ = nullptr;
};

// Dims as cuDNN's ints, failing on anything that does not fit.
Status ToInts(const OpContext& ctx, const std::vector<int64_t>& v, int* out) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 0 || v[i] > INT_MAX) return ctx.Error("dim too large for cuDNN");
    out[i] = static_cast<int>(v[i]);
  }
  return Status::Ok();
}

// The activation a FusedConv applies (ops::FusedActivation), as the epilogue kernel's op.
Result<kernels::UnaryParams> FusedActivation(const ir::Node& n) {
  using kernels::UnaryOp;
  const std::optional<ops::Activation> a = ops::FusedActivation(n);
  if (!a)
    return Status::Unimplemented(n.Label() + ": activation " + n.AttrString("activation", ""));
  kernels::UnaryParams f;
  switch (a->kind) {
    case ops::ActivationKind::kNone:
      f.op = UnaryOp::kIdentity;
      break;
    case ops::ActivationKind::kRelu:
      f.op = UnaryOp::kRelu;
      break;
    case ops::ActivationKind::kLeakyRelu:
      f.op = UnaryOp::kLeakyRelu;
      f.alpha = a->param(0, 0.01f);
      break;
    case ops::ActivationKind::kClip:
      // Absent bounds are infinite, as in the cpu FusedConv.
      f.op = UnaryOp::kClip;
      f.alpha = a->param(0, -INFINITY);
      f.beta = a->param(1, INFINITY);
      break;
    case ops::ActivationKind::kSigmoid:
      f.op = UnaryOp::kSigmoid;
      break;
    case ops::ActivationKind::kHardSigmoid:
      f.op = UnaryOp::kHardSigmoid;
      f.alpha = a->param(0, 0.2f);
      f.beta = a->param(1, 0.5f);
      break;
    case ops::ActivationKind::kHardSwish:
      f.op = UnaryOp::kHardSwish;
      break;
    case ops::ActivationKind::kTanh:
      f.op = UnaryOp::kTanh;
      break;
  }
  return f;
}

// Everything cuDNN is told about one convolution, as its ints: the key of a node's plans.
struct ConvShape {
  std::array<int, 4> x{}, w{}, y{};  // x after any explicit padding
  std::array<int, 2> pad{}, stride{}, dilation{};
  int group = 1;
  auto operator<=>(const ConvShape&) const = default;
};

// What cuDNN needs to run a node's convolution at one shape: the descriptors and the algorithm.
// Made on the first run of the shape, then only read, by any number of runs at once (cuDNN
// forbids sharing a handle between threads, not a descriptor; each run brings its own handle).
struct ConvPlan {
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  size_t workspace = 0;
};

// Plans a node keeps; a node fed ever new shapes builds the rest per run instead of growing.
constexpr size_t kMaxPlansPerNode = 64;

class ConvOp final : public CudaOp {
 public:
  ConvOp(const ir::Node& node, int64_t opset, kernels::UnaryParams act, bool fused)
      : node_(node), opset_(opset), act_(act), fused_(fused) {}

  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* x, ctx.In(0));
    SN_ASSIGN_OR_RETURN(const Tensor* w, ctx.In(1));
    const Tensor* bias = nullptr;
    const Tensor* z = nullptr;
    if (ctx.input(2)) {
      SN_ASSIGN_OR_RETURN(bias, ctx.In(2));
    }
    if (fused_ && ctx.input(3)) {
      SN_ASSIGN_OR_RETURN(z, ctx.In(3));
    }
    if (x->rank() != 3 && x->rank() != 4)
      return ctx.Error("X must be 3-D or 4-D, got " + ShapeToString(x->shape()));
    if (w->rank() != x->rank())
      return ctx.Error("W " + ShapeToString(w->shape()) + " and X " + ShapeToString(x->shape()) +
                       " differ in rank");
    const int64_t n = x->dim(0), c_in = x->dim(1), m_out = w->dim(0);
    const int64_t group = node_.AttrInt("group", 1);
    if (group <= 0 || c_in % group != 0 || w->dim(1) * group != c_in || m_out % group != 0)
      return ctx.Error("group " + std::to_string(group) + " does not fit X " +
                       ShapeToString(x->shape()) + " and W " + ShapeToString(w->shape()));
    if (bias && (bias->rank() != 1 || bias->dim(0) != m_out))
      return ctx.Error("B must have shape [" + std::to_string(m_out) + "], got " +
                       ShapeToString(bias->shape()));

    const std::vector<int64_t> in_dims(x->shape().begin() + 2, x->shape().end());
    const std::vector<int64_t> w_dims(w->shape().begin() + 2, w->shape().end());
    const std::vector<int64_t> kernel = node_.AttrInts("kernel_shape", w_dims);
    if (kernel != w_dims)
      return ctx.Error("kernel_shape " + ShapeToString(kernel) + " differs from W " +
                       ShapeToString(w->shape()));
    ops::WindowGeometry g;
    SN_RETURN_IF_ERROR(ops::ResolveWindow(node_, in_dims, kernel, false, &g));
    Shape yshape = {n, m_out};
    for (int64_t o : g.out) yshape.push_back(o);
    if (z && z->shape() != yshape)
      return ctx.Error("Z " + ShapeToString(z->shape()) + " must have Y's shape " +
                       ShapeToString(yshape));
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(yshape));
    if (y.numel() == 0) {
      ctx.outputs[0] = std::move(y);
      return Status::Ok();
    }
    if (x->numel() == 0) {
      // No input channels: the sums are empty, Y is the bias (and residual, activation).
      SN_CUDA_CHECK(ctx.label, cudaMemsetAsync(y.raw_data(), 0, y.nbytes(), ctx.stream));
      SN_CUDA_CHECK(ctx.label, kernels::BiasResidualActivation(
                                   y.data<float>(), bias ? bias->data<float>() : nullptr,
                                   z ? z->data<float>() : nullptr, n, m_out,
                                   y.numel() / (n * m_out), act_, ctx.stream));
      ctx.outputs[0] = std::move(y);
      return Status::Ok();
    }
    g.PadToRank(2);  // a 1-D convolution is a 2-D one over a height of 1

    // cuDNN pads symmetrically; otherwise pad explicitly and convolve unpadded.
    const float* xp = x->data<float>();
    std::vector<int64_t> xdims = {n, c_in, g.in[0], g.in[1]};
    std::array<int, 2> pad = {0, 0};
    Tensor padded;
    if (g.pad_begin == g.pad_end) {
      SN_RETURN_IF_ERROR(ToInts(ctx, g.pad_begin, pad.data()));
    } else {
      kernels::PadDims d;
      d.rank = 4;
      for (int k = 0; k < 4; ++k) d.in[k] = xdims[static_cast<size_t>(k)];
      for (int k = 0; k < 2; ++k) {
        d.begin[2 + k] = g.pad_begin[static_cast<size_t>(k)];
        xdims[static_cast<size_t>(2 + k)] +=
            g.pad_begin[static_cast<size_t>(k)] + g.pad_end[static_cast<size_t>(k)];
      }
      for (int k = 0; k < 4; ++k) d.out[k] = xdims[static_cast<size_t>(k)];
      SN_ASSIGN_OR_RETURN(padded, ctx.NewTensor(xdims));
      SN_CUDA_CHECK(ctx.label, kernels::PadConstant(xp, padded.data<float>(), padded.numel(), d,
                                                    0.0f, ctx.stream));
      xp = padded.data<float>();
    }
    // The legacy cuDNN API indexes with 32-bit ints.
    for (int64_t count : {x->numel(), w->numel(), y.numel(), padded.numel()})
      if (count > INT_MAX) return ctx.Error("tensor too large for cuDNN");

    ConvShape shape;
    shape.pad = pad;
    shape.group = static_cast<int>(group);
    SN_RETURN_IF_ERROR(ToInts(ctx, xdims, shape.x.data()));
    SN_RETURN_IF_ERROR(ToInts(ctx, {m_out, w->dim(1), g.kernel[0], g.kernel[1]}, shape.w.data()));
    SN_RETURN_IF_ERROR(ToInts(ctx, {n, m_out, g.out[0], g.out[1]}, shape.y.data()));
    SN_RETURN_IF_ERROR(ToInts(ctx, g.strides, shape.stride.data()));
    SN_RETURN_IF_ERROR(ToInts(ctx, g.dilations, shape.dilation.data()));
    std::unique_ptr<ConvPlan> unkept;
    SN_ASSIGN_OR_RETURN(const ConvPlan* plan, Plan(ctx, shape, &unkept));
    Tensor workspace;
    if (plan->workspace > 0) {
      SN_ASSIGN_OR_RETURN(workspace, ctx.NewTensor({static_cast<int64_t>(
                                         (plan->workspace + sizeof(float) - 1) / sizeof(float))}));
    }
    const float one = 1.0f, zero = 0.0f;
    SN_CUDNN_CHECK(ctx.label,
                   cudnnConvolutionForward(ctx.cudnn, &one, plan->x.get(), xp, plan->w.get(),
                                           w->data<float>(), plan->conv.get(), plan->algo,
                                           workspace.defined() ? workspace.raw_data() : nullptr,
                                           plan->workspace, &zero, plan->y.get(), y.data<float>()));
    if (bias || z || act_.op != kernels::UnaryOp::kIdentity) {
      SN_CUDA_CHECK(ctx.label, kernels::BiasResidualActivation(
                                   y.data<float>(), bias ? bias->data<float>() : nullptr,
                                   z ? z->data<float>() : nullptr, n, m_out, g.out[0] * g.out[1],
                                   act_, ctx.stream));
    }
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  // The plan for `shape`: the node's own when it has one, else made now (descriptors, a check
  // of the output shape, cuDNN's heuristic choice of algorithm: no benchmarking, so the first
  // run of a shape stays cheap) and kept, or, past kMaxPlansPerNode, handed to the caller in
  // `unkept` for this run alone.
  Result<const ConvPlan*> Plan(const OpContext& ctx, const ConvShape& shape,
                               std::unique_ptr<ConvPlan>* unkept) const {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = plans_.find(shape);
      if (it != plans_.end()) return it->second.get();
    }
    // Made outside the lock: the algorithm query takes a while, and two runs making the same
    // plan at once is harmless (the second is dropped below).
    auto plan = std::make_unique<ConvPlan>();
    SN_RETURN_IF_ERROR(plan->x.Init(ctx.label, shape.x));
    SN_RETURN_IF_ERROR(plan->w.Init(ctx.label, shape.w));
    SN_RETURN_IF_ERROR(plan->y.Init(ctx.label, shape.y));
    SN_RETURN_IF_ERROR(
        plan->conv.Init(ctx.label, shape.pad, shape.stride, shape.dilation, shape.group));
    // The geometry is ours; cuDNN must agree with it or the output would be misread.
    std::array<int, 4> check;
    SN_CUDNN_CHECK(ctx.label, cudnnGetConvolution2dForwardOutputDim(
                                  plan->conv.get(), plan->x.get(), plan->w.get(), &check[0],
                                  &check[1], &check[2], &check[3]));
    if (check != shape.y)
      return Status::Internal(ctx.label + ": cuDNN computes another output shape than ONNX");
    SN_RETURN_IF_ERROR(ChooseAlgorithm(ctx, plan.get()));

    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = plans_.find(shape); it != plans_.end()) return it->second.get();
    if (plans_.size() >= kMaxPlansPerNode) {
      *unkept = std::move(plan);
      return unkept->get();
    }
    return plans_.emplace(shape, std::move(plan)).first->second.get();
  }

  static Status ChooseAlgorithm(const OpContext& ctx, ConvPlan* plan) {
    std::array<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT> perf{};
    int returned = 0;
    SN_CUDNN_CHECK(ctx.label,
                   cudnnGetConvolutionForwardAlgorithm_v7(
                       ctx.cudnn, plan->x.get(), plan->w.get(), plan->conv.get(), plan->y.get(),
                       static_cast<int>(perf.size()), &returned, perf.data()));
    for (int i = 0; i < returned; ++i) {
      const cudnnConvolutionFwdAlgoPerf_t& p = perf[static_cast<size_t>(i)];
      const bool tensor_ops =
          p.mathType == CUDNN_TENSOR_OP_MATH || p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
      if (p.status == CUDNN_STATUS_SUCCESS && !tensor_ops && p.memory <= kMaxWorkspace) {
        plan->algo = p.algo;
        plan->workspace = p.memory;
        return Status::Ok();
      }
    }
    // Implicit GEMM takes every shape and group count; ask for its workspace all the same.
    plan->algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    SN_CUDNN_CHECK(ctx.label, cudnnGetConvolutionForwardWorkspaceSize(
                                  ctx.cudnn, plan->x.get(), plan->w.get(), plan->conv.get(),
                                  plan->y.get(), plan->algo, &plan->workspace));
    return Status::Ok();
  }

  const ir::Node node_;  // a copy: the compiled piece may outlive the graph it came from
  const int64_t opset_;
  const kernels::UnaryParams act_;
  const bool fused_;  // FusedConv: input 3 is the residual Z
  mutable std::mutex mu_;
  // By shape; a plan, once in, is never changed or removed while the op lives.
  mutable std::map<ConvShape, std::unique_ptr<const ConvPlan>> plans_;  // GUARDED_BY(mu_)
};

class BatchNormOp final : public CudaOp {
 public:
  explicit BatchNormOp(float epsilon) : epsilon_(epsilon) {}
  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* x, ctx.In(0));
    const Tensor* p[4];
    for (size_t i = 0; i < 4; ++i) {
      SN_ASSIGN_OR_RETURN(p[i], ctx.In(i + 1));
    }
    if (x->rank() < 2) return ctx.Error("X must have rank >= 2, got " + ShapeToString(x->shape()));
    const int64_t c = x->dim(1);
    for (const Tensor* t : p)
      if (t->numel() != c)
        return ctx.Error("scale, B, mean and var must have " + std::to_string(c) +
                         " elements, got " + ShapeToString(t->shape()));
    int64_t inner = 1;
    for (size_t i = 2; i < x->rank(); ++i) inner *= x->dim(i);
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(x->shape()));
    SN_CUDA_CHECK(ctx.label,
                  kernels::BatchNorm(x->data<float>(), p[0]->data<float>(), p[1]->data<float>(),
                                     p[2]->data<float>(), p[3]->data<float>(), epsilon_,
                                     y.data<float>(), x->dim(0), c, inner, ctx.stream));
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  const float epsilon_;
};

class PoolOp final : public CudaOp {
 public:
  PoolOp(const ir::Node& node, int64_t opset, bool is_max)
      : node_(node), opset_(opset), is_max_(is_max) {}
  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* x, ctx.In(0));
    if (x->rank() < 3 || x->rank() > 5)
      return ctx.Error("X must have rank 3 to 5, got " + ShapeToString(x->shape()));
    const std::vector<int64_t> in_dims(x->shape().begin() + 2, x->shape().end());
    ops::WindowGeometry g;
    SN_RETURN_IF_ERROR(ops::ResolveWindow(node_, in_dims, node_.AttrInts("kernel_shape"),
                                          node_.AttrInt("ceil_mode", 0) != 0, &g));
    Shape yshape = {x->dim(0), x->dim(1)};
    for (int64_t o : g.out) yshape.push_back(o);
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(yshape));
    g.PadToRank(3);
    kernels::PoolGeometry pg;
    for (size_t a = 0; a < 3; ++a) {
      pg.in[a] = g.in[a];
      pg.out[a] = g.out[a];
      pg.kernel[a] = g.kernel[a];
      pg.stride[a] = g.strides[a];
      pg.dilation[a] = g.dilations[a];
      pg.pad_begin[a] = g.pad_begin[a];
      pg.pad_end[a] = g.pad_end[a];
    }
    const int64_t planes = x->dim(0) * x->dim(1);
    if (is_max_) {
      SN_CUDA_CHECK(ctx.label,
                    kernels::MaxPool(x->data<float>(), y.data<float>(), planes, pg, ctx.stream));
    } else {
      SN_CUDA_CHECK(ctx.label,
                    kernels::AveragePool(x->data<float>(), y.data<float>(), planes, pg,
                                         node_.AttrInt("count_include_pad", 0) != 0, ctx.stream));
    }
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  const ir::Node node_;
  const int64_t opset_;
  const bool is_max_;
};

class GlobalPoolOp final : public CudaOp {
 public:
  explicit GlobalPoolOp(kernels::ReduceOp op) : op_(op) {}
  Status Run(OpContext& ctx) const override {
    SN_ASSIGN_OR_RETURN(const Tensor* x, ctx.In(0));
    if (x->rank() < 3)
      return ctx.Error("X must have rank >= 3 (N, C, spatial...), got " +
                       ShapeToString(x->shape()));
    Shape yshape = x->shape();
    int64_t plane = 1;
    for (size_t i = 2; i < yshape.size(); ++i) {
      plane *= yshape[i];
      yshape[i] = 1;
    }
    const int64_t planes = x->dim(0) * x->dim(1);
    if (plane == 0 && planes > 0) return ctx.Error("global pooling over an empty spatial extent");
    SN_ASSIGN_OR_RETURN(Tensor y, ctx.NewTensor(yshape));
    SN_CUDA_CHECK(ctx.label, kernels::ReduceRows(x->data<float>(), y.data<float>(), planes, plane,
                                                 op_, ctx.stream));
    ctx.outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  const kernels::ReduceOp op_;
};

}  // namespace

Result<std::unique_ptr<CudaOp>> MakeDnnOp(const ir::Graph& g, const ir::Node& n) {
  const std::string& op = n.op_type;
  const int64_t opset = g.Opset();
  if (op == "Conv")
    return std::unique_ptr<CudaOp>(new ConvOp(n, opset, kernels::UnaryParams{}, false));
  if (op == "FusedConv") {
    SN_ASSIGN_OR_RETURN(kernels::UnaryParams act, FusedActivation(n));
    // The Conv attributes are read as of the default domain's opset, as the cpu kernel does.
    return std::unique_ptr<CudaOp>(new ConvOp(n, opset, act, true));
  }
  if (op == "BatchNormalization")
    return std::unique_ptr<CudaOp>(new BatchNormOp(n.AttrFloat("epsilon", 1e-5f)));
  if (op == "MaxPool") return std::unique_ptr<CudaOp>(new PoolOp(n, opset, true));
  if (op == "AveragePool") return std::unique_ptr<CudaOp>(new PoolOp(n, opset, false));
  if (op == "GlobalAveragePool")
    return std::unique_ptr<CudaOp>(new GlobalPoolOp(kernels::ReduceOp::kMean));
  if (op == "GlobalMaxPool")
    return std::unique_ptr<CudaOp>(new GlobalPoolOp(kernels::ReduceOp::kMax));
  return Status::Unimplemented("cuda: no dnn op " + op);
}

}  // namespace supernova::providers::cuda

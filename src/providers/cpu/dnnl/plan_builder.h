// The compiler of a region's plan (region_builder.h): the plan machinery in region_builder.cc
// (values and the buffers holding them, layout conversions, post-op fusion, lifetimes,
// outputs), one compiler per op type in op_compilers.cc (one oneDNN primitive, or two, per
// node; or a step of our own), the convolutions in conv_compilers.cc, the matmul-based ones
// in matmul_compilers.cc, the recurrent ones in recurrent_compiler.cc, and the int8 side of
// QDQ models in quant_compilers.cc.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "ops/activation_kind.h"
#include "ops/kernel.h"
#include "ops/resampling.h"
#include "providers/cpu/dnnl/region_builder.h"

namespace supernova::cpu::dnnl_ops {

using dnnl::memory;
using Buffer = Region::Plan::Buffer;
using Kind = Region::Plan::Buffer::Kind;
using FormatTag = memory::format_tag;

inline constexpr auto kF32 = memory::data_type::f32;

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

// The oneDNN form of an activation (HardSigmoid needs two steps).
std::vector<Eltwise> ActivationSteps(const ops::Activation& a);
// Whether `steps` hold a HardSwish, which may not be a post-op where HardSwishPostOpBroken().
bool HasHardSwish(const std::vector<Eltwise>& steps);
// Whether a post-op of the chain is an eltwise of `alg`. oneDNN 2.6 runs a second eltwise
// post-op of one algorithm with the first one's parameters: an int8 convolution with
// HardSigmoid's linear(0.2, 0.5) and clip, then the quantization's linear(1 / scale, zero),
// wrote 0.2 y + 0.5 quantized (jit_int8:avx512_core_vnni), and on brgconv:avx512_core
// linear(2, 0) then linear(1, 1) gave 4x, not 2x + 1. An algorithm appears once in a chain.
bool HasEltwise(const dnnl::post_ops& po, dnnl::algorithm alg);
// The oneDNN form of an element-wise node of `g`: its activation (ops::ActivationOf), or one
// of oneDNN's other algorithms that compute an ONNX op exactly (Elu, Exp, Log, Abs, Sqrt,
// Neg); nullopt otherwise. What a region takes and how it runs it, from one place.
std::optional<std::vector<Eltwise>> EltwiseOf(const ir::Graph& g, const ir::Node& n);

// Compiles the nodes of one region, in order, into a Region::Plan (see BuildPlan).
class PlanBuilder {
 public:
  PlanBuilder(const ir::Graph& graph, const std::vector<const ir::Node*>& nodes,
              const std::vector<std::string>& outputs,
              const std::map<std::string, Tensor>& constants, Region::Plan* plan, bool bf16);
  void AddNodeAt(size_t k);
  void AddInput(const std::string& name, int index, const Tensor& t);
  void AddNode(const ir::Node& n);
  void Finish(const std::vector<std::string>& outputs);
  // The tensor type of a buffer's elements (ExecutePlan allocates the outputs with it).
  static DataType TensorType(memory::data_type type);

 private:
  struct Value {
    Shape shape;
    int buffer = -1;  // the buffer its producer wrote
    // The value is the integers themselves (QuantizeLinear's output), not the real numbers a
    // quantized buffer stands for (DequantizeLinear's output, which shares the bytes).
    bool integer = false;
  };

  // How a buffer of 8-bit integers stands for real numbers: real = scale * (q - zero), or
  // with a scale per channel (axis 1), real = channel[c] * q (zero points 0).
  struct Quant {
    float scale = 1.f;
    int32_t zero = 0;
    std::vector<float> channel;
    bool operator==(const Quant&) const = default;
    // The scale of channel c.
    float ScaleOf(size_t c) const { return channel.empty() ? scale : channel[c]; }
  };
  // DequantizeLinear of a constant (an int8 weight, an int32 bias): the integers with their
  // scales and zero points, one per slice along `axis` or one for all.
  struct QuantConstant {
    Tensor data;
    std::vector<float> scales;
    std::vector<int32_t> zeros;
    int64_t axis = 0;
  };
  // What an int8 primitive needs of its data input and weight: the source's integer type and
  // zero point, the weight's integers, and the output scales (source scale times weight
  // scale, per output channel when the weight has several).
  struct Int8Operands {
    memory::data_type src_type;
    int32_t src_zero = 0;
    const QuantConstant* weight = nullptr;
    std::vector<float> scales;
  };
  // The QuantizeLinear a primitive's output feeds alone: the primitive writes its integers.
  struct QuantizedDst {
    std::string output;  // the QuantizeLinear's output
    memory::data_type type;
    Quant quant;
  };

  // Element-wise work after a convolution that its primitive applies as post-ops while the
  // output is still in registers: the nodes that follow it in a chain, each the only reader of
  // the value before (activations; Add/Sub/Mul/Div by a scalar or per-channel constant; one
  // Add of a same-shaped value already computed, as a sum).
  struct Tail {
    dnnl::post_ops post_ops;
    std::string output;                     // the value the primitive's dst becomes
    std::string sum_value;                  // the value a sum post-op adds (empty: none)
    size_t last_node = 0;                   // the last node of nodes_ the primitive computes
    std::vector<std::pair<int, int>> args;  // binary post-op operands
  };

  // The plan machinery (region_builder.cc).
  int NewBuffer(Buffer b);
  int ConstantBuffer(const Tensor& t, const memory::desc& md);
  const Tensor* Constant(const std::string& name) const;
  const Value& Get(const std::string& name);
  memory::desc DescOf(int buffer) const;
  // The layout of `buffer` holding float: a quantized buffer's real numbers after a reorder.
  memory::desc RealDesc(int buffer) const { return Retyped(DescOf(buffer), kF32); }
  int In(const std::string& name, const memory::desc& md);
  int Convert(int buffer, const memory::desc& md);
  int Out(const std::string& name, const Shape& shape, const memory::desc& md);
  int PackedConstant(const std::string& name, const memory::desc& md,
                     const memory::desc& packed_md);
  int ConstantVector(const std::string& name, int64_t expected);
  void AddStep(dnnl::primitive p, std::vector<std::pair<int, int>> args, size_t scratch,
               std::vector<std::pair<int, memory::desc>> views = {});
  void AddHostStep(Region::Plan::HostFn fn, std::vector<std::pair<int, int>> args);
  void AddReorder(int from, int to);
  static dnnl::primitive_attr Attr();
  int Alias(int buffer, const memory::desc& md);
  bool Overwritable(const std::string& name, const memory::desc& md, int src, size_t last_node);
  static std::optional<FormatTag> TagOf(const memory::desc& md);
  void ComputeLifetimes();
  Tail CollectTail(const std::string& first_output, const Shape& out, bool has_sum,
                   dnnl::post_ops base, const memory::desc* binary_residual = nullptr);
  void AddResidual(const std::string& residual, const memory::desc& layout, dnnl::post_ops* po,
                   std::vector<std::pair<int, int>>* args);
  const Quant* QuantOf(int buffer) const;
  static memory::desc Retyped(const memory::desc& md, memory::data_type type);

  // The op compilers (op_compilers.cc, conv_compilers.cc).
  KernelContext Ctx(const ir::Node& n) const;
  static memory::dims Minus1(const std::vector<int64_t>& v);
  void Transpose(const ir::Node& n);
  void Conv(const ir::Node& n);
  void ConvTranspose(const ir::Node& n);
  void StridedTiles(const ir::Node& n, const Value& x, const Tensor& w, int64_t m,
                    const std::vector<int64_t>& kernel, const Shape& out, bool has_bias);
  void BatchNorm(const ir::Node& n);
  void Pool(const ir::Node& n);
  void Lrn(const ir::Node& n);
  void Unary(const ir::Node& n);
  void EltwiseSteps(const ir::Node& n, const Value& x, const std::vector<Eltwise>& steps);
  std::optional<Eltwise> ScalarForm(const std::string& op, float c, bool c_first) const;
  void Binary(const ir::Node& n);
  void Concat(const ir::Node& n);
  void Resize(const ir::Node& n);
  static bool OneDnnResamples(const ops::resampling::ResizeParams& p, const Shape& in);
  // With `to` (ResizesIntegers), x's integers are resized into those of that quantization.
  void PixelResize(const ir::Node& n, const Value& x, const ops::resampling::ResizeParams& p,
                   const std::optional<Quant>& to);
  std::optional<Quant> ResizesIntegers(const ir::Node& n, const Value& x, const Shape& out);
  static memory::desc ConvDst(const Shape& out);
  static memory::desc ChannelsLast(const Shape& shape, memory::data_type type);
  static memory::desc PlainView(const Shape& shape, size_t rank);  // matmul_compilers.cc
  void MatMul(const ir::Node& n);
  void Gemm(const ir::Node& n);
  void DynamicQuantMatMul(const ir::Node& n);
  void Softmax(const ir::Node& n);
  void Pad(const ir::Node& n);
  void Recurrent(const ir::Node& n);  // recurrent_compiler.cc

  // The int8 side (quant_compilers.cc).
  void Quantize(const ir::Node& n);
  void Dequantize(const ir::Node& n);
  // A source with a scale per channel is taken where each output channel reads one input
  // channel (`depthwise`): its scales join the weight's.
  std::optional<Int8Operands> Int8Inputs(const Value& x, const std::string& w, int64_t channels,
                                         int64_t axis, bool depthwise = false) const;
  const ir::Node* OnlyQuantizer(const std::string& value);
  // The quantization OnlyQuantizer's node gives `value` (of `shape`) where it has one scale
  // and zero point, with the integer type it writes; nullopt otherwise.
  std::optional<QuantizedDst> OnlyQuantization(const std::string& value, const Shape& shape);
  bool QuantizedFromZero(const std::string& value);
  static void Int8Attr(const Int8Operands& q8, int channel_dim, dnnl::primitive_attr* attr);
  // `shape`: the result's, where a scale per channel (axis 1) may be applied as a post-op.
  std::optional<QuantizedDst> QuantizeAfter(Tail& tail, bool has_sum, const Shape* shape = nullptr);
  Quant ActivationQuant(const ir::Node& n, const Shape& shape) const;
  memory::data_type QuantizedType(const ir::Node& n) const;
  Tensor Int8Bias(const std::string& name, const std::vector<float>& scales, int64_t m) const;
  // The bias buffer of a convolution with `m` outputs: float, or divided by the int8 output
  // scales (Int8Bias) when `q8` holds its int8 operands.
  int ConvBias(const std::string& name, const std::optional<Int8Operands>& q8,
               const memory::desc& bias_md, int64_t m);
  int Int8Weight(const QuantConstant& w, const memory::desc& md, const memory::desc& packed_md);
  int QuantizedOut(const QuantizedDst& q, const Shape& out, const memory::desc& md);
  // How a primitive writing `output` (read by one QuantizeLinear alone) adds `residual` as a
  // sum of integers into its quantized result (the residual's scale and zero point), where
  // the residual is quantized, `activation` keeps the quantization a post-op of its own, and
  // oneDNN has a kernel for it (`impl` names the one it would pick for those attributes and
  // destination, or throws); nullopt otherwise.
  using ImplOf = std::function<std::string(const dnnl::primitive_attr&, const memory::desc& dst)>;
  std::optional<Quant> QuantizedSum(const std::string& output, const std::string& residual,
                                    const Shape& out, const std::vector<Eltwise>& activation,
                                    const ImplOf& impl, const Int8Operands& q8,
                                    const memory::desc& dst_md);
  // The destination of such a primitive: the residual's own buffer where nothing reads the
  // residual afterwards, else a new one holding a copy of its integers.
  int QuantizedSumOut(const QuantizedDst& q, const std::string& residual, const Shape& out,
                      const memory::desc& md, int src, size_t last_node);
  void AddCopy(int from, int to);  // the bytes as they are, whatever they stand for

  const ir::Graph& graph_;
  const std::vector<const ir::Node*>& nodes_;
  const std::map<std::string, Tensor>& constants_;
  Region::Plan* plan_;
  // What float convolutions and products with constant weights read their operands as: f32,
  // or bf16 (results stay f32, so every other primitive is untouched).
  const memory::data_type compute_;
  std::unordered_map<std::string, int> uses_;  // reads of each value, graph-wide and after
  std::set<size_t> absorbed_;                  // nodes compiled into an earlier primitive
  size_t pos_ = 0;                             // the node being compiled
  std::unordered_map<std::string, Value> values_;
  std::map<std::pair<int, std::string>, int> converted_;
  std::set<int> handed_out_;
  std::unordered_set<std::string> outputs_;               // read after the region
  std::unordered_map<std::string, size_t> last_read_;     // the last node in nodes_ reading it
  std::unordered_map<int, Quant> quant_;                  // buffers of integers: their meaning
  std::map<std::string, QuantConstant> quant_constants_;  // DequantizeLinear of constants
  std::map<std::string, Tensor> dequantized_;             // ...and their float values
};

}  // namespace supernova::cpu::dnnl_ops

// The cuda provider's op table and its Supports() checks.
#include "providers/cuda/supports.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "ops/activation_kind.h"

namespace supernova::providers::cuda {
namespace {

constexpr int64_t kAxesInputOpset13 = 13;  // Squeeze, Unsqueeze: axes become an input
constexpr int64_t kAxesInputOpset18 = 18;  // ReduceMean: axes become an input

using Check = Support (*)(const ir::Graph&, const ir::Node&);

struct OpEntry {
  std::string_view domain;  // "" is ONNX's default domain
  std::string_view op_type;
  OpFactory factory;
  // Inputs read on the host at compile time (shape, axes, bounds): must be initializers.
  // Bit i set: input i. Every other input and every output is float32 device data.
  uint32_t host_inputs;
  Check check;  // attribute limits; nullptr when there are none
};

std::string Name(const ir::Node& n) { return n.op_type; }

// Rank of a value when known (from its type or, for an initializer, its tensor); -1 if not.
int64_t RankOf(const ir::Graph& g, const std::string& value) {
  auto it = g.initializers.find(value);
  if (it != g.initializers.end()) return static_cast<int64_t>(it->second.rank());
  const ir::ValueType* t = g.TypeOf(value);
  if (t && t->dims) return static_cast<int64_t>(t->dims->size());
  return -1;
}

DataType DtypeOf(const ir::Graph& g, const std::string& value) {
  auto it = g.initializers.find(value);
  if (it != g.initializers.end()) return it->second.dtype();
  const ir::ValueType* t = g.TypeOf(value);
  return t ? t->dtype : DataType::kUndefined;
}

bool KnownAutoPad(const ir::Node& n) {
  const std::string p = n.AttrString("auto_pad", "NOTSET");
  return p.empty() || p == "NOTSET" || p == "VALID" || p == "SAME_UPPER" || p == "SAME_LOWER";
}

Support CheckConv(const ir::Graph& g, const ir::Node& n) {
  if (!KnownAutoPad(n)) return Support::No(Name(n) + ": auto_pad " + n.AttrString("auto_pad", ""));
  int64_t rank = n.inputs.empty() ? -1 : RankOf(g, n.inputs[0]);
  if (rank < 0 && n.inputs.size() > 1) rank = RankOf(g, n.inputs[1]);
  if (rank < 0 && n.HasAttr("kernel_shape"))
    rank = static_cast<int64_t>(n.AttrInts("kernel_shape").size()) + 2;
  if (rank < 0) return Support::No(Name(n) + ": rank unknown");
  if (rank == 5) return Support::No(Name(n) + ": 3-D kernels");
  if (rank < 3 || rank > 5) return Support::No(Name(n) + ": rank " + std::to_string(rank));
  if (n.op_type == "FusedConv" && !ops::FusedActivation(n))
    return Support::No("FusedConv: activation " + n.AttrString("activation", ""));
  return Support::Yes();
}

Support CheckPool(const ir::Graph& g, const ir::Node& n) {
  if (!KnownAutoPad(n)) return Support::No(Name(n) + ": auto_pad " + n.AttrString("auto_pad", ""));
  if (n.outputs.size() > 1 && !n.outputs[1].empty())
    return Support::No(Name(n) + ": Indices output");
  if (!n.HasAttr("kernel_shape")) return Support::No(Name(n) + ": no kernel_shape");
  const size_t k = n.AttrInts("kernel_shape").size();
  if (k < 1 || k > 3) return Support::No(Name(n) + ": " + std::to_string(k) + "-D window");
  const int64_t rank = RankOf(g, n.inputs[0]);
  if (rank >= 0 && rank != static_cast<int64_t>(k) + 2)
    return Support::No(Name(n) + ": rank " + std::to_string(rank));
  return Support::Yes();
}

Support CheckBroadcast(const ir::Graph& g, const ir::Node& n) {
  if ((n.op_type == "Max" || n.op_type == "Min") && n.NumInputs() != 2)
    return Support::No(Name(n) + ": " + std::to_string(n.NumInputs()) + " inputs");
  for (const std::string& v : n.inputs)
    if (RankOf(g, v) > 6) return Support::No(Name(n) + ": rank above 6");
  return Support::Yes();
}

Support CheckBatchNorm(const ir::Graph& g, const ir::Node& n) {
  if (n.AttrInt("training_mode", 0) != 0) return Support::No("BatchNormalization: training_mode");
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty()) return Support::No("BatchNormalization: training outputs");
  if (g.Opset() < 9 && n.AttrInt("spatial", 1) == 0)
    return Support::No("BatchNormalization: spatial=0");
  if (n.NumInputs() != 5) return Support::No("BatchNormalization: needs 5 inputs");
  return Support::Yes();
}

Support CheckTranspose(const ir::Graph& g, const ir::Node& n) {
  if (RankOf(g, n.inputs[0]) > 6) return Support::No("Transpose: rank above 6");
  return Support::Yes();
}

Support CheckReduceMean(const ir::Graph& g, const ir::Node& n) {
  std::vector<int64_t> axes;
  bool given = false;
  if (Status s = ReadAxes(g, n, kAxesInputOpset18, &axes, &given); !s.ok())
    return Support::No("ReduceMean: " + s.message());
  if (axes.empty() && n.AttrInt("noop_with_empty_axes", 0) != 0)
    return Support::No("ReduceMean: noop_with_empty_axes");
  const int64_t rank = RankOf(g, n.inputs[0]);
  if (rank < 0) return Support::No("ReduceMean: rank unknown");
  if (axes.empty()) return Support::Yes();  // every axis: trailing by definition
  for (int64_t& a : axes) {
    if (a < -rank || a >= rank) return Support::No("ReduceMean: axis out of range");
    if (a < 0) a += rank;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return Support::No("ReduceMean: repeated axis");
  if (axes.front() != rank - static_cast<int64_t>(axes.size()))
    return Support::No("ReduceMean: axes not trailing");
  return Support::Yes();
}

Support CheckSqueeze(const ir::Graph& g, const ir::Node& n) {
  std::vector<int64_t> axes;
  bool given = false;
  if (Status s = ReadAxes(g, n, kAxesInputOpset13, &axes, &given); !s.ok())
    return Support::No(Name(n) + ": " + s.message());
  return Support::Yes();
}

Support CheckReshape(const ir::Graph& g, const ir::Node& n) {
  if (g.Opset() < 5) return Support::No("Reshape: shape attribute (opset < 5)");
  if (n.NumInputs() < 2) return Support::No("Reshape: no shape input");
  return Support::Yes();
}

Support CheckClip(const ir::Graph& g, const ir::Node& n) {
  if (g.Opset() >= 11)
    for (size_t i = 1; i < 3 && i < n.inputs.size(); ++i)
      if (!n.inputs[i].empty()) {
        Result<float> v = ConstantFloat(g, n.inputs[i]);
        if (!v.ok()) return Support::No("Clip: " + v.status().message());
      }
  return Support::Yes();
}

constexpr uint32_t kIn1 = 1u << 1;
constexpr uint32_t kIn12 = (1u << 1) | (1u << 2);

// The one table: what the provider claims, who makes it, and what it checks.
const std::array<OpEntry, 40> kOps = {{
    {"", "Conv", &MakeDnnOp, 0, &CheckConv},
    {"com.supernova", "FusedConv", &MakeDnnOp, 0, &CheckConv},
    {"", "BatchNormalization", &MakeDnnOp, 0, &CheckBatchNorm},
    {"", "MaxPool", &MakeDnnOp, 0, &CheckPool},
    {"", "AveragePool", &MakeDnnOp, 0, &CheckPool},
    {"", "GlobalAveragePool", &MakeDnnOp, 0, nullptr},
    {"", "GlobalMaxPool", &MakeDnnOp, 0, nullptr},
    {"", "Gemm", &MakeBlasOp, 0, nullptr},
    {"", "MatMul", &MakeBlasOp, 0, nullptr},
    {"", "Relu", &MakeMiscOp, 0, nullptr},
    {"", "LeakyRelu", &MakeMiscOp, 0, nullptr},
    {"", "Sigmoid", &MakeMiscOp, 0, nullptr},
    {"", "Tanh", &MakeMiscOp, 0, nullptr},
    {"", "Clip", &MakeMiscOp, kIn12, &CheckClip},
    {"", "HardSigmoid", &MakeMiscOp, 0, nullptr},
    {"", "HardSwish", &MakeMiscOp, 0, nullptr},
    {"", "Elu", &MakeMiscOp, 0, nullptr},
    {"", "Exp", &MakeMiscOp, 0, nullptr},
    {"", "Log", &MakeMiscOp, 0, nullptr},
    {"", "Sqrt", &MakeMiscOp, 0, nullptr},
    {"", "Abs", &MakeMiscOp, 0, nullptr},
    {"", "Neg", &MakeMiscOp, 0, nullptr},
    {"", "Erf", &MakeMiscOp, 0, nullptr},
    {"", "Add", &MakeMiscOp, 0, &CheckBroadcast},
    {"", "Sub", &MakeMiscOp, 0, &CheckBroadcast},
    {"", "Mul", &MakeMiscOp, 0, &CheckBroadcast},
    {"", "Div", &MakeMiscOp, 0, &CheckBroadcast},
    {"", "Pow", &MakeMiscOp, 0, &CheckBroadcast},
    {"", "Max", &MakeMiscOp, 0, &CheckBroadcast},
    {"", "Min", &MakeMiscOp, 0, &CheckBroadcast},
    {"", "Softmax", &MakeMiscOp, 0, nullptr},
    {"", "LogSoftmax", &MakeMiscOp, 0, nullptr},
    {"", "Concat", &MakeMiscOp, 0, nullptr},
    {"", "Transpose", &MakeMiscOp, 0, &CheckTranspose},
    {"", "Reshape", &MakeMiscOp, kIn1, &CheckReshape},
    {"", "Flatten", &MakeMiscOp, 0, nullptr},
    {"", "Squeeze", &MakeMiscOp, kIn1, &CheckSqueeze},
    {"", "Unsqueeze", &MakeMiscOp, kIn1, &CheckSqueeze},
    {"", "Identity", &MakeMiscOp, 0, nullptr},
    {"", "ReduceMean", &MakeMiscOp, kIn1, &CheckReduceMean},
}};

std::string_view NormalDomain(const std::string& domain) {
  return domain == "ai.onnx" ? std::string_view() : std::string_view(domain);
}

const OpEntry* FindEntry(const std::string& domain, const std::string& op_type) {
  const std::string_view d = NormalDomain(domain);
  for (const OpEntry& e : kOps)
    if (e.op_type == op_type && e.domain == d) return &e;
  return nullptr;
}

}  // namespace

OpFactory FindOpFactory(const std::string& domain, const std::string& op_type) {
  const OpEntry* e = FindEntry(domain, op_type);
  return e ? e->factory : nullptr;
}

Support SupportsNode(const ir::Graph& graph, const ir::Node& node) {
  const OpEntry* e = FindEntry(node.domain, node.op_type);
  if (!e) {
    const std::string_view d = NormalDomain(node.domain);
    return Support::No("op " + (d.empty() ? std::string() : std::string(d) + ".") + node.op_type);
  }
  // Reshape's shape, the axes and Clip's bounds pass through the host at compile time.
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const std::string& v = node.inputs[i];
    if (v.empty()) continue;
    if (e->host_inputs & (1u << i)) {
      if (!graph.IsInitializer(v)) return Support::No("shape input not constant: " + v);
      continue;
    }
    const DataType t = DtypeOf(graph, v);
    if (t != DataType::kFloat32)
      return Support::No(
          (t == DataType::kUndefined ? std::string("dtype unknown") : "dtype " + DataTypeName(t)) +
          " for " + v);
  }
  for (const std::string& v : node.outputs) {
    if (v.empty()) continue;
    const DataType t = DtypeOf(graph, v);
    // An output's type may be unknown before shape inference ran; the inputs decide then.
    if (t != DataType::kFloat32 && t != DataType::kUndefined)
      return Support::No("dtype " + DataTypeName(t) + " for " + v);
  }
  if (node.NumInputs() == 0) return Support::No(node.op_type + ": no inputs");
  return e->check ? e->check(graph, node) : Support::Yes();
}

Result<std::vector<int64_t>> ConstantInts(const ir::Graph& graph, const std::string& name) {
  auto it = graph.initializers.find(name);
  if (it == graph.initializers.end()) return Status::InvalidArgument("not constant: " + name);
  const Tensor& t = it->second;
  if (t.dtype() != DataType::kInt64 && t.dtype() != DataType::kInt32)
    return Status::InvalidArgument("dtype " + DataTypeName(t.dtype()) + " for " + name);
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = t.GetAsInt64(i);
  return v;
}

Result<float> ConstantFloat(const ir::Graph& graph, const std::string& name) {
  auto it = graph.initializers.find(name);
  if (it == graph.initializers.end()) return Status::InvalidArgument("bounds not constant");
  const Tensor& t = it->second;
  if (t.dtype() != DataType::kFloat32 || t.numel() != 1)
    return Status::InvalidArgument("bound " + name + " is not a float32 scalar");
  return t.data<float>()[0];
}

Status ReadAxes(const ir::Graph& graph, const ir::Node& node, int64_t input_opset,
                std::vector<int64_t>* axes, bool* given) {
  axes->clear();
  *given = false;
  if (graph.Opset() >= input_opset) {
    if (node.inputs.size() > 1 && !node.inputs[1].empty()) {
      Result<std::vector<int64_t>> v = ConstantInts(graph, node.inputs[1]);
      if (!v.ok()) return v.status();
      *axes = std::move(*v);
      *given = true;
    }
  } else if (node.HasAttr("axes")) {
    *axes = node.AttrInts("axes");
    *given = true;
  }
  return Status::Ok();
}

}  // namespace supernova::providers::cuda

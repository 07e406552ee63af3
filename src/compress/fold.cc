#include "compress/fold.h"

#include <cmath>
#include <optional>
#include <vector>

#include "ops/shape_inference.h"
#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::compress {
namespace {

using optimizer::GraphEditor;
using optimizer::IsOnnxOp;
using optimizer::kNoNode;

const Tensor* FloatConst(const ir::Graph& g, const std::string& v) {
  const Tensor* t = optimizer::FindConstant(g, v);
  return t && t->dtype() == DataType::kFloat32 ? t : nullptr;
}

std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (size_t k = 0; k < v.size(); ++k) v[k] = t.data<float>()[k];
  return v;
}

Tensor ToFloats(const std::vector<double>& v, const Shape& shape) {
  Tensor t(DataType::kFloat32, shape);
  for (size_t k = 0; k < v.size(); ++k) t.data<float>()[k] = static_cast<float>(v[k]);
  return t;
}

// A Conv of constant float weights (and bias, if any), by its weight and bias.
struct ConvConsts {
  const Tensor* w = nullptr;
  std::vector<double> b;  // zeros when it has none
};

std::optional<ConvConsts> ConvWeights(const ir::Graph& g, const ir::Node& n) {
  if (!IsOnnxOp(n, "Conv") || n.inputs.size() < 2 || n.outputs.size() != 1) return std::nullopt;
  ConvConsts c;
  c.w = FloatConst(g, n.inputs[1]);
  if (!c.w || c.w->rank() < 3) return std::nullopt;
  c.b.assign(static_cast<size_t>(c.w->dim(0)), 0.0);
  if (n.NumInputs() > 2) {
    const Tensor* b = FloatConst(g, n.inputs[2]);
    if (!b || b->numel() != c.w->dim(0)) return std::nullopt;
    c.b = ToDoubles(*b);
  }
  return c;
}

// A constant that only varies along the channel axis of a rank-`rank` activation: one value per
// channel (`channels` of them, or one broadcast to all).
std::optional<std::vector<double>> PerChannel(const Tensor* t, size_t rank, int64_t channels) {
  if (!t || t->rank() > rank) return std::nullopt;
  const int64_t axis = static_cast<int64_t>(t->rank()) - static_cast<int64_t>(rank) + 1;
  for (size_t d = 0; d < t->rank(); ++d)
    if (static_cast<int64_t>(d) != axis && t->dim(d) != 1) return std::nullopt;
  const int64_t n = axis >= 0 ? t->dim(static_cast<size_t>(axis)) : 1;
  if (n != 1 && n != channels) return std::nullopt;
  std::vector<double> v(static_cast<size_t>(channels));
  for (int64_t k = 0; k < channels; ++k)
    v[static_cast<size_t>(k)] = t->data<float>()[n == 1 ? 0 : k];
  return v;
}

class Folder {
 public:
  Folder(ir::Graph& g, FoldReport* r) : g_(g), e_(g), r_(r) {}
  Result<int> Run() {
    int changes = 0;
    for (size_t i = 0; i < e_.num_nodes(); ++i) {
      if (e_.removed(i)) continue;
      if (AffineAfterConv(i) || ConvChain(i) || MatMulChain(i) || ScaleBeforeConv(i)) ++changes;
    }
    SN_RETURN_IF_ERROR(e_.Finish());
    return changes;
  }

 private:
  // The producer of node i's input `slot` when it is read by node i alone, else kNoNode.
  size_t SoleProducer(size_t i, size_t slot) {
    const ir::Node& n = e_.node(i);
    if (slot >= n.inputs.size() || !e_.HasSingleUse(n.inputs[slot])) return kNoNode;
    return e_.Producer(n.inputs[slot]);
  }
  std::string Add(const std::string& base, Tensor t) {
    const std::string name = e_.UniqueName(base);
    optimizer::AddInitializer(g_, name, std::move(t));
    return name;
  }
  // Node p now computes node i's output: i goes.
  void TakeOver(size_t p, size_t i) {
    const std::string y = e_.node(i).outputs[0];
    e_.RemoveNode(i);
    e_.SetOutput(p, 0, y);
  }
  void SetConv(size_t p, const std::vector<double>& w, const Shape& shape,
               const std::vector<double>& b) {
    const std::string base = e_.node(p).name.empty() ? "conv" : e_.node(p).name;
    const std::string wn = Add(base + "_folded_w", ToFloats(w, shape));
    const std::string bn = Add(base + "_folded_b", ToFloats(b, {shape[0]}));
    e_.SetInput(p, 1, wn);
    e_.SetInput(p, 2, bn);
  }

  bool AffineAfterConv(size_t i);
  bool ConvChain(size_t i);
  bool MatMulChain(size_t i);
  bool ScaleBeforeConv(size_t i);

  ir::Graph& g_;
  GraphEditor e_;
  FoldReport* r_;
};

bool Folder::AffineAfterConv(size_t i) {
  const ir::Node& n = e_.node(i);
  const std::string& op = n.op_type;
  if (!n.domain.empty() || n.inputs.size() != 2 || n.outputs.size() != 1) return false;
  if (op != "Mul" && op != "Add" && op != "Sub" && op != "Div") return false;
  for (size_t slot = 0; slot < 2; ++slot) {
    if (slot == 1 && (op == "Sub" || op == "Div")) break;  // c - conv, c / conv: not affine
    const size_t p = SoleProducer(i, slot);
    if (p == kNoNode) continue;
    auto conv = ConvWeights(g_, e_.node(p));
    if (!conv) continue;
    const int64_t m = conv->w->dim(0), inner = conv->w->numel() / m;
    auto v = PerChannel(FloatConst(g_, n.inputs[1 - slot]), conv->w->rank(), m);
    if (!v) continue;
    std::vector<double> w = ToDoubles(*conv->w), b = conv->b;
    for (int64_t k = 0; k < m; ++k) {
      const double s = (*v)[static_cast<size_t>(k)];
      if (op == "Div" && s == 0) return false;
      const double scale = op == "Mul" ? s : op == "Div" ? 1 / s : 1;
      const double shift = op == "Add" ? s : op == "Sub" ? -s : 0;
      for (int64_t j = 0; j < inner; ++j) w[static_cast<size_t>(k * inner + j)] *= scale;
      b[static_cast<size_t>(k)] = b[static_cast<size_t>(k)] * scale + shift;
    }
    SetConv(p, w, conv->w->shape(), b);
    TakeOver(p, i);
    ++r_->affine;
    return true;
  }
  return false;
}

bool IsPointwise(const ir::Node& n, const Tensor& w) {
  for (size_t d = 2; d < w.rank(); ++d)
    if (w.dim(d) != 1) return false;
  for (int64_t s : n.AttrInts("strides"))
    if (s != 1) return false;
  for (int64_t p : n.AttrInts("pads"))
    if (p != 0) return false;
  const std::string pad = n.AttrString("auto_pad", "NOTSET");
  return n.AttrInt("group", 1) == 1 && (pad == "NOTSET" || pad == "VALID");
}

bool Folder::ConvChain(size_t i) {
  auto second = ConvWeights(g_, e_.node(i));
  if (!second || !IsPointwise(e_.node(i), *second->w)) return false;
  const size_t p = SoleProducer(i, 0);
  if (p == kNoNode) return false;
  auto first = ConvWeights(g_, e_.node(p));
  if (!first || e_.node(p).AttrInt("group", 1) != 1 || first->w->rank() != second->w->rank())
    return false;
  const int64_t mid = first->w->dim(0), out = second->w->dim(0);
  const int64_t k = first->w->numel() / mid;  // Cin * kernel
  if (second->w->dim(1) != mid || out * k > mid * k + out * mid) return false;
  std::vector<double> w(static_cast<size_t>(out * k), 0.0), b = second->b;
  const float* w1 = first->w->data<float>();
  const float* w2 = second->w->data<float>();
  for (int64_t o = 0; o < out; ++o)
    for (int64_t m = 0; m < mid; ++m) {
      const double c = w2[o * mid + m];
      for (int64_t j = 0; j < k; ++j) w[static_cast<size_t>(o * k + j)] += c * w1[m * k + j];
      b[static_cast<size_t>(o)] += c * first->b[static_cast<size_t>(m)];
    }
  Shape shape = first->w->shape();
  shape[0] = out;
  SetConv(p, w, shape, b);
  TakeOver(p, i);
  ++r_->conv_chains;
  return true;
}

// A MatMul or Gemm with constant weights as Y = X * B + c (B [K, N], c [N]).
struct Linear {
  std::vector<double> b, c;
  int64_t k = 0, n = 0;
};

std::optional<Linear> AsLinear(const ir::Graph& g, const ir::Node& node) {
  const bool gemm = IsOnnxOp(node, "Gemm");
  if ((!gemm && !IsOnnxOp(node, "MatMul")) || node.inputs.size() < 2 || node.outputs.size() != 1)
    return std::nullopt;
  const Tensor* bt = FloatConst(g, node.inputs[1]);
  if (!bt || bt->rank() != 2 || (gemm && node.AttrInt("transA", 0) != 0)) return std::nullopt;
  const bool trans = gemm && node.AttrInt("transB", 0) != 0;
  const double alpha = gemm ? node.AttrFloat("alpha", 1) : 1;
  Linear l;
  l.k = bt->dim(trans ? 1 : 0);
  l.n = bt->dim(trans ? 0 : 1);
  l.b.resize(static_cast<size_t>(l.k * l.n));
  for (int64_t r = 0; r < l.k; ++r)
    for (int64_t j = 0; j < l.n; ++j)
      l.b[static_cast<size_t>(r * l.n + j)] =
          alpha * bt->data<float>()[trans ? j * l.k + r : r * l.n + j];
  l.c.assign(static_cast<size_t>(l.n), 0.0);
  if (gemm && node.NumInputs() > 2) {
    auto c = PerChannel(FloatConst(g, node.inputs[2]), 2, l.n);
    if (!c) return std::nullopt;
    for (size_t j = 0; j < l.c.size(); ++j) l.c[j] = node.AttrFloat("beta", 1) * (*c)[j];
  }
  return l;
}

bool Folder::MatMulChain(size_t i) {
  auto second = AsLinear(g_, e_.node(i));
  if (!second) return false;
  size_t p = SoleProducer(i, 0), bias_add = kNoNode;
  std::vector<double> between(static_cast<size_t>(second->k), 0.0);
  if (p != kNoNode && IsOnnxOp(e_.node(p), "Add") && e_.node(p).inputs.size() == 2) {
    // X * B1 + c1 + d: the Add joins the first's bias.
    for (size_t slot = 0; slot < 2 && bias_add == kNoNode; ++slot) {
      auto d = PerChannel(FloatConst(g_, e_.node(p).inputs[1 - slot]), 2, second->k);
      const size_t q = SoleProducer(p, slot);
      if (!d || q == kNoNode || !AsLinear(g_, e_.node(q))) continue;
      between = *d;
      bias_add = p;
      p = q;
    }
    if (bias_add == kNoNode) return false;
  }
  if (p == kNoNode) return false;
  auto first = AsLinear(g_, e_.node(p));
  if (!first || first->n != second->k) return false;
  const int64_t k = first->k, mid = first->n, n = second->n;
  if (k * n > k * mid + mid * n) return false;
  std::vector<double> b(static_cast<size_t>(k * n), 0.0), c = second->c;
  for (int64_t r = 0; r < k; ++r)
    for (int64_t m = 0; m < mid; ++m) {
      const double a = first->b[static_cast<size_t>(r * mid + m)];
      for (int64_t j = 0; j < n; ++j)
        b[static_cast<size_t>(r * n + j)] += a * second->b[static_cast<size_t>(m * n + j)];
    }
  for (int64_t m = 0; m < mid; ++m) {
    const double a = first->c[static_cast<size_t>(m)] + between[static_cast<size_t>(m)];
    for (int64_t j = 0; j < n; ++j)
      c[static_cast<size_t>(j)] += a * second->b[static_cast<size_t>(m * n + j)];
  }
  const std::string base = e_.node(p).name.empty() ? "matmul" : e_.node(p).name;
  const std::string bn = Add(base + "_folded_b", ToFloats(b, {k, n}));
  const std::string cn = Add(base + "_folded_c", ToFloats(c, {n}));
  // The first node becomes X * B; the second adds c (as Gemm's C when the first is a Gemm,
  // whose input is 2-D; otherwise an Add, since MatMul takes any rank).
  ir::Node& first_node = e_.node(p);
  const bool gemm = IsOnnxOp(first_node, "Gemm");
  first_node.attributes.clear();
  e_.SetInput(p, 1, bn);
  if (bias_add != kNoNode) e_.RemoveNode(bias_add);
  bool zero_bias = true;
  for (double v : c) zero_bias = zero_bias && v == 0;
  if (gemm) {
    if (first_node.inputs.size() < 3) first_node.inputs.resize(3);
    e_.SetInput(p, 2, cn);
    TakeOver(p, i);
  } else if (zero_bias) {
    TakeOver(p, i);
  } else {
    ir::Node& add = e_.node(i);
    add.op_type = "Add";
    add.attributes.clear();
    e_.SetInput(i, 0, e_.node(p).outputs[0]);
    e_.SetInput(i, 1, cn);
    for (size_t s = add.inputs.size(); s-- > 2;) e_.SetInput(i, s, "");
    add.inputs.resize(2);
  }
  ++r_->matmul_chains;
  return true;
}

bool Folder::ScaleBeforeConv(size_t i) {
  auto conv = ConvWeights(g_, e_.node(i));
  if (!conv || e_.node(i).AttrInt("group", 1) != 1) return false;
  const size_t q = SoleProducer(i, 0);
  if (q == kNoNode || !IsOnnxOp(e_.node(q), "Mul") || e_.node(q).inputs.size() != 2) return false;
  const int64_t m = conv->w->dim(0), cin = conv->w->dim(1), inner = conv->w->numel() / (m * cin);
  for (size_t slot = 0; slot < 2; ++slot) {
    const std::string& x = e_.node(q).inputs[slot];
    auto s = PerChannel(FloatConst(g_, e_.node(q).inputs[1 - slot]), conv->w->rank(), cin);
    if (!s || g_.IsInitializer(x)) continue;
    // The scale must not be what gives the input its channels: x itself must have them.
    const ir::ValueType* t = g_.TypeOf(x);
    const bool channels_known =
        t && t->dims && t->dims->size() == conv->w->rank() && (*t->dims)[1].value == cin;
    if (!channels_known) continue;
    std::vector<double> w = ToDoubles(*conv->w);
    for (int64_t o = 0; o < m; ++o)
      for (int64_t c = 0; c < cin; ++c)
        for (int64_t j = 0; j < inner; ++j)
          w[static_cast<size_t>((o * cin + c) * inner + j)] *= (*s)[static_cast<size_t>(c)];
    SetConv(i, w, conv->w->shape(), conv->b);
    e_.SetInput(i, 0, x);
    e_.RemoveNode(q);
    ++r_->input_scales;
    return true;
  }
  return false;
}

}  // namespace

Result<FoldReport> FoldLayers(ir::Graph& g) {
  FoldReport r;
  r.nodes_before = g.nodes.size();
  // Exporters hand weights to convs through Identity and Constant nodes: made initializers
  // first, the folds below can see them. The Identity nodes themselves go too.
  ops::InferShapes(g);
  SN_ASSIGN_OR_RETURN(r.constants, optimizer::FoldConstants(g));
  SN_ASSIGN_OR_RETURN(int redundant, optimizer::EliminateRedundantNodes(g));
  r.constants += redundant;
  ops::InferShapes(g);
  // Each fold can expose another (BN, then a scale, then a 1x1 conv): repeat until none.
  for (int round = 0; round < 16; ++round) {
    SN_ASSIGN_OR_RETURN(int bn, optimizer::FoldBatchNorm(g));
    r.batch_norms += bn;
    Folder f(g, &r);
    SN_ASSIGN_OR_RETURN(int changes, f.Run());
    if (bn + changes == 0) break;
  }
  SN_RETURN_IF_ERROR(optimizer::EliminateDeadNodes(g).status());
  r.nodes_after = g.nodes.size();
  return r;
}

}  // namespace supernova::compress

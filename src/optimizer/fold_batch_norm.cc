// BatchNormalization folding: in inference BN is y = s * (x - mean) + bias per channel, with
// s = scale / sqrt(var + epsilon): an affine map that a preceding linear op can absorb into
// its constant weights and bias, saving a full pass over the activation.
//   Conv:          W'[m, ...] = W[m, ...] * s[m]              (output channel is W's axis 0)
//   ConvTranspose: W'[c, j, ...] = W[c, j, ...] * s[o(c, j)]  (o = group of c * M/g + j)
//   Gemm:          B' scaled along its output column, C'[n] = (beta * C[n] - mean[n]) * s[n]
//                  + bias[n], beta' = 1
//   b'[m] = (b[m] - mean[m]) * s[m] + bias[m]   (b = 0 when the Conv has none)
// Cheap checks first: BN in inference mode with its statistics all float32 initializers, the
// producer's output read by the BN alone (another reader needs the unnormalised value) and its
// weights float32 initializers. The folded weights are new initializers (the originals may be
// shared); dead-node elimination drops the originals once unread. Rounding differs from the
// unfolded graph by a few ulps, which is why this pass is in kAll, not kBasic.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {
namespace {

std::optional<std::vector<double>> Floats(const ir::Graph& g, const std::string& value,
                                          int64_t expected_numel) {
  const Tensor* t = FindConstant(g, value);
  if (!t || t->dtype() != DataType::kFloat32 || t->numel() != expected_numel) return std::nullopt;
  std::vector<double> v(static_cast<size_t>(t->numel()));
  for (int64_t i = 0; i < t->numel(); ++i) v[static_cast<size_t>(i)] = t->data<float>()[i];
  return v;
}

// The per-channel affine map of an inference BN node: y = s * x + shift.
struct Affine {
  std::vector<double> s, shift;
};

std::optional<Affine> BnAffine(const GraphEditor& e, const ir::Graph& g, const ir::Node& bn) {
  if (bn.inputs.size() < 5 || !OnlyFirstOutputUsed(e, bn)) return std::nullopt;
  if (bn.AttrInt("training_mode", 0) != 0) return std::nullopt;
  if (g.Opset() < 9 && bn.AttrInt("spatial", 1) == 0) return std::nullopt;  // per-element
  const Tensor* scale_t = FindConstant(g, bn.inputs[1]);
  if (!scale_t || scale_t->rank() != 1) return std::nullopt;
  const int64_t c = scale_t->numel();
  auto scale = Floats(g, bn.inputs[1], c), bias = Floats(g, bn.inputs[2], c),
       mean = Floats(g, bn.inputs[3], c), var = Floats(g, bn.inputs[4], c);
  if (!scale || !bias || !mean || !var) return std::nullopt;
  const double eps = bn.AttrFloat("epsilon", 1e-5f);
  Affine a;
  a.s.resize(static_cast<size_t>(c));
  a.shift.resize(static_cast<size_t>(c));
  for (size_t i = 0; i < a.s.size(); ++i) {
    a.s[i] = (*scale)[i] / std::sqrt((*var)[i] + eps);
    a.shift[i] = (*bias)[i] - (*mean)[i] * a.s[i];
  }
  return a;
}

Tensor ToTensor(const std::vector<double>& v, const Shape& shape) {
  Tensor t(DataType::kFloat32, shape);
  for (size_t i = 0; i < v.size(); ++i) t.data<float>()[i] = static_cast<float>(v[i]);
  return t;
}

// Conv or ConvTranspose: scales W along each output channel and makes the bias.
bool FoldIntoConv(GraphEditor& e, ir::Graph& g, size_t conv, const Affine& a) {
  ir::Node& n = e.node(conv);
  const bool transpose = n.op_type == "ConvTranspose";
  if (n.inputs.size() < 2) return false;
  const Tensor* w = FindConstant(g, n.inputs[1]);
  if (!w || w->dtype() != DataType::kFloat32 || w->rank() < 3) return false;
  const int64_t group = n.AttrInt("group", 1);
  if (group <= 0 || w->dim(0) % group != 0) return false;
  const int64_t m = transpose ? w->dim(1) * group : w->dim(0);
  if (m != static_cast<int64_t>(a.s.size())) return false;
  std::vector<double> b(static_cast<size_t>(m), 0.0);
  const bool has_bias = n.inputs.size() > 2 && !n.inputs[2].empty();
  if (has_bias) {
    auto given = Floats(g, n.inputs[2], m);
    if (!given) return false;
    b = *given;
  }
  // W as [dim0, dim1, inner]: the output channel of (i, j) is i (Conv) or
  // (i / (dim0 / group)) * dim1 + j (ConvTranspose).
  const int64_t d0 = w->dim(0), d1 = w->dim(1), inner = w->numel() / (d0 * d1);
  Tensor w2(DataType::kFloat32, w->shape());
  const float* src = w->data<float>();
  float* dst = w2.data<float>();
  for (int64_t i = 0; i < d0; ++i)
    for (int64_t j = 0; j < d1; ++j) {
      const int64_t o = transpose ? (i / (d0 / group)) * d1 + j : i;
      const double s = a.s[static_cast<size_t>(o)];
      const int64_t base = (i * d1 + j) * inner;
      for (int64_t k = 0; k < inner; ++k) dst[base + k] = static_cast<float>(src[base + k] * s);
    }
  for (size_t o = 0; o < b.size(); ++o) b[o] = b[o] * a.s[o] + a.shift[o];
  const std::string w_name = e.UniqueName(n.inputs[1] + "_bn");
  const std::string b_name = e.UniqueName((has_bias ? n.inputs[2] : n.inputs[1]) + "_bn_bias");
  AddInitializer(g, w_name, std::move(w2));
  AddInitializer(g, b_name, ToTensor(b, {m}));
  e.SetInput(conv, 1, w_name);
  e.SetInput(conv, 2, b_name);
  return true;
}

// Gemm with a constant B: Y = alpha * A' * B' + beta * C, BN over Y's axis 1.
bool FoldIntoGemm(GraphEditor& e, ir::Graph& g, size_t gemm, const Affine& a) {
  ir::Node& n = e.node(gemm);
  if (n.inputs.size() < 2) return false;
  const Tensor* bt = FindConstant(g, n.inputs[1]);
  if (!bt || bt->dtype() != DataType::kFloat32 || bt->rank() != 2) return false;
  const bool trans_b = n.AttrInt("transB", 0) != 0;
  const int64_t rows = bt->dim(0), cols = bt->dim(1);
  const int64_t nn = trans_b ? rows : cols;
  if (nn != static_cast<int64_t>(a.s.size())) return false;
  std::vector<double> c(static_cast<size_t>(nn), 0.0);
  const bool has_c = n.inputs.size() > 2 && !n.inputs[2].empty();
  if (has_c) {
    // Only a C that broadcasts along rows alone: a scalar, [N] or [1, N].
    const Tensor* ct = FindConstant(g, n.inputs[2]);
    if (!ct || ct->dtype() != DataType::kFloat32) return false;
    const bool row = ct->numel() == nn && (ct->rank() == 1 || (ct->rank() == 2 && ct->dim(0) == 1));
    if (ct->numel() != 1 && !row) return false;
    const double beta = n.AttrFloat("beta", 1.0f);
    for (int64_t i = 0; i < nn; ++i)
      c[static_cast<size_t>(i)] = beta * ct->data<float>()[ct->numel() == 1 ? 0 : i];
  }
  Tensor b2(DataType::kFloat32, bt->shape());
  const float* src = bt->data<float>();
  float* dst = b2.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < cols; ++k)
      dst[r * cols + k] =
          static_cast<float>(src[r * cols + k] * a.s[static_cast<size_t>(trans_b ? r : k)]);
  for (size_t o = 0; o < c.size(); ++o) c[o] = c[o] * a.s[o] + a.shift[o];
  const std::string b_name = e.UniqueName(n.inputs[1] + "_bn");
  const std::string c_name = e.UniqueName(n.inputs[1] + "_bn_bias");
  AddInitializer(g, b_name, std::move(b2));
  AddInitializer(g, c_name, ToTensor(c, {nn}));
  e.SetInput(gemm, 1, b_name);
  e.SetInput(gemm, 2, c_name);
  SetAttr(e.node(gemm), "beta", 1.0f);
  return true;
}

}  // namespace

Result<int> FoldBatchNorm(ir::Graph& g) {
  GraphEditor e(g);
  int changes = 0;
  for (size_t i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i) || !IsOnnxOp(e.node(i), "BatchNormalization")) continue;
    const ir::Node& bn = e.node(i);
    if (bn.inputs.empty() || bn.outputs.empty() || bn.outputs[0].empty()) continue;
    const std::string x = bn.inputs[0], y = bn.outputs[0];
    const size_t p = e.Producer(x);
    if (p == kNoNode || !e.HasSingleUse(x)) continue;
    const ir::Node& pn = e.node(p);
    const bool conv = IsOnnxOp(pn, "Conv") || IsOnnxOp(pn, "ConvTranspose");
    if ((!conv && !IsOnnxOp(pn, "Gemm")) || pn.outputs.size() != 1) continue;
    const auto affine = BnAffine(e, g, bn);
    if (!affine) continue;
    if (!(conv ? FoldIntoConv(e, g, p, *affine) : FoldIntoGemm(e, g, p, *affine))) continue;
    // The producer now computes the BN's output: it takes over the name.
    e.RemoveNode(i);
    e.SetOutput(p, 0, y);
    ++changes;
  }
  SN_RETURN_IF_ERROR(e.Finish());
  return changes;
}

}  // namespace supernova::optimizer

// Einsum (opset 12): sums of products of tensors named by an Einstein-summation equation such
// as "bhqd,bhkd->bhqk", with NumPy's rules: an ellipsis stands for broadcast dims, a label
// repeated within one operand takes its diagonal, a label missing from the output is summed,
// and without "->" the output is the ellipsis then every label used once, in ASCII order.
//
// The operands are contracted left to right, two at a time, each pair as one batched matrix
// product on the dense GEMM: labels shared and still needed are batch dims, shared and not
// needed are the contraction, the rest are rows (left) or columns (right). Operands already
// laid out as [batch, rows, k] or [batch, k, rows] are used in place (the transposed form
// through GEMM's transpose flag), so attention's products copy nothing; others are permuted
// once. Labels only one operand has and the output lacks are summed out first.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ops/dense_gemm.h"
#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// Label ids: 'A'-'Z' are 0-25 and 'a'-'z' 26-51, so that sorting ids orders letters as ASCII
// does (the implicit output's order); the ellipsis's dims are kEllipsis on, right-aligned
// across operands as broadcasting aligns them.
constexpr int kEllipsis = 52;

using Labels = std::vector<int>;

struct Equation {
  std::vector<Labels> inputs;  // the label of each dim of each input
  Labels output;
  int num_labels = kEllipsis;  // ids in use are below this
};

std::string LabelName(int id) {
  if (id >= kEllipsis) return "...(" + std::to_string(id - kEllipsis) + ")";
  return std::string(1, static_cast<char>(id < 26 ? 'A' + id : 'a' + (id - 26)));
}

// One operand's subscripts: its letters and where the ellipsis stands among them (-1: none).
struct Term {
  Labels letters;
  int ellipsis_at = -1;
};

std::optional<std::string> ParseTerm(std::string_view s, Term* t) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= 'A' && c <= 'Z') {
      t->letters.push_back(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      t->letters.push_back(26 + (c - 'a'));
    } else if (s.substr(i, 3) == "...") {
      if (t->ellipsis_at >= 0) return "more than one ellipsis in '" + std::string(s) + "'";
      t->ellipsis_at = static_cast<int>(t->letters.size());
      i += 2;
    } else {
      return "unexpected character '" + std::string(1, c) + "' in '" + std::string(s) + "'";
    }
  }
  return std::nullopt;
}

// Parses `equation` for operands of the given ranks; a message on failure.
std::optional<std::string> ParseEquation(std::string_view equation,
                                         const std::vector<size_t>& ranks, Equation* eq) {
  std::string s;
  for (char c : equation)
    if (!std::isspace(static_cast<unsigned char>(c))) s.push_back(c);
  const size_t arrow = s.find("->");
  const std::string lhs = s.substr(0, arrow);
  std::vector<Term> terms;
  for (size_t start = 0;;) {
    const size_t comma = std::min(lhs.find(',', start), lhs.size());
    terms.emplace_back();
    if (auto err = ParseTerm(std::string_view(lhs).substr(start, comma - start), &terms.back()))
      return err;
    if (comma == lhs.size()) break;
    start = comma + 1;
  }
  if (terms.size() != ranks.size())
    return "the equation names " + std::to_string(terms.size()) + " operands, the node has " +
           std::to_string(ranks.size()) + " inputs";
  int ellipsis_rank = 0;
  std::vector<int> own_ellipsis(terms.size(), 0);
  for (size_t i = 0; i < terms.size(); ++i) {
    const int letters = static_cast<int>(terms[i].letters.size());
    const int rank = static_cast<int>(ranks[i]);
    if (terms[i].ellipsis_at < 0 ? letters != rank : letters > rank)
      return "operand " + std::to_string(i) + " has rank " + std::to_string(rank) + " but " +
             std::to_string(letters) + " subscripts";
    if (terms[i].ellipsis_at >= 0) own_ellipsis[i] = rank - letters;
    ellipsis_rank = std::max(ellipsis_rank, own_ellipsis[i]);
  }
  eq->num_labels = kEllipsis + ellipsis_rank;
  const auto expand = [&](const Term& t, int e) {
    Labels l(t.letters.begin(), t.letters.end());
    if (t.ellipsis_at >= 0) {
      Labels dots;
      for (int k = ellipsis_rank - e; k < ellipsis_rank; ++k) dots.push_back(kEllipsis + k);
      l.insert(l.begin() + t.ellipsis_at, dots.begin(), dots.end());
    }
    return l;
  };
  std::vector<int> count(static_cast<size_t>(eq->num_labels), 0);
  eq->inputs.clear();
  for (size_t i = 0; i < terms.size(); ++i) {
    eq->inputs.push_back(expand(terms[i], own_ellipsis[i]));
    for (int l : terms[i].letters) ++count[static_cast<size_t>(l)];
  }
  if (arrow == std::string::npos) {
    eq->output.clear();
    for (int k = 0; k < ellipsis_rank; ++k) eq->output.push_back(kEllipsis + k);
    for (int l = 0; l < kEllipsis; ++l)
      if (count[static_cast<size_t>(l)] == 1) eq->output.push_back(l);
    return std::nullopt;
  }
  Term out;
  if (auto err = ParseTerm(std::string_view(s).substr(arrow + 2), &out)) return err;
  std::vector<bool> seen(kEllipsis, false);
  for (int l : out.letters) {
    if (count[static_cast<size_t>(l)] == 0)
      return "output label '" + LabelName(l) + "' names no input dim";
    if (seen[static_cast<size_t>(l)]) return "output label '" + LabelName(l) + "' repeated";
    seen[static_cast<size_t>(l)] = true;
  }
  // As NumPy: broadcast dims are never summed away silently.
  if (ellipsis_rank > 0 && out.ellipsis_at < 0)
    return "the inputs have ellipsis dims but the output has no '...'";
  eq->output = expand(out, ellipsis_rank);
  return std::nullopt;
}

// A tensor whose dims are named by labels; data contiguous and row-major.
struct Operand {
  Tensor data;
  Labels labels;
  Shape dims;
};

int64_t Product(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= s[i];
  return p;
}

// Writes `op` laid out as `order` with `sizes` into dst; a dim of size 1 in `op` broadcasts
// to a larger size (stride 0).
void CopyAs(const Operand& op, const Labels& order, const Shape& sizes, void* dst, int threads) {
  const std::vector<int64_t> own = Strides(op.dims);
  std::vector<int64_t> strides(order.size(), 0);
  for (size_t i = 0; i < order.size(); ++i) {
    const size_t p = static_cast<size_t>(std::find(op.labels.begin(), op.labels.end(), order[i]) -
                                         op.labels.begin());
    strides[i] = op.dims[p] == 1 ? 0 : own[p];
  }
  StridedCopy(DataTypeSize(op.data.dtype()), dst, op.data.raw_data(), sizes, strides, threads);
}

// `op` laid out as `order` with `sizes`: itself when it already is, else a permuted copy.
Operand Arranged(const Operand& op, const Labels& order, const Shape& sizes, int threads) {
  if (op.labels == order && op.dims == sizes) return op;
  Operand out{Tensor(op.data.dtype(), sizes), order, sizes};
  CopyAs(op, order, sizes, out.data.raw_data(), threads);
  return out;
}

// The diagonal of every label `op` repeats: one dim per distinct label.
Operand Diagonal(const Operand& op, int threads) {
  Labels labels;
  Shape dims;
  std::vector<int64_t> strides;
  const std::vector<int64_t> own = Strides(op.dims);
  for (size_t i = 0; i < op.labels.size(); ++i) {
    const auto it = std::find(labels.begin(), labels.end(), op.labels[i]);
    if (it == labels.end()) {
      labels.push_back(op.labels[i]);
      dims.push_back(op.dims[i]);
      strides.push_back(own[i]);
    } else {
      strides[static_cast<size_t>(it - labels.begin())] += own[i];
    }
  }
  if (labels.size() == op.labels.size()) return op;
  Operand out{Tensor(op.data.dtype(), dims), labels, dims};
  StridedCopy(DataTypeSize(op.data.dtype()), out.data.raw_data(), op.data.raw_data(), dims, strides,
              threads);
  return out;
}

template <typename T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;

// Sums `op` over every label that `keep` does not mark.
template <typename T>
Operand SumOut(const Operand& op, const std::vector<bool>& keep, int threads) {
  Labels kept, dropped;
  Shape kept_dims, dropped_dims;
  for (size_t i = 0; i < op.labels.size(); ++i) {
    const bool k = keep[static_cast<size_t>(op.labels[i])];
    (k ? kept : dropped).push_back(op.labels[i]);
    (k ? kept_dims : dropped_dims).push_back(op.dims[i]);
  }
  if (dropped.empty()) return op;
  Operand out{Tensor(op.data.dtype(), kept_dims), kept, kept_dims};
  const int64_t rows = Product(kept_dims, 0, kept_dims.size());
  const int64_t len = Product(dropped_dims, 0, dropped_dims.size());
  T* y = out.data.data<T>();
  Labels lead = dropped;
  lead.insert(lead.end(), kept.begin(), kept.end());
  if (op.labels == lead) {
    // Summed dims in front (a sum over the batch): add whole rows, no copy.
    const T* x = op.data.data<T>();
    std::vector<Acc<T>> acc(static_cast<size_t>(rows), Acc<T>(0));
    for (int64_t i = 0; i < len; ++i)
      for (int64_t r = 0; r < rows; ++r) acc[r] += static_cast<Acc<T>>(x[i * rows + r]);
    for (int64_t r = 0; r < rows; ++r) y[r] = static_cast<T>(acc[r]);
    return out;
  }
  Labels order = kept;
  order.insert(order.end(), dropped.begin(), dropped.end());
  Shape sizes = kept_dims;
  sizes.insert(sizes.end(), dropped_dims.begin(), dropped_dims.end());
  const Operand a = Arranged(op, order, sizes, threads);
  const T* x = a.data.data<T>();
#pragma omp parallel for num_threads(threads) schedule(static) if (rows * len >= (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    Acc<T> s = 0;
    for (int64_t i = 0; i < len; ++i) s += static_cast<Acc<T>>(x[r * len + i]);
    y[r] = static_cast<T>(s);
  }
  return out;
}

Labels Joined(std::initializer_list<const Labels*> parts) {
  Labels out;
  for (const Labels* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

// C[t] = op(A[t]) * op(B[t]) for each of `batch` products (m x k times k x n).
template <typename T>
void BatchedProduct(const T* a, bool trans_a, const T* b, bool trans_b, T* c, int64_t batch,
                    int64_t m, int64_t n, int64_t k, int threads) {
  if (k == 0) {
    std::fill(c, c + batch * m * n, T(0));
    return;
  }
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
    const bool across = threads > 1 && batch >= threads && static_cast<double>(m) * n * k < 4e6;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (across)
    for (int64_t t = 0; t < batch; ++t)
      DenseGemm<T>(trans_a, trans_b, m, n, k, T(1), a + t * m * k, lda, b + t * k * n, ldb, T(0),
                   c + t * m * n, n, across ? 1 : threads);
  } else {
#pragma omp parallel for num_threads(threads) schedule(static) if (batch * m * n * k >= (1 << 16))
    for (int64_t t = 0; t < batch; ++t) {
      const T* at = a + t * m * k;
      const T* bt = b + t * k * n;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          T s = 0;
          for (int64_t p = 0; p < k; ++p)
            s += (trans_a ? at[p * m + i] : at[i * k + p]) *
                 (trans_b ? bt[j * k + p] : bt[p * n + j]);
          c[(t * m + i) * n + j] = s;
        }
    }
  }
}

// A and B contracted over the labels they share that `keep` does not mark. When the result's
// labels are `final_labels`, it is written straight into `final_out` (the node's output).
template <typename T>
Status Contract(const KernelContext& ctx, const Operand& a, const Operand& b,
                const std::vector<bool>& keep, const Labels& final_labels, Tensor* final_out,
                Operand* result) {
  const int threads = std::max(1, ctx.num_threads);
  const auto find = [](const Operand& op, int l) -> int {
    const auto it = std::find(op.labels.begin(), op.labels.end(), l);
    return it == op.labels.end() ? -1 : static_cast<int>(it - op.labels.begin());
  };
  int top = 0;
  for (const Operand* op : {&a, &b})
    for (int l : op->labels) top = std::max(top, l + 1);
  std::vector<int64_t> size(static_cast<size_t>(top), 0);
  for (const Operand* op : {&a, &b})
    for (size_t i = 0; i < op->labels.size(); ++i)
      size[static_cast<size_t>(op->labels[i])] =
          std::max(size[static_cast<size_t>(op->labels[i])], op->dims[i]);
  const auto sizes_of = [&](const Labels& l) {
    Shape s;
    for (int x : l) s.push_back(size[static_cast<size_t>(x)]);
    return s;
  };
  // Batch and contracted labels in the order of `lead`, so that it needs no copy.
  const auto split = [&](const Operand& lead, const Operand& other, Labels* batch, Labels* k) {
    batch->clear();
    k->clear();
    for (int l : lead.labels)
      if (find(other, l) >= 0) (keep[static_cast<size_t>(l)] ? batch : k)->push_back(l);
  };
  Labels batch, kl, ml, nl;
  for (int l : a.labels)
    if (find(b, l) < 0) ml.push_back(l);
  for (int l : b.labels)
    if (find(a, l) < 0) nl.push_back(l);
  split(a, b, &batch, &kl);
  const auto fits = [&](const Operand& op, const Labels& order) {
    return op.labels == order && op.dims == sizes_of(order);
  };
  if (!fits(a, Joined({&batch, &ml, &kl})) && !fits(a, Joined({&batch, &kl, &ml})))
    split(b, a, &batch, &kl);  // A is copied anyway: B's order may spare B a copy
  const bool trans_a = !fits(a, Joined({&batch, &ml, &kl})) && fits(a, Joined({&batch, &kl, &ml}));
  const bool trans_b = !fits(b, Joined({&batch, &kl, &nl})) && fits(b, Joined({&batch, &nl, &kl}));
  const Labels a_order = trans_a ? Joined({&batch, &kl, &ml}) : Joined({&batch, &ml, &kl});
  const Labels b_order = trans_b ? Joined({&batch, &nl, &kl}) : Joined({&batch, &kl, &nl});
  const Operand pa = Arranged(a, a_order, sizes_of(a_order), threads);
  const Operand pb = Arranged(b, b_order, sizes_of(b_order), threads);
  const Shape bs = sizes_of(batch), ms = sizes_of(ml), ns = sizes_of(nl), ks = sizes_of(kl);
  const int64_t nbatch = Product(bs, 0, bs.size()), m = Product(ms, 0, ms.size());
  const int64_t n = Product(ns, 0, ns.size()), k = Product(ks, 0, ks.size());
  Operand out;
  out.labels = Joined({&batch, &ml, &nl});
  out.dims = sizes_of(out.labels);
  // Contracting left to right can make an intermediate far larger than any input or the
  // output (an outer product kept for a later operand).
  if (!CheckOutputShape(ctx, out.dims, a.data.dtype()).ok())
    return ctx.Error("an intermediate product of shape " + ShapeToString(out.dims) +
                     " is too large");
  const bool into_final = out.labels == final_labels && out.dims == final_out->shape();
  out.data = into_final ? *final_out : Tensor(a.data.dtype(), out.dims);
  BatchedProduct(pa.data.data<T>(), trans_a, pb.data.data<T>(), trans_b, out.data.data<T>(), nbatch,
                 m, n, k, threads);
  *result = std::move(out);
  return Status::Ok();
}

template <typename T>
Status Evaluate(KernelContext& ctx, const Equation& eq, const std::vector<int64_t>& size) {
  const int threads = std::max(1, ctx.num_threads);
  const size_t count = eq.inputs.size();
  std::vector<Operand> ops;
  for (size_t i = 0; i < count; ++i) {
    const Tensor& t = *ctx.input(i);
    const Labels& l = eq.inputs[i];
    for (size_t d = 0; d < l.size(); ++d)
      for (size_t e = d + 1; e < l.size(); ++e)
        if (l[d] == l[e] && t.dim(d) != t.dim(e))
          return ctx.Error("label '" + LabelName(l[d]) + "' of operand " + std::to_string(i) +
                           " has sizes " + std::to_string(t.dim(d)) + " and " +
                           std::to_string(t.dim(e)));
    ops.push_back(Diagonal(Operand{t, l, t.shape()}, threads));
  }
  // Where each label is still needed: the output, or the operands after the i-th.
  const size_t nl = static_cast<size_t>(eq.num_labels);
  std::vector<std::vector<bool>> needed_after(count, std::vector<bool>(nl, false));
  std::vector<bool> in_output(nl, false);
  for (int l : eq.output) in_output[static_cast<size_t>(l)] = true;
  for (size_t i = count; i-- > 0;) {
    needed_after[i] = i + 1 < count ? needed_after[i + 1] : in_output;
    if (i + 1 < count)
      for (int l : ops[i + 1].labels) needed_after[i][static_cast<size_t>(l)] = true;
  }
  std::vector<bool> elsewhere;
  for (size_t i = 0; i < count; ++i) {
    elsewhere = in_output;
    for (size_t j = 0; j < count; ++j)
      if (j != i)
        for (int l : ops[j].labels) elsewhere[static_cast<size_t>(l)] = true;
    ops[i] = SumOut<T>(ops[i], elsewhere, threads);
  }
  Shape out_shape;
  for (int l : eq.output) out_shape.push_back(size[static_cast<size_t>(l)]);
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, ops[0].data.dtype(), out_shape, &y));
  Operand acc = ops[0];
  for (size_t i = 1; i < count; ++i) {
    Operand next;
    SN_RETURN_IF_ERROR(Contract<T>(ctx, acc, ops[i], needed_after[i], eq.output, y, &next));
    acc = std::move(next);
  }
  acc = SumOut<T>(acc, in_output, threads);
  if (y->numel() > 0 && !acc.data.SharesBufferWith(*y))
    CopyAs(acc, eq.output, out_shape, y->raw_data(), threads);
  return Status::Ok();
}

Status Einsum(KernelContext& ctx) {
  if (AnyHalfInput(ctx)) return RunWidened(ctx, Einsum);
  if (ctx.num_inputs() == 0) return ctx.Error("Einsum needs at least one input");
  std::vector<size_t> ranks;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (!t) return ctx.Error("input " + std::to_string(i) + " is missing");
    if (t->dtype() != ctx.input(0)->dtype()) return ctx.Error("inputs must share one dtype");
    ranks.push_back(t->rank());
  }
  const ir::Attribute* attr = ctx.node.FindAttr("equation");
  if (!attr) return ctx.Error("attribute equation is required");
  Equation eq;
  if (auto err = ParseEquation(ctx.node.AttrString("equation", ""), ranks, &eq))
    return ctx.Error("equation: " + *err);
  // Sizes of a label agree across operands, or are 1 and broadcast (as NumPy allows).
  std::vector<int64_t> size(static_cast<size_t>(eq.num_labels), -1);
  for (size_t i = 0; i < ranks.size(); ++i)
    for (size_t d = 0; d < ranks[i]; ++d) {
      const int l = eq.inputs[i][d];
      int64_t& s = size[static_cast<size_t>(l)];
      const int64_t v = ctx.input(i)->dim(d);
      if (s == -1 || s == 1)
        s = v;
      else if (v != 1 && v != s)
        return ctx.Error("label '" + LabelName(l) + "' has sizes " + std::to_string(s) + " and " +
                         std::to_string(v));
    }
  Status st = DispatchNumeric(ctx.input(0)->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    try {
      return Evaluate<T>(ctx, eq, size);
    } catch (const std::bad_alloc&) {
      return ctx.Error("out of memory for the intermediate products");
    }
  });
  return st.ok() || st.code() != Status::Code::kUnimplemented ? st : ctx.Unsupported(st.message());
}

std::optional<Dims> InferEinsum(InferContext& ctx) {
  std::vector<size_t> ranks;
  for (const InferInput& in : ctx.inputs) {
    if (!in.has_rank()) return std::nullopt;
    ranks.push_back(in.dims().size());
  }
  Equation eq;
  if (!ctx.node.FindAttr("equation") ||
      ParseEquation(ctx.node.AttrString("equation", ""), ranks, &eq))
    return std::nullopt;
  Dims out;
  for (int l : eq.output) {
    // A known size other than 1 wins; else one symbol that every unknown occurrence shares
    // (the others being 1); 1 when every occurrence is 1; else unknown.
    std::optional<int64_t> known;
    std::string symbol;
    bool one_symbol = true, all_ones = true;
    for (size_t i = 0; i < eq.inputs.size(); ++i)
      for (size_t d = 0; d < eq.inputs[i].size(); ++d) {
        if (eq.inputs[i][d] != l) continue;
        const ir::Dim& dim = ctx.inputs[i].dims()[d];
        if (dim.known()) {
          if (dim.value != 1) known = dim.value;
          continue;
        }
        all_ones = false;
        if (dim.symbol.empty() || (!symbol.empty() && symbol != dim.symbol)) one_symbol = false;
        symbol = dim.symbol;
      }
    if (known)
      out.push_back(ir::Dim::Known(*known));
    else if (all_ones)
      out.push_back(ir::Dim::Known(1));
    else
      out.push_back(one_symbol ? ir::Dim::Symbol(symbol) : ir::Dim{});
  }
  return out;
}

constexpr OpDef kOps[] = {
    {"Einsum", Einsum, InferEinsum},
};

}  // namespace

std::span<const OpDef> EinsumOps() { return kOps; }

}  // namespace supernova::ops

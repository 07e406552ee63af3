// Unique: distinct elements (or slices along an axis), with first-occurrence indices, the
// inverse mapping and counts.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// Rows of `rows` x `width` values; returns for each distinct row its first occurrence, in
// sorted (lexicographic) or first-seen order, plus the inverse map and counts.
template <typename T>
void FindUnique(const T* v, int64_t rows, int64_t width, bool sorted, std::vector<int64_t>* first,
                std::vector<int64_t>* inverse, std::vector<int64_t>* counts) {
  auto less = [&](int64_t a, int64_t b) {
    return std::lexicographical_compare(v + a * width, v + (a + 1) * width, v + b * width,
                                        v + (b + 1) * width);
  };
  auto equal = [&](int64_t a, int64_t b) {
    return std::equal(v + a * width, v + (a + 1) * width, v + b * width);
  };
  std::vector<int64_t> order(static_cast<size_t>(rows));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), less);     // stable: the first of equals leads
  std::vector<int64_t> group(static_cast<size_t>(rows));  // row -> group in sorted order
  std::vector<int64_t> group_first, group_count;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || !equal(order[i - 1], order[i])) {
      group_first.push_back(order[i]);
      group_count.push_back(0);
    }
    group[order[i]] = static_cast<int64_t>(group_first.size()) - 1;
    ++group_count.back();
  }
  const int64_t ng = static_cast<int64_t>(group_first.size());
  std::vector<int64_t> rank(static_cast<size_t>(ng));  // group -> output position
  std::iota(rank.begin(), rank.end(), 0);
  if (!sorted) {
    std::vector<int64_t> by_first(static_cast<size_t>(ng));
    std::iota(by_first.begin(), by_first.end(), 0);
    std::sort(by_first.begin(), by_first.end(),
              [&](int64_t a, int64_t b) { return group_first[a] < group_first[b]; });
    for (int64_t p = 0; p < ng; ++p) rank[by_first[p]] = p;
  }
  first->assign(static_cast<size_t>(ng), 0);
  counts->assign(static_cast<size_t>(ng), 0);
  for (int64_t g = 0; g < ng; ++g) {
    (*first)[rank[g]] = group_first[g];
    (*counts)[rank[g]] = group_count[g];
  }
  inverse->resize(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) (*inverse)[r] = rank[group[r]];
}

}  // namespace

Status Unique(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const bool sorted = ctx.node.AttrInt("sorted", 1) != 0;
  const bool has_axis = ctx.node.HasAttr("axis");
  const int64_t r = static_cast<int64_t>(x->rank());
  int64_t axis = ctx.node.AttrInt("axis", 0);
  if (has_axis) SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r));
  const size_t es = DataTypeSize(x->dtype());
  if (es == 0) return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  // Bring the axis to the front so each slice is one contiguous row.
  Shape moved_shape;
  std::vector<int64_t> moved_strides;
  int64_t rows = x->numel(), width = 1;
  Tensor rows_t = *x;
  if (has_axis) {
    const std::vector<int64_t> st = Strides(x->shape());
    moved_shape.push_back(x->dim(static_cast<size_t>(axis)));
    moved_strides.push_back(st[axis]);
    for (int64_t k = 0; k < r; ++k)
      if (k != axis) {
        moved_shape.push_back(x->dim(k));
        moved_strides.push_back(st[k]);
      }
    rows = moved_shape[0];
    width = rows == 0 ? 0 : x->numel() / rows;
    rows_t = Tensor(x->dtype(), moved_shape, ctx.allocator());
    if (x->numel() > 0)
      StridedCopy(es, rows_t.raw_data(), x->raw_data(), moved_shape, moved_strides,
                  ctx.num_threads);
  }
  std::vector<int64_t> first, inverse, counts;
  Status s = Status::Ok();
  if (x->dtype() == DataType::kBool) {
    FindUnique(rows_t.data<bool>(), rows, width, sorted, &first, &inverse, &counts);
  } else {
    s = DispatchNumeric(x->dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      FindUnique(rows_t.data<T>(), rows, width, sorted, &first, &inverse, &counts);
      return Status::Ok();
    });
  }
  if (!s.ok()) return ctx.Unsupported(s.message());
  const int64_t n = static_cast<int64_t>(first.size());

  // Y: the chosen rows, moved back so the axis is where it was.
  Shape y_shape = has_axis ? x->shape() : Shape{n};
  if (has_axis) y_shape[axis] = n;
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), y_shape, &y));
  Tensor picked(x->dtype(), {n, width}, ctx.allocator());
  const char* src = static_cast<const char*>(rows_t.raw_data());
  const int64_t row_bytes = width * static_cast<int64_t>(es);
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(static_cast<char*>(picked.raw_data()) + i * row_bytes, src + first[i] * row_bytes,
                static_cast<size_t>(row_bytes));
  if (!has_axis || axis == 0) {
    if (picked.nbytes() > 0) std::memcpy(y->raw_data(), picked.raw_data(), picked.nbytes());
  } else if (y->numel() > 0) {
    // picked is [n, dims without axis]; output dim k reads picked dim (k == axis ? 0 : ...).
    Shape pshape = {n};
    for (int64_t k = 0; k < r; ++k)
      if (k != axis) pshape.push_back(x->dim(k));
    const std::vector<int64_t> pst = Strides(pshape);
    std::vector<int64_t> strides;
    int64_t next = 1;
    for (int64_t k = 0; k < r; ++k) strides.push_back(k == axis ? pst[0] : pst[next++]);
    StridedCopy(es, y->raw_data(), picked.raw_data(), y_shape, strides, ctx.num_threads);
  }
  auto emit = [&](size_t i, const std::vector<int64_t>& v) -> Status {
    if (!ctx.output_wanted(i)) return Status::Ok();
    Tensor* t;
    SN_RETURN_IF_ERROR(AllocOutput(ctx, i, DataType::kInt64, {static_cast<int64_t>(v.size())}, &t));
    std::copy(v.begin(), v.end(), t->data<int64_t>());
    return Status::Ok();
  };
  SN_RETURN_IF_ERROR(emit(1, first));
  SN_RETURN_IF_ERROR(emit(2, inverse));
  return emit(3, counts);
}

namespace {
constexpr OpDef kOps[] = {
    {"Unique", Unique, SameDtype},
};

}  // namespace

std::span<const OpDef> UniqueOps() { return kOps; }

}  // namespace supernova::ops

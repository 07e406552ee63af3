// TfIdfVectorizer (opset 9): counts the pool's n-grams (optionally with skips) in each row of
// an int32/int64 or string input and weighs the counts (TF, IDF or TFIDF).
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ops/op.h"

namespace supernova::ops {
namespace {

enum class Mode { kTf, kIdf, kTfIdf };

// The pool's n-grams of the sizes wanted, each with its output coordinate. Grams of other sizes
// still take their place in the numbering, as the spec numbers every n-gram of the pool.
template <typename Key>
struct Pool {
  std::map<std::vector<Key>, int64_t> grams;  // gram -> output coordinate
  int64_t output_size = 0;
};

template <typename Key>
Status BuildPool(const KernelContext& ctx, const std::vector<Key>& items, int64_t min_n,
                 int64_t max_n, Pool<Key>* pool) {
  const std::vector<int64_t> counts = ctx.node.AttrInts("ngram_counts");
  const std::vector<int64_t> indexes = ctx.node.AttrInts("ngram_indexes");
  if (counts.empty()) return ctx.Error("ngram_counts is required");
  const int64_t total = static_cast<int64_t>(items.size());
  for (const int64_t idx : indexes) {
    if (idx < 0) return ctx.Error("ngram_indexes holds a negative index " + std::to_string(idx));
    pool->output_size = std::max(pool->output_size, idx + 1);
  }
  size_t id = 0;  // the n-gram's place in the pool, over all sizes
  for (size_t i = 0; i < counts.size(); ++i) {
    const int64_t n = static_cast<int64_t>(i) + 1;
    const int64_t begin = counts[i];
    const int64_t end = i + 1 < counts.size() ? counts[i + 1] : total;
    if (begin < 0 || end < begin || end > total)
      return ctx.Error("ngram_counts " + std::to_string(begin) + ".." + std::to_string(end) +
                       " do not fit a pool of " + std::to_string(total) + " items");
    if ((end - begin) % n != 0)
      return ctx.Error(std::to_string(end - begin) + " pool items are not a whole number of " +
                       std::to_string(n) + "-grams");
    for (int64_t at = begin; at < end; at += n, ++id) {
      if (id >= indexes.size())
        return ctx.Error("ngram_indexes has " + std::to_string(indexes.size()) +
                         " entries, fewer than the pool's n-grams");
      if (n < min_n || n > max_n) continue;
      std::vector<Key> gram(items.begin() + at, items.begin() + at + n);
      pool->grams.emplace(std::move(gram), indexes[id]);
    }
  }
  if (id != indexes.size())
    return ctx.Error("ngram_indexes has " + std::to_string(indexes.size()) + " entries for " +
                     std::to_string(id) + " n-grams in the pool");
  return Status::Ok();
}

// Counts into `counts` (output_size entries) the grams of one row of `len` items. Skip distance
// d takes every d-th item; unigrams have no skips, so they are counted at d == 1 only.
template <typename Key, typename Get>
void CountRow(const Pool<Key>& pool, int64_t len, int64_t min_n, int64_t max_n, int64_t max_skip,
              Get get, float* counts) {
  int64_t first_n = min_n;
  std::vector<Key> gram;
  for (int64_t d = 1; d <= max_skip + 1; ++d) {
    for (int64_t start = 0; start < len; ++start) {
      if (start + d * (first_n - 1) >= len) break;
      gram.clear();
      for (int64_t n = 1, at = start; n <= max_n && at < len; ++n, at += d) {
        gram.push_back(get(at));
        if (n < first_n) continue;
        auto it = pool.grams.find(gram);
        if (it != pool.grams.end()) counts[it->second] += 1.0f;
      }
    }
    if (first_n == 1) {
      first_n = 2;
      if (first_n > max_n) break;
    }
  }
}

template <typename Key, typename Get>
Status Vectorize(KernelContext& ctx, const Tensor& x, const Pool<Key>& pool, Mode mode,
                 int64_t min_n, int64_t max_n, int64_t max_skip, Get get) {
  const std::vector<float> weights = ctx.node.AttrFloats("weights");
  if (!weights.empty() && static_cast<int64_t>(weights.size()) < pool.output_size)
    return ctx.Error("weights has " + std::to_string(weights.size()) + " entries for " +
                     std::to_string(pool.output_size) + " outputs");
  const bool batched = x.rank() == 2;
  const int64_t rows = batched ? x.dim(0) : 1;
  const int64_t len = batched ? x.dim(1) : x.dim(0);
  const int64_t width = pool.output_size;
  Shape out_shape = batched ? Shape{rows, width} : Shape{width};
  Tensor& y = ctx.Output(0, DataType::kFloat32, out_shape);
  float* out = y.data<float>();
  std::fill(out, out + y.numel(), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = out + r * width;
    CountRow<Key>(
        pool, len, min_n, max_n, max_skip, [&](int64_t i) { return get(r * len + i); }, row);
    for (int64_t j = 0; j < width; ++j) {
      const float w = weights.empty() ? 1.0f : weights[static_cast<size_t>(j)];
      if (mode == Mode::kIdf)
        row[j] = row[j] > 0 ? w : 0.0f;
      else if (mode == Mode::kTfIdf)
        row[j] *= w;
    }
  }
  return Status::Ok();
}

}  // namespace

Status TfIdfVectorizer(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input X");
  if (x->rank() != 1 && x->rank() != 2)
    return ctx.Error("X must be [C] or [N, C], got " + ShapeToString(x->shape()));
  const std::string mode_name = ctx.node.AttrString("mode", "");
  Mode mode;
  if (mode_name == "TF")
    mode = Mode::kTf;
  else if (mode_name == "IDF")
    mode = Mode::kIdf;
  else if (mode_name == "TFIDF")
    mode = Mode::kTfIdf;
  else
    return ctx.Error("mode must be TF, IDF or TFIDF, got '" + mode_name + "'");
  const int64_t min_n = ctx.node.AttrInt("min_gram_length", 0);
  const int64_t max_n = ctx.node.AttrInt("max_gram_length", 0);
  const int64_t max_skip = ctx.node.AttrInt("max_skip_count", 0);
  if (min_n < 1 || max_n < min_n)
    return ctx.Error("gram lengths must satisfy 1 <= min_gram_length <= max_gram_length, got " +
                     std::to_string(min_n) + " and " + std::to_string(max_n));
  if (max_skip < 0) return ctx.Error("max_skip_count must be >= 0");

  if (x->dtype() == DataType::kInt32 || x->dtype() == DataType::kInt64) {
    const ir::Attribute* a = ctx.node.FindAttr("pool_int64s");
    if (!a || a->kind != ir::Attribute::Kind::kInts)
      return ctx.Error("an integer input needs pool_int64s");
    Pool<int64_t> pool;
    SN_RETURN_IF_ERROR(BuildPool(ctx, a->ints, min_n, max_n, &pool));
    if (x->dtype() == DataType::kInt32) {
      const int32_t* v = x->data<int32_t>();
      return Vectorize(ctx, *x, pool, mode, min_n, max_n, max_skip,
                       [v](int64_t i) { return static_cast<int64_t>(v[i]); });
    }
    const int64_t* v = x->data<int64_t>();
    return Vectorize(ctx, *x, pool, mode, min_n, max_n, max_skip, [v](int64_t i) { return v[i]; });
  }
  if (x->dtype() == DataType::kString) {
    const ir::Attribute* a = ctx.node.FindAttr("pool_strings");
    if (!a || a->kind != ir::Attribute::Kind::kStrings)
      return ctx.Error("a string input needs pool_strings");
    Pool<std::string> pool;
    SN_RETURN_IF_ERROR(BuildPool(ctx, a->strings, min_n, max_n, &pool));
    const std::string* v = x->data<std::string>();
    return Vectorize(ctx, *x, pool, mode, min_n, max_n, max_skip,
                     [v](int64_t i) -> const std::string& { return v[i]; });
  }
  return ctx.Unsupported("X of dtype " + DataTypeName(x->dtype()) +
                         " (int32, int64 or string expected)");
}

namespace {

// [C] -> [out], [N, C] -> [N, out] with out = max(ngram_indexes) + 1; always float.
std::optional<Dims> TfIdfShape(InferContext& ctx) {
  ctx.dtype = DataType::kFloat32;
  const InferInput& x = ctx.in(0);
  if (!x.has_rank() || (x.dims().size() != 1 && x.dims().size() != 2)) return std::nullopt;
  int64_t width = 0;
  for (const int64_t idx : ctx.node.AttrInts("ngram_indexes")) {
    if (idx < 0) return std::nullopt;
    width = std::max(width, idx + 1);
  }
  Dims out;
  if (x.dims().size() == 2) out.push_back(x.dims()[0]);
  out.push_back(ir::Dim::Known(width));
  return out;
}

constexpr OpDef kOps[] = {
    {.op_type = "TfIdfVectorizer", .kernel = TfIdfVectorizer, .infer = TfIdfShape, .strings = true},
};

}  // namespace

std::span<const OpDef> TfIdfVectorizerOps() { return kOps; }

}  // namespace supernova::ops

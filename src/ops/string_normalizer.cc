// StringNormalizer (opset 10): drops stopwords from a [C] or [1, C] string tensor, then
// changes the case of what is left.
#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

#include "ops/op.h"

namespace supernova::ops {
namespace {

enum class CaseChange { kNone, kLower, kUpper };

// Case mapping here is ASCII's; these locales agree with it on ASCII text, and text with other
// bytes is refused where a mapping would apply to it.
bool AsciiLocale(const std::string& locale) {
  return locale.empty() || locale == "C" || locale == "POSIX" || locale == "en_US" ||
         locale == "en_US.UTF-8" || locale == "en_US.utf8";
}

bool IsAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
}

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

}  // namespace

Status StringNormalizer(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input X");
  if (x->dtype() != DataType::kString)
    return ctx.Error("X must be a string tensor, got " + DataTypeName(x->dtype()));
  if (!(x->rank() == 1 || (x->rank() == 2 && x->dim(0) == 1)))
    return ctx.Error("X must be [C] or [1, C], got " + ShapeToString(x->shape()));
  const std::string action = ctx.node.AttrString("case_change_action", "NONE");
  CaseChange change;
  if (action == "NONE")
    change = CaseChange::kNone;
  else if (action == "LOWER")
    change = CaseChange::kLower;
  else if (action == "UPPER")
    change = CaseChange::kUpper;
  else
    return ctx.Error("case_change_action must be NONE, LOWER or UPPER, got '" + action + "'");
  const std::string locale = ctx.node.AttrString("locale", "");
  if (!AsciiLocale(locale))
    return ctx.Unsupported("locale '" + locale + "': only en_US (ASCII case mapping) is supported");
  const bool case_sensitive = ctx.node.AttrInt("is_case_sensitive", 0) != 0;
  std::vector<std::string> stopwords;
  if (const ir::Attribute* a = ctx.node.FindAttr("stopwords")) stopwords = a->strings;
  const bool folds_stopwords = !case_sensitive && !stopwords.empty();

  const std::string* in = x->data<std::string>();
  const int64_t n = x->numel();
  if (change != CaseChange::kNone || folds_stopwords) {
    for (int64_t i = 0; i < n; ++i)
      if (!IsAscii(in[i]))
        return ctx.Unsupported("element " + std::to_string(i) +
                               " is not ASCII text: case mapping is ASCII only");
    for (const std::string& w : stopwords)
      if (folds_stopwords && !IsAscii(w))
        return ctx.Unsupported("stopword '" + w + "' is not ASCII: case mapping is ASCII only");
  }
  std::unordered_set<std::string> stop;
  for (const std::string& w : stopwords) stop.insert(case_sensitive ? w : Lower(w));

  std::vector<std::string> kept;
  kept.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (stop.count(case_sensitive ? in[i] : Lower(in[i]))) continue;
    kept.push_back(change == CaseChange::kLower   ? Lower(in[i])
                   : change == CaseChange::kUpper ? Upper(in[i])
                                                  : in[i]);
  }
  // The spec's rule for nothing left: one empty string, not an empty tensor.
  if (kept.empty()) kept.emplace_back();
  const int64_t c = static_cast<int64_t>(kept.size());
  Tensor& y = ctx.Output(0, DataType::kString, x->rank() == 2 ? Shape{1, c} : Shape{c});
  std::move(kept.begin(), kept.end(), y.data<std::string>());
  return Status::Ok();
}

namespace {

// The count left after the stopwords is known only at run time.
std::optional<Dims> StringNormalizerShape(InferContext& ctx) {
  ctx.dtype = DataType::kString;
  const InferInput& x = ctx.in(0);
  if (!x.has_rank()) return std::nullopt;
  Dims out(x.dims().size());
  if (out.size() == 2) out[0] = ir::Dim::Known(1);
  return out;
}

constexpr OpDef kOps[] = {
    {.op_type = "StringNormalizer",
     .kernel = StringNormalizer,
     .infer = StringNormalizerShape,
     .strings = true},
};

}  // namespace

std::span<const OpDef> StringNormalizerOps() { return kOps; }

}  // namespace supernova::ops

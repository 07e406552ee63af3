#include "compress/opset_upgrade.h"

#include <string>
#include <vector>

#include "optimizer/graph_utils.h"

namespace supernova::compress {
namespace {

using optimizer::AddInitializer;
using optimizer::GraphEditor;

bool IsOnnx(const ir::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// Which opset first gave `op` the form that differs from the one before: the rewrites below.
struct Change {
  const char* op;
  int64_t since;
};
constexpr Change kRewritten[] = {{"Slice", 10}, {"TopK", 10}, {"Clip", 11}, {"Pad", 11}};
// Changes in meaning between 9 and 11 that are not rewritten (any opset below `since` refused).
constexpr Change kRefused[] = {{"Upsample", 10}, {"Resize", 11}, {"Scatter", 11}};

// `value` (attribute `key` of the node, which goes) as a new initializer that the node reads at
// input `slot` (inputs skipped before it become "").
void AttrToInput(GraphEditor& e, size_t node, const std::string& key, size_t slot, Tensor value) {
  ir::Node& n = e.node(node);
  const std::string name = e.UniqueName((n.name.empty() ? n.outputs[0] : n.name) + "_" + key);
  AddInitializer(e.graph(), name, std::move(value));
  e.SetInput(node, slot, name);
  n.attributes.erase(key);
}

Tensor Int64s(const std::vector<int64_t>& v) {
  return Tensor::FromVector(v, {static_cast<int64_t>(v.size())});
}

// A scalar of the float type of `value` (Clip and Pad before 11 take float types only).
Result<Tensor> FloatScalarLike(const ir::Graph& g, const ir::Node& n, float v) {
  const ir::ValueType* t = g.TypeOf(n.inputs[0]);
  const DataType d = t ? t->dtype : DataType::kUndefined;
  if (d == DataType::kFloat32) return Tensor::Scalar(v);
  if (d == DataType::kFloat64) return Tensor::Scalar(static_cast<double>(v));
  return Status::InvalidArgument("cannot move " + n.Label() + " to opset 11: its input is " +
                                 std::string(DataTypeName(d)) +
                                 ", not float32 or float64 (its bounds become typed inputs)");
}

Result<int> Upgrade(ir::Graph& g, int64_t from, int64_t target) {
  int rewritten = 0;
  GraphEditor e(g);
  for (size_t i = 0; i < e.num_nodes(); ++i) {
    ir::Node& n = e.node(i);
    for (auto& [key, a] : n.attributes)
      if (a.kind == ir::Attribute::Kind::kGraph && a.g) {
        a.g->opsets[""] = target;
        SN_ASSIGN_OR_RETURN(int r, Upgrade(*a.g, from, target));
        rewritten += r;
      }
    if (!IsOnnx(n)) continue;
    for (const Change& c : kRefused)
      if (n.op_type == c.op && from < c.since)
        return Status::InvalidArgument("cannot move " + n.Label() + " from opset " +
                                       std::to_string(from) + " to " + std::to_string(target) +
                                       ": its meaning changed in between and it is not rewritten");
    bool changes = false;
    for (const Change& c : kRewritten) changes |= n.op_type == c.op && from < c.since;
    if (!changes) continue;
    ++rewritten;
    if (n.op_type == "Slice") {
      AttrToInput(e, i, "starts", 1, Int64s(n.AttrInts("starts")));
      AttrToInput(e, i, "ends", 2, Int64s(n.AttrInts("ends")));
      if (n.HasAttr("axes")) AttrToInput(e, i, "axes", 3, Int64s(n.AttrInts("axes")));
    } else if (n.op_type == "TopK") {
      AttrToInput(e, i, "k", 1, Int64s({n.AttrInt("k", 0)}));
    } else if (n.op_type == "Clip") {
      // Clip 6 defaults to the float range, Clip 11 to no bound: the same for float inputs.
      if (n.HasAttr("min")) {
        SN_ASSIGN_OR_RETURN(Tensor lo, FloatScalarLike(g, n, n.AttrFloat("min", 0)));
        AttrToInput(e, i, "min", 1, std::move(lo));
      }
      if (n.HasAttr("max")) {
        SN_ASSIGN_OR_RETURN(Tensor hi, FloatScalarLike(g, n, n.AttrFloat("max", 0)));
        AttrToInput(e, i, "max", 2, std::move(hi));
      }
    } else if (n.op_type == "Pad") {
      const float value = n.AttrFloat("value", 0);
      AttrToInput(e, i, "pads", 1, Int64s(n.AttrInts("pads")));
      if (n.AttrString("mode", "constant") == "constant" && value != 0) {
        SN_ASSIGN_OR_RETURN(Tensor v, FloatScalarLike(g, n, value));
        AttrToInput(e, i, "value", 2, std::move(v));
      }
      n.attributes.erase("value");
    }
  }
  SN_RETURN_IF_ERROR(e.Finish());
  return rewritten;
}

}  // namespace

Result<OpsetUpgrade> UpgradeOpset(ir::Graph& g, int64_t target) {
  OpsetUpgrade u;
  u.before = g.Opset();
  u.after = u.before;
  if (u.before >= target) return u;
  if (target > 11)
    return Status::InvalidArgument("opset upgrades go up to 11; asked for " +
                                   std::to_string(target));
  SN_ASSIGN_OR_RETURN(u.rewritten, Upgrade(g, u.before, target));
  g.opsets[""] = target;
  u.after = target;
  return u;
}

}  // namespace supernova::compress

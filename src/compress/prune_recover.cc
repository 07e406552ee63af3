// Accuracy recovery after pruning, without training. A conv that lost input channels loses
// what they added to its outputs: on average, for output o, the sum over the removed channels c
// of mean(x_c) * sum(W[o, c, ...]) (exact away from the zero padding at the borders). Where a
// BatchNormalization follows, its statistics are simply measured again on the pruned model,
// which also restores the variance; each BN is measured after those before it have been, since
// they change its input. Elsewhere the lost mean goes back into the conv's bias, measured once
// on the original model.
#include <algorithm>
#include <map>
#include <numeric>

#include "compress/prune.h"

namespace supernova::compress {
namespace {

// The node that produces `value`.
template <typename G>
auto Producing(G& g, const std::string& value) -> decltype(&g.nodes[0]) {
  for (auto& n : g.nodes)
    if (!n.outputs.empty() && n.outputs[0] == value) return &n;
  return nullptr;
}

// The constant `value` holds, also through the Identity nodes exporters put in front of
// shared weights.
const Tensor* ConstantOf(const ir::Graph& g, std::string value) {
  for (int hops = 0; hops < 8; ++hops) {
    if (auto it = g.initializers.find(value); it != g.initializers.end()) return &it->second;
    const ir::Node* id = Producing(g, value);
    if (!id || id->op_type != "Identity" || id->inputs.empty()) return nullptr;
    value = id->inputs[0];
  }
  return nullptr;
}

// The BatchNormalization that alone reads `value`, or nullptr.
ir::Node* SoleBatchNorm(ir::Graph& g, const std::string& value) {
  ir::Node* bn = nullptr;
  int readers = 0;
  for (ir::Node& n : g.nodes)
    for (const std::string& in : n.inputs)
      if (in == value) {
        ++readers;
        bn = &n;
      }
  const bool pinned = std::count(g.outputs.begin(), g.outputs.end(), value) != 0;
  if (readers != 1 || pinned || bn->op_type != "BatchNormalization" || bn->inputs.size() < 5 ||
      bn->inputs[0] != value)
    return nullptr;
  return bn;
}

// Per-channel (axis 1) mean and population variance of float tensors [N, C, ...].
struct ChannelStats {
  std::vector<double> sum, sq;
  int64_t count = 0;
  void Add(const Tensor& t) {
    const int64_t n = t.dim(0), c = t.dim(1), inner = t.numel() / std::max<int64_t>(n * c, 1);
    if (sum.empty())
      sum.assign(static_cast<size_t>(c), 0.0), sq.assign(static_cast<size_t>(c), 0.0);
    const float* p = t.data<float>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t k = 0; k < c; ++k)
        for (int64_t j = 0; j < inner; ++j) {
          const double v = p[(b * c + k) * inner + j];
          sum[static_cast<size_t>(k)] += v;
          sq[static_cast<size_t>(k)] += v * v;
        }
    count += n * inner;
  }
  double Mean(size_t k) const { return sum[k] / static_cast<double>(count); }
  double Var(size_t k) const {
    return std::max(0.0, sq[k] / static_cast<double>(count) - Mean(k) * Mean(k));
  }
};

Result<std::vector<ChannelStats>> Measure(const ir::Model& model,
                                          const std::vector<std::string>& values,
                                          const std::vector<Feeds>& calib, int threads) {
  SN_ASSIGN_OR_RETURN(Probe probe, Probe::Open(model, values, threads));
  std::vector<ChannelStats> stats(values.size());
  for (const Feeds& f : calib) {
    SN_ASSIGN_OR_RETURN(std::vector<Tensor> out, probe.Run(f));
    for (size_t k = 0; k < out.size(); ++k) {
      if (out[k].dtype() != DataType::kFloat32 || out[k].rank() < 2)
        return Status::InvalidArgument("pruning recovery: '" + values[k] +
                                       "' is not a float tensor with channels");
      stats[k].Add(out[k]);
    }
  }
  return stats;
}

Tensor FloatVector(const std::vector<double>& v) {
  Tensor t(DataType::kFloat32, {static_cast<int64_t>(v.size())});
  for (size_t k = 0; k < v.size(); ++k) t.data<float>()[k] = static_cast<float>(v[k]);
  return t;
}

Status RecomputeBatchNorm(ir::Model& pruned, ir::Node* bn, const std::vector<Feeds>& calib,
                          int threads) {
  SN_ASSIGN_OR_RETURN(std::vector<ChannelStats> s,
                      Measure(pruned, {bn->inputs[0]}, calib, threads));
  std::vector<double> mean(s[0].sum.size()), var(s[0].sum.size());
  for (size_t k = 0; k < mean.size(); ++k) {
    mean[k] = s[0].Mean(k);
    var[k] = s[0].Var(k);
  }
  // New tensors under the same names: the original model shares the old buffers.
  pruned.graph.initializers[bn->inputs[3]] = FloatVector(mean);
  pruned.graph.initializers[bn->inputs[4]] = FloatVector(var);
  return Status::Ok();
}

}  // namespace

Result<RecoveryReport> RecoverAfterPruning(ir::Model& pruned, const ir::Model& original,
                                           const PruneReport& report,
                                           const std::vector<Feeds>& calib, int threads) {
  RecoveryReport done;
  if (calib.empty()) return Status::InvalidArgument("pruning recovery needs calibration inputs");
  ir::Graph& g = pruned.graph;
  std::vector<ir::Node*> batch_norms;
  std::vector<const PrunedReader*> corrected;
  std::vector<std::string> inputs;
  for (const PrunedReader& r : report.readers) {
    ir::Node* conv = Producing(g, r.output);
    if (!conv) return Status::InvalidArgument("pruning recovery: no node '" + r.node + "'");
    if (ir::Node* bn = SoleBatchNorm(g, conv->outputs[0])) {
      batch_norms.push_back(bn);
      continue;
    }
    corrected.push_back(&r);
    inputs.push_back(conv->inputs[0]);
  }
  if (!corrected.empty()) {
    SN_ASSIGN_OR_RETURN(std::vector<ChannelStats> s, Measure(original, inputs, calib, threads));
    for (size_t i = 0; i < corrected.size(); ++i) {
      const PrunedReader& r = *corrected[i];
      const ir::Node* before = Producing(original.graph, r.output);
      ir::Node* conv = Producing(g, r.output);
      const Tensor* w0 = before ? ConstantOf(original.graph, before->inputs[1]) : nullptr;
      if (!w0 || w0->dtype() != DataType::kFloat32 || w0->rank() < 3)
        return Status::InvalidArgument("pruning recovery: '" + r.node +
                                       "' differs from the original");
      const Tensor& w = *w0;
      const int64_t cin = w.dim(1), inner = w.numel() / (w.dim(0) * cin);
      // The original output channels that remain.
      std::vector<int64_t> kept(static_cast<size_t>(g.initializers.at(conv->inputs[1]).dim(0)));
      std::iota(kept.begin(), kept.end(), 0);
      if (auto it = report.kept_channels.find(r.output); it != report.kept_channels.end())
        kept = it->second;
      std::vector<double> bias(kept.size(), 0.0);
      if (conv->NumInputs() > 2) {
        const Tensor& b = g.initializers.at(conv->inputs[2]);
        for (size_t k = 0; k < bias.size(); ++k) bias[k] = b.data<float>()[k];
      }
      for (size_t k = 0; k < bias.size(); ++k) {
        const int64_t o = kept[k];
        for (int64_t c : r.removed_inputs) {
          double wsum = 0;
          for (int64_t j = 0; j < inner; ++j) wsum += w.data<float>()[(o * cin + c) * inner + j];
          bias[k] += wsum * s[i].Mean(static_cast<size_t>(c));
        }
      }
      std::string name = r.node + "_bias_corrected";
      while (g.initializers.count(name)) name += "_";
      g.initializers[name] = FloatVector(bias);
      g.value_types[name] =
          ir::ValueType::Static(DataType::kFloat32, {static_cast<int64_t>(bias.size())});
      if (conv->inputs.size() < 3) conv->inputs.resize(3);
      const std::string old = conv->inputs[2];
      conv->inputs[2] = name;
      bool still_read = false;
      for (const ir::Node& n : g.nodes)
        still_read = still_read || std::count(n.inputs.begin(), n.inputs.end(), old) != 0;
      if (!old.empty() && !still_read) g.initializers.erase(old);
      ++done.bias_corrected;
    }
  }
  // In graph order: each BN sees its input as the BNs before it left it.
  std::sort(batch_norms.begin(), batch_norms.end());
  for (ir::Node* bn : batch_norms) {
    SN_RETURN_IF_ERROR(RecomputeBatchNorm(pruned, bn, calib, threads));
    ++done.batch_norms;
  }
  return done;
}

}  // namespace supernova::compress

// Structured channel pruning: whole output channels of Conv layers go, ranked by the norm of
// their filters, and with them the matching input channels of every reader downstream, so
// that the weights really shrink and MACs, file size and latency fall.
//
// Channels are followed through ops that keep them apart (BatchNormalization, activations,
// pooling, element-wise ops with a per-channel or scalar constant, depthwise convs, Flatten of
// a 1x1 map into a Gemm), coupled where they meet (every channel added to another in a
// residual Add must go with it, so the convs of one Add chain are pruned at the same indices,
// ranked by their summed norms) and laid side by side by Concat. A channel that reaches
// anything else (a graph output, Reshape, Resize, an unknown op) is kept, and the report says
// which convs were skipped and why.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compress/probe.h"
#include "ir/graph.h"
#include "ir/onnx_import.h"
#include "supernova/status.h"

namespace supernova::compress {

enum class PruneCriterion { kL1, kL2 };
Result<PruneCriterion> ParsePruneCriterion(const std::string& name);
const char* PruneCriterionName(PruneCriterion c);

struct PruneOptions {
  double ratio = 0;  // share of each coupling group's channels to remove, in [0, 1)
  PruneCriterion criterion = PruneCriterion::kL1;
  // A group whose convs all had a multiple of this many channels keeps a multiple of it (1: no
  // rounding). oneDNN's blocked layouts work in blocks of 8 or 16 channels.
  int64_t channel_multiple = 8;
  // Whether groups of several convs (coupled by residual Adds, or by a Pad that widens a
  // shortcut) are pruned too. They carry the most MACs, and removing their channels costs the
  // most accuracy: on the face embedding at 0.3, cosine 0.80 with them against 0.89 without.
  bool coupled = true;
};

// One set of convs whose output channels are pruned together.
struct PruneGroup {
  std::vector<std::string> convs;  // node names (their outputs' where they have none)
  int64_t channels = 0;            // channels of the group before
  int64_t removed = 0;
  std::vector<std::vector<int64_t>> removed_of;  // per conv: its output channels removed
};

// A conv whose input channels lost some: bias correction adjusts it afterwards.
struct PrunedReader {
  std::string node;                     // its name, or its output's where it has none
  std::string output;                   // its output value: what finds it again
  std::vector<int64_t> removed_inputs;  // input channel indices of the original
};

struct PruneReport {
  std::vector<PruneGroup> groups;
  std::vector<std::string> skipped;  // "Conv 'x': output reaches Reshape 'r'"
  std::vector<PrunedReader> readers;
  // Values that lost channels: the original channel indices that remain, in order.
  std::map<std::string, std::vector<int64_t>> kept_channels;
  int64_t channels_before = 0, channels_after = 0;  // over the pruned groups
  int64_t params_before = 0, params_after = 0;      // float initializer elements
};

// Prunes `g` in place. Fails (InvalidArgument), leaving `g` untouched, for a ratio outside
// [0, 1) or a graph with no conv whose channels can be followed.
Result<PruneReport> PruneChannels(ir::Graph& g, const PruneOptions& o);

// Accuracy recovery without training, on calibration inputs, for each conv that lost input
// channels: where a BatchNormalization alone reads it, that BN's mean moves by the shift of its
// input's mean from the original model to the pruned one and its variance by the ratio (in
// graph order, each BN after those before it); otherwise its bias takes back the mean that the
// removed channels contributed on the original model.
struct RecoveryReport {
  int bias_corrected = 0;  // convs whose bias took back the mean they lost
  int batch_norms = 0;     // BNs whose statistics were measured again
};
Result<RecoveryReport> RecoverAfterPruning(ir::Model& pruned, const ir::Model& original,
                                           const PruneReport& report,
                                           const std::vector<Feeds>& calib, int threads);

}  // namespace supernova::compress

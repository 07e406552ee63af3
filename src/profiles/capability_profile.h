// Capability profiles: data files (profiles/*.json) that describe accelerators Supernova
// cannot run here (Edge TPU, TensorRT, SNPE, OpenVINO VPU) from their vendors' published
// op-support tables, so a placement can be planned before anyone buys the hardware.
//
//   auto profile = profiles::ResolveTarget("edgetpu");       // built in, or a .json path
//   if (!profile.ok()) ...                                    // names the file and field
//   SN_RETURN_IF_ERROR(profiles::PrepareGraph(graph));        // what a vendor compiler sees
//   providers::Support s = profiles::Supports(*profile, graph, node);
//   profiles::Placement p = profiles::Evaluate(*profile, graph);
//   for (const auto& n : p.nodes) if (!n.on_accelerator) printf("%s\n", n.reason.c_str());
//
// The file format and the constraint vocabulary are documented in docs/profiles.md. A profile
// records only what its source states; Supports() never guesses beyond it: an op missing from
// the table falls back ("op X not in the table").
//
// All functions are pure: they read their arguments and may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "providers/provider.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::profiles {

// How the vendor's compiler splits a graph between the accelerator and the host.
enum class PartitionRule {
  kAny,     // any number of accelerator segments (TensorRT, SNPE, OpenVINO HETERO)
  kPrefix,  // one segment: everything after the first unsupported op runs on the host (Edge TPU)
};

// What happens to a float32 model on an accelerator whose dtypes lack float32.
enum class FloatPolicy {
  kNative,    // float32 is in `dtypes`, or it is not and float nodes fall back
  kConvert,   // the vendor's converter casts float32 to the accelerator's float type itself
  kQuantize,  // needs post-training int8 quantization first (EvalOptions::assume_int8)
};

// One limit on a node, as data. See docs/profiles.md for each kind's JSON form.
struct Constraint {
  enum class Kind {
    kAttrIn,              // attribute value (or its default) in a set
    kAttrRange,           // int attribute, or every element of an ints attribute, in [min, max]
    kAttrAllEqual,        // every element of an ints attribute equal (same dilation in x and y)
    kInputConstant,       // input #input, when given, is an initializer
    kInputRank,           // rank of input #input in [min, max]
    kInputEffectiveRank,  // dims of input #input that exceed 1, counted from the first such
    kInputMaxElements,    // element count of input #input at most max
    kInputValuesIn,       // every element of constant input #input in a set (Slice steps)
    kMaxOutputs,          // at most `max` outputs used (MaxPool without Indices)
    kConvGroup,           // group is 1 ("standard") or channels ("depthwise"), as allowed
    kAxesExclude,         // axis/axes (attribute or constant input 1) never touch `axes`
    kPadsZeroOn,          // Pad adds nothing along `axes`
    kPermFixed,           // Transpose keeps each of `axes` in place
    kClipBounds,          // Clip's (min, max) is one of the allowed pairs
  };
  Kind kind = Kind::kAttrIn;
  std::string attr;
  int input = 0;
  std::vector<std::string> values;  // kAttrIn (ints written in decimal), kConvGroup
  std::optional<std::string> default_value;
  std::optional<double> min, max;
  std::vector<double> numbers;  // kInputValuesIn
  std::vector<int64_t> axes;
  // kClipBounds: nullopt stands for "unbounded" on that side.
  std::vector<std::pair<std::optional<double>, std::optional<double>>> bounds;
};

struct OpRule {
  bool supported = false;
  std::string maps_to;           // the vendor's op, where it differs from the ONNX name
  std::string note;              // what the source says that is not checked as data
  std::vector<DataType> dtypes;  // empty: the profile's dtypes
  std::vector<Constraint> constraints;
};

struct Profile {
  std::string name;  // "edgetpu"
  std::string title;
  std::string source_document;
  std::string source_url;
  std::string source_version;
  std::string origin;  // "built-in" or the file it came from
  std::vector<DataType> dtypes;
  FloatPolicy float_policy = FloatPolicy::kNative;
  bool static_shapes = false;
  int max_effective_rank = 0;  // 0: no limit
  PartitionRule partition = PartitionRule::kAny;
  std::map<std::string, OpRule> ops;  // by ONNX op type (default domain)
};

// Parses a profile. `origin` names the text in errors: "edgetpu.json: ops.Conv.constraints[1]:
// unknown kind 'atr_in'". Fails with kInvalidArgument.
Result<Profile> ParseProfile(std::string_view json_text, const std::string& origin);
// Reads and parses a file; kNotFound when it cannot be read.
Result<Profile> LoadProfileFile(const std::string& path);
// Names of the profiles compiled into the binary (profiles/*.json at build time), sorted.
std::vector<std::string> BuiltinProfileNames();
// A built-in profile by name, or a file when `target` ends in ".json" or names an existing
// file. Unknown names fail listing the built-in ones.
Result<Profile> ResolveTarget(const std::string& target);

// Brings a model into the form a vendor's compiler works on: the basic optimization level
// (constant folding, Shape of static values, no-op removal), BatchNormalization folded into
// the preceding Conv (every vendor converter does this), and shape inference. Runtime-specific
// fusions (com.supernova ops) are not applied: no vendor table knows them.
Status PrepareGraph(ir::Graph& graph);

struct EvalOptions {
  // Evaluate a float model as if post-training quantized to int8: float32/float16 values
  // count as int8 (for FloatPolicy::kQuantize profiles).
  bool assume_int8 = false;
};

// Whether the accelerator runs `node` on its own, ignoring the partition rule: op in the
// table, dtypes of its non-constant values, static shapes and rank where the profile asks,
// and the op's constraints. `graph` must have value types (PrepareGraph).
providers::Support Supports(const Profile& profile, const ir::Graph& graph, const ir::Node& node,
                            const EvalOptions& options = {});

struct NodePlacement {
  const ir::Node* node = nullptr;
  bool on_accelerator = false;
  std::string reason;  // why it falls back; empty on the accelerator
};

struct Placement {
  // Every node but Constant nodes (data, not work), in graph order.
  std::vector<NodePlacement> nodes;
  size_t accelerator_nodes = 0;
  size_t cpu_nodes = 0;
  // Connected groups of accelerator nodes (joined by the values one produces and another reads).
  size_t segments = 0;
  // Values that cross between host and accelerator: read on the other side from where they
  // are made. Graph inputs are made on the host, graph outputs are read there; weights do not
  // count.
  size_t transitions = 0;
};

// Supports() for every node, then the partition rule: under kPrefix every node after the first
// one that falls back falls back too, with the reason "after first unsupported op (prefix
// rule)".
Placement Evaluate(const Profile& profile, const ir::Graph& graph, const EvalOptions& options = {});

const char* PartitionRuleName(PartitionRule rule);  // "any", "prefix"
const char* FloatPolicyName(FloatPolicy policy);    // "native", "convert", "quantize"

}  // namespace supernova::profiles

// Model configuration: Triton's config.pbtxt (the subset in proto/model_config.proto), read,
// completed from the ONNX model's own signature where fields are missing, and checked
// against it, so that a bad config fails at load with a message instead of at the first
// request.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model_config.pb.h"
#include "server/backend.h"
#include "supernova/session.h"
#include "supernova/status.h"

namespace supernova::server {

// Parses config.pbtxt text. Fields Triton has and we do not read are skipped; each adds a
// line to `warnings` ("line 12: ignoring field 'optimization'"). Syntax errors fail with the
// line and column.
Result<inference::ModelConfig> ParseModelConfig(std::string_view text,
                                                std::vector<std::string>* warnings = nullptr);
// Parses a config given as JSON (the repository load extension's "config" parameter).
Result<inference::ModelConfig> ParseModelConfigJson(std::string_view json);

// What the ONNX model itself says about batching: it can batch when every input and output
// has a first dim that is not fixed.
bool ModelCanBatch(const ModelBackend& model);

// The largest batch size a config without max_batch_size gets for a model that can batch.
inline constexpr int kDefaultMaxBatchSize = 8;

// Fills what `config` leaves out from the session's inputs and outputs (a model without
// config.pbtxt gets one this way: batching when the model can, dynamic batching on, one
// instance), then checks every field against the model: input and output names, datatypes,
// dims (-1 matches any), max_batch_size against the model's batch dimension, preferred batch
// sizes, instance kinds and counts (kMaxInstances in all) and the parameters we read. `had_config`
// says whether the config came from a file (then max_batch_size 0 means "no batching" and is kept).
// `other_platform`: the config names a platform a registered backend serves, which checks the
// platform and its parameters itself; otherwise only onnxruntime_onnx and its parameters.
Status CompleteModelConfig(const ModelBackend& model, bool had_config,
                           inference::ModelConfig* config, bool other_platform = false);

// The most instances one model may have (the sum of its instance_group counts): each is a
// thread with its own buffers, and no edge box has the cores to use more.
inline constexpr int kMaxInstances = 256;

// Instances the config asks for (sum of instance_group counts, at least 1). CompleteModelConfig
// bounds the sum by kMaxInstances; an unchecked config's saturates at INT_MAX.
int InstanceCount(const inference::ModelConfig& config);
// The model's string parameter `key` ("" when absent).
std::string ConfigParameter(const inference::ModelConfig& config, const std::string& key);

}  // namespace supernova::server

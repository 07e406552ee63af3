#include "server/model_config.h"

#include <fmt/format.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <map>

#include "server/inference_server.h"

namespace supernova::server {
namespace {

class Collector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error.empty()) error = fmt::format("line {}, column {}: {}", line + 1, column + 1, message);
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber /*column*/,
                  const std::string& message) override {
    warnings.push_back(fmt::format("line {}: {}", line + 1, message));
  }
  std::string error;
  std::vector<std::string> warnings;
};

std::string DimsToString(const google::protobuf::RepeatedField<int64_t>& dims) {
  std::string s = "[";
  for (int i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

// The model's dims of `info` from position `skip` on, -1 where unknown.
std::vector<int64_t> ModelDims(const TensorInfo& info, size_t skip) {
  std::vector<int64_t> dims;
  for (size_t i = skip; i < info.dims.size(); ++i) dims.push_back(info.dims[i]);
  return dims;
}

const TensorInfo* FindInfo(const std::vector<TensorInfo>& infos, const std::string& name) {
  for (const TensorInfo& t : infos)
    if (t.name == name) return &t;
  return nullptr;
}

std::string Names(const std::vector<TensorInfo>& infos) {
  std::string s;
  for (const TensorInfo& t : infos) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

// Checks one configured tensor (input or output) against the model's declaration, or fills
// its datatype and dims when the config left them out.
template <typename ConfigTensor>
Status CheckTensor(const char* kind, const TensorInfo& info, int max_batch, ConfigTensor* t) {
  if (!info.rank_known)
    return Status::InvalidModel(
        fmt::format("{} '{}' has no declared rank in the model", kind, info.name));
  const size_t skip = max_batch > 0 ? 1 : 0;
  if (info.dims.size() < skip)
    return Status::InvalidModel(fmt::format(
        "{} '{}' is a scalar in the model, so max_batch_size must be 0", kind, info.name));
  const std::vector<int64_t> model_dims = ModelDims(info, skip);
  if (t->data_type() == inference::TYPE_INVALID) t->set_data_type(DataTypeToConfig(info.dtype));
  if (t->dims_size() == 0 && !model_dims.empty())
    for (int64_t d : model_dims) t->add_dims(d);
  if (t->has_reshape())
    return Status::InvalidModel(fmt::format("{} '{}': reshape is not supported", kind, info.name));
  const std::optional<DataType> dtype = DataTypeFromConfig(t->data_type());
  if (!dtype || *dtype != info.dtype)
    return Status::InvalidModel(fmt::format("{} '{}' is {} in the config but {} in the model", kind,
                                            info.name, inference::DataType_Name(t->data_type()),
                                            DataTypeName(info.dtype)));
  if (static_cast<size_t>(t->dims_size()) != model_dims.size())
    return Status::InvalidModel(fmt::format(
        "{} '{}' has dims {} in the config but the model's {} dims are {}", kind, info.name,
        DimsToString(t->dims()), max_batch > 0 ? "non-batch" : "", ShapeToString(model_dims)));
  for (int i = 0; i < t->dims_size(); ++i) {
    const int64_t c = t->dims(i), m = model_dims[i];
    if (c < -1 || c == 0)
      return Status::InvalidModel(
          fmt::format("{} '{}' has an invalid dim {} in the config", kind, info.name, c));
    if (m >= 0 && c != -1 && c != m)
      return Status::InvalidModel(
          fmt::format("{} '{}' has dims {} in the config but {} in the model", kind, info.name,
                      DimsToString(t->dims()), ShapeToString(model_dims)));
    if (m >= 0 && c == -1) t->set_dims(i, m);  // the model is more precise
  }
  return Status::Ok();
}

// The config's inputs (or outputs): all of the model's when it lists none; each one named by
// the model and checked against it (CheckTensor).
template <typename ConfigTensor>
Status CompleteTensors(const char* kind, const std::vector<TensorInfo>& declared, int max_batch,
                       google::protobuf::RepeatedPtrField<ConfigTensor>* tensors) {
  if (tensors->empty())
    for (const TensorInfo& info : declared) tensors->Add()->set_name(info.name);
  for (ConfigTensor& t : *tensors) {
    const TensorInfo* info = FindInfo(declared, t.name());
    if (!info)
      return Status::InvalidModel(fmt::format("config {} '{}' is not an {} of the model ({}s: {})",
                                              kind, t.name(), kind, kind, Names(declared)));
    if (Status s = CheckTensor(kind, *info, max_batch, &t); !s.ok()) return s;
  }
  return Status::Ok();
}

// Length of the string literal, comment or other single character at `text[i]`, so that
// scans never look inside strings or comments.
size_t LexemeLength(std::string_view text, size_t i) {
  const char c = text[i];
  if (c == '#') {
    const size_t end = text.find('\n', i);
    return (end == std::string_view::npos ? text.size() : end) - i;
  }
  if (c == '"' || c == '\'') {
    size_t j = i + 1;
    while (j < text.size() && text[j] != c && text[j] != '\n') j += text[j] == '\\' ? 2 : 1;
    return std::min(j + 1, text.size()) - i;
  }
  return 1;
}

size_t SkipSpace(std::string_view text, size_t i) {
  while (i < text.size() && (std::isspace(static_cast<unsigned char>(text[i])) || text[i] == '#'))
    i += LexemeLength(text, i);
  return i;
}

// End of the field value starting at `i`: a balanced {...}, <...> or [...], or a scalar (one or
// more adjacent string literals, or a bare word or number).
size_t SkipValue(std::string_view text, size_t i) {
  i = SkipSpace(text, i);
  if (i < text.size() && (text[i] == '{' || text[i] == '<' || text[i] == '[')) {
    int depth = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (c == '{' || c == '<' || c == '[') ++depth;
      if (c == '}' || c == '>' || c == ']') --depth;
      i += LexemeLength(text, i);
      if (depth == 0) return i;
    }
    return i;
  }
  if (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
    while (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
      i += LexemeLength(text, i);
      const size_t next = SkipSpace(text, i);
      if (next < text.size() && (text[next] == '"' || text[next] == '\'')) i = next;
    }
    return i;
  }
  while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) && text[i] != ',' &&
         text[i] != ';' && text[i] != '#' && text[i] != '}')
    ++i;
  return i;
}

// Blanks out the top-level fields that our ModelConfig lacks (Triton's optimization,
// model_warmup, sequence_batching, ...), keeping newlines so that error lines stay right.
// Protobuf's own unknown-field skipping cannot skip a list of messages ("[ { ... } ]"), which
// Triton configs use in exactly those fields.
std::string BlankUnknownTopLevelFields(std::string_view text, std::vector<std::string>* warnings) {
  std::string out(text);
  const auto* descriptor = inference::ModelConfig::descriptor();
  size_t i = 0;
  while ((i = SkipSpace(text, i)) < text.size()) {
    size_t j = i;
    while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_'))
      ++j;
    if (j == i) return out;  // not a field name: let the parser report it
    const std::string name(text.substr(i, j - i));
    size_t k = SkipSpace(text, j);
    if (k < text.size() && text[k] == ':') ++k;
    size_t end = SkipValue(text, k);
    const size_t sep = SkipSpace(text, end);
    if (sep < text.size() && (text[sep] == ',' || text[sep] == ';')) end = sep + 1;
    if (!descriptor->FindFieldByName(name)) {
      const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + i, '\n'));
      if (warnings) warnings->push_back(fmt::format("line {}: ignoring field '{}'", line, name));
      for (size_t p = i; p < end; ++p)
        if (out[p] != '\n') out[p] = ' ';
    }
    i = end;
  }
  return out;
}

}  // namespace

Result<inference::ModelConfig> ParseModelConfig(std::string_view text,
                                                std::vector<std::string>* warnings) {
  inference::ModelConfig config;
  google::protobuf::TextFormat::Parser parser;
  Collector collector;
  parser.RecordErrorsTo(&collector);
  parser.AllowUnknownField(true);
  parser.AllowUnknownExtension(true);
  std::vector<std::string> skipped;
  if (!parser.ParseFromString(BlankUnknownTopLevelFields(text, &skipped), &config))
    return Status::InvalidModel("config.pbtxt: " +
                                (collector.error.empty() ? "parse error" : collector.error));
  if (warnings) {
    *warnings = std::move(skipped);
    warnings->insert(warnings->end(), collector.warnings.begin(), collector.warnings.end());
  }
  return config;
}

Result<inference::ModelConfig> ParseModelConfigJson(std::string_view json) {
  inference::ModelConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status =
      google::protobuf::util::JsonStringToMessage(std::string(json), &config, options);
  if (!status.ok()) return Status::InvalidArgument("config JSON: " + std::string(status.message()));
  return config;
}

bool ModelCanBatch(const ModelBackend& model) {
  auto batchable = [](const std::vector<TensorInfo>& infos) {
    for (const TensorInfo& t : infos)
      if (!t.rank_known || t.dims.empty() || t.dims[0] >= 0) return false;
    return true;
  };
  return batchable(model.inputs()) && batchable(model.outputs());
}

Status CompleteModelConfig(const ModelBackend& model, bool had_config,
                           inference::ModelConfig* config, bool other_platform) {
  // What we serve: ONNX models, under either of Triton's names for its ONNX Runtime backend.
  const std::string& platform = config->platform();
  const std::string& backend = config->backend();
  if (!other_platform && !platform.empty() && platform != "onnxruntime_onnx")
    return Status::InvalidModel("platform '" + platform +
                                "' is not served here (only onnxruntime_onnx)");
  if (!other_platform && !backend.empty() && backend != "onnxruntime" && backend != "onnx")
    return Status::InvalidModel("backend '" + backend + "' is not served here (only onnxruntime)");
  if (platform.empty() && backend.empty()) config->set_platform("onnxruntime_onnx");

  const bool can_batch = ModelCanBatch(model);
  if (config->max_batch_size() < 0)
    return Status::InvalidModel("max_batch_size must not be negative");
  if (!had_config && config->max_batch_size() == 0 && can_batch) {
    config->set_max_batch_size(kDefaultMaxBatchSize);
    if (!config->has_dynamic_batching()) config->mutable_dynamic_batching();
  }
  const int max_batch = config->max_batch_size();
  if (max_batch > 0 && !can_batch)
    return Status::InvalidModel(fmt::format(
        "max_batch_size is {} but the model has a fixed first dimension on some input or "
        "output: set max_batch_size 0",
        max_batch));

  // Inputs: every model input must be configured (a config may list them in any order).
  if (Status s = CompleteTensors("input", model.inputs(), max_batch, config->mutable_input());
      !s.ok())
    return s;
  for (const TensorInfo& info : model.inputs()) {
    const auto& ins = config->input();
    if (std::none_of(ins.begin(), ins.end(), [&](const auto& i) { return i.name() == info.name; }))
      return Status::InvalidModel("the model's input '" + info.name + "' is not in the config");
  }
  // Outputs: the config may name a subset; those are the ones served.
  if (Status s = CompleteTensors("output", model.outputs(), max_batch, config->mutable_output());
      !s.ok())
    return s;

  if (config->has_dynamic_batching()) {
    if (max_batch == 0) return Status::InvalidModel("dynamic_batching needs max_batch_size > 0");
    for (int size : config->dynamic_batching().preferred_batch_size())
      if (size < 1 || size > max_batch)
        return Status::InvalidModel(fmt::format(
            "preferred_batch_size {} is outside 1..max_batch_size ({})", size, max_batch));
  }

  if (config->instance_group_size() == 0) {
    auto* group = config->add_instance_group();
    group->set_count(1);
    group->set_kind(inference::ModelInstanceGroup::KIND_CPU);
  }
  int64_t instances = 0;
  for (inference::ModelInstanceGroup& group : *config->mutable_instance_group()) {
    if (group.count() < 0) return Status::InvalidModel("instance_group count must be >= 0");
    if (group.count() == 0) group.set_count(1);  // Triton's default
    if (group.kind() == inference::ModelInstanceGroup::KIND_AUTO)
      group.set_kind(inference::ModelInstanceGroup::KIND_CPU);
    instances += group.count();
  }
  // The scheduler starts a thread per instance: a typo's extra digits must not start millions.
  if (instances > kMaxInstances)
    return Status::InvalidModel(
        fmt::format("instance_group counts add up to {} instances, over the {} a model may have",
                    instances, kMaxInstances));
  if (!config->has_version_policy()) config->mutable_version_policy()->mutable_latest();
  if (config->version_policy().has_latest() &&
      config->version_policy().latest().num_versions() == 0)
    config->mutable_version_policy()->mutable_latest()->set_num_versions(1);

  // Another platform's backend reads and checks its own parameters.
  static const std::vector<std::string> kKnownParameters = {"num_threads", "optimization",
                                                            "max_run_bytes"};
  if (other_platform) return Status::Ok();
  for (const auto& [key, value] : config->parameters())
    if (std::find(kKnownParameters.begin(), kKnownParameters.end(), key) == kKnownParameters.end())
      return Status::InvalidModel("unknown parameter '" + key +
                                  "' (known: num_threads, optimization, max_run_bytes)");
  return Status::Ok();
}

int InstanceCount(const inference::ModelConfig& config) {
  int64_t n = 0;  // each count is an int32: their sum is not
  for (const auto& group : config.instance_group()) n += std::max(1, group.count());
  return static_cast<int>(std::clamp<int64_t>(n, 1, std::numeric_limits<int>::max()));
}

std::string ConfigParameter(const inference::ModelConfig& config, const std::string& key) {
  auto it = config.parameters().find(key);
  return it == config.parameters().end() ? std::string() : it->second.string_value();
}

}  // namespace supernova::server

// A learned classifier as a model of `supernova serve`'s repository (docs/server.md):
//
//   platform: "supernova_classifier"
//   max_batch_size: 0
//   parameters { key: "preprocess" value { string_value: "raw" } }
//
// <version>/model.onnx is the backbone; the embedder cuts it at `layer` (embedder.h) and reads
// images as `supernova run` does (`preprocess`, `size`, `bgr`). The classes live in a class
// store (`store`; default <repository>/<model>/classes, so every version shares it), which
// other processes (`supernova learn add`) may write while the server runs: before each
// request the mtime of the store's classes directory says whether to read them again; requests
// never read the store otherwise.
#include "serve_learn.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base64.h"
#include "learn/class_store.h"
#include "learn/classifier.h"
#include "learn/embedder.h"
#include "serve_params.h"
#include "supernova/tensor_io.h"

namespace supernova::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using server::ResourceRequest;
using server::ResourceResponse;

constexpr char kInput[] = "IMAGE";
constexpr char kUnknown[] = "unknown";
// What one request that adds examples may carry: its images are embedded on the front end's
// thread, so the bound is on how long a request holds it as much as on memory.
constexpr size_t kMaxImagesPerRequest = 64;
constexpr size_t kMaxImageBytes = 16u << 20;
constexpr size_t kMaxMetadataEntries = 64;
constexpr size_t kMaxMetadataBytes = 1024;  // a key or a value
// Filesystems stamp mtimes coarsely (a clock tick, or a whole second): a write this soon after
// the mtime last seen may have left it unchanged, so until then the classes are read each time.
constexpr int64_t kMtimeSlackNs = 2'000'000'000;

struct ClassifierParams {
  std::string file = "model.onnx";
  std::string layer, store, method = learn::MethodName(learn::kDefaultMethod);
  InputOptions input;
  float threshold = learn::kDefaultThreshold;
};

int64_t Nanoseconds(const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

int64_t NowNs() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return Nanoseconds(now);
}

json ClassJson(const learn::ClassRecord& c, int64_t dim) {
  return {{"name", c.name},
          {"count", c.count},
          {"examples", c.num_examples(dim)},
          {"version", c.version},
          {"refinements", c.refinements},
          {"metadata", c.metadata},
          {"created_unix", c.created_unix},
          {"updated_unix", c.updated_unix}};
}

ResourceResponse JsonAnswer(const json& body) { return {200, body.dump(), ""}; }

// {"images": ["<base64>", ...], "metadata": {"k": "v"}}: the images' bytes and the metadata,
// checked against the bounds above; nothing decoded yet.
struct AddRequest {
  std::vector<std::string> images;
  std::map<std::string, std::string> metadata;
};

Result<AddRequest> ParseAddRequest(const std::string& body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument(
        R"(the body must be a JSON object {"images": ["<base64>", ...], "metadata": {...}})");
  for (const auto& [key, value] : j.items())
    if (key != "images" && key != "metadata")
      return Status::InvalidArgument("unknown field '" + key + "' (images, metadata)");
  const auto images = j.find("images");
  if (images == j.end() || !images->is_array() || images->empty())
    return Status::InvalidArgument("field images must be a non-empty array of base64 strings");
  if (images->size() > kMaxImagesPerRequest)
    return Status::InvalidArgument(
        fmt::format("{} images: at most {} in one request", images->size(), kMaxImagesPerRequest));
  AddRequest add;
  for (size_t i = 0; i < images->size(); ++i) {
    const json& text = (*images)[i];
    if (!text.is_string())
      return Status::InvalidArgument(fmt::format("images[{}] is not a string", i));
    const std::string& encoded = text.get_ref<const std::string&>();
    if (encoded.size() / 4 * 3 > kMaxImageBytes)
      return Status::InvalidArgument(
          fmt::format("images[{}] is over {} MiB", i, kMaxImageBytes >> 20));
    std::optional<std::string> bytes = DecodeBase64(encoded);
    if (!bytes) return Status::InvalidArgument(fmt::format("images[{}] is not base64", i));
    add.images.push_back(std::move(*bytes));
  }
  const auto metadata = j.find("metadata");
  if (metadata != j.end()) {
    if (!metadata->is_object())
      return Status::InvalidArgument("field metadata must be an object of strings");
    if (metadata->size() > kMaxMetadataEntries)
      return Status::InvalidArgument(fmt::format("metadata has {} entries, at most {}",
                                                 metadata->size(), kMaxMetadataEntries));
    for (const auto& [key, value] : metadata->items()) {
      if (!value.is_string())
        return Status::InvalidArgument("metadata '" + key + "' must be a string");
      const std::string& v = value.get_ref<const std::string&>();
      if (key.size() > kMaxMetadataBytes || v.size() > kMaxMetadataBytes)
        return Status::InvalidArgument(
            fmt::format("metadata keys and values are at most {} bytes", kMaxMetadataBytes));
      add.metadata[key] = v;
    }
  }
  return add;
}

class ClassifierModel final : public server::ModelBackend {
 public:
  ClassifierModel(std::unique_ptr<learn::Embedder> embedder, ImageOptions image,
                  std::unique_ptr<learn::ClassStore> store, learn::Method method, float threshold)
      : embedder_(std::move(embedder)),
        image_(image),
        store_(std::move(store)),
        method_(method),
        threshold_(threshold) {
    inputs_.push_back({kInput, DataType::kString, ValueKind::kTensor, true, {1}, {""}});
    outputs_.push_back({"LABEL", DataType::kString, ValueKind::kTensor, true, {1}, {""}});
    outputs_.push_back({"SCORE", DataType::kFloat32, ValueKind::kTensor, true, {1}, {""}});
    outputs_.push_back({"SCORES", DataType::kFloat32, ValueKind::kTensor, true, {-1}, {""}});
  }
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }

  Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
             std::vector<Tensor>* outputs) const override {
    SN_ASSIGN_OR_RETURN(std::string_view bytes, OneBytesElement(feeds, kInput));
    SN_ASSIGN_OR_RETURN(std::vector<float> embedding,
                        Embed(bytes, fmt::format("input {}", kInput)));
    SN_ASSIGN_OR_RETURN(std::shared_ptr<const learn::Classifier> classes, CurrentClassifier());
    const learn::Prediction p = classes->Classify(embedding.data());
    std::vector<float> scores = classes->Scores(embedding.data());
    const int64_t c = static_cast<int64_t>(scores.size());
    outputs->clear();
    outputs->push_back(
        Tensor::FromVector(std::vector<std::string>{p.known ? p.label : kUnknown}, {1}));
    outputs->push_back(Tensor::FromVector(std::vector<float>{p.score}, {1}));
    outputs->push_back(Tensor::FromVector(scores, {c}));
    return Status::Ok();
  }

  server::ResourceHandler Resource(const std::string& name) const override {
    if (name != "classes") return nullptr;
    return [this](const ResourceRequest& r) { return Classes(r); };
  }

  // How many classes, not which: their names are the admin's (the classes resource).
  std::string StatusJson() const override {
    Result<std::shared_ptr<const learn::Classifier>> classes = CurrentClassifier();
    json j = {{"kind", "classifier"}, {"dim", store_->dim()}};
    if (classes.ok())
      j["classes"] = (*classes)->size();
    else
      j["error"] = classes.status().message();
    return j.dump();
  }

 private:
  // The unit embedding of one encoded image; `what` names it in errors.
  Result<std::vector<float>> Embed(std::string_view bytes, const std::string& what) const {
    SN_RETURN_IF_ERROR(CheckEncodedImage(bytes, what));
    SN_ASSIGN_OR_RETURN(RgbImage rgb, DecodeImage(bytes, what));
    if (rgb.width > kMaxImageSide || rgb.height > kMaxImageSide)  // header and data disagreed
      return ImageTooLarge(what, rgb.width, rgb.height);
    SN_ASSIGN_OR_RETURN(Tensor input, ImageToTensor(rgb.pixels.data(), rgb.width, rgb.height,
                                                    static_cast<size_t>(rgb.width) * 3, image_));
    SN_ASSIGN_OR_RETURN(Tensor e, embedder_->Embed(input));
    const float* v = e.data<float>();
    return std::vector<float>(v, v + embedder_->dim());
  }

  // The classifier of the store's classes as they are now: read again when the classes
  // directory changed since the last read (or might have, within kMtimeSlackNs of it).
  Result<std::shared_ptr<const learn::Classifier>> CurrentClassifier() const {
    struct stat st {};
    const int64_t mtime =
        ::stat((store_->dir() + "/classes").c_str(), &st) == 0 ? Nanoseconds(st.st_mtim) : -1;
    std::lock_guard lock(mu_);
    if (classifier_ && mtime == seen_mtime_ && !recheck_) return classifier_;
    const int64_t now = NowNs();
    Result<std::vector<learn::ClassRecord>> listed = store_->List();
    if (!listed.ok())
      return Status(listed.status().code(), "the class store: " + listed.status().message());
    classifier_ =
        std::make_shared<const learn::Classifier>(*listed, store_->dim(), method_, threshold_);
    seen_mtime_ = mtime;
    recheck_ = mtime < 0 || now - mtime < kMtimeSlackNs;
    return classifier_;
  }

  // /v2/models/NAME/classes[/CLASS].
  Result<ResourceResponse> Classes(const ResourceRequest& r) const {
    if (r.path.size() > 1)
      return Status::NotFound("no such resource: classes/" + r.path[0] + "/" + r.path[1]);
    if (r.path.empty()) {
      if (r.method != "GET") return ResourceResponse{405, R"({"error":"use GET"})", "GET"};
      SN_ASSIGN_OR_RETURN(std::vector<learn::ClassRecord> listed, store_->List());
      json classes = json::array();
      for (const learn::ClassRecord& c : listed) classes.push_back(ClassJson(c, store_->dim()));
      return JsonAnswer({{"embedder", store_->embedder()},
                         {"dim", store_->dim()},
                         {"method", learn::MethodName(method_)},
                         {"threshold", threshold_},
                         {"classes", std::move(classes)}});
    }
    const std::string& name = r.path[0];
    SN_RETURN_IF_ERROR(learn::ValidateClassName(name));
    if (r.method == "GET") {
      SN_ASSIGN_OR_RETURN(learn::ClassRecord c, store_->Get(name));
      return JsonAnswer(ClassJson(c, store_->dim()));
    }
    if (r.method == "POST") return Add(name, r.body);
    if (r.method == "DELETE") {
      std::lock_guard lock(write_mu_);
      SN_RETURN_IF_ERROR(store_->Remove(name));
      Changed();
      return JsonAnswer({{"name", name}, {"removed", true}});
    }
    return ResourceResponse{405, R"({"error":"use GET, POST or DELETE"})", "GET, POST, DELETE"};
  }

  // Every image is decoded and embedded before the store is touched: a bad one leaves it as
  // it was.
  Result<ResourceResponse> Add(const std::string& name, const std::string& body) const {
    if (name == kUnknown)
      return Status::InvalidArgument(
          fmt::format("'{}' is what LABEL answers for no class: choose another name", kUnknown));
    SN_ASSIGN_OR_RETURN(AddRequest add, ParseAddRequest(body));
    std::vector<float> embeddings;
    for (size_t i = 0; i < add.images.size(); ++i) {
      SN_ASSIGN_OR_RETURN(std::vector<float> e, Embed(add.images[i], fmt::format("images[{}]", i)));
      embeddings.insert(embeddings.end(), e.begin(), e.end());
    }
    std::lock_guard lock(write_mu_);
    SN_ASSIGN_OR_RETURN(learn::ClassRecord written, store_->Add(name, embeddings, add.metadata));
    Changed();
    return JsonAnswer(ClassJson(written, store_->dim()));
  }

  // This process wrote the store: the next request reads it again whatever the mtime says.
  void Changed() const {
    std::lock_guard lock(mu_);
    recheck_ = true;
  }

  std::unique_ptr<learn::Embedder> embedder_;
  const ImageOptions image_;
  std::unique_ptr<learn::ClassStore> store_;
  const learn::Method method_;
  const float threshold_;
  std::vector<TensorInfo> inputs_, outputs_;

  mutable std::mutex write_mu_;  // one write of this server's at a time
  mutable std::mutex mu_;        // guards the three below
  mutable std::shared_ptr<const learn::Classifier> classifier_;
  mutable int64_t seen_mtime_ = -1;
  mutable bool recheck_ = true;
};

Status ReadClassifierParameters(const inference::ModelConfig& config, ClassifierParams* p) {
  SN_RETURN_IF_ERROR(RequireNoBatching(config, "takes one image a request"));
  SN_RETURN_IF_ERROR(ReadParameters(config, {{"model", Text(&p->file)},
                                             {"layer", Text(&p->layer)},
                                             {"preprocess", Text(&p->input.preprocess)},
                                             {"size", Text(&p->input.size)},
                                             {"bgr", Bool(&p->input.bgr)},
                                             {"method", Text(&p->method)},
                                             {"threshold", Number(&p->threshold)},
                                             {"store", Text(&p->store)}}));
  if (p->input.preprocess.empty())
    return Status::InvalidArgument(
        "parameter preprocess is required (raw, unit, signed, imagenet, paddle): how the "
        "backbone wants its images");
  return CheckFileName("model", p->file);
}

}  // namespace

server::BackendFactory ClassifierBackendFactory() {
  return [](const server::BackendContext& context)
             -> Result<std::shared_ptr<const server::ModelBackend>> {
    ClassifierParams p;
    SN_RETURN_IF_ERROR(ReadClassifierParameters(*context.config, &p));
    SN_ASSIGN_OR_RETURN(learn::Method method, learn::ParseMethod(p.method));
    learn::EmbedderOptions options;
    options.layer = p.layer;
    options.session = context.session_options;
    SN_ASSIGN_OR_RETURN(
        std::string path,
        InsideRepository(context, context.version_dir + "/" + p.file, "parameter model"));
    SN_ASSIGN_OR_RETURN(std::unique_ptr<learn::Embedder> embedder,
                        learn::Embedder::Open(path, options));
    Result<ImageOptions> image = ImageOptionsFor(embedder->input(), p.input);
    if (!image.ok()) return Status::InvalidArgument("parameters: " + image.status().message());
    // Relative to the model's directory, which every version shares.
    const fs::path model_dir = fs::path(context.version_dir).parent_path();
    // A store shared by models ("../faces/classes") is fine; one beside the repository is not.
    SN_ASSIGN_OR_RETURN(
        std::string store,
        InsideRepository(context,
                         (p.store.empty() ? model_dir / "classes" : model_dir / p.store).string(),
                         "parameter store"));
    SN_ASSIGN_OR_RETURN(std::unique_ptr<learn::ClassStore> classes,
                        learn::ClassStore::Open(store, embedder->identity(), embedder->dim()));
    return std::shared_ptr<const server::ModelBackend>(std::make_shared<ClassifierModel>(
        std::move(embedder), *image, std::move(classes), method, p.threshold));
  };
}

}  // namespace supernova::tools

#include "server/inference_server.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>

#include "server/log.h"
#include "server/metrics.h"
#include "server/model_config.h"
#include "server/model_repository.h"
#include "server/scheduler.h"
#include "supernova/version.h"

namespace supernova::server {
namespace {

// A loaded version: what runs it, its completed config and the scheduler that serves it.
struct LoadedVersion {
  int64_t version = 0;
  std::shared_ptr<const ModelBackend> backend;
  std::shared_ptr<Scheduler> scheduler;
};

struct ModelEntry {
  std::map<int64_t, std::shared_ptr<LoadedVersion>> versions;  // ready ones
  std::map<int64_t, std::string> failed;                       // version → why it did not load
  std::string state = "UNAVAILABLE";
  std::string reason;
  std::string fingerprint;  // of the files the last load attempt read
  bool loading = false;
};

bool ParseVersionString(std::string_view s, int64_t* v) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && end == s.data() + s.size();
}

// Compares the SHA-256 digests of both, so the time taken depends neither on where the
// first differing byte is nor on whether the lengths match (a length check first would tell
// an attacker the token's length).
bool TokenMatches(std::string_view given, const std::string& want) {
  if (want.empty()) return false;
  unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
  unsigned int na = 0, nb = 0;
  if (EVP_Digest(given.data(), given.size(), a, &na, EVP_sha256(), nullptr) != 1 ||
      EVP_Digest(want.data(), want.size(), b, &nb, EVP_sha256(), nullptr) != 1 || na != nb)
    return false;
  return CRYPTO_memcmp(a, b, na) == 0;
}

}  // namespace

class InferenceServer::Impl {
 public:
  explicit Impl(ServerOptions options) : options_(std::move(options)) {}
  ~Impl();

  Status Start();
  Result<std::shared_ptr<LoadedVersion>> Resolve(std::string_view model,
                                                 std::string_view version) const;
  Status Load(const std::string& name, std::string_view config_json);
  Status Unload(const std::string& name);
  void Retire(std::vector<std::shared_ptr<LoadedVersion>> versions);
  void RetireLoop();
  void PollLoop();
  void PollOnce();

  ServerOptions options_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  Metrics metrics_;
  mutable std::shared_mutex mu_;  // guards models_
  std::map<std::string, ModelEntry, std::less<>> models_;
  std::mutex load_mu_;  // one load or unload at a time

  std::atomic<bool> shutting_down_{false};
  std::mutex idle_mu_;
  std::condition_variable idle_cv_;
  int64_t inflight_ = 0;                                 // guarded by idle_mu_
  std::deque<std::shared_ptr<LoadedVersion>> retiring_;  // guarded by idle_mu_
  bool stop_ = false;                                    // guarded by idle_mu_
  std::thread retirer_;
  std::thread poller_;
};

InferenceServer::Impl::~Impl() {
  {
    std::lock_guard lock(idle_mu_);
    stop_ = true;
  }
  idle_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  std::vector<std::shared_ptr<LoadedVersion>> all;
  {
    std::unique_lock lock(mu_);
    for (auto& [name, entry] : models_)
      for (auto& [v, loaded] : entry.versions) all.push_back(loaded);
    models_.clear();
  }
  for (auto& loaded : all) loaded->scheduler->Drain();
  if (retirer_.joinable()) retirer_.join();
}

Status InferenceServer::Impl::Start() {
  auto names = ListModels(options_.model_repository);
  if (!names.ok()) return names.status();
  std::vector<std::string> to_load = *names;
  if (options_.explicit_control) to_load = options_.startup_models;
  for (const std::string& name : to_load) {
    Status s = Load(name, {});
    if (!s.ok())
      Log(LogLevel::kError, "model_load_failed", {{"model", name}, {"reason", s.ToString()}});
  }
  retirer_ = std::thread([this] { RetireLoop(); });
  if (options_.poll_interval_s > 0) poller_ = std::thread([this] { PollLoop(); });
  return Status::Ok();
}

Result<std::shared_ptr<LoadedVersion>> InferenceServer::Impl::Resolve(
    std::string_view model, std::string_view version) const {
  std::shared_lock lock(mu_);
  auto it = models_.find(model);
  if (it == models_.end()) return Status::NotFound(fmt::format("unknown model '{}'", model));
  const ModelEntry& entry = it->second;
  if (entry.versions.empty())
    return Status::Unavailable(fmt::format("model '{}' is not ready{}", model,
                                           entry.reason.empty() ? "" : ": " + entry.reason));
  if (version.empty() || version == "-1") return entry.versions.rbegin()->second;
  int64_t v = 0;
  if (!ParseVersionString(version, &v))
    return Status::InvalidArgument(fmt::format("invalid version '{}'", version));
  auto vit = entry.versions.find(v);
  if (vit == entry.versions.end()) {
    std::string ready;
    for (const auto& [n, loaded] : entry.versions)
      ready += (ready.empty() ? "" : ", ") + std::to_string(n);
    return Status::NotFound(
        fmt::format("model '{}' has no ready version {} (ready: {})", model, version, ready));
  }
  return vit->second;
}

Status InferenceServer::Impl::Load(const std::string& name, std::string_view config_json) {
  std::lock_guard load_lock(load_mu_);
  auto source = ReadModelSource(options_.model_repository, name);
  if (!source.ok()) {
    // A model directory that exists but may not be read (one leading outside the repository)
    // gets its reason in the index; an unknown name gets no entry.
    if (source.status().code() == Status::Code::kInvalidModel) {
      std::unique_lock lock(mu_);
      ModelEntry& entry = models_[name];
      entry.state = entry.versions.empty() ? "UNAVAILABLE" : "READY";
      entry.reason = source.status().message();
      Log(LogLevel::kError, "model_load_failed", {{"model", name}, {"reason", entry.reason}});
    }
    return source.status();
  }
  {
    std::unique_lock lock(mu_);
    ModelEntry& entry = models_[name];
    entry.loading = true;
    entry.fingerprint = source->fingerprint;
    if (entry.versions.empty()) entry.state = "LOADING";
  }
  auto fail = [&](Status s) {
    std::unique_lock lock(mu_);
    ModelEntry& entry = models_[name];
    entry.loading = false;
    entry.reason = s.message();
    entry.state = entry.versions.empty() ? "UNAVAILABLE" : "READY";
    Log(LogLevel::kError, "model_load_failed", {{"model", name}, {"reason", s.message()}});
    return s;
  };

  inference::ModelConfig config;
  bool had_config = false;
  if (!config_json.empty()) {
    auto parsed = ParseModelConfigJson(config_json);
    if (!parsed.ok()) return fail(parsed.status());
    config = std::move(*parsed);
    had_config = true;
  } else if (source->has_config) {
    std::vector<std::string> warnings;
    auto parsed = ParseModelConfig(source->config_text, &warnings);
    if (!parsed.ok()) return fail(parsed.status());
    for (const std::string& w : warnings)
      Log(LogLevel::kWarning, "config_field_ignored", {{"model", name}, {"detail", w}});
    config = std::move(*parsed);
    had_config = true;
  }
  if (!config.name().empty() && config.name() != name)
    return fail(Status::InvalidModel(fmt::format(
        "config name '{}' differs from the model's directory name '{}'", config.name(), name)));
  config.set_name(name);
  if (!config.default_model_filename().empty() && !ValidFileName(config.default_model_filename()))
    return fail(Status::InvalidModel(
        fmt::format("default_model_filename '{}' must be a file name of the version's directory, "
                    "without '/' or '..'",
                    config.default_model_filename())));

  const std::vector<int64_t> versions = SelectVersions(config, source->versions);
  if (versions.empty())
    return fail(Status::NotFound(
        fmt::format("model '{}' has no version directory that its version policy selects", name)));

  std::map<int64_t, std::shared_ptr<LoadedVersion>> loaded;
  std::map<int64_t, std::string> failed;
  for (int64_t v : versions) {
    inference::ModelConfig cfg = config;
    SessionOptions so;
    so.providers = options_.providers;
    bool gpu = false;
    for (const auto& g : cfg.instance_group())
      gpu |= g.kind() == inference::ModelInstanceGroup::KIND_GPU;
    if (gpu) so.providers = {"cuda", "cpu"};
    const std::string path = ModelFile(*source, cfg, v);
    const std::string version_dir =
        (std::filesystem::path(source->dir) / std::to_string(v)).string();
    if (Status inside =
            CheckInsideRepository(options_.model_repository, version_dir, "the version directory");
        !inside.ok()) {
      failed[v] = inside.message();
      continue;
    }
    // Kernel threads: the config's num_threads, the server's, or the cores shared out.
    const int instances = InstanceCount(cfg);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    so.num_threads = options_.threads_per_instance > 0
                         ? options_.threads_per_instance
                         : std::max(1, static_cast<int>(cores) / instances);
    if (std::string t = ConfigParameter(cfg, "num_threads"); !t.empty()) {
      int n = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (ec != std::errc() || end != t.data() + t.size() || n < 1) {
        failed[v] = "parameter num_threads must be a positive integer, not '" + t + "'";
        continue;
      }
      so.num_threads = n;
    }
    so.max_run_bytes = options_.max_run_bytes;
    if (std::string t = ConfigParameter(cfg, "max_run_bytes"); !t.empty()) {
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (ec != std::errc() || end != t.data() + t.size()) {
        failed[v] =
            "parameter max_run_bytes must be a number of bytes (0: no limit), not '" + t + "'";
        continue;
      }
      so.max_run_bytes = static_cast<size_t>(n);
    }
    if (std::string o = ConfigParameter(cfg, "optimization"); !o.empty()) {
      if (o == "none")
        so.optimization = OptimizationLevel::kNone;
      else if (o == "basic")
        so.optimization = OptimizationLevel::kBasic;
      else if (o == "all")
        so.optimization = OptimizationLevel::kAll;
      else {
        failed[v] = "parameter optimization must be none, basic or all, not '" + o + "'";
        continue;
      }
    }
    std::shared_ptr<const ModelBackend> backend;
    const auto other = options_.backends.find(cfg.platform());
    if (other != options_.backends.end()) {
      BackendContext context{name, v, version_dir, &cfg, so, options_.model_repository};
      auto made = other->second(context);
      if (!made.ok()) {
        failed[v] = made.status().ToString();
        continue;
      }
      backend = std::move(*made);
    } else {
      if (Status inside = CheckInsideRepository(options_.model_repository, path, "the model file");
          !inside.ok()) {
        failed[v] = inside.message();
        continue;
      }
      auto session = Session::Open(path, so);
      if (!session.ok()) {
        failed[v] = session.status().ToString();
        continue;
      }
      if (gpu)
        for (const std::string& note : (*session)->placement().notes)
          if (note.rfind("cuda", 0) == 0)
            failed[v] = "KIND_GPU instances need the cuda provider: " + note;
      if (failed.count(v)) continue;
      backend = SessionBackend(std::shared_ptr<const Session>(std::move(*session)));
    }
    if (Status s =
            CompleteModelConfig(*backend, had_config, &cfg, other != options_.backends.end());
        !s.ok()) {
      failed[v] = s.message();
      continue;
    }
    auto lv = std::make_shared<LoadedVersion>();
    lv->version = v;
    lv->backend = std::move(backend);
    lv->scheduler = std::make_shared<Scheduler>(name, std::to_string(v), lv->backend, cfg,
                                                options_.default_max_queue_size,
                                                metrics_.ForModel(name, std::to_string(v)));
    lv->scheduler->Start();
    loaded[v] = std::move(lv);
  }
  for (const auto& [v, why] : failed)
    Log(LogLevel::kError, "model_version_load_failed",
        {{"model", name}, {"version", std::to_string(v)}, {"reason", why}});
  if (loaded.empty()) {
    const auto& [v, why] = *failed.begin();
    Status s = Status::InvalidModel(fmt::format("version {}: {}", v, why));
    {
      std::unique_lock lock(mu_);
      models_[name].failed = failed;
    }
    return fail(s);
  }

  std::vector<std::shared_ptr<LoadedVersion>> old;
  {
    std::unique_lock lock(mu_);
    ModelEntry& entry = models_[name];
    for (auto& [v, lv] : entry.versions) old.push_back(lv);
    entry.versions = std::move(loaded);
    entry.failed = std::move(failed);
    entry.state = "READY";
    entry.reason.clear();
    entry.loading = false;
    std::string list;
    for (const auto& [v, lv] : entry.versions)
      list += (list.empty() ? "" : ",") + std::to_string(v);
    Log(LogLevel::kInfo, "model_loaded",
        {{"model", name}, {"versions", list}, {"replaced", std::to_string(old.size())}});
  }
  Retire(std::move(old));
  return Status::Ok();
}

Status InferenceServer::Impl::Unload(const std::string& name) {
  std::lock_guard load_lock(load_mu_);
  std::vector<std::shared_ptr<LoadedVersion>> old;
  {
    std::unique_lock lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return Status::NotFound(fmt::format("unknown model '{}'", name));
    for (auto& [v, lv] : it->second.versions) old.push_back(lv);
    it->second.versions.clear();
    it->second.failed.clear();
    it->second.state = "UNAVAILABLE";
    it->second.reason = "unloaded";
  }
  Log(LogLevel::kInfo, "model_unloaded", {{"model", name}});
  Retire(std::move(old));
  return Status::Ok();
}

void InferenceServer::Impl::Retire(std::vector<std::shared_ptr<LoadedVersion>> versions) {
  if (versions.empty()) return;
  {
    std::lock_guard lock(idle_mu_);
    for (auto& v : versions) retiring_.push_back(std::move(v));
  }
  idle_cv_.notify_all();
}

// Drains replaced and unloaded versions one by one, off the request path: their queued and
// running requests finish before their sessions are freed.
void InferenceServer::Impl::RetireLoop() {
  std::unique_lock lock(idle_mu_);
  for (;;) {
    idle_cv_.wait(lock, [&] { return stop_ || !retiring_.empty(); });
    if (retiring_.empty()) return;  // stop_ and nothing left
    std::shared_ptr<LoadedVersion> v = retiring_.front();
    lock.unlock();
    v->scheduler->Drain();
    const std::string model = v->scheduler->config().name();
    const std::string version = v->scheduler->version();
    v.reset();
    Log(LogLevel::kInfo, "model_version_retired", {{"model", model}, {"version", version}});
    lock.lock();
    retiring_.pop_front();
    idle_cv_.notify_all();
  }
}

void InferenceServer::Impl::PollLoop() {
  const auto interval = std::chrono::duration<double>(options_.poll_interval_s);
  std::unique_lock lock(idle_mu_);
  while (!stop_) {
    idle_cv_.wait_for(lock, interval, [&] { return stop_; });
    if (stop_) return;
    lock.unlock();
    PollOnce();
    lock.lock();
  }
}

// Loads new and changed models, unloads removed ones.
void InferenceServer::Impl::PollOnce() {
  auto names = ListModels(options_.model_repository);
  if (!names.ok()) {
    Log(LogLevel::kError, "repository_unreadable", {{"reason", names.status().message()}});
    return;
  }
  std::vector<std::string> gone;
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, entry] : models_)
      if (!entry.versions.empty() && std::find(names->begin(), names->end(), name) == names->end())
        gone.push_back(name);
  }
  for (const std::string& name : gone) (void)Unload(name);
  for (const std::string& name : *names) {
    auto source = ReadModelSource(options_.model_repository, name);
    if (!source.ok()) continue;
    bool changed;
    {
      std::shared_lock lock(mu_);
      auto it = models_.find(name);
      changed = it == models_.end() || it->second.fingerprint != source->fingerprint;
    }
    if (changed) (void)Load(name, {});
  }
}

InferenceServer::InferenceServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InferenceServer::~InferenceServer() = default;

Result<std::unique_ptr<InferenceServer>> InferenceServer::Create(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (Status s = impl->Start(); !s.ok()) return s;
  return std::unique_ptr<InferenceServer>(new InferenceServer(std::move(impl)));
}

const ServerOptions& InferenceServer::options() const { return impl_->options_; }
bool InferenceServer::Live() const { return true; }
bool InferenceServer::Ready() const { return !impl_->shutting_down_.load(); }
std::string_view InferenceServer::Version() const { return SUPERNOVA_VERSION; }

std::vector<std::string> InferenceServer::Extensions() const {
  return {"binary_tensor_data", "model_repository", "model_configuration", "schedule_policy",
          "statistics"};
}

bool InferenceServer::ModelReady(std::string_view model, std::string_view version) const {
  return impl_->Resolve(model, version).ok();
}

Result<ModelMetadata> InferenceServer::GetModelMetadata(std::string_view model,
                                                        std::string_view version) const {
  auto lv = impl_->Resolve(model, version);
  if (!lv.ok()) return lv.status();
  const inference::ModelConfig& config = (*lv)->scheduler->config();
  ModelMetadata md;
  md.name = config.name();
  md.platform = config.platform().empty() ? "onnxruntime_onnx" : config.platform();
  {
    std::shared_lock lock(impl_->mu_);
    auto it = impl_->models_.find(model);
    if (it != impl_->models_.end())
      for (const auto& [v, loaded] : it->second.versions) md.versions.push_back(std::to_string(v));
  }
  auto tensor = [&](const std::string& name, inference::DataType dt,
                    const google::protobuf::RepeatedField<int64_t>& dims) {
    ModelTensorMetadata t;
    t.name = name;
    const auto dtype = DataTypeFromConfig(dt);
    t.datatype = dtype ? std::string(DataTypeToV2(*dtype)) : "INVALID";
    if (config.max_batch_size() > 0) t.shape.push_back(-1);
    t.shape.insert(t.shape.end(), dims.begin(), dims.end());
    return t;
  };
  for (const auto& in : config.input())
    md.inputs.push_back(tensor(in.name(), in.data_type(), in.dims()));
  for (const auto& out : config.output())
    md.outputs.push_back(tensor(out.name(), out.data_type(), out.dims()));
  return md;
}

Result<inference::ModelConfig> InferenceServer::GetModelConfig(std::string_view model,
                                                               std::string_view version) const {
  auto lv = impl_->Resolve(model, version);
  if (!lv.ok()) return lv.status();
  return (*lv)->scheduler->config();
}

Result<PlacementReport> InferenceServer::GetModelPlacement(std::string_view model,
                                                           std::string_view version) const {
  auto lv = impl_->Resolve(model, version);
  if (!lv.ok()) return lv.status();
  const PlacementReport* placement = (*lv)->backend->placement();
  if (placement == nullptr)
    return Status::Unimplemented(
        fmt::format("model '{}' (platform {}) runs no single session: no placement to show", model,
                    (*lv)->scheduler->config().platform()));
  return *placement;
}

Result<std::string> InferenceServer::GetModelStatus(std::string_view model,
                                                    std::string_view version) const {
  auto lv = impl_->Resolve(model, version);
  if (!lv.ok()) return lv.status();
  return (*lv)->backend->StatusJson();
}

Result<std::pair<std::string, std::shared_ptr<ModelMetrics>>> InferenceServer::GetModelMetrics(
    std::string_view model, std::string_view version) const {
  auto lv = impl_->Resolve(model, version);
  if (!lv.ok()) return lv.status();
  std::string v = std::to_string((*lv)->version);
  auto metrics = impl_->metrics_.ForModel(std::string(model), v);
  return std::make_pair(std::move(v), std::move(metrics));
}

double InferenceServer::UptimeSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - impl_->started_).count();
}

std::shared_ptr<RequestHandle> InferenceServer::Infer(InferRequest request, InferCallback done) {
  if (impl_->shutting_down_.load()) {
    done(Status::Unavailable("the server is shutting down"), {});
    return nullptr;
  }
  {
    std::lock_guard lock(impl_->idle_mu_);
    ++impl_->inflight_;
  }
  Impl* impl = impl_.get();
  std::function<void()> on_finish = [impl] {
    std::lock_guard lock(impl->idle_mu_);
    if (--impl->inflight_ == 0) impl->idle_cv_.notify_all();
  };
  // Between resolving the version and queueing, a reload may publish its successor (a newer
  // version, or a fresh session of the same one) and start unloading it: the scheduler then
  // hands the request back and it is resolved again, so a reload fails no request. A version
  // that is gone for good answers the resolve's error.
  constexpr int kAttempts = 4;
  for (int attempt = 1;; ++attempt) {
    auto lv = impl_->Resolve(request.model, request.version);
    if (!lv.ok()) {
      done(lv.status(), {});
      on_finish();
      return nullptr;
    }
    std::optional<Scheduler::Unaccepted> unaccepted;
    auto handle =
        (*lv)->scheduler->Enqueue(std::move(request), std::move(done), std::move(on_finish),
                                  attempt < kAttempts ? &unaccepted : nullptr);
    if (!unaccepted) return handle;
    request = std::move(unaccepted->request);
    done = std::move(unaccepted->done);
    on_finish = std::move(unaccepted->on_finish);
  }
}

Result<ResourceHandler> InferenceServer::ModelResource(std::string_view model,
                                                       std::string_view version,
                                                       const std::string& resource) const {
  auto lv = impl_->Resolve(model, version);
  if (!lv.ok()) return lv.status();
  ResourceHandler handler = (*lv)->backend->Resource(resource);
  if (!handler) {
    const std::string& platform = (*lv)->scheduler->config().platform();
    return Status::NotFound(fmt::format("model '{}' (platform {}) has no resource '{}'", model,
                                        platform.empty() ? "onnxruntime_onnx" : platform,
                                        resource));
  }
  // The handler may use the backend after an unload or a reload replaced this version.
  return ResourceHandler(
      [loaded = *lv, handler = std::move(handler)](const ResourceRequest& request) {
        (void)loaded;
        return handler(request);
      });
}

std::vector<RepositoryEntry> InferenceServer::RepositoryIndex(bool ready_only) const {
  std::vector<RepositoryEntry> rows;
  auto names = ListModels(impl_->options_.model_repository);
  std::shared_lock lock(impl_->mu_);
  std::vector<std::string> all = names.ok() ? *names : std::vector<std::string>{};
  for (const auto& [name, entry] : impl_->models_)
    if (std::find(all.begin(), all.end(), name) == all.end()) all.push_back(name);
  std::sort(all.begin(), all.end());
  for (const std::string& name : all) {
    auto it = impl_->models_.find(name);
    if (it == impl_->models_.end()) {
      if (!ready_only) rows.push_back({name, "", "UNAVAILABLE", "not loaded"});
      continue;
    }
    const ModelEntry& entry = it->second;
    for (const auto& [v, lv] : entry.versions)
      rows.push_back({name, std::to_string(v), "READY", ""});
    if (ready_only) continue;
    for (const auto& [v, why] : entry.failed)
      rows.push_back({name, std::to_string(v), "UNAVAILABLE", why});
    if (entry.versions.empty() && entry.failed.empty())
      rows.push_back({name, "", entry.loading ? "LOADING" : entry.state, entry.reason});
  }
  return rows;
}

Status InferenceServer::LoadModel(std::string_view model, std::string_view config_json) {
  if (!ValidModelName(std::string(model)))
    return Status::InvalidArgument(fmt::format("invalid model name '{}'", model));
  return impl_->Load(std::string(model), config_json);
}

Status InferenceServer::UnloadModel(std::string_view model) {
  return impl_->Unload(std::string(model));
}

Status InferenceServer::Authorize(Access access, std::string_view authorization) const {
  if (access == Access::kPublic) return Status::Ok();
  const std::string& infer = impl_->options_.infer_token;
  const std::string& admin = impl_->options_.admin_token;
  // With no token configured, inference is open and administration is off: loading a model
  // runs its file through the importer, so an open load endpoint would hand every network
  // client the server's file system and CPU. Otherwise inference takes either token, and
  // administration the admin token (the inference token where no admin token is set).
  if (infer.empty() && admin.empty()) {
    if (access == Access::kInfer) return Status::Ok();
    return Status(Status::Code::kPermissionDenied,
                  "repository administration is off: start the server with "
                  "--admin-token-file (or --infer-token-file) to enable it");
  }
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), authorization.begin(),
                  [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }))
    return Status(Status::Code::kUnauthenticated, "missing bearer token");
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  const bool granted = TokenMatches(token, admin) ||
                       (TokenMatches(token, infer) && (access == Access::kInfer || admin.empty()));
  if (!granted)
    return Status(Status::Code::kPermissionDenied,
                  access == Access::kAdmin ? "the token does not grant repository administration"
                                           : "the token does not grant inference");
  return Status::Ok();
}

Metrics& InferenceServer::metrics() { return impl_->metrics_; }
std::string InferenceServer::MetricsText() const { return impl_->metrics_.Text(); }

void InferenceServer::BeginShutdown() {
  if (!impl_->shutting_down_.exchange(true)) Log(LogLevel::kInfo, "shutdown_begun");
}

bool InferenceServer::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->idle_mu_);
  return impl_->idle_cv_.wait_for(
      lock, timeout, [&] { return impl_->inflight_ == 0 && impl_->retiring_.empty(); });
}

}  // namespace supernova::server

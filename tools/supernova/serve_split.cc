// The edge side of a split as a model of `supernova serve`'s repository: a version directory
// that `supernova split` wrote (plan.json, heads, tails), served under the platform
// "supernova_split" with the remote named in config.pbtxt:
//
//   platform: "supernova_split"
//   parameters { key: "remote"      value { string_value: "cloud:8001" } }
//   parameters { key: "timeout_ms"  value { string_value: "1000" } }   # optional
//   parameters { key: "compression" value { string_value: "gzip" } }   # optional: gzip, none
//   parameters { key: "cut"         value { string_value: "7" } }      # optional: pin a cut
//
// A request runs the head here and the tail on the remote, or the tail here when the remote
// is late or gone (SplitRunner), so clients of this server see one model that never fails
// because the link did. The runner keeps link estimates and the chosen cut between requests,
// so requests to one split run one at a time.
#include "serve_split.h"

#include <fmt/format.h>

#include <charconv>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "collab/remote/split_runner.h"
#include "kserve/kserve_client.h"
#include "server/log.h"
#include "server/model_config.h"

namespace supernova::tools {
namespace {

class SplitModel final : public server::ModelBackend {
 public:
  SplitModel(std::string model, std::unique_ptr<collab::SplitRunner> runner)
      : model_(std::move(model)), runner_(std::move(runner)) {}
  const std::vector<TensorInfo>& inputs() const override { return runner_->inputs(); }
  const std::vector<TensorInfo>& outputs() const override { return runner_->outputs(); }
  Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
             std::vector<Tensor>* outputs) const override {
    std::lock_guard lock(mu_);
    collab::RequestRecord record;
    auto out = runner_->Run(feeds, &record);
    {
      std::lock_guard seen(status_mu_);
      last_ = record;
      ++requests_;
      if (record.tail_at == "remote") ++remote_tails_;
      if (!record.fallback.empty()) ++fallbacks_;
      remote_up_ = runner_->remote_up();
    }
    if (!record.fallback.empty())
      server::Log(server::LogLevel::kWarning, "split_tail_local",
                  {{"model", model_},
                   {"request", std::to_string(record.request)},
                   {"reason", record.fallback}});
    if (!out.ok()) return out.status();
    *outputs = std::move(*out);
    return Status::Ok();
  }

  // The cut in use and the link as the last request saw them (not the runner's own: it is
  // busy while a request runs).
  std::string StatusJson() const override {
    std::lock_guard seen(status_mu_);
    nlohmann::json j = {{"kind", "split"},
                        {"requests", requests_},
                        {"remote_tails", remote_tails_},
                        {"fallbacks", fallbacks_},
                        {"remote_up", remote_up_}};
    if (requests_ > 0)
      j["last"] = {{"candidate", last_.candidate},
                   {"tail_at", last_.tail_at},
                   {"total_ms", last_.total_ms},
                   {"remote_ms", last_.remote_ms},
                   {"sent_bytes", last_.sent_bytes},
                   {"fallback", last_.fallback},
                   {"link",
                    {{"bandwidth_mbit", last_.link.bandwidth_mbit},
                     {"rtt_ms", last_.link.rtt_ms},
                     {"loss", last_.link.loss}}}};
    return j.dump();
  }

 private:
  std::string model_;
  mutable std::mutex mu_;  // one request at a time: the runner keeps state between them
  const std::unique_ptr<collab::SplitRunner> runner_;
  mutable std::mutex status_mu_;
  mutable collab::RequestRecord last_;  // guarded by status_mu_
  mutable int64_t requests_ = 0;        // guarded by status_mu_
  mutable int64_t remote_tails_ = 0;    // guarded by status_mu_
  mutable int64_t fallbacks_ = 0;       // guarded by status_mu_
  mutable bool remote_up_ = true;       // guarded by status_mu_
};

Result<double> PositiveParameter(const inference::ModelConfig& config, const std::string& key,
                                 double fallback) {
  const std::string text = server::ConfigParameter(config, key);
  if (text.empty()) return fallback;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !(v > 0))
    return Status::InvalidArgument(
        fmt::format("parameter {} must be a positive number, not '{}'", key, text));
  return v;
}

}  // namespace

server::BackendFactory SplitBackendFactory() {
  return [](const server::BackendContext& context)
             -> Result<std::shared_ptr<const server::ModelBackend>> {
    const inference::ModelConfig& config = *context.config;
    for (const auto& [key, value] : config.parameters())
      if (key != "remote" && key != "timeout_ms" && key != "compression" && key != "cut" &&
          key != "num_threads")
        return Status::InvalidArgument(
            "unknown parameter '" + key +
            "' (known: remote, timeout_ms, compression, cut, num_threads)");
    const std::string remote = server::ConfigParameter(config, "remote");
    if (remote.empty())
      return Status::InvalidArgument(
          "platform supernova_split needs parameter remote (HOST:PORT of the cloud's server)");
    std::string compression = server::ConfigParameter(config, "compression");
    if (compression.empty()) compression = "gzip";
    if (compression != "gzip" && compression != "none")
      return Status::InvalidArgument("parameter compression must be gzip or none, not '" +
                                     compression + "'");
    SN_ASSIGN_OR_RETURN(double timeout_ms, PositiveParameter(config, "timeout_ms", 1000));
    SN_ASSIGN_OR_RETURN(collab::SplitPlanFile plan, collab::ReadSplitPlan(context.version_dir));
    SN_ASSIGN_OR_RETURN(std::unique_ptr<kserve::KServeClient> client,
                        kserve::KServeClient::Create(remote, compression == "gzip"));
    collab::SplitOptions options;
    options.timeout_ms = timeout_ms;
    options.threads = context.session_options.num_threads;
    if (const std::string cut = server::ConfigParameter(config, "cut"); !cut.empty()) {
      auto [end, ec] = std::from_chars(cut.data(), cut.data() + cut.size(), options.pin);
      if (ec != std::errc() || end != cut.data() + cut.size() || options.pin < 0)
        return Status::InvalidArgument("parameter cut must be a candidate id of plan.json, not '" +
                                       cut + "'");
    }
    SN_ASSIGN_OR_RETURN(std::unique_ptr<collab::SplitRunner> runner,
                        collab::SplitRunner::Open(std::move(plan), std::move(client), options));
    return std::shared_ptr<const server::ModelBackend>(
        std::make_shared<SplitModel>(context.model, std::move(runner)));
  };
}

}  // namespace supernova::tools

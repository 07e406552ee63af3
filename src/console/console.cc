#include "console/console.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <optional>
#include <string_view>
#include <vector>

#include "console/web_assets.h"
#include "server/http_codec.h"

namespace supernova::console {
namespace {

using server::HttpExtensionRequest;
using server::HttpExtensionResponse;
using json = nlohmann::json;

// The page's own files and nothing else: no inline script or style, no other origin. blob:
// for the stream frames, which the page fetches with its token and shows from memory.
constexpr const char* kPolicy =
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

HttpExtensionResponse Answer(int status, std::string body, std::string type = "application/json") {
  HttpExtensionResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(type);
  r.headers = {{"Content-Security-Policy", kPolicy},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               {"Cache-Control", "no-store"}};
  return r;
}

HttpExtensionResponse Error(int status, std::string_view message) {
  HttpExtensionResponse r = Answer(status, server::http::ErrorJson(message));
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

HttpExtensionResponse FromStatus(const Status& s) {
  return Error(server::http::HttpStatusFor(s.code()), s.message());
}

std::string_view ContentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

HttpExtensionResponse MethodNotAllowed(std::string_view allowed) {
  HttpExtensionResponse r = Error(405, fmt::format("method not allowed; use {}", allowed));
  r.headers.emplace_back("Allow", std::string(allowed));
  return r;
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    out.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

// A stream's name as the console accepts it: one URL path segment that needs no escaping.
bool ValidStreamName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

json Optional(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json WindowJson(const ModelWindow& w) {
  return {{"t", w.t},
          {"requests_per_s", w.requests_per_s},
          {"failures_per_s", w.failures_per_s},
          {"latency_p50_ms", Optional(w.latency_p50_ms)},
          {"latency_p99_ms", Optional(w.latency_p99_ms)},
          {"queue_p50_ms", Optional(w.queue_p50_ms)},
          {"queue_depth", w.queue_depth},
          {"mean_batch", Optional(w.mean_batch)},
          {"success", w.success},
          {"failure", w.failure}};
}

json TensorsJson(const std::vector<server::ModelTensorMetadata>& tensors) {
  json out = json::array();
  for (const auto& t : tensors)
    out.push_back({{"name", t.name}, {"datatype", t.datatype}, {"shape", t.shape}});
  return out;
}

}  // namespace

Console::Console(server::InferenceServer* core, ConsoleOptions options)
    : core_(core),
      options_(options),
      history_(std::make_unique<ModelHistory>(core, options.history)) {}

Console::~Console() = default;

server::HttpExtension Console::Extension() {
  return {"/console", [this](const HttpExtensionRequest& r) { return Handle(r); }};
}

HttpExtensionResponse Console::Handle(const HttpExtensionRequest& request) const {
  const std::string_view path = request.path;
  if (path == "/console") {  // relative URLs in the page need the slash
    HttpExtensionResponse r = Answer(308, "");
    r.content_type.clear();
    r.headers.emplace_back("Location", "/console/");
    return r;
  }
  constexpr std::string_view kApi = "/console/api/";
  if (path.starts_with(kApi)) return Api(request, std::string(path.substr(kApi.size())));
  std::string_view name = path.substr(std::string_view("/console/").size());
  if (name.empty()) name = "index.html";
  for (const WebAsset& asset : WebAssets()) {
    if (name != asset.name) continue;
    if (request.method != "GET" && request.method != "HEAD") return MethodNotAllowed("GET");
    HttpExtensionResponse r = Answer(200, asset.text, std::string(ContentType(name)));
    for (auto& [field, value] : r.headers)  // revalidate: a new binary, a new page
      if (field == "Cache-Control") value = "no-cache";
    return r;
  }
  return Error(404, fmt::format("no such console file: {}", path));
}

HttpExtensionResponse Console::Api(const HttpExtensionRequest& request,
                                   const std::string& rest) const {
  const std::vector<std::string_view> seg = Segments(rest);
  const bool read = request.method == "GET";
  if (Status s = core_->Authorize(read ? server::Access::kInfer : server::Access::kAdmin,
                                  request.authorization);
      !s.ok())
    return FromStatus(s);

  if (seg.size() == 1 && seg[0] == "summary") {
    if (!read) return MethodNotAllowed("GET");
    // What the presented token grants, so that the page offers only the actions it may take.
    const bool admin = core_->Authorize(server::Access::kAdmin, request.authorization).ok();
    return Answer(200, SummaryJson(admin ? "admin" : "read"));
  }
  if (seg.size() == 1 && seg[0] == "models")
    return read ? Answer(200, ModelsJson()) : MethodNotAllowed("GET");
  if (seg.size() == 3 && seg[0] == "models") {
    if (!read) return MethodNotAllowed("GET");
    std::optional<std::string> model = server::http::DecodePathSegment(seg[1]);
    if (!model || model->empty()) return Error(400, "malformed model name in URL");
    if (seg[2] == "history") {
      json points = json::array();
      for (const ModelWindow& w : history_->Series(*model)) points.push_back(WindowJson(w));
      return Answer(200,
                    json{{"interval_s", options_.history.interval_s}, {"points", points}}.dump());
    }
    if (seg[2] == "placement") {
      Result<PlacementReport> p = core_->GetModelPlacement(*model, "");
      if (!p.ok()) {
        if (p.status().code() == Status::Code::kUnimplemented)
          return Error(404, p.status().message());
        return FromStatus(p.status());
      }
      json nodes = json::array();
      for (const NodePlacement& n : p->nodes)
        nodes.push_back({{"node", n.node},
                         {"op_type", n.op_type},
                         {"provider", n.provider},
                         {"piece", n.piece},
                         {"reason", n.reason}});
      return Answer(200, json{{"providers", p->providers},
                              {"pieces", p->pieces},
                              {"seams", p->seams},
                              {"copies", p->copies},
                              {"notes", p->notes},
                              {"nodes", nodes}}
                             .dump());
    }
    return Error(404, fmt::format("no such console endpoint: {}", request.path));
  }

  if (!seg.empty() && seg[0] == "streams") {
    StreamView* streams = options_.streams;
    if (streams == nullptr)
      return Error(503, "this server runs no streams: start it with --stream-model");
    if (seg.size() == 1) {
      if (read) return Answer(200, streams->ListJson());
      if (request.method != "POST") return MethodNotAllowed("GET, POST");
      json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
      if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
          !body.contains("source") || !body["source"].is_string())
        return Error(400, R"(the body must be {"name": "...", "source": "..."})");
      const std::string name = body["name"].get<std::string>();
      const std::string source = body["source"].get<std::string>();
      if (!ValidStreamName(name))
        return Error(400,
                     "a stream name is 1 to 64 letters, digits, '-', '_' or '.', not "
                     "starting with '.'");
      if (source.empty()) return Error(400, "the source is empty");
      if (Status s = streams->Add(name, source); !s.ok()) return FromStatus(s);
      return Answer(201, json{{"name", name}}.dump());
    }
    const std::string name(seg[1]);
    if (!ValidStreamName(name)) return Error(404, fmt::format("no stream '{}'", seg[1]));
    if (seg.size() == 2) {
      if (request.method != "DELETE") return MethodNotAllowed("DELETE");
      if (Status s = streams->Remove(name); !s.ok()) return FromStatus(s);
      return Answer(200, json{{"name", name}, {"removed", true}}.dump());
    }
    if (seg.size() == 3 && seg[2] == "history") {
      if (!read) return MethodNotAllowed("GET");
      Result<std::string> h = streams->HistoryJson(name);
      return h.ok() ? Answer(200, std::move(*h)) : FromStatus(h.status());
    }
    if (seg.size() == 3 && seg[2] == "frame.jpg") {
      if (!read) return MethodNotAllowed("GET");
      Result<std::string> jpeg = streams->FrameJpeg(name);
      return jpeg.ok() ? Answer(200, std::move(*jpeg), "image/jpeg") : FromStatus(jpeg.status());
    }
  }
  return Error(404, fmt::format("no such console endpoint: {}", request.path));
}

std::string Console::SummaryJson(const std::string& access) const {
  const server::ServerOptions& o = core_->options();
  json streams = {{"enabled", options_.streams != nullptr}};
  if (options_.streams) streams["model"] = options_.streams->model();
  return json{
      {"name", std::string(core_->Name())},
      {"version", std::string(core_->Version())},
      {"uptime_s", core_->UptimeSeconds()},
      {"ready", core_->Ready()},
      {"access", access},
      {"auth", {{"infer_token", !o.infer_token.empty()}, {"admin_token", !o.admin_token.empty()}}},
      {"streams", streams}}
      .dump();
}

std::string Console::ModelsJson() const {
  json models = json::array();
  for (const server::RepositoryEntry& e : core_->RepositoryIndex(/*ready_only=*/false)) {
    json m = {{"name", e.name}, {"version", e.version}, {"state", e.state}, {"reason", e.reason}};
    if (e.state == "READY") {
      if (auto md = core_->GetModelMetadata(e.name, e.version); md.ok()) {
        m["platform"] = md->platform;
        m["inputs"] = TensorsJson(md->inputs);
        m["outputs"] = TensorsJson(md->outputs);
      }
      if (auto config = core_->GetModelConfig(e.name, e.version); config.ok()) {
        int instances = 0;
        for (const auto& g : config->instance_group()) instances += g.count();
        m["max_batch_size"] = config->max_batch_size();
        m["dynamic_batching"] = config->has_dynamic_batching();
        m["instances"] = instances;
      }
      if (auto w = history_->Stats(e.name, options_.stats_window_s)) m["stats"] = WindowJson(*w);
      if (auto status = core_->GetModelStatus(e.name, e.version); status.ok() && !status->empty())
        m["backend"] = json::parse(*status, nullptr, /*allow_exceptions=*/false);
    }
    models.push_back(std::move(m));
  }
  return json{{"time", UnixSeconds()}, {"window_s", options_.stats_window_s}, {"models", models}}
      .dump();
}

}  // namespace supernova::console

// The routes of the KServe v2 front end: which endpoint a request names, its method and token,
// and the core call that answers it (http_server.h lists them). The connections that carry the
// requests are http_server.cc's; the bodies are http_codec.cc's.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/http_server_impl.h"
#include "server/metrics.h"

namespace supernova::server {
namespace {

std::string_view SV(beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

Response MakeResponse(unsigned status, std::string body, std::string_view content_type) {
  Response res;
  res.result(status);
  if (!content_type.empty())
    res.set(bhttp::field::content_type,
            beast::string_view(content_type.data(), content_type.size()));
  res.body() = std::move(body);
  return res;
}

Response JsonResponse(unsigned status, std::string body) {
  return MakeResponse(status, std::move(body), "application/json");
}

Response ErrorResponse(unsigned status, std::string_view message) {
  Response res = JsonResponse(status, http::ErrorJson(message));
  if (status == 401) res.set(bhttp::field::www_authenticate, "Bearer");
  return res;
}

Response StatusResponse(const Status& s) {
  return ErrorResponse(static_cast<unsigned>(http::HttpStatusFor(s.code())), s.message());
}

Response EmptyResponse(unsigned status) { return MakeResponse(status, std::string(), {}); }

std::optional<Response> HttpServer::Impl::Authorize(Access access, const Request& req) const {
  Status s = core_->Authorize(access, SV(req[bhttp::field::authorization]));
  if (s.ok()) return std::nullopt;
  return StatusResponse(s);
}

Response HttpServer::Impl::InferError(const Status& s, const std::string& model,
                                      const std::string& version) const {
  if (s.code() != Status::Code::kNotFound) return StatusResponse(s);  // the model counted it
  if (core_->GetModelMetadata(model, version).ok()) return ErrorResponse(400, s.message());
  core_->metrics().RequestRejected("http", 404);  // never reached a model
  return StatusResponse(s);
}

Response HttpServer::Impl::Statistics(std::string_view model, std::string_view version) const {
  std::vector<http::ModelStatsEntry> entries;
  for (RepositoryEntry& e : core_->RepositoryIndex(/*ready_only=*/true)) {
    if (!model.empty() && e.name != model) continue;
    if (!version.empty() && version != "-1" && e.version != version) continue;
    http::ModelStatsEntry entry{std::move(e.name), std::move(e.version), {}};
    entry.counters = core_->metrics().ForModel(entry.name, entry.version)->Read();
    entries.push_back(std::move(entry));
  }
  if (!model.empty() && entries.empty()) {
    // Say why, as the metadata lookup would: unknown model or version, or not ready.
    Result<ModelMetadata> m = core_->GetModelMetadata(model, version);
    if (!m.ok()) return StatusResponse(m.status());
    return ErrorResponse(404, "no statistics for model '" + std::string(model) + "'");
  }
  return JsonResponse(200, http::ModelStatsJson(entries));
}

namespace {

std::vector<std::string_view> SplitPath(std::string_view target) {
  const size_t q = target.find('?');
  if (q != std::string_view::npos) target = target.substr(0, q);
  std::vector<std::string_view> segments;
  if (target.empty() || target[0] != '/') return segments;
  size_t start = 1;
  for (;;) {
    const size_t slash = target.find('/', start);
    segments.push_back(
        target.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

Response MethodNotAllowed(bhttp::verb allowed) {
  Response res =
      ErrorResponse(405, "method not allowed; use " + std::string(SV(bhttp::to_string(allowed))));
  res.set(bhttp::field::allow, bhttp::to_string(allowed));
  return res;
}

Routed Answer(Response res) {
  Routed r;
  r.response = std::move(res);
  return r;
}

Routed NotFoundPath(std::string_view target) {
  return Answer(ErrorResponse(404, "no such endpoint: " + std::string(target)));
}

// The protocol's own endpoints of a model; any other name is a sub-resource of its backend.
bool IsProtocolAction(std::string_view action) {
  return action == "ready" || action == "config" || action == "stats" || action == "infer";
}

}  // namespace

Routed HttpServer::Impl::Route(const Request& req) const {
  const std::vector<std::string_view> seg = SplitPath(SV(req.target()));
  const bhttp::verb method = req.method();
  auto expect = [&](bhttp::verb verb, Access access, auto&& handler) -> Routed {
    if (method != verb) return Answer(MethodNotAllowed(verb));
    if (std::optional<Response> denied = Authorize(access, req)) return Answer(std::move(*denied));
    return handler();
  };

  if (options_.role == HttpOptions::Role::kMetrics) {
    if (seg.size() == 1 && seg[0] == "metrics") {
      return expect(bhttp::verb::get, Access::kPublic, [&] {
        return Answer(MakeResponse(200, core_->MetricsText(), "text/plain; version=0.0.4"));
      });
    }
    return NotFoundPath(SV(req.target()));
  }

  if (!seg.empty())
    for (const HttpExtension& e : options_.extensions)
      if (seg[0] == std::string_view(e.prefix).substr(1)) return RouteExtension(req, e);
  if (seg.empty() || seg[0] != "v2") return NotFoundPath(SV(req.target()));
  if (seg.size() == 1) {
    return expect(bhttp::verb::get, Access::kInfer, [&] {
      return Answer(JsonResponse(
          200, http::ServerMetadataJson(core_->Name(), core_->Version(), core_->Extensions())));
    });
  }
  if (seg[1] == "health" && seg.size() == 3 && (seg[2] == "live" || seg[2] == "ready")) {
    const bool live = seg[2] == "live";
    return expect(bhttp::verb::get, Access::kPublic, [&] {
      const bool yes = live ? core_->Live() : core_->Ready();
      return Answer(EmptyResponse(yes ? 200 : 400));
    });
  }
  if (seg[1] == "models" && seg.size() == 3 && seg[2] == "stats") {
    return expect(bhttp::verb::get, Access::kInfer, [&] { return Answer(Statistics("", "")); });
  }
  if (seg[1] == "models" && seg.size() >= 3) {
    std::optional<std::string> model = http::DecodePathSegment(seg[2]);
    if (!model || model->empty()) return Answer(ErrorResponse(400, "malformed model name in URL"));
    size_t next = 3;
    std::optional<std::string> version = std::string();
    if (seg.size() >= 5 && seg[3] == "versions") {
      version = http::DecodePathSegment(seg[4]);
      if (!version || version->empty())
        return Answer(ErrorResponse(400, "malformed model version in URL"));
      next = 5;
    }
    const std::string_view action = seg.size() > next ? seg[next] : std::string_view();
    if (!action.empty() && !IsProtocolAction(action)) {
      const std::vector<std::string_view> rest(seg.begin() + static_cast<std::ptrdiff_t>(next) + 1,
                                               seg.end());
      return RouteResource(req, *model, *version, action, rest);
    }
    if (seg.size() > next + 1) return NotFoundPath(SV(req.target()));
    return RouteModel(req, *model, *version, action);
  }
  if (seg[1] == "repository") {
    if (seg.size() == 3 && seg[2] == "index") {
      return expect(bhttp::verb::post, Access::kInfer, [&] {
        Result<bool> ready_only = http::ParseRepositoryIndexRequest(req.body());
        if (!ready_only.ok()) return Answer(StatusResponse(ready_only.status()));
        return Answer(
            JsonResponse(200, http::RepositoryIndexJson(core_->RepositoryIndex(*ready_only))));
      });
    }
    if (seg.size() == 5 && seg[2] == "models" && (seg[4] == "load" || seg[4] == "unload")) {
      std::optional<std::string> model = http::DecodePathSegment(seg[3]);
      if (!model || model->empty())
        return Answer(ErrorResponse(400, "malformed model name in URL"));
      const bool load = seg[4] == "load";
      return expect(bhttp::verb::post, Access::kAdmin, [&] {
        Status s;
        if (load) {
          Result<std::string> config = http::ParseLoadRequest(req.body());
          s = config.ok() ? core_->LoadModel(*model, *config) : config.status();
        } else {
          s = http::ParseUnloadRequest(req.body());
          if (s.ok()) s = core_->UnloadModel(*model);
        }
        return Answer(s.ok() ? EmptyResponse(200) : StatusResponse(s));
      });
    }
  }
  return NotFoundPath(SV(req.target()));
}

Routed HttpServer::Impl::RouteModel(const Request& req, std::string_view model,
                                    std::string_view version, std::string_view action) const {
  auto expect = [&](bhttp::verb verb, auto&& handler) -> Routed {
    if (req.method() != verb) return Answer(MethodNotAllowed(verb));
    if (std::optional<Response> denied = Authorize(Access::kInfer, req))
      return Answer(std::move(*denied));
    return handler();
  };
  if (action.empty()) {
    return expect(bhttp::verb::get, [&] {
      Result<ModelMetadata> m = core_->GetModelMetadata(model, version);
      if (!m.ok()) return Answer(StatusResponse(m.status()));
      return Answer(JsonResponse(200, http::ModelMetadataJson(*m)));
    });
  }
  if (action == "ready") {
    return expect(bhttp::verb::get, [&] {
      if (core_->ModelReady(model, version)) return Answer(EmptyResponse(200));
      Result<ModelMetadata> m = core_->GetModelMetadata(model, version);
      if (!m.ok() && m.status().code() == Status::Code::kNotFound)
        return Answer(StatusResponse(m.status()));
      return Answer(EmptyResponse(400));
    });
  }
  if (action == "config") {
    return expect(bhttp::verb::get, [&] {
      Result<inference::ModelConfig> config = core_->GetModelConfig(model, version);
      if (!config.ok()) return Answer(StatusResponse(config.status()));
      Result<std::string> text = http::ModelConfigJson(*config);
      if (!text.ok()) return Answer(StatusResponse(text.status()));
      return Answer(JsonResponse(200, std::move(text).value()));
    });
  }
  if (action == "stats")
    return expect(bhttp::verb::get, [&] { return Answer(Statistics(model, version)); });
  if (action == "infer") {
    Routed routed = expect(bhttp::verb::post, [&] {
      const beast::string_view encoding = req[bhttp::field::content_encoding];
      if (!encoding.empty() && !beast::iequals(encoding, "identity")) {
        return Answer(ErrorResponse(415, "Content-Encoding '" + std::string(SV(encoding)) +
                                             "' is not supported; send the body uncompressed"));
      }
      std::optional<uint64_t> header_length;
      auto it = req.find("Inference-Header-Content-Length");
      if (it != req.end()) {
        const std::string_view v = SV(it->value());
        uint64_t n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || p != v.data() + v.size() || v.empty()) {
          return Answer(
              ErrorResponse(400, "Inference-Header-Content-Length must be a non-negative integer"));
        }
        header_length = n;
      }
      Result<http::ParsedInferRequest> parsed = http::ParseInferRequest(
          req.body(), header_length, std::string(model), std::string(version));
      if (!parsed.ok()) return Answer(StatusResponse(parsed.status()));
      Routed r;
      r.infer = std::move(parsed).value();
      return r;
    });
    // Refused here, before any model saw it: counted as the gRPC front end counts its own.
    if (routed.response) core_->metrics().RequestRejected("http", routed.response->result_int());
    return routed;
  }
  return NotFoundPath(SV(req.target()));
}

Routed HttpServer::Impl::RouteExtension(const Request& req, const HttpExtension& extension) const {
  HttpExtensionRequest request;
  request.method = std::string(SV(req.method_string()));
  const std::string_view target = SV(req.target());
  const size_t q = target.find('?');
  request.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
  request.authorization = std::string(SV(req[bhttp::field::authorization]));
  request.body = req.body();
  HttpExtensionResponse answer = extension.handle(request);
  Response res = MakeResponse(static_cast<unsigned>(answer.status), std::move(answer.body),
                              answer.content_type);
  for (const auto& [field, value] : answer.headers) res.set(field, value);
  return Answer(std::move(res));
}

Routed HttpServer::Impl::RouteResource(const Request& req, std::string_view model,
                                       std::string_view version, std::string_view resource,
                                       const std::vector<std::string_view>& rest) const {
  // The token first, so that without it nobody learns which models offer what.
  if (std::optional<Response> denied = Authorize(Access::kAdmin, req))
    return Answer(std::move(*denied));
  std::optional<std::string> name = http::DecodePathSegment(resource);
  if (!name) return Answer(ErrorResponse(400, "malformed resource name in URL"));
  ResourceRequest request;
  request.method = std::string(SV(req.method_string()));
  for (std::string_view segment : rest) {
    std::optional<std::string> decoded = http::DecodePathSegment(segment);
    if (!decoded) return Answer(ErrorResponse(400, "malformed path segment in URL"));
    request.path.push_back(std::move(*decoded));
  }
  Result<ResourceHandler> handler = core_->ModelResource(model, version, *name);
  if (!handler.ok()) return Answer(StatusResponse(handler.status()));
  request.body = req.body();
  Result<ResourceResponse> answer = (*handler)(request);
  if (!answer.ok()) return Answer(StatusResponse(answer.status()));
  Response res = JsonResponse(static_cast<unsigned>(answer->status), std::move(answer->body));
  if (!answer->allow.empty()) res.set(bhttp::field::allow, answer->allow);
  return Answer(std::move(res));
}

}  // namespace supernova::server

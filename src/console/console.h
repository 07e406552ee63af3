// The web console of `supernova serve` (docs/console.md): a page served at /console on the
// HTTP port from files compiled into the binary, and the JSON it reads under /console/api/.
//
//   Console console(core, {.streams = hub.get()});
//   http_options.extensions.push_back(console.Extension());   // before HttpServer::Start
//
// The page and its files are public; the API needs what the protocol's own endpoints need: the
// inference token to read (when the server has one), the admin token to change anything (add
// or stop a stream; loading, unloading and enrolling go through the protocol's endpoints). A
// token travels only in the Authorization header, never in a URL. Every answer carries a
// Content-Security-Policy that allows the page's own files and nothing else.
//
// Endpoints (JSON unless said):
//   GET    /console, /console/            the page; /console/{app.js,app.css} its files
//   GET    /console/api/summary           server, version, uptime, which tokens are set, what
//                                         the request's token grants ("admin" or "read"), streams
//   GET    /console/api/models            every model: state, tensors, config figures, the last
//                                         minute's rate and percentiles
//   GET    /console/api/models/{m}/history      one point per second over the last minutes
//   GET    /console/api/models/{m}/placement    where each node runs (Session::placement)
//   GET    /console/api/streams                 the streams the server runs
//   GET    /console/api/streams/{s}/history     fps, lag, skipping, one point per second
//   GET    /console/api/streams/{s}/frame.jpg   the newest frame with its tracks (image/jpeg)
//   POST   /console/api/streams             admin: {"name": "...", "source": "..."}
//   DELETE /console/api/streams/{s}         admin
// Thread-safe: the handler runs on any HTTP I/O thread.
#pragma once

#include <memory>
#include <string>

#include "console/model_history.h"
#include "console/stream_view.h"
#include "server/http_server.h"
#include "server/inference_server.h"

namespace supernova::console {

struct ConsoleOptions {
  // The streams the server runs, or null (no stream model: the page says so). Not owned; it
  // must outlive the console's handler.
  StreamView* streams = nullptr;
  ModelHistoryOptions history;
  double stats_window_s = 60;  // the span of the models' table figures
};

class Console {
 public:
  Console(server::InferenceServer* core, ConsoleOptions options);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // The endpoints, for HttpOptions::extensions; the console must outlive the server using it.
  server::HttpExtension Extension();
  server::HttpExtensionResponse Handle(const server::HttpExtensionRequest& request) const;

 private:
  server::HttpExtensionResponse Api(const server::HttpExtensionRequest& request,
                                    const std::string& rest) const;
  std::string ModelsJson() const;
  std::string SummaryJson(const std::string& access) const;

  server::InferenceServer* const core_;
  const ConsoleOptions options_;
  std::unique_ptr<ModelHistory> history_;
};

}  // namespace supernova::console

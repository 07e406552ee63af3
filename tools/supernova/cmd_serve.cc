// supernova serve --model-repository DIR: the KServe v2 / Triton-compatible inference server
// (docs/server.md). HTTP/REST on --http-port (8000), gRPC on --grpc-port (8001), Prometheus
// metrics on --metrics-port (8002), as Triton's defaults; a port of 0 picks a free one, -1
// turns that listener off. SIGTERM or SIGINT shuts down gracefully: readiness turns false,
// new requests are refused, queued and running ones finish (up to --exit-timeout-secs), then
// the listeners close. The web console is at /console on the HTTP port (docs/console.md); with
// --stream-model the server also runs live streams (--stream NAME=SOURCE, or added from the
// console) that the console shows.
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "console/console.h"
#include "console/stream_hub.h"
#include "serve_detect.h"
#include "serve_learn.h"
#include "serve_split.h"
#include "serve_video.h"
#include "server/grpc_server.h"
#include "server/http_server.h"
#include "server/inference_server.h"
#include "server/log.h"
#include "stream/labels.h"
#include "stream_cloud_flags.h"
#include "supernova/commands.h"
#include "supernova/detector_args.h"

namespace supernova::tools {
namespace {

struct ServeArgs {
  std::string repository;
  std::string address = "0.0.0.0";
  int http_port = 8000;
  int grpc_port = 8001;
  int metrics_port = 8002;
  int http_threads = 2;
  std::string control_mode = "none";
  double poll_secs = 5;
  std::vector<std::string> load_models;
  uint32_t max_queue_size = 128;
  int threads_per_instance = 0;
  std::string providers = "cpu";
  std::string infer_token_file, admin_token_file;
  std::string tls_cert, tls_key, tls_client_ca;
  size_t max_body_bytes = 64u << 20;
  size_t max_run_bytes = 0;
  size_t max_connections = 1024;
  std::string log_level = "info";
  int exit_timeout_secs = 30;
  double http_idle_timeout_secs = 120;
  bool no_console = false;
  // Streams run inside the server, for the console (console/stream_hub.h).
  std::string stream_model, stream_labels, stream_skip = "adaptive";
  std::vector<std::string> streams;  // NAME=SOURCE
  DetectorArgs stream_detector;
  stream::KServeCloudOptions stream_cloud;  // --cloud*: the streams' joint inference
  std::string escalate = "key=10";
  double stream_max_lag_ms = 200;
  int stream_threads = 0;
  bool stream_loop = false;
};

// The streams' hub, when --stream-model is given: the detector opened, the --stream ones
// running. Null without a model.
Result<std::unique_ptr<console::StreamHub>> OpenStreams(const ServeArgs& a) {
  if (a.stream_model.empty()) {
    if (!a.streams.empty() || !a.stream_cloud.target.empty())
      return Status::InvalidArgument("--stream and --cloud need --stream-model");
    return std::unique_ptr<console::StreamHub>();
  }
  stream::DetectorOptions d;
  SN_RETURN_IF_ERROR(ApplyDetectorArgs(a.stream_detector, &d));
  d.session.num_threads = a.stream_threads;
  d.session.providers = SplitCommaList(a.providers);
  stream::PipelineOptions p;
  SN_ASSIGN_OR_RETURN(p.skip.mode, ParseSkipMode(a.stream_skip, "--stream-skip"));
  p.skip.max_lag_s = a.stream_max_lag_ms / 1e3;
  console::StreamHubOptions h;
  stream::SourceOptions source;
  source.loop = a.stream_loop;
  SN_ASSIGN_OR_RETURN(h.open_source, LoadVideoSources(source));
  if (!a.stream_labels.empty()) {
    SN_ASSIGN_OR_RETURN(h.labels, stream::ReadLabels(a.stream_labels));
  }
  SN_ASSIGN_OR_RETURN(p.escalation, stream::ParseEscalation(a.escalate));
  SN_ASSIGN_OR_RETURN(std::unique_ptr<stream::CloudDetector> cloud, OpenCloud(a.stream_cloud));
  SN_ASSIGN_OR_RETURN(std::unique_ptr<console::StreamHub> hub,
                      console::StreamHub::Open(a.stream_model, d, p, h, std::move(cloud)));
  for (const std::string& spec : a.streams) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      return Status::InvalidArgument("--stream takes NAME=SOURCE, not '" + spec + "'");
    SN_RETURN_IF_ERROR(hub->Add(spec.substr(0, eq), spec.substr(eq + 1)));
  }
  return hub;
}

// A token from its file (one trailing newline dropped, as editors and `echo` write it), or
// from the environment variable. A token must be printable ASCII without spaces: anything
// else could not travel in an Authorization header, so it would lock everyone out silently.
// A file that others can read is served, with a warning (mounted secrets are often 0644).
Result<std::string> ReadToken(const std::string& file, const char* env) {
  std::string token;
  std::string source = std::string("$") + env;
  if (file.empty()) {
    const char* v = std::getenv(env);
    if (v == nullptr || *v == '\0') return std::string();
    token = v;
  } else {
    source = "token file " + file;
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status::NotFound("cannot read " + source);
    std::stringstream s;
    s << in.rdbuf();
    token = s.str();
    if (!token.empty() && token.back() == '\n') token.pop_back();
    if (!token.empty() && token.back() == '\r') token.pop_back();
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
      server::Log(server::LogLevel::kWarning, "token_file_readable_by_others",
                  {{"file", file},
                   {"mode", fmt::format("{:o}", st.st_mode & 0777)},
                   {"fix", "chmod 600 " + file}});
  }
  if (token.empty()) return Status::InvalidArgument(source + " is empty");
  for (char c : token)
    if (c <= ' ' || c > '~')
      return Status::InvalidArgument(source +
                                     " holds a space, control or non-ASCII character: a bearer "
                                     "token is printable ASCII without spaces");
  return token;
}

int Serve(const ServeArgs& args) {
  using server::Log;
  using server::LogLevel;
  LogLevel level;
  if (!server::ParseLogLevel(args.log_level, &level))
    return Fail("--log-level must be debug, info, warning or error");
  server::SetLogLevel(level);
  if (args.control_mode != "none" && args.control_mode != "poll" && args.control_mode != "explicit")
    return Fail("--model-control-mode must be none, poll or explicit");
  if (args.tls_cert.empty() != args.tls_key.empty())
    return Fail("--tls-cert and --tls-key go together");
  if (!args.tls_client_ca.empty() && args.tls_cert.empty())
    return Fail("--tls-client-ca needs --tls-cert and --tls-key");

  // Signals are taken by sigwait below: block them before any thread starts, so that every
  // thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::ServerOptions opts;
  opts.model_repository = args.repository;
  opts.poll_interval_s = args.control_mode == "poll" ? args.poll_secs : 0;
  opts.explicit_control = args.control_mode == "explicit";
  opts.startup_models = args.load_models;
  opts.default_max_queue_size = args.max_queue_size;
  opts.threads_per_instance = args.threads_per_instance;
  opts.max_run_bytes = args.max_run_bytes;
  opts.providers = SplitCommaList(args.providers);
  opts.backends["supernova_split"] = SplitBackendFactory();
  opts.backends["supernova_detector"] = DetectorBackendFactory();
  opts.backends["supernova_classifier"] = ClassifierBackendFactory();
  auto infer_token = ReadToken(args.infer_token_file, "SUPERNOVA_INFER_TOKEN");
  auto admin_token = ReadToken(args.admin_token_file, "SUPERNOVA_ADMIN_TOKEN");
  if (!infer_token.ok()) return Fail(infer_token.status().message());
  if (!admin_token.ok()) return Fail(admin_token.status().message());
  opts.infer_token = *infer_token;
  opts.admin_token = *admin_token;

  auto core = server::InferenceServer::Create(opts);
  if (!core.ok()) return Fail(core.status().message());
  // Made before the listeners, so that they stop before these go.
  auto streams = OpenStreams(args);
  if (!streams.ok()) return Fail("streams: " + streams.status().message());
  std::unique_ptr<console::Console> console;
  if (!args.no_console && args.http_port >= 0)
    console = std::make_unique<console::Console>(
        core->get(), console::ConsoleOptions{.streams = streams->get()});

  std::unique_ptr<server::HttpServer> http, metrics;
  std::unique_ptr<server::GrpcServer> grpc;
  if (args.http_port >= 0) {
    server::HttpOptions o;
    o.address = args.address;
    o.port = args.http_port;
    o.threads = args.http_threads;
    o.max_body_bytes = args.max_body_bytes;
    o.idle_timeout_s = args.http_idle_timeout_secs;
    o.max_connections = args.max_connections;
    o.tls_cert_file = args.tls_cert;
    o.tls_key_file = args.tls_key;
    o.tls_client_ca_file = args.tls_client_ca;
    if (console) o.extensions.push_back(console->Extension());
    auto s = server::HttpServer::Start(core->get(), o);
    if (!s.ok()) return Fail("HTTP: " + s.status().message());
    http = std::move(*s);
  }
  if (args.grpc_port >= 0) {
    server::GrpcOptions o;
    o.address = args.address;
    o.port = args.grpc_port;
    o.max_message_bytes = args.max_body_bytes;
    o.tls_cert_file = args.tls_cert;
    o.tls_key_file = args.tls_key;
    o.tls_client_ca_file = args.tls_client_ca;
    auto s = server::GrpcServer::Start(core->get(), o);
    if (!s.ok()) return Fail("gRPC: " + s.status().message());
    grpc = std::move(*s);
  }
  if (args.metrics_port >= 0) {
    server::HttpOptions o;
    o.address = args.address;
    o.port = args.metrics_port;
    o.threads = 1;
    o.role = server::HttpOptions::Role::kMetrics;
    o.max_body_bytes = 1024;  // GET /metrics carries no body
    o.max_connections = 64;   // scrapers, not clients
    auto s = server::HttpServer::Start(core->get(), o);
    if (!s.ok()) return Fail("metrics: " + s.status().message());
    metrics = std::move(*s);
  }
  Log(LogLevel::kInfo, "server_ready",
      {{"repository", args.repository},
       {"http_port", std::to_string(http ? http->port() : -1)},
       {"grpc_port", std::to_string(grpc ? grpc->port() : -1)},
       {"metrics_port", std::to_string(metrics ? metrics->port() : -1)},
       {"tls", args.tls_cert.empty()        ? "off"
               : args.tls_client_ca.empty() ? "on"
                                            : "mutual"},
       {"auth", opts.infer_token.empty() && opts.admin_token.empty() ? "off" : "on"},
       {"admin", opts.infer_token.empty() && opts.admin_token.empty() ? "off" : "on"},
       {"console", console ? "/console" : "off"},
       {"streams", std::to_string(args.streams.size())}});

  int sig = 0;
  sigwait(&signals, &sig);
  Log(LogLevel::kInfo, "signal_received", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*core)->BeginShutdown();
  if (*streams) {  // their frames in hand finished, the sources closed
    (*streams)->Stop();
    for (const auto& m : (*streams)->Metrics())
      Log(m.error.empty() ? LogLevel::kInfo : LogLevel::kWarning, "stream_stopped",
          {{"stream", m.name}, {"metrics", m.ToJson()}});
  }
  // One deadline for the whole shutdown: what the requests leave of the grace bounds the
  // listeners' wind-down, so a client trickling half a request cannot hold the exit open
  // past --exit-timeout-secs (the core already refuses whatever it would send).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(args.exit_timeout_secs);
  const bool idle = (*core)->WaitIdle(std::chrono::seconds(args.exit_timeout_secs));
  auto left = [&](std::chrono::milliseconds most) {
    const auto rest = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return std::clamp(rest, std::chrono::milliseconds(100), most);
  };
  if (grpc) grpc->Stop(left(std::chrono::milliseconds(1000)));
  if (http) http->Stop(left(std::chrono::milliseconds(30000)));
  if (metrics) metrics->Stop(left(std::chrono::milliseconds(1000)));
  Log(idle ? LogLevel::kInfo : LogLevel::kWarning, "server_stopped",
      {{"in_flight_finished", idle ? "true" : "false"}});
  return idle ? 0 : 1;
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve a Triton-layout model repository over KServe v2 HTTP and gRPC");
  cmd->add_option("--model-repository", args->repository, "Repository directory")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--address", args->address, "Address the listeners bind")->capture_default_str();
  cmd->add_option("--http-port", args->http_port, "HTTP/REST port (0: any free, -1: off)")
      ->capture_default_str();
  cmd->add_option("--grpc-port", args->grpc_port, "gRPC port (0: any free, -1: off)")
      ->capture_default_str();
  cmd->add_option("--metrics-port", args->metrics_port,
                  "Prometheus metrics port (0: any free, -1: off)")
      ->capture_default_str();
  cmd->add_option("--http-threads", args->http_threads, "HTTP I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--model-control-mode", args->control_mode,
                  "none: load all at start; poll: also follow changes on disk; explicit: load "
                  "only --load-model at start, then through the repository API")
      ->capture_default_str();
  cmd->add_option("--repository-poll-secs", args->poll_secs, "Seconds between polls (poll mode)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--load-model", args->load_models, "Model to load at start (explicit mode)");
  cmd->add_option("--max-queue-size", args->max_queue_size,
                  "Queue bound of models whose config sets none")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 20));
  cmd->add_option("--threads-per-instance", args->threads_per_instance,
                  "Kernel threads per model instance (0: cores / instances)")
      ->capture_default_str();
  cmd->add_option("--providers", args->providers, "Execution providers, in order of preference")
      ->capture_default_str();
  cmd->add_option("--infer-token-file", args->infer_token_file,
                  "File holding the bearer token for inference (or $SUPERNOVA_INFER_TOKEN)");
  cmd->add_option("--admin-token-file", args->admin_token_file,
                  "File holding the bearer token for load/unload (or $SUPERNOVA_ADMIN_TOKEN)");
  cmd->add_option("--tls-cert", args->tls_cert, "PEM certificate: HTTPS and gRPC over TLS");
  cmd->add_option("--tls-key", args->tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--tls-client-ca", args->tls_client_ca,
                  "PEM CA certificates: clients must present a certificate one of them signed");
  cmd->add_option("--max-body-bytes", args->max_body_bytes,
                  "Largest HTTP body or gRPC message accepted")
      ->capture_default_str();
  cmd->add_option("--max-run-bytes", args->max_run_bytes,
                  "Most bytes of tensors one inference of an ONNX model may hold at once; a "
                  "request that would pass it fails (503) and the model goes on (0: no limit; "
                  "a config's max_run_bytes parameter overrides it)")
      ->capture_default_str();
  cmd->add_option("--http-idle-timeout-secs", args->http_idle_timeout_secs,
                  "Close an HTTP connection that has not delivered a whole request this long "
                  "after connecting or after its last response (idle or slow clients)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-connections", args->max_connections,
                  "Open HTTP connections at most; more are closed at once")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  cmd->add_option("--log-level", args->log_level, "debug, info, warning or error")
      ->capture_default_str();
  cmd->add_option("--exit-timeout-secs", args->exit_timeout_secs,
                  "On SIGTERM, how long in-flight requests may take to finish")
      ->capture_default_str();
  cmd->add_flag("--no-console", args->no_console, "No web console at /console");
  cmd->add_option("--stream-model", args->stream_model,
                  "Detector model for live streams run inside the server (the console shows them)");
  cmd->add_option("--stream", args->streams,
                  "A live stream NAME=SOURCE (file, rtsp://, http://, /dev/videoN; repeatable)");
  cmd->add_option("--stream-decoder", args->stream_detector.decoder,
                  "The stream model's decoder: auto, yolov5, yolov8, ssd or centernet")
      ->capture_default_str();
  cmd->add_option("--stream-labels", args->stream_labels, "Class names, one per line");
  cmd->add_option("--stream-score-threshold", args->stream_detector.score, "Lowest detection score")
      ->capture_default_str();
  cmd->add_option("--stream-scale", args->stream_detector.scale,
                  "Stream model input = pixel * scale (default: the decoder's)");
  cmd->add_flag("--stream-bgr", args->stream_detector.bgr, "The stream model takes BGR");
  cmd->add_option("--stream-skip", args->stream_skip, "Frame skipping: adaptive, fixed or none")
      ->capture_default_str();
  cmd->add_option("--stream-max-lag-ms", args->stream_max_lag_ms,
                  "Bound on the streams' results' lag behind live")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--stream-threads", args->stream_threads,
                  "Kernel threads of the stream model (0: all cores)")
      ->capture_default_str();
  cmd->add_flag("--stream-loop", args->stream_loop,
                "Play stream files again from the start at their end");
  cmd->add_option("--escalate", args->escalate,
                  "With --cloud: the stream frames sent to it, as `supernova stream --escalate`")
      ->capture_default_str();
  AddCloudFlags(cmd, &args->stream_cloud);
  cmd->callback([args, exit_code] { *exit_code = Serve(*args); });
}

}  // namespace supernova::tools

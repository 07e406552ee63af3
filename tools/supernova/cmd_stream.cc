// `supernova stream`: object detection and tracking on live video.
//
//   supernova stream --model det.onnx --source rtsp://cam/1 --sink mqtt://127.0.0.1/site/cam1
//
// Every --source is a stream (file, RTSP, HTTP, V4L2, image folder); the streams share the one
// model through cross-stream batching. Every frame's result goes to every --sink (MQTT as
// EdgeX events, JSON lines, annotated video). Per-stream metrics (fps, inferred, skipped, lag
// p50/p99, per-stage times) go to stderr as JSON lines every --metrics-interval seconds and
// at the end. SIGINT or SIGTERM stops the sources; the frames in hand are finished and the
// sinks closed, so files are complete.
#include <fmt/format.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>

#include "stream/detector.h"
#include "stream/pipeline.h"
#include "stream/sinks.h"
#include "stream/video_source.h"
#include "stream_cloud_flags.h"
#include "stream_learn_flags.h"
#include "supernova/commands.h"
#include "supernova/detector_args.h"

namespace supernova::tools {
namespace {

// A sink that starts or stops dropping frames it cannot write (a full disk): one JSON line on
// stderr at each change, with the reason, not one per frame.
struct SinkWatch {
  int64_t dropped = 0, frames = 0;
  bool failing = false;
};

void ReportWriteErrors(const std::string& url, const stream::SinkStats& stats, SinkWatch* w) {
  if (stats.dropped_write_error > w->dropped && !w->failing) {
    w->failing = true;
    std::cerr << nlohmann::json{{"event", "sink_write_failed"},
                                {"sink", url},
                                {"error", stats.last_error},
                                {"dropped", stats.dropped_write_error}}
                     .dump()
              << std::endl;
  } else if (w->failing && stats.dropped_write_error == w->dropped && stats.frames > w->frames) {
    w->failing = false;
    std::cerr << nlohmann::json{{"event", "sink_recovered"},
                                {"sink", url},
                                {"dropped", stats.dropped_write_error}}
                     .dump()
              << std::endl;
  }
  w->dropped = stats.dropped_write_error;
  w->frames = stats.frames;
}

using namespace supernova::stream;  // NOLINT: the command is the stream's front end

struct StreamArgs {
  std::string model;
  std::vector<std::string> sources, names, sinks;
  DetectorArgs detector;
  KServeCloudOptions cloud;         // --cloud*: joint inference with a remote detector
  CloudFeatureArgs cloud_features;  // --cloud-features: the edge's cut tensors go, not the frame
  LearnFlags learn;                 // --learn-*: tracks named by on-device learning's classes
  std::string labels, skip = "adaptive", device_name = "supernova";
  std::string escalate = "key=10";
  int cloud_carry = TrackerOptions{}.cloud_carry;
  int cloud_carry_seen = TrackerOptions{}.cloud_carry_seen;
  int cloud_max_misses = FusionOptions{}.max_misses;
  std::vector<std::string> providers = {"cpu"};
  int skip_interval = 2, max_still_interval = 8, max_batch = 8, threads = 0;
  int width = 0, height = 0, mqtt_qos = 0;
  double max_lag_ms = 200, duration = 0, metrics_interval = 5;
  double read_timeout_s = 5, reconnect_max_s = 8;
  bool no_realtime = false, loop = false, verbose = false;
};

Status Configure(const StreamArgs& a, DetectorOptions* d, PipelineOptions* p) {
  SN_RETURN_IF_ERROR(ApplyDetectorArgs(a.detector, d));
  d->session.providers = a.providers;
  d->session.num_threads = a.threads;

  SN_ASSIGN_OR_RETURN(p->skip.mode, ParseSkipMode(a.skip, "--skip"));
  p->skip.fixed_interval = a.skip_interval;
  p->skip.max_still_interval = a.max_still_interval;
  p->skip.max_lag_s = a.max_lag_ms / 1e3;
  p->max_batch = a.max_batch;
  // Parsed whether or not a cloud is set, so that a mistyped policy fails before any work.
  SN_ASSIGN_OR_RETURN(p->escalation, ParseEscalation(a.escalate));
  p->tracker.cloud_carry = a.cloud_carry;
  p->tracker.cloud_carry_seen = a.cloud_carry_seen;
  p->fusion.max_misses = a.cloud_max_misses;
  return Status::Ok();
}

int RunStream(const StreamArgs& a) {
  if (!a.names.empty() && a.names.size() != a.sources.size())
    return Fail("--name must be given once per --source, or not at all");
  for (const std::string& url : a.sinks) {
    if (IsVideoSinkUrl(url) && a.sources.size() > 1)
      return Fail("the video sink " + url + " draws one stream: give it a single --source");
  }
  DetectorOptions dopts;
  PipelineOptions popts;
  if (Status s = Configure(a, &dopts, &popts); !s.ok()) return Fail(s.message());

  sigset_t signals;  // taken by sigtimedwait below; blocked before any thread starts
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Opened before the cloud, which decodes its answers with it under --cloud-features.
  KServeCloudOptions cloud_options = a.cloud;
  auto detector = OpenEdgeDetector(a.model, dopts, a.cloud_features, &cloud_options);
  if (!detector.ok()) return Fail(detector.status().message());
  // Made before the pipeline, so that it outlives it (PipelineOptions::cloud).
  auto cloud = OpenCloud(cloud_options);
  if (!cloud.ok()) return Fail(cloud.status().message());
  popts.cloud = cloud->get();  // null without --cloud: the edge alone

  SinkOptions sopts;
  if (!a.labels.empty()) {
    auto labels = ReadLabels(a.labels);
    if (!labels.ok()) return Fail(labels.status().message());
    sopts.labels = std::move(*labels);
  }
  // Made before the pipeline, so that it outlives it (PipelineOptions::labeller).
  auto labeller = OpenLearn(a.learn, sopts.labels, dopts.session);
  if (!labeller.ok()) return Fail(labeller.status().message());
  popts.labeller = labeller->get();  // null without --learn-model
  sopts.device_name = a.device_name;
  sopts.mqtt_qos = a.mqtt_qos;

  SourceOptions src;
  src.width = a.width;
  src.height = a.height;
  src.realtime = !a.no_realtime;
  src.loop = a.loop;
  src.read_timeout_s = a.read_timeout_s;
  src.reconnect_max_s = a.reconnect_max_s;
  src.reconnect_initial_s = std::min(src.reconnect_initial_s, a.reconnect_max_s);
  SetFfmpegLogging(a.verbose);
  std::vector<std::unique_ptr<VideoSource>> sources;
  for (const std::string& url : a.sources) {
    auto s = VideoSource::Open(url, src);
    if (!s.ok()) return Fail(s.status().message());
    if (sources.empty()) sopts.frame_rate = (*s)->frame_rate() > 0 ? (*s)->frame_rate() : 25;
    sources.push_back(std::move(*s));
  }

  struct OpenedSink {
    std::unique_ptr<Sink> sink;
    std::mutex mu;  // the streams' workers write concurrently; a sink takes one at a time
    Status error;
    SinkWatch watch;
  };
  std::vector<std::unique_ptr<OpenedSink>> sinks;
  for (const std::string& url : a.sinks) {
    auto s = OpenSink(url, sopts);
    if (!s.ok()) return Fail(s.status().message());
    sinks.push_back(std::make_unique<OpenedSink>());
    sinks.back()->sink = std::move(*s);
  }

  Pipeline pipeline(detector->get(), popts, [&](const FrameResult& r) {
    for (auto& s : sinks) {
      std::lock_guard lock(s->mu);
      if (!s->error.ok()) continue;  // a failed sink is reported at the end, not retried
      s->error = s->sink->Write(r);
    }
  });
  for (size_t i = 0; i < sources.size(); ++i)
    pipeline.AddStream(a.names.empty() ? a.sources[i] : a.names[i],
                       std::make_unique<VideoFrameSource>(std::move(sources[i]), src.realtime));
  std::cerr << nlohmann::json{{"event", "stream_started"},
                              {"model", a.model},
                              {"detector", (*detector)->Describe()},
                              {"cloud", *cloud ? (*cloud)->Describe() : ""},
                              {"learn", *labeller ? (*labeller)->Describe() : ""},
                              {"streams", a.sources.size()}}
                   .dump()
            << std::endl;
  pipeline.Start();

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last_report = start;
  while (true) {
    timespec tick{0, 200'000'000};
    if (sigtimedwait(&signals, nullptr, &tick) > 0) break;
    const auto now = Clock::now();
    for (size_t i = 0; i < sinks.size(); ++i)
      ReportWriteErrors(a.sinks[i], sinks[i]->sink->stats(), &sinks[i]->watch);
    if (a.duration > 0 && now - start >= std::chrono::duration<double>(a.duration)) break;
    const auto metrics = pipeline.Metrics();
    bool all_ended = true;
    for (const auto& m : metrics) all_ended = all_ended && m.ended;
    if (all_ended) break;
    if (a.metrics_interval > 0 &&
        now - last_report >= std::chrono::duration<double>(a.metrics_interval)) {
      last_report = now;
      for (const auto& m : metrics) std::cerr << m.ToJson() << std::endl;
    }
  }
  pipeline.Stop();
  pipeline.Wait();
  int code = 0;
  for (const auto& m : pipeline.Metrics()) {
    std::cerr << m.ToJson() << std::endl;
    if (!m.error.empty()) code = 1;
  }
  for (size_t i = 0; i < sinks.size(); ++i) {
    Status s = sinks[i]->error;
    Status closed = sinks[i]->sink->Close();
    if (s.ok()) s = closed;
    if (!s.ok()) code = Fail(fmt::format("sink {}: {}", a.sinks[i], s.message()));
    // Frames a file sink could not write make the run's output incomplete: say so in the exit
    // code (an MQTT outage does not; the broker's side is expected to come and go).
    const SinkStats stats = sinks[i]->sink->stats();
    ReportWriteErrors(a.sinks[i], stats, &sinks[i]->watch);
    if (stats.dropped_write_error > 0)
      code = Fail(fmt::format("sink {}: {} frames not written ({})", a.sinks[i],
                              stats.dropped_write_error, stats.last_error));
  }
  return code;
}

}  // namespace

void AddStreamCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<StreamArgs>();
  CLI::App* cmd = app.add_subcommand(
      "stream", "Detect and track objects on live video; results to MQTT, JSON lines or video");
  cmd->add_option("--model", args->model, "Detector model (.onnx)")->required();
  cmd->add_option("--source", args->sources,
                  "Video: file, rtsp://, http://, /dev/videoN, image folder (repeat for streams)")
      ->required();
  cmd->add_option("--name", args->names, "A name per --source (default: the URL)");
  cmd->add_option("--sink", args->sinks,
                  "mqtt://host:port/topic, PATH.jsonl, - (stdout), PATH.mp4 (repeatable)");
  cmd->add_option("--decoder", args->detector.decoder, "auto, yolov5, yolov8, ssd or centernet")
      ->capture_default_str();
  cmd->add_option("--labels", args->labels, "Class names, one per line");
  cmd->add_option("--anchors", args->detector.anchors, "SSD anchors: blazeface");
  cmd->add_option("--score-threshold", args->detector.score, "Lowest detection score")
      ->capture_default_str();
  cmd->add_option("--iou-threshold", args->detector.iou, "NMS overlap")->capture_default_str();
  cmd->add_option("--max-detections", args->detector.max_detections, "Per frame")
      ->capture_default_str();
  cmd->add_option("--scale", args->detector.scale,
                  "Input = pixel * scale (default: the decoder's)");
  cmd->add_option("--mean", args->detector.mean, "Per-channel mean subtracted after scaling: a,b,c")
      ->delimiter(',')
      ->expected(3);
  cmd->add_option("--std", args->detector.std, "Per-channel divisor after the mean: a,b,c")
      ->delimiter(',')
      ->expected(3);
  cmd->add_flag("--bgr", args->detector.bgr, "The model takes BGR (default RGB)");
  cmd->add_flag("--stretch", args->detector.stretch,
                "Stretch frames to the input (default letterbox)");
  cmd->add_option("--skip", args->skip, "Frame skipping: adaptive, fixed or none")
      ->capture_default_str();
  cmd->add_option("--skip-interval", args->skip_interval, "--skip fixed: infer 1 frame in N")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-still-interval", args->max_still_interval,
                  "--skip adaptive: at most 1 frame in N inferred in a still scene (1: never "
                  "skip for stillness)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-lag-ms", args->max_lag_ms, "Bound on results' lag behind live")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-batch", args->max_batch, "Frames of different streams per model run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->threads, "Kernel threads (0: all cores)")
      ->capture_default_str();
  cmd->add_option("--providers", args->providers, "Execution providers, in order")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--width", args->width, "Decode to this width (0: the source's)");
  cmd->add_option("--height", args->height, "Decode to this height (0: the source's)");
  cmd->add_flag("--no-realtime", args->no_realtime,
                "Read files as fast as they decode, not at their frame rate");
  cmd->add_flag("--loop", args->loop, "Play files again from the start at their end");
  cmd->add_option("--duration", args->duration, "Stop after this many seconds (0: at the end)")
      ->capture_default_str();
  cmd->add_option("--metrics-interval", args->metrics_interval,
                  "Seconds between metrics lines on stderr (0: only at the end)")
      ->capture_default_str();
  cmd->add_option("--read-timeout-s", args->read_timeout_s,
                  "A network source silent this long is lost and reconnected")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--reconnect-max-s", args->reconnect_max_s,
                  "Longest wait between reconnection attempts (backoff doubles up to it)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--escalate", args->escalate,
                  "With a cloud: frames sent to it, comma-separated key=N, scene=T (0-255), "
                  "score=T, entropy=T, ibt=IMAGE:BOX, min-gap=N, every; or none")
      ->capture_default_str();
  cmd->add_option("--cloud-carry", args->cloud_carry,
                  "With a cloud: frames a cloud track the edge does not detect is still reported")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--cloud-carry-seen", args->cloud_carry_seen,
                  "The same for a cloud track the edge has detected before")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--cloud-max-misses", args->cloud_max_misses,
                  "With a cloud: answers in a row that do not see an edge track before it is "
                  "dropped")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--verbose", args->verbose, "FFmpeg's informational messages on stderr too");
  cmd->add_option("--device-name", args->device_name, "EdgeX deviceName of the MQTT events")
      ->capture_default_str();
  cmd->add_option("--mqtt-qos", args->mqtt_qos, "0, 1 or 2")
      ->capture_default_str()
      ->check(CLI::Range(0, 2));
  AddCloudFlags(cmd, &args->cloud);
  AddCloudFeatureFlags(cmd, &args->cloud_features);
  AddLearnFlags(cmd, &args->learn);
  cmd->callback([args, exit_code] { *exit_code = RunStream(*args); });
}

}  // namespace supernova::tools

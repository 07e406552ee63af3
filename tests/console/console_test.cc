// The web console's server side (console/console.h, console/stream_hub.h), end to end: a real
// HttpServer on 127.0.0.1 with the console's extension, a real core on the bundled `simple`
// model, real inferences counted into the models' history, and streams decoded from a clip
// ffmpeg makes, run by the squares detector (tests/stream/squares.h), whose frames come back
// as JPEG with the boxes drawn where the square is. The page itself is tested in a browser
// (tests/console/console_e2e.js).
#include "console/console.h"

#include <gtest/gtest.h>
#include <stb/stb_image.h>

#include <algorithm>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>

#include "console/stream_hub.h"
#include "console/web_assets.h"
#include "free_port.h"
#include "server/http_fixture.h"
#include "stream/draw.h"
#include "stream/kserve_cloud.h"
#include "stream/squares.h"
#include "stream/video_plugin.h"
#include "temp_dir.h"

namespace supernova::console {
namespace {

using server::http_test::json;
using server::http_test::MakeSimple;
using server::http_test::Server;
using server::http_test::SimpleJson;
using server::http_test::WaitFor;

// ---- percentiles from histogram buckets ----

TEST(HistogramQuantile, InterpolatesWithinTheBucketAndStopsAtTheLastBound) {
  const std::array<double, 3> bounds = {1, 2, 4};
  std::array<uint64_t, 13> counts{};
  EXPECT_FALSE(HistogramQuantile(bounds, counts, 0.5).has_value());
  counts[1] = 10;  // ten observations in (1, 2]
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, counts, 0.5), 1.5);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, counts, 1.0), 2.0);
  counts[0] = 10;  // and ten in [0, 1]: the median is the first bucket's top
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, counts, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, counts, 0.25), 0.5);
  counts = {};
  counts[3] = 5;  // all above the last bound: no upper edge to interpolate to
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, counts, 0.99), 4.0);
}

// ---- the models' history ----

// `n` inferences of `simple` through the core, each waited for.
void Infer(server::InferenceServer& core, int n) {
  for (int i = 0; i < n; ++i) {
    server::InferRequest req;
    req.model = "simple";
    for (const char* name : {"INPUT0", "INPUT1"}) {
      Tensor t(DataType::kInt32, {1, 16});
      std::fill_n(t.data<int32_t>(), 16, i);
      req.inputs.push_back({name, std::move(t)});
    }
    std::promise<Status> done;
    core.Infer(std::move(req), [&](Status s, server::InferResponse) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get().ok());
  }
}

TEST(ModelHistory, RatesPercentilesAndBatchesComeFromTheServersCounters) {
  Server s;
  s.repo.AddBundled("simple");
  s.StartCore();
  ASSERT_TRUE(s.core);
  ModelHistory history(s.core.get(), {.interval_s = 3600, .keep_s = 7200});  // sampled by hand
  EXPECT_FALSE(history.Stats("simple", 60).has_value()) << "one sample is no span";
  Infer(*s.core, 20);
  history.SampleNow();
  std::optional<ModelWindow> w = history.Stats("simple", 60);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->success, 20u);
  EXPECT_EQ(w->failure, 0u);
  EXPECT_GT(w->requests_per_s, 0);
  EXPECT_NEAR(w->requests_per_s * w->seconds, 20, 1e-6);
  ASSERT_TRUE(w->latency_p50_ms && w->latency_p99_ms);
  EXPECT_GT(*w->latency_p50_ms, 0);
  EXPECT_LE(*w->latency_p50_ms, *w->latency_p99_ms);
  ASSERT_TRUE(w->mean_batch.has_value());
  EXPECT_DOUBLE_EQ(*w->mean_batch, 1.0);  // one request at a time
  EXPECT_EQ(w->queue_depth, 0);
  // A quiet interval: no requests, no percentiles, no batch.
  history.SampleNow();
  const std::vector<ModelWindow> series = history.Series("simple");
  ASSERT_EQ(series.size(), 2u);
  EXPECT_NEAR(series[0].requests_per_s * series[0].seconds, 20, 1e-6);
  EXPECT_EQ(series[1].requests_per_s, 0);
  EXPECT_FALSE(series[1].latency_p50_ms.has_value());
  EXPECT_FALSE(series[1].mean_batch.has_value());
  EXPECT_FALSE(history.Stats("nonexistent", 60).has_value());
}

// ---- the console over HTTP ----

struct ConsoleServer {
  Server s;
  std::unique_ptr<Console> console;

  void Start(server::ServerOptions so = {}, StreamView* streams = nullptr) {
    s.repo.AddBundled("simple");
    s.StartCore(so);
    if (!s.core) return;
    ConsoleOptions co;
    co.streams = streams;
    co.history.interval_s = 0.05;
    console = std::make_unique<Console>(s.core.get(), co);
    server::HttpOptions ho;
    ho.address = "127.0.0.1";
    ho.port = 0;
    ho.extensions.push_back(console->Extension());
    auto h = server::HttpServer::Start(s.core.get(), ho);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    s.http = std::move(h).value();
  }
  ~ConsoleServer() {
    if (s.http) s.http->Stop();
  }
  httplib::Client Client(const std::string& token = "") const {
    httplib::Client cli("127.0.0.1", s.port());
    if (!token.empty()) cli.set_default_headers({{"Authorization", "Bearer " + token}});
    cli.set_read_timeout(60, 0);
    return cli;
  }
};

std::string Asset(const std::string& name) {
  for (const WebAsset& a : WebAssets())
    if (name == a.name) return a.text;
  return "";
}

TEST(Console, ServesItsPageFromTheBinaryWithAStrictPolicy) {
  ConsoleServer c;
  c.Start();
  ASSERT_TRUE(c.s.http);
  httplib::Client cli = c.Client();
  auto bare = cli.Get("/console");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 308);
  EXPECT_EQ(bare->get_header_value("Location"), "/console/");
  for (const auto& [path, file, type] :
       {std::tuple{"/console/", "index.html", "text/html; charset=utf-8"},
        std::tuple{"/console/app.js", "app.js", "text/javascript; charset=utf-8"},
        std::tuple{"/console/app.css", "app.css", "text/css; charset=utf-8"}}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), type) << path;
    ASSERT_FALSE(Asset(file).empty()) << file << " is not embedded";
    EXPECT_EQ(res->body, Asset(file)) << path;
    const std::string policy = res->get_header_value("Content-Security-Policy");
    EXPECT_NE(policy.find("default-src 'self'"), std::string::npos) << policy;
    EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;
    EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  }
  auto missing = cli.Get("/console/nothing.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto post = cli.Post("/console/app.js", "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  // The protocol's own endpoints are untouched by the extension.
  auto live = cli.Get("/v2/health/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
}

TEST(Console, ModelsCarryTheirTensorsConfigPlacementAndTheLastMinutesFigures) {
  ConsoleServer c;
  c.Start();
  ASSERT_TRUE(c.s.http);
  httplib::Client cli = c.Client();
  for (int i = 0; i < 12; ++i) {
    auto res =
        cli.Post("/v2/models/simple/infer", SimpleJson(MakeSimple(1, i)), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
  }
  json simple;
  ASSERT_TRUE(WaitFor([&] {
    auto res = cli.Get("/console/api/models");
    if (!res || res->status != 200) return false;
    const json models = json::parse(res->body)["models"];
    for (const json& m : models)
      if (m["name"] == "simple") simple = m;
    return simple.contains("stats") && simple["stats"]["success"] == 12;
  })) << simple.dump();
  EXPECT_EQ(simple["state"], "READY");
  EXPECT_EQ(simple["version"], "1");
  EXPECT_EQ(simple["platform"], "onnxruntime_onnx");
  ASSERT_EQ(simple["inputs"].size(), 2u);
  EXPECT_EQ(simple["inputs"][0]["name"], "INPUT0");
  EXPECT_EQ(simple["inputs"][0]["datatype"], "INT32");
  EXPECT_EQ(simple["inputs"][0]["shape"], json::array({-1, 16}));
  EXPECT_GE(simple["instances"].get<int>(), 1);
  EXPECT_GT(simple["stats"]["requests_per_s"].get<double>(), 0);
  EXPECT_GT(simple["stats"]["latency_p99_ms"].get<double>(), 0);

  auto history = cli.Get("/console/api/models/simple/history");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->status, 200) << history->body;
  const json points = json::parse(history->body)["points"];
  ASSERT_FALSE(points.empty());
  double counted = 0;
  for (const json& p : points)
    counted += p["requests_per_s"].get<double>() * 0.05;  // about, per interval
  EXPECT_GT(counted, 0);
  EXPECT_TRUE(points.back().contains("latency_p50_ms"));

  auto placement = cli.Get("/console/api/models/simple/placement");
  ASSERT_TRUE(placement);
  ASSERT_EQ(placement->status, 200) << placement->body;
  const json p = json::parse(placement->body);
  ASSERT_FALSE(p["nodes"].empty());
  for (const json& n : p["nodes"]) EXPECT_EQ(n["provider"], "cpu") << n.dump();
  EXPECT_EQ(p["providers"], json::array({"cpu"}));

  auto unknown = cli.Get("/console/api/models/nothing/placement");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto endpoint = cli.Get("/console/api/nothing");
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->status, 404);
  auto summary = cli.Get("/console/api/summary");
  ASSERT_TRUE(summary);
  ASSERT_EQ(summary->status, 200);
  const json sj = json::parse(summary->body);
  EXPECT_EQ(sj["name"], "supernova");
  EXPECT_EQ(sj["streams"]["enabled"], false);
  EXPECT_EQ(sj["auth"]["admin_token"], false);
  auto streams = cli.Get("/console/api/streams");
  ASSERT_TRUE(streams);
  EXPECT_EQ(streams->status, 503) << "no stream model: the page is told so";
}

TEST(Console, ReadingNeedsTheInferenceTokenChangingTheAdminOneAndThePageNeither) {
  ConsoleServer c;
  server::ServerOptions so;
  so.infer_token = "reader";
  so.admin_token = "keeper";
  c.Start(so);
  ASSERT_TRUE(c.s.http);
  auto page = c.Client().Get("/console/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  auto anonymous = c.Client().Get("/console/api/models");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer");
  auto wrong = c.Client("guess").Get("/console/api/summary");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  for (const char* token : {"reader", "keeper"}) {
    auto ok = c.Client(token).Get("/console/api/summary");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << token;
    EXPECT_EQ(json::parse(ok->body)["auth"]["infer_token"], true);
    // What the token grants, so that the page offers actions only to the admin's.
    EXPECT_EQ(json::parse(ok->body)["access"], std::string(token) == "keeper" ? "admin" : "read");
  }
  // Changing anything is the admin's: the reader's token is refused before the body is read.
  auto add = c.Client("reader").Post("/console/api/streams", R"({"name":"a","source":"b"})",
                                     "application/json");
  ASSERT_TRUE(add);
  EXPECT_EQ(add->status, 403);
}

// A backend that says something of its own state (ModelBackend::StatusJson), as a split (its
// cut and link) or a classifier (its class count) does; and runs no session: no placement.
class StatusBackend final : public server::ModelBackend {
 public:
  StatusBackend() { io_.push_back({"X", DataType::kFloat32, ValueKind::kTensor, true, {1}, {""}}); }
  const std::vector<TensorInfo>& inputs() const override { return io_; }
  const std::vector<TensorInfo>& outputs() const override { return io_; }
  Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
             std::vector<Tensor>* outputs) const override {
    *outputs = {feeds.front().second};
    return Status::Ok();
  }
  std::string StatusJson() const override { return R"({"kind":"split","remote_up":false})"; }

 private:
  std::vector<TensorInfo> io_;
};

TEST(Console, ABackendsOwnStateIsShownAndASessionlessOneHasNoPlacement) {
  ConsoleServer c;
  server::ServerOptions so;
  so.backends["test_status"] =
      [](const server::BackendContext&) -> Result<std::shared_ptr<const server::ModelBackend>> {
    return std::shared_ptr<const server::ModelBackend>(std::make_shared<StatusBackend>());
  };
  c.s.repo.WriteFile("state/config.pbtxt", "platform: \"test_status\"\nmax_batch_size: 0\n");
  c.s.repo.WriteFile("state/1/unused", "");
  c.Start(so);
  ASSERT_TRUE(c.s.http);
  httplib::Client cli = c.Client();
  auto res = cli.Get("/console/api/models");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const json models = json::parse(res->body)["models"];
  json state, simple;
  for (const json& m : models) (m["name"] == "state" ? state : simple) = m;
  EXPECT_EQ(state["state"], "READY") << state.dump();
  EXPECT_EQ(state["backend"], json::parse(R"({"kind":"split","remote_up":false})"));
  EXPECT_FALSE(simple.contains("backend")) << "a session says nothing of itself";
  auto placement = cli.Get("/console/api/models/state/placement");
  ASSERT_TRUE(placement);
  EXPECT_EQ(placement->status, 404) << placement->body;
}

// ---- streams ----

// A 2 s clip of a white 40x40 square moving right on black, made by ffmpeg.
std::string SquareClip(const supernova::testing::TempDir& dir) {
  const std::string path = dir / "square.mp4";
  const std::string cmd =
      "ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i color=black:s=320x240:r=25 "
      "-f lavfi -i color=white:s=40x40:r=25 -filter_complex "
      "\"[0][1]overlay=x='10+100*t':y=60:shortest=1\" -frames:v 50 -c:v libx264 -pix_fmt "
      "yuv420p " +
      path;
  return std::system(cmd.c_str()) == 0 ? path : "";
}

// Pixels of a decoded JPEG within `tolerance` of `color` in every channel.
int CountColor(const std::string& jpeg, stream::Color color, int tolerance, int* width,
               int* height) {
  int channels = 0;
  unsigned char* rgb =
      stbi_load_from_memory(reinterpret_cast<const unsigned char*>(jpeg.data()),
                            static_cast<int>(jpeg.size()), width, height, &channels, 3);
  if (rgb == nullptr) return -1;
  int n = 0;
  for (int i = 0; i < *width * *height; ++i) {
    const unsigned char* p = rgb + 3 * i;
    if (std::abs(p[0] - color.r) <= tolerance && std::abs(p[1] - color.g) <= tolerance &&
        std::abs(p[2] - color.b) <= tolerance)
      ++n;
  }
  stbi_image_free(rgb);
  return n;
}

std::unique_ptr<StreamHub> OpenHub(const supernova::testing::TempDir& dir,
                                   std::unique_ptr<stream::CloudDetector> cloud = nullptr) {
  const std::string model = dir / "squares.onnx";
  const Status written = supernova::testing::WriteSquaresModel(model, 320, 240, 40, 0);
  EXPECT_TRUE(written.ok()) << written.ToString();
  stream::DetectorOptions d;
  d.score_threshold = 0.5f;
  d.scale = 1.0f / 255;
  d.session.num_threads = 1;
  StreamHubOptions h;
  stream::SourceOptions source;
  source.loop = true;  // the clip plays until the stream is removed
  h.open_source = [source](const std::string& url) {
    return stream::OpenVideoFrameSource(url, source);
  };
  h.interval_s = 0.2;
  auto hub = StreamHub::Open(model, d, {}, h, std::move(cloud));
  EXPECT_TRUE(hub.ok()) << hub.status().ToString();
  return hub.ok() ? std::move(*hub) : nullptr;
}

TEST(ConsoleStreams, AStreamAddedOverHttpShowsItsFramesWithTheBoxDrawnAndItsHistory) {
  supernova::testing::TempDir dir;
  const std::string clip = SquareClip(dir);
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the clip";
  std::unique_ptr<StreamHub> hub = OpenHub(dir);
  ASSERT_TRUE(hub);
  ConsoleServer c;
  server::ServerOptions so;
  so.admin_token = "keeper";
  c.Start(so, hub.get());
  ASSERT_TRUE(c.s.http);
  httplib::Client admin = c.Client("keeper");

  const json body = {{"name", "door"}, {"source", clip}};
  auto added = admin.Post("/console/api/streams", body.dump(), "application/json");
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 201) << added->body;
  auto again = admin.Post("/console/api/streams", body.dump(), "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409) << again->body;
  auto missing = admin.Post("/console/api/streams",
                            json{{"name", "gone"}, {"source", dir / "nothing.mp4"}}.dump(),
                            "application/json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << missing->body;
  for (const char* bad : {R"({"name":"../x","source":"a"})", R"({"name":"a"})", "not json"}) {
    auto res = admin.Post("/console/api/streams", bad, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << bad << ": " << res->body;
  }

  // The frame, once tracked: the box outline in the track's colour around the square.
  json listed;
  ASSERT_TRUE(WaitFor([&] {
    auto res = admin.Get("/console/api/streams");
    if (!res || res->status != 200) return false;
    listed = json::parse(res->body)["streams"];
    return listed.size() == 1 && listed[0]["tracks"].get<int>() >= 1;
  })) << listed.dump();
  EXPECT_EQ(listed[0]["name"], "door");
  EXPECT_EQ(listed[0]["state"], "running");
  EXPECT_EQ(listed[0]["width"], 320);
  int boxed = 0, width = 0, height = 0;
  ASSERT_TRUE(WaitFor([&] {
    auto res = admin.Get("/console/api/streams/door/frame.jpg");
    if (!res || res->status != 200) return false;
    EXPECT_EQ(res->get_header_value("Content-Type"), "image/jpeg");
    boxed = 0;
    for (int64_t id = 1; id <= 4; ++id)
      boxed += std::max(0, CountColor(res->body, stream::TrackColor(id), 40, &width, &height));
    return boxed >= 100;  // a 2-pixel outline around 40x40 is over 300
  })) << boxed
      << " pixels in a track colour";
  EXPECT_EQ(width, 320);
  EXPECT_EQ(height, 240);

  json history;
  ASSERT_TRUE(WaitFor([&] {
    auto res = admin.Get("/console/api/streams/door/history");
    if (!res || res->status != 200) return false;
    history = json::parse(res->body);
    return history["points"].size() >= 3;
  })) << history.dump();
  double inferred = 0, input = 0;
  for (const json& p : history["points"]) {
    inferred += p["inferred_fps"].get<double>();
    input += p["input_fps"].get<double>();
  }
  EXPECT_GT(inferred, 0);
  EXPECT_GT(input, 0);
  const std::string decisions = history["decisions"];
  EXPECT_NE(decisions.find('I'), std::string::npos) << decisions;
  EXPECT_EQ(decisions.find_first_not_of("IS"), std::string::npos) << decisions;

  // Removed: gone from the list; the name can be used again once its frames are finished.
  auto removed = admin.Delete("/console/api/streams/door");
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->status, 200) << removed->body;
  auto after = admin.Get("/console/api/streams/door/history");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 404);
  auto twice = admin.Delete("/console/api/streams/door");
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->status, 404);
  EXPECT_TRUE(WaitFor([&] {
    auto res = admin.Post("/console/api/streams", body.dump(), "application/json");
    return res && res->status == 201;
  }));
  // The removed stream, its threads returned, is dropped with its decoder by the sampler: the
  // pipeline keeps the new one alone.
  EXPECT_TRUE(WaitFor([&] {
    const std::vector<stream::StreamMetrics> m = hub->Metrics();
    return m.size() == 1 && m[0].name == "door" && !m[0].ended;
  }));
  auto list_after = admin.Get("/console/api/streams");
  ASSERT_TRUE(list_after);
  EXPECT_EQ(json::parse(list_after->body)["streams"].size(), 1u) << list_after->body;
  c.s.http->Stop();
  hub->Stop();
  for (const stream::StreamMetrics& m : hub->Metrics()) {
    EXPECT_TRUE(m.ended) << m.name;
    EXPECT_EQ(m.error, "") << m.name;
  }
}

// Joint inference from the server's streams: the escalation rate and the cloud's answers are
// in the list the page shows, here with a cloud that is not there (every call fails, the
// stream goes on).
TEST(ConsoleStreams, AStreamsEscalationsToTheCloudAreListed) {
  supernova::testing::TempDir dir;
  const std::string clip = SquareClip(dir);
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not make the clip";
  stream::KServeCloudOptions cloud;
  cloud.target = "127.0.0.1:" + std::to_string(supernova::testing::FreePort());
  cloud.model = "big";
  cloud.timeout_ms = 200;
  auto remote = stream::KServeCloudDetector::Create(cloud);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  std::unique_ptr<StreamHub> hub = OpenHub(dir, std::move(*remote));
  ASSERT_TRUE(hub);
  ASSERT_TRUE(hub->Add("door", clip).ok());
  json listed;
  ASSERT_TRUE(WaitFor([&] {
    listed = json::parse(hub->ListJson())["streams"];
    return listed.size() == 1 && listed[0]["cloud"].is_object() &&
           listed[0]["cloud"]["failed"].get<int>() >= 2;
  })) << listed.dump();
  const json& c = listed[0]["cloud"];
  EXPECT_GT(c["sent_fraction"].get<double>(), 0) << c.dump();
  EXPECT_LT(c["sent_fraction"].get<double>(), 0.5) << "key=10 sends one frame in ten";
  EXPECT_NE(c["error"].get<std::string>(), "") << c.dump();
  EXPECT_EQ(listed[0]["state"], "running") << "the cloud being away never stops the stream";
}

}  // namespace
}  // namespace supernova::console

// The platform "supernova_classifier" (tools/supernova/serve_learn.cc) in a real
// `supernova serve`, on the face embedding ResNet-29: classes added over HTTP from images the
// test draws (discs, stripes, checks) label held-out images right, with the cosines an
// embedder in this process computes; the classes list and delete; the threshold turns a class
// into "unknown"; a class another process writes into the store is seen by the next request;
// the classes need the admin token; and every bad request is a 400 that leaves the store as it
// was.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stb/stb_image_write.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "learn/class_store.h"
#include "learn/embedder.h"
#include "server/http_fixture.h"
#include "server/serve_process.h"
#include "server/test_repository.h"
#include "supernova/tensor_io.h"
#include "temp_dir.h"

namespace supernova::server::classifier_test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using supernova::testing::ServeProcess;
using supernova::testing::TempRepository;

const std::string kModel =
    std::string(SUPERNOVA_SHARED_MODELS_DIR) + "/face_recognition_resnet29_128d.onnx";
const httplib::Headers kAdmin = {{"Authorization", "Bearer admin-secret"}};
const httplib::Headers kInfer = {{"Authorization", "Bearer infer-secret"}};

// ---- images the test draws ------------------------------------------------------------------

enum class Kind { kDisc, kStripes, kChecks };

// A 96x96 PNG of `kind`, its geometry and a little noise varied by `seed`.
std::string DrawPng(Kind kind, uint32_t seed) {
  constexpr int kSide = 96;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> jitter(-8, 8), noise(-12, 12);
  const int cx = 48 + jitter(rng), cy = 48 + jitter(rng), r = 26 + jitter(rng) / 2;
  const int period = 10 + jitter(rng) / 3, phase = jitter(rng) + 8;
  std::vector<uint8_t> px(kSide * kSide * 3);
  for (int y = 0; y < kSide; ++y) {
    for (int x = 0; x < kSide; ++x) {
      int rgb[3];
      switch (kind) {
        case Kind::kDisc: {
          const bool in = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r;
          rgb[0] = in ? 220 : 245, rgb[1] = in ? 30 : 245, rgb[2] = in ? 30 : 240;
          break;
        }
        case Kind::kStripes: {
          const bool on = ((y + phase) / (period / 2)) % 2 == 0;
          rgb[0] = on ? 20 : 240, rgb[1] = on ? 40 : 220, rgb[2] = on ? 200 : 30;
          break;
        }
        case Kind::kChecks: {
          const bool on = ((x + phase) / period + (y + phase) / period) % 2 == 0;
          rgb[0] = 10, rgb[1] = on ? 200 : 20, rgb[2] = on ? 60 : 10;
          break;
        }
      }
      for (int c = 0; c < 3; ++c)
        px[(y * kSide + x) * 3 + c] = static_cast<uint8_t>(std::clamp(rgb[c] + noise(rng), 0, 255));
    }
  }
  std::string png;
  stbi_write_png_to_func(
      [](void* out, void* data, int size) {
        static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
      },
      &png, kSide, kSide, 3, px.data(), kSide * 3);
  return png;
}

std::string Base64(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<uint8_t>(bytes[i + 2]);
    for (size_t k = 0; k < 4; ++k)
      out.push_back(i + k <= bytes.size() ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=');
  }
  return out;
}

std::string LengthPrefixed(const std::string& bytes) {
  const uint32_t n = static_cast<uint32_t>(bytes.size());
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + bytes;
}

// What `command` prints (stdout and stderr); its exit status into `code` when given.
std::string CommandOutput(const std::string& command, int* code = nullptr) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (code) *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// ---- the reference: the embedder in this process --------------------------------------------

class Reference {
 public:
  static std::unique_ptr<Reference> Open() {
    auto embedder = learn::Embedder::Open(kModel, {});
    EXPECT_TRUE(embedder.ok()) << embedder.status().ToString();
    if (!embedder.ok()) return nullptr;
    auto image = tools::ImageOptionsFor((*embedder)->input(), {"raw", "", false});
    EXPECT_TRUE(image.ok()) << image.status().ToString();
    if (!image.ok()) return nullptr;
    auto r = std::make_unique<Reference>();
    r->embedder_ = std::move(embedder).value();
    r->image_ = *image;
    return r;
  }
  const learn::Embedder& embedder() const { return *embedder_; }

  std::vector<float> Embed(const std::string& png) const {
    auto rgb = tools::DecodeImage(png, "png");
    EXPECT_TRUE(rgb.ok()) << rgb.status().ToString();
    if (!rgb.ok()) return {};
    auto input = tools::ImageToTensor(rgb->pixels.data(), rgb->width, rgb->height,
                                      static_cast<size_t>(rgb->width) * 3, image_);
    EXPECT_TRUE(input.ok()) << input.status().ToString();
    if (!input.ok()) return {};
    auto e = embedder_->Embed(*input);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (!e.ok()) return {};
    return std::vector<float>(e->data<float>(), e->data<float>() + embedder_->dim());
  }

  // The cosine of `e` to the mean of `examples` (unit rows, as the store keeps them).
  static float Cosine(const std::vector<float>& e,
                      const std::vector<std::vector<float>>& examples) {
    std::vector<double> mean(e.size());
    for (const auto& x : examples)
      for (size_t i = 0; i < e.size(); ++i) mean[i] += x[i] / examples.size();
    double dot = 0, sq = 0;
    for (size_t i = 0; i < e.size(); ++i) dot += mean[i] * e[i], sq += mean[i] * mean[i];
    return static_cast<float>(dot / std::sqrt(sq));
  }

 private:
  std::unique_ptr<learn::Embedder> embedder_;
  tools::ImageOptions image_;
};

// ---- the served classifier ------------------------------------------------------------------

struct Answer {
  int status = 0;
  std::string label;
  float score = 0;
  std::vector<float> scores;
  std::string body;
};

class ServedClassifier : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModel)) GTEST_SKIP() << "no " << kModel << ": the shared models are not here";
    for (const char* model : {"faces", "strict"}) {
      fs::create_directories(fs::path(repo_.path()) / model / "1");
      supernova::testing::PlaceFile(kModel, fs::path(repo_.path()) / model / "1" / "model.onnx");
    }
    repo_.WriteFile("faces/config.pbtxt", Config("faces", ""));
    repo_.WriteFile("infer.token", "infer-secret\n");
    repo_.WriteFile("admin.token", "admin-secret\n");
    // `strict` waits for the test to load it with the threshold it picks.
    serve_ = std::make_unique<ServeProcess>(std::vector<std::string>{
        "--model-repository", repo_.path(), "--model-control-mode", "explicit", "--load-model",
        "faces", "--threads-per-instance", "2", "--infer-token-file", repo_.path() + "/infer.token",
        "--admin-token-file", repo_.path() + "/admin.token"});
    ASSERT_TRUE(serve_->WaitReady()) << serve_->Log();
  }

  static std::string Config(const std::string& name, const std::string& extra) {
    return "name: \"" + name +
           "\"\nplatform: \"supernova_classifier\"\nmax_batch_size: 0\n"
           "parameters { key: \"preprocess\" value { string_value: \"raw\" } }\n" +
           extra;
  }

  std::string StoreDir() const { return repo_.path() + "/faces/classes"; }

  httplib::Client Http() const {
    httplib::Client cli("127.0.0.1", serve_->http_port());
    cli.set_read_timeout(120, 0);
    return cli;
  }

  Answer Infer(const std::string& model, const std::string& png) {
    httplib::Client http = Http();
    const json header = {{"inputs",
                          {{{"name", "IMAGE"},
                            {"datatype", "BYTES"},
                            {"shape", {1}},
                            {"parameters", {{"binary_data_size", png.size() + 4}}}}}}};
    auto res = http_test::PostBinary(http, "/v2/models/" + model + "/infer",
                                     http_test::MakeBinary(header, {LengthPrefixed(png)}), kInfer);
    Answer a;
    EXPECT_TRUE(res);
    if (!res) return a;
    a.status = res->status;
    a.body = res->body;
    if (res->status != 200) return a;
    const json answer = json::parse(res->body);
    for (const json& out : answer["outputs"]) {
      if (out["name"] == "LABEL") a.label = out["data"][0].get<std::string>();
      if (out["name"] == "SCORE") a.score = out["data"][0].get<float>();
      if (out["name"] == "SCORES") {
        EXPECT_EQ(out["shape"], json::array({out["data"].size()}));
        a.scores = out["data"].get<std::vector<float>>();
      }
    }
    return a;
  }

  httplib::Result Add(const std::string& cls, const std::vector<std::string>& pngs,
                      const json& metadata = json::object()) {
    json images = json::array();
    for (const std::string& png : pngs) images.push_back(Base64(png));
    return Http().Post("/v2/models/faces/classes/" + cls, kAdmin,
                       json{{"images", images}, {"metadata", metadata}}.dump(), "application/json");
  }

  json List() {
    auto res = Http().Get("/v2/models/faces/classes", kAdmin);
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << res->body;
    return res->status == 200 ? json::parse(res->body) : json();
  }

  std::vector<std::string> ListedNames() {
    std::vector<std::string> names;
    const json list = List();
    for (const json& c : list["classes"]) names.push_back(c["name"].get<std::string>());
    return names;
  }

  TempRepository repo_;
  std::unique_ptr<ServeProcess> serve_;
};

std::vector<std::string> Draw(Kind kind, uint32_t first, int n) {
  std::vector<std::string> pngs;
  for (int i = 0; i < n; ++i) pngs.push_back(DrawPng(kind, first + static_cast<uint32_t>(i)));
  return pngs;
}

TEST_F(ServedClassifier, LearnsClassesOverHttpAndLabelsHeldOutImages) {
  const std::unique_ptr<Reference> ref = Reference::Open();
  ASSERT_TRUE(ref);
  const std::vector<std::string> discs = Draw(Kind::kDisc, 1, 4),
                                 stripes = Draw(Kind::kStripes, 1, 4);
  const std::string held_disc = DrawPng(Kind::kDisc, 100),
                    held_stripes = DrawPng(Kind::kStripes, 100);

  // No class yet: everything is unknown, with no scores.
  Answer a = Infer("faces", held_disc);
  ASSERT_EQ(a.status, 200) << a.body << serve_->Log();
  EXPECT_EQ(a.label, "unknown") << a.body;
  EXPECT_TRUE(a.scores.empty());

  auto res = Add("disc", discs, {{"colour", "red"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json written = json::parse(res->body);
  EXPECT_EQ(written["name"], "disc");
  EXPECT_EQ(written["count"], 4);
  EXPECT_EQ(written["examples"], 4);
  EXPECT_EQ(written["metadata"], json({{"colour", "red"}}));
  res = Add("stripes", {stripes[0], stripes[1]});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  res = Add("stripes", {stripes[2], stripes[3]});  // more examples for the same class
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  written = json::parse(res->body);
  EXPECT_EQ(written["count"], 4);
  EXPECT_GE(written["version"].get<int>(), 2);

  const json list = List();
  EXPECT_EQ(list["dim"], 128);
  EXPECT_EQ(list["embedder"], ref->embedder().identity());
  ASSERT_EQ(list["classes"].size(), 2u) << list.dump();
  std::vector<std::string> order;
  for (const json& c : list["classes"]) order.push_back(c["name"].get<std::string>());

  // The held-out images: the right class, the cosines this process computes, in list order.
  std::map<std::string, std::vector<std::vector<float>>> examples;
  for (const auto& png : discs) examples["disc"].push_back(ref->Embed(png));
  for (const auto& png : stripes) examples["stripes"].push_back(ref->Embed(png));
  for (const auto& [png, want] :
       {std::pair{held_disc, "disc"}, std::pair{held_stripes, "stripes"}}) {
    a = Infer("faces", png);
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.label, want);
    ASSERT_EQ(a.scores.size(), 2u);
    const std::vector<float> e = ref->Embed(png);
    for (size_t c = 0; c < order.size(); ++c) {
      EXPECT_NEAR(a.scores[c], Reference::Cosine(e, examples[order[c]]), 1e-3f) << order[c];
      if (order[c] == want) {
        EXPECT_FLOAT_EQ(a.score, a.scores[c]);
      }
    }
  }

  // The threshold: a model on the same store that asks a little more than the held-out disc's
  // score calls it unknown; a little less, a disc.
  const float score = Infer("faces", held_disc).score;
  for (const auto& [threshold, want] :
       {std::pair{score + 0.01f, "unknown"}, std::pair{score - 0.01f, "disc"}}) {
    const json config = {{"platform", "supernova_classifier"},
                         {"max_batch_size", 0},
                         {"parameters",
                          {{"preprocess", {{"string_value", "raw"}}},
                           {"store", {{"string_value", "../faces/classes"}}},
                           {"threshold", {{"string_value", std::to_string(threshold)}}}}}};
    res = Http().Post("/v2/repository/models/strict/load", kAdmin,
                      json{{"parameters", {{"config", config.dump()}}}}.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    a = Infer("strict", held_disc);
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.label, want) << "threshold " << threshold << ", score " << a.score;
    EXPECT_NEAR(a.score, score, 1e-4f);
  }
  // A store shared within the repository is fine (above); one beside it is refused.
  for (const std::string& store : {std::string("../../elsewhere"), repo_.path() + "-other"}) {
    const json config = {
        {"platform", "supernova_classifier"},
        {"max_batch_size", 0},
        {"parameters",
         {{"preprocess", {{"string_value", "raw"}}}, {"store", {{"string_value", store}}}}}};
    res = Http().Post("/v2/repository/models/strict/load", kAdmin,
                      json{{"parameters", {{"config", config.dump()}}}}.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << store;
    EXPECT_NE(res->body.find("parameter store leads outside the model repository"),
              std::string::npos)
        << res->body;
    EXPECT_FALSE(fs::exists(fs::path(repo_.path()).parent_path() / "elsewhere"));
  }

  // Delete: gone from the list and from the answers.
  res = Http().Delete("/v2/models/faces/classes/disc", kAdmin);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(ListedNames(), std::vector<std::string>{"stripes"});
  a = Infer("faces", held_disc);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.label, "disc");
  EXPECT_EQ(a.scores.size(), 1u);
  res = Http().Delete("/v2/models/faces/classes/disc", kAdmin);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
}

// A writer in another process (this one, beside the server) adds and removes a class: the next
// request sees each change, however soon after the last it comes.
TEST_F(ServedClassifier, SeesWhatAnotherProcessWritesIntoTheStore) {
  const std::unique_ptr<Reference> ref = Reference::Open();
  ASSERT_TRUE(ref);
  auto res = Add("disc", Draw(Kind::kDisc, 1, 3));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const std::string checks = DrawPng(Kind::kChecks, 100);
  EXPECT_EQ(Infer("faces", checks).scores.size(), 1u);
  // Past the server's 2 s of doubt about a fresh mtime: from now on it reads the store again
  // only when the mtime moves, which the first write below must make it do.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(Infer("faces", checks).scores.size(), 1u);

  auto store = learn::ClassStore::OpenExisting(StoreDir());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<float> embeddings;
  for (const std::string& png : Draw(Kind::kChecks, 1, 3)) {
    const std::vector<float> e = ref->Embed(png);
    embeddings.insert(embeddings.end(), e.begin(), e.end());
  }
  ASSERT_TRUE((*store)->Add("checks", embeddings).ok());
  Answer a = Infer("faces", checks);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.label, "checks");
  EXPECT_EQ(a.scores.size(), 2u);

  // At once, within the same mtime tick maybe: the doubt makes the server look again.
  ASSERT_TRUE((*store)->Remove("checks").ok());
  a = Infer("faces", checks);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.label, "checks");
  EXPECT_EQ(a.scores.size(), 1u);
  EXPECT_EQ(ListedNames(), std::vector<std::string>{"disc"});
}

// `supernova learn add` (tools/supernova/cmd_learn.cc) writing the server's store from the
// command line: the running server labels with the class at its next request.
TEST_F(ServedClassifier, SeesAClassThatSupernovaLearnAddWrites) {
  const std::string cli = SUPERNOVA_CLI;
  if (CommandOutput(cli + " learn --help").find("classify") == std::string::npos)
    GTEST_SKIP() << cli << " has no learn command (the branch learn-cli is not merged)";
  const std::string checks = DrawPng(Kind::kChecks, 100);
  ASSERT_EQ(Infer("faces", checks).label, "unknown");
  std::string command = cli + " learn add --model " + kModel + " --store " + StoreDir() +
                        " --class checks --preprocess raw";
  const std::vector<std::string> pngs = Draw(Kind::kChecks, 1, 3);
  for (size_t i = 0; i < pngs.size(); ++i) {
    const std::string file = repo_.path() + "/checks" + std::to_string(i) + ".png";
    repo_.WriteFile("checks" + std::to_string(i) + ".png", pngs[i]);
    command += " " + file;
  }
  int code = -1;
  const std::string output = CommandOutput(command, &code);
  ASSERT_EQ(code, 0) << command << "\n" << output;
  EXPECT_EQ(ListedNames(), std::vector<std::string>{"checks"});
  const Answer a = Infer("faces", checks);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.label, "checks");
}

TEST_F(ServedClassifier, TheClassesNeedTheAdminToken) {
  httplib::Client http = Http();
  for (const httplib::Headers& h :
       {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer wrong"}}, kInfer}) {
    const int want = h.empty() ? 401 : 403;
    EXPECT_EQ(http.Get("/v2/models/faces/classes", h)->status, want);
    EXPECT_EQ(
        http.Post("/v2/models/faces/classes/disc", h,
                  json{{"images", {Base64(DrawPng(Kind::kDisc, 1))}}}.dump(), "application/json")
            ->status,
        want);
    EXPECT_EQ(http.Delete("/v2/models/faces/classes/disc", h)->status, want);
  }
  EXPECT_TRUE(ListedNames().empty());
}

TEST_F(ServedClassifier, BadRequestsAre400AndLeaveTheStoreAsItWas) {
  auto res = Add("disc", Draw(Kind::kDisc, 1, 2));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json before = List();
  const std::string disc = Base64(DrawPng(Kind::kDisc, 9));
  const std::string png = DrawPng(Kind::kDisc, 10);

  // A BMP whose header says 9000 x 1: refused before a pixel is decoded.
  std::string bmp(54, '\0');
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bmp[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  bmp[0] = 'B', bmp[1] = 'M';
  put32(2, 54), put32(10, 54), put32(14, 40), put32(18, 9000), put32(22, 1);
  put32(26, 1 | (24u << 16));
  json many = json::array();
  for (int i = 0; i < 65; ++i) many.push_back(disc);

  struct Case {
    std::string what, path, body, message;
  };
  const std::string to_disc = "/v2/models/faces/classes/disc";
  const std::vector<Case> cases = {
      {"not JSON", to_disc, "{images: [", "must be a JSON object"},
      {"not an object", to_disc, "[1, 2]", "must be a JSON object"},
      {"no images", to_disc, "{}", "field images must be a non-empty array"},
      {"empty images", to_disc, R"({"images": []})", "field images must be a non-empty array"},
      {"unknown field", to_disc, json{{"images", {disc}}, {"colour", "red"}}.dump(),
       "unknown field 'colour'"},
      {"not a string", to_disc, R"({"images": [7]})", "images[0] is not a string"},
      {"not base64", to_disc, json{{"images", {disc, "@@@@"}}}.dump(), "images[1] is not base64"},
      {"bad padding", to_disc, json{{"images", {"aGk"}}}.dump(), "images[0] is not base64"},
      {"not an image", to_disc, json{{"images", {Base64("just some text")}}}.dump(),
       "images[0]: the 14 bytes are not a JPEG, PNG or BMP image"},
      {"a cut PNG", to_disc, json{{"images", {Base64(png.substr(0, png.size() / 2))}}}.dump(),
       "images[0]"},
      {"too large an image", to_disc, json{{"images", {Base64(bmp)}}}.dump(),
       "9000x1, over the bound of 8192 pixels a side"},
      {"too many images", to_disc, json{{"images", many}}.dump(), "65 images: at most 64"},
      {"too many bytes", to_disc, json{{"images", {std::string(24u << 20, 'A')}}}.dump(),
       "images[0] is over 16 MiB"},
      {"metadata not strings", to_disc, json{{"images", {disc}}, {"metadata", {{"n", 1}}}}.dump(),
       "metadata 'n' must be a string"},
      {"a slash in the name", "/v2/models/faces/classes/a%2Fb", json{{"images", {disc}}}.dump(),
       ""},
      {"a dot-dot name", "/v2/models/faces/classes/%2E%2E", json{{"images", {disc}}}.dump(), ""},
      {"a hidden name", "/v2/models/faces/classes/.disc", json{{"images", {disc}}}.dump(), ""},
      {"the name unknown", "/v2/models/faces/classes/unknown", json{{"images", {disc}}}.dump(),
       "what LABEL answers for no class"},
  };
  httplib::Client http = Http();
  for (const Case& c : cases) {
    res = http.Post(c.path, kAdmin, c.body, "application/json");
    ASSERT_TRUE(res) << c.what;
    EXPECT_EQ(res->status, 400) << c.what << ": " << res->body;
    const json error = json::parse(res->body, nullptr, false);
    ASSERT_TRUE(error.is_object() && error.contains("error")) << c.what << ": " << res->body;
    EXPECT_NE(error["error"].get<std::string>().find(c.message), std::string::npos)
        << c.what << ": " << res->body;
  }
  EXPECT_EQ(List(), before);
  EXPECT_EQ(http.Put(to_disc, kAdmin, "{}", "application/json")->status, 405);
  EXPECT_EQ(http.Get("/v2/models/faces/classes/disc/more", kAdmin)->status, 404);
  // Nothing a refused request began is left in the store's directory.
  for (const auto& e : fs::recursive_directory_iterator(StoreDir()))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  EXPECT_EQ(List(), before);
}

}  // namespace
}  // namespace supernova::server::classifier_test

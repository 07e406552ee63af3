// The platform "supernova_detector" (tools/supernova/serve_detect.cc) in a real
// `supernova serve`: CenterNet answers an encoded JPEG over gRPC and HTTP with the boxes that
// stream::Detector finds in-process on the same pixels; bytes that are no image, or an image
// too large, are the request's error and nothing else's; a bad config fails only its model's
// load, with the reason in the repository index.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <stb/stb_image.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "grpc_service.grpc.pb.h"
#include "server/http_fixture.h"
#include "server/serve_process.h"
#include "server/test_repository.h"
#include "stream/detector.h"
#include "temp_dir.h"

namespace supernova::server::detector_test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Row = std::array<float, 6>;  // x1, y1, x2, y2, score, class
using supernova::testing::ServeProcess;
using supernova::testing::TempRepository;

constexpr int kThreads = 2;  // the server's and the reference's, so both run the same kernels
constexpr int kDogClass = 16;

const std::string kModel =
    std::string(SUPERNOVA_SHARED_MODELS_DIR) + "/centernet_mbv3_coco_512.onnx";
const std::string kImage = std::string(SUPERNOVA_ASSETS_DIR) + "/images/dog.jpg";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One BYTES element as both protocols carry it raw: a 4-byte little-endian length, the bytes.
std::string LengthPrefixed(const std::string& bytes) {
  const uint32_t n = static_cast<uint32_t>(bytes.size());
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + bytes;
}

// A repository of the models `names` from this table: CenterNet under `det` (the default file
// name) and `det_named` (the parameter `model`), and configs wrong in one way each.
void WriteRepository(const TempRepository& repo, const std::vector<std::string>& names) {
  const std::map<std::string, std::pair<std::string, std::string>> table = {
      {"det", {"model.onnx", "max_batch_size: 0\n"}},
      {"det_named",
       {"centernet.onnx",
        "parameters { key: \"model\" value { string_value: \"centernet.onnx\" } }\n"
        // The server's parameters (num_threads, optimization, max_run_bytes) are taken too.
        "parameters { key: \"max_run_bytes\" value { string_value: \"1073741824\" } }\n"}},
      {"bad_key",
       {"model.onnx", "parameters { key: \"colour\" value { string_value: \"rgb\" } }\n"}},
      {"bad_value",
       {"model.onnx",
        "parameters { key: \"score_threshold\" value { string_value: \"high\" } }\n"}},
      {"bad_mean",
       {"model.onnx", "parameters { key: \"mean\" value { string_value: \"1,2\" } }\n"}},
      {"bad_decoder",
       {"model.onnx", "parameters { key: \"decoder\" value { string_value: \"yolov9\" } }\n"}},
      {"bad_file",
       {"model.onnx",
        "parameters { key: \"model\" value { string_value: \"../../det/1/model.onnx\" } }\n"}},
      {"batched", {"model.onnx", "max_batch_size: 4\n"}},
      {"bad_input",
       {"model.onnx", "parameters { key: \"input\" value { string_value: \"pixels\" } }\n"}},
      // A split's tail never sees the image: the source model's input size must be given.
      {"tail_no_size",
       {"model.onnx", "parameters { key: \"input\" value { string_value: \"features\" } }\n"}}};
  for (const std::string& name : names) {
    const auto& [file, config] = table.at(name);
    const fs::path dir = fs::path(repo.path()) / name;
    fs::create_directories(dir / "1");
    supernova::testing::PlaceFile(kModel, dir / "1" / file);
    std::ofstream out(dir / "config.pbtxt");
    out << "platform: \"supernova_detector\"\n" << config;
    if (config.find("\"decoder\"") == std::string::npos)
      out << "parameters { key: \"decoder\" value { string_value: \"centernet\" } }\n";
  }
}

// What stream::Detector finds in-process on the image decoded here: the reference.
std::vector<Row> DetectInProcess() {
  int w = 0, h = 0, channels = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> rgb(
      stbi_load(kImage.c_str(), &w, &h, &channels, 3), stbi_image_free);
  EXPECT_TRUE(rgb) << kImage;
  if (!rgb) return {};
  auto frame = std::make_shared<stream::Frame>();
  frame->width = w;
  frame->height = h;
  frame->bgr.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < frame->bgr.size(); i += 3) {
    frame->bgr[i] = rgb.get()[i + 2];
    frame->bgr[i + 1] = rgb.get()[i + 1];
    frame->bgr[i + 2] = rgb.get()[i];
  }
  stream::DetectorOptions options;
  options.decoder = stream::DecoderKind::kCenterNet;
  options.warmup = false;
  options.session.num_threads = kThreads;
  auto detector = stream::Detector::Open(kModel, options);
  EXPECT_TRUE(detector.ok()) << detector.status().ToString();
  if (!detector.ok()) return {};
  auto found = (*detector)->Detect({frame});
  EXPECT_TRUE(found.ok()) << found.status().ToString();
  if (!found.ok()) return {};
  std::vector<Row> rows;
  for (const stream::Detection& d : found->front())
    rows.push_back(
        {d.box.x1, d.box.y1, d.box.x2, d.box.y2, d.score, static_cast<float>(d.class_id)});
  return rows;
}

std::vector<Row> Rows(const float* data, size_t values) {
  std::vector<Row> rows(values / 6);
  std::memcpy(rows.data(), data, rows.size() * sizeof(Row));
  return rows;
}

::testing::AssertionResult SameDetections(const std::vector<Row>& want,
                                          const std::vector<Row>& got) {
  if (want.size() != got.size())
    return ::testing::AssertionFailure() << got.size() << " detections, want " << want.size();
  for (size_t i = 0; i < want.size(); ++i) {
    for (int k = 0; k < 5; ++k)
      if (std::abs(want[i][k] - got[i][k]) > 1e-3f)
        return ::testing::AssertionFailure() << "detection " << i << " value " << k << ": "
                                             << got[i][k] << ", want " << want[i][k];
    if (want[i][5] != got[i][5])
      return ::testing::AssertionFailure()
             << "detection " << i << ": class " << got[i][5] << ", want " << want[i][5];
  }
  return ::testing::AssertionSuccess();
}

bool HasClass(const std::vector<Row>& rows, int id) {
  for (const Row& r : rows)
    if (r[5] == static_cast<float>(id)) return true;
  return false;
}

class ServedDetector : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModel)) GTEST_SKIP() << "no " << kModel << ": the shared models are not here";
    if (!fs::exists(kImage)) GTEST_SKIP() << "no " << kImage << ": the assets are not fetched";
    image_ = ReadFile(kImage);
  }

  // A server of the models `names` (WriteRepository); each CenterNet costs a load and a run.
  void Start(const std::vector<std::string>& names) {
    WriteRepository(repo_, names);
    serve_ = std::make_unique<ServeProcess>(std::vector<std::string>{
        "--model-repository", repo_.path(), "--threads-per-instance", std::to_string(kThreads)});
    ASSERT_TRUE(serve_->WaitReady()) << serve_->Log();
    stub_ = inference::GRPCInferenceService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(serve_->grpc_port()), grpc::InsecureChannelCredentials()));
  }

  httplib::Client Http() const {
    httplib::Client cli("127.0.0.1", serve_->http_port());
    cli.set_read_timeout(60, 0);
    return cli;
  }

  grpc::Status InferGrpc(const std::string& model, const std::string& bytes,
                         inference::ModelInferResponse* resp) {
    inference::ModelInferRequest req;
    req.set_model_name(model);
    auto* in = req.add_inputs();
    in->set_name("IMAGE");
    in->set_datatype("BYTES");
    in->add_shape(1);
    req.add_raw_input_contents(LengthPrefixed(bytes));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub_->ModelInfer(&ctx, req, resp);
  }

  // DETECTIONS of a gRPC answer, checked to be FP32 [N, 6].
  std::vector<Row> GrpcRows(const inference::ModelInferResponse& resp) {
    EXPECT_EQ(resp.outputs_size(), 1);
    EXPECT_EQ(resp.raw_output_contents_size(), 1);
    if (resp.outputs_size() != 1 || resp.raw_output_contents_size() != 1) return {};
    const auto& out = resp.outputs(0);
    EXPECT_EQ(out.name(), "DETECTIONS");
    EXPECT_EQ(out.datatype(), "FP32");
    EXPECT_EQ(out.shape_size(), 2);
    const std::string& raw = resp.raw_output_contents(0);
    if (out.shape_size() == 2) {
      EXPECT_EQ(out.shape(1), 6);
      EXPECT_EQ(static_cast<size_t>(out.shape(0) * 6 * 4), raw.size());
    }
    return Rows(reinterpret_cast<const float*>(raw.data()), raw.size() / 4);
  }

  // One element of BYTES in the binary extension, to `model`.
  httplib::Result PostImage(httplib::Client& http, const std::string& model,
                            const std::string& bytes) {
    const json header = {{"inputs",
                          {{{"name", "IMAGE"},
                            {"datatype", "BYTES"},
                            {"shape", {1}},
                            {"parameters", {{"binary_data_size", bytes.size() + 4}}}}}}};
    return http_test::PostBinary(http, "/v2/models/" + model + "/infer",
                                 http_test::MakeBinary(header, {LengthPrefixed(bytes)}));
  }

  // Bytes that are no image, or too large a one, over either protocol: InvalidArgument with a
  // message that says what was wrong.
  void ExpectRefusesWhatIsNoImage(const std::string& model) {
    inference::ModelInferResponse resp;
    grpc::Status s = InferGrpc(model, "GIF89a and then nothing", &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("not a JPEG, PNG or BMP image"), std::string::npos)
        << s.error_message();

    // A JPEG cut short: its header reads, its pixels do not.
    s = InferGrpc(model, image_.substr(0, image_.size() / 8), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();

    // A BMP whose header says 9000 x 1: refused before a pixel is decoded.
    std::string bmp(54, '\0');
    auto put32 = [&](size_t at, uint32_t v) {
      for (int i = 0; i < 4; ++i) bmp[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    };
    bmp[0] = 'B';
    bmp[1] = 'M';
    put32(2, 54);                // file size
    put32(10, 54);               // pixel data offset
    put32(14, 40);               // BITMAPINFOHEADER
    put32(18, 9000);             // width
    put32(22, 1);                // height
    put32(26, 1 | (24u << 16));  // planes, bits per pixel
    httplib::Client http = Http();
    auto res = PostImage(http, model, bmp);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_NE(res->body.find("9000x1, over the bound of 8192 pixels a side"), std::string::npos)
        << res->body;

    // Text as a JSON BYTES element.
    res = http.Post("/v2/models/" + model + "/infer",
                    R"({"inputs":[{"name":"IMAGE","datatype":"BYTES","shape":[1],"data":["hi"]}]})",
                    "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_NE(res->body.find("not a JPEG, PNG or BMP image"), std::string::npos) << res->body;
  }

  TempRepository repo_;
  std::string image_;
  std::unique_ptr<ServeProcess> serve_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

// One server for the answers and the errors: each CenterNet load costs seconds on a busy
// machine.
TEST_F(ServedDetector, AnswersAsTheDetectorInProcessAndRefusesBytesThatAreNoImage) {
  ASSERT_NO_FATAL_FAILURE(Start({"det"}));
  // The signature the edge's client reads before it sends anything.
  httplib::Client http = Http();
  auto meta = http.Get("/v2/models/det");
  ASSERT_TRUE(meta);
  ASSERT_EQ(meta->status, 200) << meta->body;
  const json m = json::parse(meta->body);
  EXPECT_EQ(m["platform"], "supernova_detector");
  EXPECT_EQ(m["inputs"], json::parse(R"([{"name":"IMAGE","datatype":"BYTES","shape":[1]}])"));
  EXPECT_EQ(m["outputs"],
            json::parse(R"([{"name":"DETECTIONS","datatype":"FP32","shape":[-1,6]}])"));

  const std::vector<Row> want = DetectInProcess();
  ASSERT_TRUE(HasClass(want, kDogClass)) << "the reference should find the dog";

  inference::ModelInferResponse resp;
  grpc::Status s = InferGrpc("det", image_, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << serve_->Log();
  EXPECT_TRUE(SameDetections(want, GrpcRows(resp)));

  ExpectRefusesWhatIsNoImage("det");

  // The next good request is answered as if nothing had happened: over HTTP, the image in the
  // binary extension and the answer as JSON.
  auto res = PostImage(http, "det", image_);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json out = json::parse(res->body)["outputs"][0];
  EXPECT_EQ(out["name"], "DETECTIONS");
  EXPECT_EQ(out["datatype"], "FP32");
  ASSERT_EQ(out["shape"], json::array({want.size(), 6}));
  const std::vector<float> values = out["data"].get<std::vector<float>>();
  EXPECT_TRUE(SameDetections(want, Rows(values.data(), values.size())));
}

TEST_F(ServedDetector, ABadConfigFailsOnlyItsModelsLoadAndTheIndexSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(Start({"det_named", "bad_key", "bad_value", "bad_mean", "bad_decoder",
                                 "bad_file", "batched", "bad_input", "tail_no_size"}));
  httplib::Client http = Http();
  auto res = http.Post("/v2/repository/index", "{}", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  std::map<std::string, json> index;
  for (const json& e : json::parse(res->body)) index[e["name"].get<std::string>()] = e;
  // Beside them, a model whose file the parameter `model` names loads.
  EXPECT_EQ(index["det_named"]["state"], "READY") << res->body;
  const std::map<std::string, std::string> reasons = {
      {"bad_key", "unknown parameter 'colour'"},
      {"bad_value", "parameter score_threshold must be a number, not 'high'"},
      {"bad_mean", "parameter mean must be three numbers a,b,c, not '1,2'"},
      {"bad_decoder", "unknown decoder 'yolov9'"},
      {"bad_file", "parameter model must name a file of the version's directory"},
      {"batched", "max_batch_size must be 0, not 4"},
      {"bad_input", "parameter input: 'pixels' is neither image nor features"},
      {"tail_no_size", "needs input_width and input_height"}};
  for (const auto& [model, reason] : reasons) {
    EXPECT_EQ(index[model]["state"], "UNAVAILABLE") << model;
    EXPECT_NE(index[model].value("reason", "").find(reason), std::string::npos)
        << model << ": " << index[model].dump();
  }
}

}  // namespace
}  // namespace supernova::server::detector_test

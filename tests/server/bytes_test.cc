// BYTES tensors end to end: a StringNormalizer model (stopword "the", upper case) served on
// 127.0.0.1 and asked over HTTP JSON, the HTTP binary extension and gRPC (raw contents and
// bytes_contents), and string inputs merged into dynamic batches and split back. The expected
// words follow from the op's rules by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "ir/onnx_import.h"
#include "server/bytes.h"
#include "server/grpc_fixture.h"
#include "server/http_fixture.h"

namespace supernova::server {
namespace {

using ::testing::ElementsAre;
using json = nlohmann::json;

// <repo>/normalize/1/model.onnx: text BYTES [n] -> y = text without "the", upper-cased.
void AddNormalizer(const testing::TempRepository& repo) {
  ir::Model m;
  m.graph.name = "normalize";
  m.graph.opsets[""] = 10;
  ir::ValueType words;
  words.dtype = DataType::kString;
  words.dims = std::vector<ir::Dim>{ir::Dim::Symbol("n")};
  m.graph.inputs.push_back("text");
  m.graph.value_types["text"] = words;
  ir::Node n;
  n.name = "normalize";
  n.op_type = "StringNormalizer";
  n.inputs = {"text"};
  n.outputs = {"y"};
  n.attributes["case_change_action"].kind = ir::Attribute::Kind::kString;
  n.attributes["case_change_action"].s = "UPPER";
  n.attributes["stopwords"].kind = ir::Attribute::Kind::kStrings;
  n.attributes["stopwords"].strings = {"the"};
  m.graph.nodes.push_back(std::move(n));
  words.dims = std::vector<ir::Dim>{ir::Dim::Symbol("m")};
  m.graph.value_types["y"] = words;
  m.graph.outputs.push_back("y");
  const auto dir = std::filesystem::path(repo.path()) / "normalize" / "1";
  std::filesystem::create_directories(dir);
  Status s = ir::ExportOnnxFile(m, (dir / "model.onnx").string());
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// "The", "cat", "the", "mat" without stopwords and upper-cased.
const std::vector<std::string> kWords = {"The", "cat", "the", "m\"at"};

TEST(BytesOverHttp, JsonAndBinaryRequestsGetStrings) {
  http_test::Server server;
  AddNormalizer(server.repo);
  server.Start();
  ASSERT_TRUE(server.http);
  auto cli = server.Client();

  const json request = {
      {"inputs", {{{"name", "text"}, {"datatype", "BYTES"}, {"shape", {4}}, {"data", kWords}}}}};
  auto res = cli.Post("/v2/models/normalize/infer", request.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json out = json::parse(res->body)["outputs"][0];
  EXPECT_EQ(out["datatype"], "BYTES");
  EXPECT_EQ(out["shape"], json::array({2}));
  EXPECT_EQ(out["data"], json::array({"CAT", "M\"AT"}));

  // The same words length-prefixed, and the answer asked for in binary too.
  Tensor words(DataType::kString, {4});
  std::copy(kWords.begin(), kWords.end(), words.data<std::string>());
  std::string blob;
  AppendEncodedBytes(blob, words);
  const json header = {{"inputs",
                        {{{"name", "text"},
                          {"datatype", "BYTES"},
                          {"shape", {4}},
                          {"parameters", {{"binary_data_size", blob.size()}}}}}},
                       {"outputs", {{{"name", "y"}, {"parameters", {{"binary_data", true}}}}}}};
  res = http_test::PostBinary(cli, "/v2/models/normalize/infer",
                              http_test::MakeBinary(header, {blob}));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const http_test::BinaryResponse split = http_test::SplitBinary(*res);
  ASSERT_EQ(split.blobs.count("y"), 1u);
  auto back = DecodeBytes(split.blobs.at("y"), {2}, "y");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->data<std::string>()[0], "CAT");
  EXPECT_EQ(back->data<std::string>()[1], "M\"AT");

  // BYTES where the model wants numbers is the core's refusal, not a crash.
  const json wrong = {
      {"inputs", {{{"name", "text"}, {"datatype", "FP32"}, {"shape", {1}}, {"data", {1.0}}}}}};
  res = cli.Post("/v2/models/normalize/infer", wrong.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
}

// The identity chain (slow enough to batch) with a second input, words string[batch, 2],
// returned by an Identity as words_out.
void AddChainWithWords(testing::TempRepository& repo) {
  repo.AddIdentityChain("words", 256, 24, R"(
max_batch_size: 8
dynamic_batching { max_queue_delay_microseconds: 2000 }
instance_group [ { count: 1 kind: KIND_CPU } ]
)");
  const std::string path = repo.path() + "/words/1/model.onnx";
  auto m = ir::ImportOnnxFile(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ir::ValueType words;
  words.dtype = DataType::kString;
  words.dims = std::vector<ir::Dim>{ir::Dim::Symbol("batch"), ir::Dim::Known(2)};
  m->graph.inputs.push_back("words");
  m->graph.value_types["words"] = words;
  m->graph.value_types["words_out"] = words;
  ir::Node& n = m->graph.nodes.emplace_back();
  n.op_type = "Identity";
  n.inputs = {"words"};
  n.outputs = {"words_out"};
  m->graph.outputs.push_back("words_out");
  Status s = ir::ExportOnnxFile(*m, path);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST(BytesInBatches, MergedAndSplitElementByElement) {
  testing::TempRepository repo;
  AddChainWithWords(repo);
  ServerOptions opts;
  opts.model_repository = repo.path();
  auto server = InferenceServer::Create(opts);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  constexpr int kRequests = 16;
  std::vector<InferRequest> requests(kRequests);
  std::vector<std::promise<std::pair<Status, InferResponse>>> replies(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    const int64_t rows = 1 + i % 3;
    InferRequest& r = requests[i];
    r.model = "words";
    Tensor x(DataType::kFloat32, {rows, 256});
    std::fill(x.data<float>(), x.data<float>() + x.numel(), static_cast<float>(i));
    Tensor w(DataType::kString, {rows, 2});
    for (int64_t k = 0; k < w.numel(); ++k)
      w.data<std::string>()[k] = "request " + std::to_string(i) + " word " + std::to_string(k);
    r.inputs = {{"x", x}, {"words", w}};
  }
  for (int i = 0; i < kRequests; ++i)
    (*server)->Infer(requests[i], [&replies, i](Status s, InferResponse r) {
      replies[i].set_value({s, std::move(r)});
    });
  for (int i = 0; i < kRequests; ++i) {
    auto [status, response] = replies[i].get_future().get();
    ASSERT_TRUE(status.ok()) << status.ToString();
    const Tensor& want = requests[i].inputs[1].tensor;
    const Tensor* got = nullptr;
    for (const NamedTensor& o : response.outputs)
      if (o.name == "words_out") got = &o.tensor;
    ASSERT_NE(got, nullptr);
    ASSERT_EQ(got->dtype(), DataType::kString);
    ASSERT_EQ(got->shape(), want.shape());
    for (int64_t k = 0; k < want.numel(); ++k)
      EXPECT_EQ(got->data<std::string>()[k], want.data<std::string>()[k]) << i << " " << k;
  }
  const double executions =
      testing::MetricSample((*server)->MetricsText(), "nv_inference_exec_count", "model=\"words\"");
  EXPECT_LT(executions, kRequests);  // some requests did share a batch
}

class BytesOverGrpc : public grpc_test::GrpcTest {};

TEST_F(BytesOverGrpc, RawAndTypedContentsGetStrings) {
  AddNormalizer(repo_);
  Start();
  inference::ModelInferRequest req;
  req.set_model_name("normalize");
  auto* in = req.add_inputs();
  in->set_name("text");
  in->set_datatype("BYTES");
  in->add_shape(4);
  for (const std::string& w : kWords) in->mutable_contents()->add_bytes_contents(w);
  inference::ModelInferResponse resp;
  grpc::Status s = Infer(req, &resp);
  ASSERT_TRUE(s.ok()) << grpc_test::CodeText(s);
  ASSERT_EQ(resp.outputs_size(), 1);
  EXPECT_EQ(resp.outputs(0).datatype(), "BYTES");
  ASSERT_EQ(resp.raw_output_contents_size(), 1);
  auto back = DecodeBytes(resp.raw_output_contents(0), {2}, "y");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->data<std::string>()[0], "CAT");
  EXPECT_EQ(back->data<std::string>()[1], "M\"AT");

  // Raw contents: the length-prefixed form.
  in->clear_contents();
  Tensor words(DataType::kString, {4});
  std::copy(kWords.begin(), kWords.end(), words.data<std::string>());
  AppendEncodedBytes(*req.add_raw_input_contents(), words);
  resp.Clear();
  s = Infer(req, &resp);
  ASSERT_TRUE(s.ok()) << grpc_test::CodeText(s);
  ASSERT_EQ(resp.raw_output_contents_size(), 1);
  back = DecodeBytes(resp.raw_output_contents(0), {2}, "y");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->data<std::string>()[1], "M\"AT");

  // A length that runs past the data is the request's error.
  req.mutable_raw_input_contents(0)->resize(6);
  resp.Clear();
  s = Infer(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace supernova::server

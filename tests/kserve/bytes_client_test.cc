// BYTES tensors through the KServe client: each element on the wire as KServe's binary format
// says (a 4-byte little-endian length, then the bytes), checked byte for byte by a fake remote
// against elements written out by hand, and read back from its answer; then against a real
// `supernova serve` running ONNX's own StringNormalizer node test, whose expected output is
// the reference.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ir/tensor_proto.h"
#include "kserve/fake_kserve.h"
#include "kserve/kserve_client.h"
#include "server/serve_process.h"

namespace supernova::kserve {
namespace {

namespace fs = std::filesystem;
using supernova::testing::BytesElement;
using supernova::testing::FakeKServe;

Tensor Strings(const std::vector<std::string>& values) {
  Tensor t(DataType::kString, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data<std::string>()[i] = values[i];
  return t;
}

std::vector<std::string> Values(const Tensor& t) {
  const std::string* p = t.data<std::string>();
  return std::vector<std::string>(p, p + t.numel());
}

TEST(KServeBytes, ElementsGoLengthPrefixedAndComeBackAsStrings) {
  const std::string binary("\0\xff", 2);
  inference::ModelInferRequest seen;
  FakeKServe remote(
      [&](const inference::ModelInferRequest& req, inference::ModelInferResponse* resp) {
        seen = req;
        auto* out = resp->add_outputs();
        out->set_name("y");
        out->set_datatype("BYTES");
        out->add_shape(2);
        resp->add_raw_output_contents(BytesElement("abc") + BytesElement(""));
        return grpc::Status::OK;
      });
  auto client = KServeClient::Create(remote.target(), /*gzip=*/false);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto reply = (*client)->Infer("m", {{"text", Strings({"", "ab", binary})}}, 5000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();

  ASSERT_EQ(seen.inputs_size(), 1);
  EXPECT_EQ(seen.inputs(0).datatype(), "BYTES");
  ASSERT_EQ(seen.inputs(0).shape_size(), 1);
  EXPECT_EQ(seen.inputs(0).shape(0), 3);
  ASSERT_EQ(seen.raw_input_contents_size(), 1);
  EXPECT_EQ(seen.raw_input_contents(0), std::string("\0\0\0\0", 4) +
                                            std::string("\x02\0\0\0ab", 6) +
                                            std::string("\x02\0\0\0\0\xff", 6));
  EXPECT_EQ(reply->sent_bytes, 16u);

  ASSERT_EQ(reply->outputs.size(), 1u);
  const Tensor& y = reply->outputs[0].second;
  ASSERT_EQ(y.dtype(), DataType::kString);
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(Values(y), (std::vector<std::string>{"abc", ""}));
  EXPECT_EQ(reply->received_bytes, 11u);
}

TEST(KServeBytes, AnAnswerWhoseElementsOverrunTheirBytesIsRefused) {
  FakeKServe remote([](const inference::ModelInferRequest&, inference::ModelInferResponse* resp) {
    auto* out = resp->add_outputs();
    out->set_name("y");
    out->set_datatype("BYTES");
    out->add_shape(1);
    resp->add_raw_output_contents(std::string("\x09\0\0\0abc", 7));  // says 9, holds 3
    return grpc::Status::OK;
  });
  auto client = KServeClient::Create(remote.target(), false);
  ASSERT_TRUE(client.ok());
  auto reply = (*client)->Infer("m", {{"text", Strings({"x"})}}, 5000);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Status::Code::kInvalidArgument) << reply.status().ToString();
}

TEST(KServeBytes, ARealServerRunsOnnxsStringNormalizerTest) {
  const fs::path test = fs::path(SUPERNOVA_ONNX_TESTDATA_DIR) /
                        "node/test_strnormalizer_export_monday_casesensintive_lower";
  if (!fs::exists(test / "model.onnx"))
    GTEST_SKIP() << "ONNX's node tests (Debian libonnx-testdata) are not at " << test;
  std::string input_name, output_name;
  auto input = ir::ReadTensorFile(test / "test_data_set_0/input_0.pb", &input_name);
  auto expected = ir::ReadTensorFile(test / "test_data_set_0/output_0.pb", &output_name);
  ASSERT_TRUE(input.ok() && expected.ok());
  ASSERT_EQ(expected->dtype(), DataType::kString);

  const fs::path repo = fs::temp_directory_path() / ("kserve_bytes_" + std::to_string(getpid()));
  fs::create_directories(repo / "normalize/1");
  fs::copy_file(test / "model.onnx", repo / "normalize/1/model.onnx",
                fs::copy_options::overwrite_existing);
  {
    supernova::testing::ServeProcess serve({"--model-repository", repo.string()});
    ASSERT_TRUE(serve.WaitReady()) << serve.Log();
    auto client = KServeClient::Create("127.0.0.1:" + std::to_string(serve.grpc_port()));
    ASSERT_TRUE(client.ok());
    auto reply = (*client)->Infer("normalize", {{input_name, *input}}, 10000);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->outputs.size(), 1u);
    EXPECT_EQ(reply->outputs[0].first, output_name);
    const Tensor& got = reply->outputs[0].second;
    ASSERT_EQ(got.dtype(), DataType::kString);
    EXPECT_EQ(got.shape(), expected->shape());
    EXPECT_EQ(Values(got), Values(*expected));
  }
  fs::remove_all(repo);
}

}  // namespace
}  // namespace supernova::kserve

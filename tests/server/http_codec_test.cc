// The KServe v2 REST encoding without a server: every datatype's JSON conversion (exact at the
// edges), nested and flat data, the binary tensor extension, and the validation that keeps
// malformed requests from the core.
#include "server/http_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

namespace supernova::server::http {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

Result<ParsedInferRequest> Parse(const std::string& body,
                                 std::optional<uint64_t> header_length = std::nullopt) {
  return ParseInferRequest(body, header_length, "m", "");
}

// One input named "x" of `datatype` and `shape` with `data` (JSON text).
std::string OneInput(const std::string& datatype, const std::string& shape,
                     const std::string& data) {
  return R"({"inputs":[{"name":"x","datatype":")" + datatype + R"(","shape":)" + shape +
         R"(,"data":)" + data + "}]}";
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

TEST(HttpCodec, ParsesIdParametersInputsAndOutputs) {
  auto r = Parse(R"({"id":"req-7","parameters":{"timeout":2500,"binary_data_output":true},
      "inputs":[{"name":"a","shape":[2,2],"datatype":"INT32","data":[1,2,3,4]}],
      "outputs":[{"name":"o1"},{"name":"o2","parameters":{"binary_data":false}}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->request.model, "m");
  EXPECT_EQ(r->request.id, "req-7");
  EXPECT_EQ(r->request.timeout_us, 2500u);
  ASSERT_EQ(r->request.inputs.size(), 1u);
  EXPECT_EQ(r->request.inputs[0].tensor.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<int32_t>(r->request.inputs[0].tensor), (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(r->request.outputs, (std::vector<std::string>{"o1", "o2"}));
  EXPECT_TRUE(r->output_format.IsBinary("o1"));
  EXPECT_FALSE(r->output_format.IsBinary("o2"));
}

TEST(HttpCodec, NestedAndFlatDataAreTheSame) {
  auto flat = Parse(OneInput("INT16", "[2,3]", "[1,2,3,4,5,6]"));
  auto nested = Parse(OneInput("INT16", "[2,3]", "[[1,2,3],[4,5,6]]"));
  ASSERT_TRUE(flat.ok() && nested.ok());
  EXPECT_EQ(Values<int16_t>(flat->request.inputs[0].tensor),
            Values<int16_t>(nested->request.inputs[0].tensor));
}

TEST(HttpCodec, Int64AndUint64Beyond2To53AreExact) {
  auto r = Parse(
      OneInput("INT64", "[3]", "[9007199254740993,-9223372036854775808,9223372036854775807]"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<int64_t>(r->request.inputs[0].tensor),
            (std::vector<int64_t>{9007199254740993LL, std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max()}));
  auto u = Parse(OneInput("UINT64", "[1]", "[18446744073709551615]"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(Values<uint64_t>(u->request.inputs[0].tensor)[0], std::numeric_limits<uint64_t>::max());

  InferResponse resp;
  resp.model = "m";
  resp.version = "1";
  resp.outputs.push_back({"y", r->request.inputs[0].tensor});
  const json out = json::parse(EncodeInferResponse(resp, {}).body);
  EXPECT_EQ(out["outputs"][0]["data"][0].get<int64_t>(), 9007199254740993LL);
  EXPECT_EQ(out["outputs"][0]["data"][1].get<int64_t>(), std::numeric_limits<int64_t>::min());
}

TEST(HttpCodec, IntegersAreRangeCheckedAndMustBeIntegers) {
  EXPECT_TRUE(Parse(OneInput("INT8", "[2]", "[-128,127]")).ok());
  EXPECT_FALSE(Parse(OneInput("INT8", "[1]", "[128]")).ok());
  EXPECT_FALSE(Parse(OneInput("UINT8", "[1]", "[-1]")).ok());
  EXPECT_FALSE(Parse(OneInput("INT32", "[1]", "[2147483648]")).ok());
  EXPECT_FALSE(Parse(OneInput("INT32", "[1]", "[1.5]")).ok());
  EXPECT_FALSE(Parse(OneInput("INT32", "[1]", "[1.0]")).ok());
  EXPECT_FALSE(Parse(OneInput("INT32", "[1]", "[\"1\"]")).ok());
  EXPECT_FALSE(Parse(OneInput("UINT64", "[1]", "[18446744073709551616]")).ok());
}

TEST(HttpCodec, BoolIsTrueOrFalse) {
  auto r = Parse(OneInput("BOOL", "[3]", "[true,false,true]"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<bool>(r->request.inputs[0].tensor), (std::vector<bool>{true, false, true}));
  EXPECT_FALSE(Parse(OneInput("BOOL", "[1]", "[1]")).ok());
  // Binary BOOL bytes must be 0 or 1.
  const std::string header =
      R"({"inputs":[{"name":"x","datatype":"BOOL","shape":[2],"parameters":{"binary_data_size":2}}]})";
  EXPECT_TRUE(Parse(header + std::string("\x01\x00", 2), header.size()).ok());
  EXPECT_FALSE(Parse(header + std::string("\x02\x00", 2), header.size()).ok());
}

TEST(HttpCodec, FloatsRoundOnceAndNonFiniteTravelAsStrings) {
  auto f32 = Parse(OneInput("FP32", "[4]", R"([0.1, 3, "NaN", "-Infinity"])"));
  ASSERT_TRUE(f32.ok()) << f32.status().ToString();
  const float* f = f32->request.inputs[0].tensor.data<float>();
  EXPECT_EQ(f[0], 0.1f);
  EXPECT_EQ(f[1], 3.0f);
  EXPECT_TRUE(std::isnan(f[2]));
  EXPECT_EQ(f[3], -std::numeric_limits<float>::infinity());
  EXPECT_FALSE(Parse(OneInput("FP32", "[1]", R"(["nan"])")).ok());
  EXPECT_FALSE(Parse(OneInput("FP32", "[1]", "[true]")).ok());

  auto f64 = Parse(OneInput("FP64", "[1]", "[0.1]"));
  ASSERT_TRUE(f64.ok());
  EXPECT_EQ(f64->request.inputs[0].tensor.data<double>()[0], 0.1);

  // 1 + 2^-11 + 2^-40 is just above the midpoint between the halves 1 and 1 + 2^-10: the
  // correctly rounded half is 1 + 2^-10. Rounding through a plain float first would land
  // exactly on the midpoint and round to even (1.0).
  auto f16 = Parse(OneInput("FP16", "[3]", "[1.00048828125000090949, 65504, 1e6]"));
  ASSERT_TRUE(f16.ok()) << f16.status().ToString();
  const Float16* h = f16->request.inputs[0].tensor.data<Float16>();
  EXPECT_EQ(h[0].bits, 0x3c01);
  EXPECT_EQ(h[1].bits, 0x7bff);
  EXPECT_EQ(h[2].bits, 0x7c00);  // out of range: infinity

  auto bf16 = Parse(OneInput("BF16", "[2]", "[1.00390625000000088818, -2]"));
  ASSERT_TRUE(bf16.ok());
  const BFloat16* b = bf16->request.inputs[0].tensor.data<BFloat16>();
  EXPECT_EQ(b[0].bits, 0x3f81);
  EXPECT_EQ(b[1].bits, 0xc000);
}

TEST(HttpCodec, ResponseFloatsAreShortestAndExact) {
  InferResponse resp;
  resp.model = "m";
  resp.version = "1";
  resp.id = "q\"1";
  resp.outputs.push_back({"y", Tensor::FromVector<float>({0.1f, 1e-45f, 3.4028235e38f,
                                                          std::numeric_limits<float>::quiet_NaN(),
                                                          std::numeric_limits<float>::infinity()},
                                                         {5})});
  const std::string body = EncodeInferResponse(resp, {}).body;
  EXPECT_THAT(body, HasSubstr("[0.1,1e-45,3.4028235e+38,\"NaN\",\"Infinity\"]"));
  const json out = json::parse(body);
  EXPECT_EQ(out["id"], "q\"1");
  EXPECT_EQ(out["model_version"], "1");
  EXPECT_EQ(out["outputs"][0]["datatype"], "FP32");
  EXPECT_EQ(out["outputs"][0]["shape"], json::array({5}));
}

TEST(HttpCodec, BinaryInputsAndOutputs) {
  const std::string header =
      R"({"inputs":[{"name":"a","datatype":"INT32","shape":[2],"parameters":{"binary_data_size":8}},)"
      R"({"name":"b","datatype":"FP32","shape":[1],"data":[2.5]},)"
      R"({"name":"c","datatype":"UINT8","shape":[3],"parameters":{"binary_data_size":3}}],)"
      R"("outputs":[{"name":"y","parameters":{"binary_data":true}},{"name":"z"}]})";
  const int32_t a[2] = {-7, 123456};
  std::string body = header;
  body.append(reinterpret_cast<const char*>(a), sizeof(a));
  body += "\x01\x02\x03";
  auto r = Parse(body, header.size());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<int32_t>(r->request.inputs[0].tensor), (std::vector<int32_t>{-7, 123456}));
  EXPECT_EQ(r->request.inputs[1].tensor.data<float>()[0], 2.5f);
  EXPECT_EQ(Values<uint8_t>(r->request.inputs[2].tensor), (std::vector<uint8_t>{1, 2, 3}));

  InferResponse resp;
  resp.model = "m";
  resp.version = "1";
  resp.outputs.push_back({"y", r->request.inputs[0].tensor});
  resp.outputs.push_back({"z", r->request.inputs[2].tensor});
  EncodedInferResponse enc = EncodeInferResponse(resp, r->output_format);
  ASSERT_TRUE(enc.header_length.has_value());
  const json out = json::parse(enc.body.substr(0, *enc.header_length));
  EXPECT_EQ(out["outputs"][0]["parameters"]["binary_data_size"], 8);
  EXPECT_FALSE(out["outputs"][0].contains("data"));
  EXPECT_EQ(out["outputs"][1]["data"], json::array({1, 2, 3}));
  EXPECT_EQ(enc.body.substr(*enc.header_length), std::string(reinterpret_cast<const char*>(a), 8));
}

TEST(HttpCodec, BytesAreStringsInJsonAndLengthPrefixedInBinary) {
  // JSON: nested arrays of strings. Binary: "hi" and "" as 4-byte little-endian lengths and bytes.
  const std::string header =
      R"({"inputs":[{"name":"a","datatype":"BYTES","shape":[1,2],"data":[["x\"y","\u00e9"]]},)"
      R"({"name":"b","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":10}}],)"
      R"("outputs":[{"name":"y"},{"name":"z","parameters":{"binary_data":true}}]})";
  const std::string binary("\x02\0\0\0hi\0\0\0\0", 10);
  auto r = Parse(header + binary, header.size());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Tensor& a = r->request.inputs[0].tensor;
  ASSERT_EQ(a.dtype(), DataType::kString);
  EXPECT_EQ(a.shape(), Shape({1, 2}));
  EXPECT_EQ(a.data<std::string>()[0], "x\"y");
  EXPECT_EQ(a.data<std::string>()[1], "\xC3\xA9");
  const Tensor& b = r->request.inputs[1].tensor;
  ASSERT_EQ(b.dtype(), DataType::kString);
  EXPECT_EQ(b.data<std::string>()[0], "hi");
  EXPECT_EQ(b.data<std::string>()[1], "");

  InferResponse resp;
  resp.model = "m";
  resp.version = "1";
  resp.outputs.push_back({"y", a});
  resp.outputs.push_back({"z", b});
  EncodedInferResponse enc = EncodeInferResponse(resp, r->output_format);
  ASSERT_TRUE(enc.header_length.has_value());
  const json out = json::parse(enc.body.substr(0, *enc.header_length));
  EXPECT_EQ(out["outputs"][0]["datatype"], "BYTES");
  EXPECT_EQ(out["outputs"][0]["data"], json::array({"x\"y", "\xC3\xA9"}));
  EXPECT_EQ(out["outputs"][1]["parameters"]["binary_data_size"], 10);
  EXPECT_EQ(enc.body.substr(*enc.header_length), binary);
}

TEST(HttpCodec, RefusesMalformedRequests) {
  const std::string bin_header =
      R"({"inputs":[{"name":"x","datatype":"INT32","shape":[2],"parameters":{"binary_data_size":8}}]})";
  struct Case {
    const char* what;
    std::string body;
    std::optional<uint64_t> header_length;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"not JSON", "{\"inputs\": [", std::nullopt, "malformed JSON"},
      {"not an object", "[1,2]", std::nullopt, "JSON object"},
      {"no inputs", "{}", std::nullopt, "'inputs'"},
      {"input without name", R"({"inputs":[{"datatype":"INT32","shape":[1],"data":[1]}]})",
       std::nullopt, "'name'"},
      {"unknown datatype", OneInput("INT33", "[1]", "[1]"), std::nullopt, "unknown datatype"},
      {"BYTES of a number", OneInput("BYTES", "[1]", "[1]"), std::nullopt, "a string"},
      {"BYTES length past the end",
       R"({"inputs":[{"name":"x","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":5}}]})" +
           std::string("\x09\0\0\0a", 5),
       92, "past the end"},
      {"negative dim", OneInput("INT32", "[-1]", "[1]"), std::nullopt, "non-negative"},
      {"fractional dim", OneInput("INT32", "[1.5]", "[1]"), std::nullopt, "non-negative"},
      {"too few elements", OneInput("INT32", "[3]", "[1,2]"), std::nullopt, "needs 3"},
      {"too many elements", OneInput("INT32", "[1]", "[1,2]"), std::nullopt, "more elements"},
      {"huge shape, little data", OneInput("FP32", "[100000000000]", "[1]"), std::nullopt,
       "more than the request's JSON can hold"},
      {"overflowing shape", OneInput("FP32", "[4294967296,4294967296,4294967296]", "[1]"),
       std::nullopt, "too large"},
      {"object element", OneInput("FP32", "[1]", "[{}]"), std::nullopt, "element 0"},
      {"data not an array", OneInput("FP32", "[1]", "1"), std::nullopt, "'data'"},
      {"too deep", OneInput("FP32", "[1]", std::string(100, '[') + "1" + std::string(100, ']')),
       std::nullopt, "too deep"},
      {"no data", R"({"inputs":[{"name":"x","datatype":"INT32","shape":[1]}]})", std::nullopt,
       "neither"},
      {"duplicate input",
       R"({"inputs":[{"name":"x","datatype":"INT32","shape":[1],"data":[1]},)"
       R"({"name":"x","datatype":"INT32","shape":[1],"data":[1]}]})",
       std::nullopt, "twice"},
      {"binary size vs shape",
       R"({"inputs":[{"name":"x","datatype":"INT32","shape":[2],"parameters":{"binary_data_size":4}}]})"
       "1234",
       92, "does not match"},
      {"binary past the end", bin_header + "1234", bin_header.size(), "past the end"},
      {"header length beyond body", bin_header, bin_header.size() + 1, "exceeds"},
      {"leftover binary", bin_header + std::string(12, '\0'), bin_header.size(), "belong to no"},
      {"bad timeout", R"({"parameters":{"timeout":-5},"inputs":[]})", std::nullopt, "timeout"},
      {"bad binary_data_output", R"({"parameters":{"binary_data_output":1},"inputs":[]})",
       std::nullopt, "binary_data_output"},
      {"id not a string", R"({"id":5,"inputs":[]})", std::nullopt, "'id'"},
      {"duplicate output", R"({"inputs":[],"outputs":[{"name":"y"},{"name":"y"}]})", std::nullopt,
       "twice"},
      {"classification",
       R"({"inputs":[],"outputs":[{"name":"y","parameters":{"classification":2}}]})", std::nullopt,
       "classification"},
      {"shared memory",
       R"({"inputs":[{"name":"x","datatype":"INT32","shape":[1],"parameters":{"shared_memory_region":"r"}}]})",
       std::nullopt, "shared memory"},
  };
  for (const Case& c : cases) {
    auto r = Parse(c.body, c.header_length);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << c.what;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.what;
  }
}

TEST(HttpCodec, ModelConfigJsonUsesProtoNamesAndNumbers) {
  inference::ModelConfig config;
  config.set_name("simple");
  config.set_max_batch_size(8);
  auto* in = config.add_input();
  in->set_name("INPUT0");
  in->set_data_type(inference::TYPE_INT32);
  in->add_dims(16);
  config.mutable_dynamic_batching()->set_max_queue_delay_microseconds(100);
  auto text = ModelConfigJson(config);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const json j = json::parse(*text);
  EXPECT_EQ(j["name"], "simple");
  EXPECT_EQ(j["max_batch_size"], 8);
  EXPECT_EQ(j["input"][0]["data_type"], "TYPE_INT32");
  EXPECT_EQ(j["input"][0]["dims"], json::array({16}));
  EXPECT_EQ(j["dynamic_batching"]["max_queue_delay_microseconds"], 100);
}

TEST(HttpCodec, RepositoryRequests) {
  EXPECT_EQ(ParseRepositoryIndexRequest("").value(), false);
  EXPECT_EQ(ParseRepositoryIndexRequest(R"({"ready":true})").value(), true);
  EXPECT_FALSE(ParseRepositoryIndexRequest(R"({"ready":"yes"})").ok());
  EXPECT_EQ(ParseLoadRequest("").value(), "");
  EXPECT_EQ(ParseLoadRequest(R"({"parameters":{"config":"{\"max_batch_size\":2}"}})").value(),
            "{\"max_batch_size\":2}");
  EXPECT_FALSE(ParseLoadRequest(R"({"parameters":{"config":{}}})").ok());
  EXPECT_FALSE(ParseLoadRequest(R"({"parameters":{"file:1/model.onnx":"AAAA"}})").ok());
  EXPECT_FALSE(ParseLoadRequest("[").ok());
  EXPECT_TRUE(ParseUnloadRequest(R"({"parameters":{"unload_dependents":false}})").ok());
}

TEST(HttpCodec, PathSegmentsAreDecoded) {
  EXPECT_EQ(DecodePathSegment("my%20model").value(), "my model");
  EXPECT_EQ(DecodePathSegment("plain").value(), "plain");
  EXPECT_FALSE(DecodePathSegment("bad%2").has_value());
  EXPECT_FALSE(DecodePathSegment("bad%zz").has_value());
}

}  // namespace
}  // namespace supernova::server::http

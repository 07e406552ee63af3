#include "server/grpc_fixture.h"

#include <sstream>

namespace supernova::server::grpc_test {

std::vector<int32_t> Input0(int batch, int seed) {
  std::vector<int32_t> v;
  for (int r = 0; r < batch; ++r)
    for (int i = 0; i < kSimpleWidth; ++i) v.push_back(100 * r + i + seed);
  return v;
}
std::vector<int32_t> Input1(int batch) {
  std::vector<int32_t> v;
  for (int r = 0; r < batch; ++r)
    for (int i = 0; i < kSimpleWidth; ++i) v.push_back(3 * i - r);
  return v;
}

void AddInput(ModelInferRequest* req, const std::string& name, const std::string& datatype,
              std::vector<int64_t> shape) {
  auto* in = req->add_inputs();
  in->set_name(name);
  in->set_datatype(datatype);
  for (int64_t d : shape) in->add_shape(d);
}

ModelInferRequest SimpleRequest(int batch, int seed, bool typed) {
  ModelInferRequest req;
  req.set_model_name("simple");
  req.set_id("req-" + std::to_string(seed));
  const std::vector<int32_t> a = Input0(batch, seed), b = Input1(batch);
  AddInput(&req, "INPUT0", "INT32", {batch, kSimpleWidth});
  AddInput(&req, "INPUT1", "INT32", {batch, kSimpleWidth});
  if (typed) {
    for (int32_t x : a) req.mutable_inputs(0)->mutable_contents()->add_int_contents(x);
    for (int32_t x : b) req.mutable_inputs(1)->mutable_contents()->add_int_contents(x);
  } else {
    req.add_raw_input_contents(Bytes(a));
    req.add_raw_input_contents(Bytes(b));
  }
  return req;
}

void ExpectSimpleAnswer(const ModelInferResponse& resp, int batch, int seed,
                        std::vector<std::string> names) {
  EXPECT_EQ(resp.model_name(), "simple");
  EXPECT_EQ(resp.model_version(), "1");
  EXPECT_EQ(resp.id(), "req-" + std::to_string(seed));
  ASSERT_EQ(resp.outputs_size(), static_cast<int>(names.size()));
  ASSERT_EQ(resp.raw_output_contents_size(), resp.outputs_size());
  const std::vector<int32_t> a = Input0(batch, seed), b = Input1(batch);
  for (int o = 0; o < resp.outputs_size(); ++o) {
    const auto& out = resp.outputs(o);
    EXPECT_EQ(out.name(), names[static_cast<size_t>(o)]);
    EXPECT_EQ(out.datatype(), "INT32");
    EXPECT_EQ(std::vector<int64_t>(out.shape().begin(), out.shape().end()),
              (std::vector<int64_t>{batch, kSimpleWidth}));
    const std::vector<int32_t> got = FromBytes<int32_t>(resp.raw_output_contents(o));
    ASSERT_EQ(got.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(got[i], out.name() == "OUTPUT0" ? a[i] + b[i] : a[i] - b[i])
          << out.name() << " element " << i;
  }
}

std::string CodeText(const grpc::Status& s) {
  return std::to_string(s.error_code()) + " " + s.error_message();
}

double Metric(const InferenceServer& core, const std::string& series) {
  std::istringstream text(core.MetricsText());
  for (std::string line; std::getline(text, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

}  // namespace supernova::server::grpc_test

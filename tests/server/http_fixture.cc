#include "server/http_fixture.h"

#include <chrono>
#include <random>
#include <thread>

namespace supernova::server::http_test {

bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

int64_t Metric(InferenceServer& core, const std::string& series) {
  const std::string text = core.MetricsText();
  const size_t at = text.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 1));
}

SimpleCase MakeSimple(int batch, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(-1000000, 1000000);
  SimpleCase c;
  c.batch = batch;
  for (int i = 0; i < batch * 16; ++i) {
    c.in0.push_back(dist(rng));
    c.in1.push_back(dist(rng));
  }
  return c;
}

namespace {

json Nested(const std::vector<int32_t>& v, int batch) {
  json rows = json::array();
  for (int b = 0; b < batch; ++b)
    rows.push_back(std::vector<int32_t>(v.begin() + b * 16, v.begin() + (b + 1) * 16));
  return rows;
}

}  // namespace

std::string SimpleJson(const SimpleCase& c, bool nested, const json& extra) {
  json j = {{"inputs",
             {{{"name", "INPUT0"},
               {"shape", {c.batch, 16}},
               {"datatype", "INT32"},
               {"data", nested ? Nested(c.in0, c.batch) : json(c.in0)}},
              {{"name", "INPUT1"},
               {"shape", {c.batch, 16}},
               {"datatype", "INT32"},
               {"data", nested ? Nested(c.in1, c.batch) : json(c.in1)}}}}};
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return j.dump();
}

std::vector<int32_t> Sum(const SimpleCase& c) {
  std::vector<int32_t> s;
  for (size_t i = 0; i < c.in0.size(); ++i) s.push_back(c.in0[i] + c.in1[i]);
  return s;
}
std::vector<int32_t> Difference(const SimpleCase& c) {
  std::vector<int32_t> d;
  for (size_t i = 0; i < c.in0.size(); ++i) d.push_back(c.in0[i] - c.in1[i]);
  return d;
}

const json* FindOutput(const json& response, const std::string& name) {
  for (const json& o : response["outputs"])
    if (o["name"] == name) return &o;
  return nullptr;
}

void ExpectSimpleJson(const httplib::Result& res, const SimpleCase& c) {
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const json j = json::parse(res->body);
  EXPECT_EQ(j["model_name"], "simple");
  EXPECT_EQ(j["model_version"], "1");
  const json* o0 = FindOutput(j, "OUTPUT0");
  const json* o1 = FindOutput(j, "OUTPUT1");
  ASSERT_TRUE(o0 && o1) << res->body;
  EXPECT_EQ((*o0)["datatype"], "INT32");
  EXPECT_EQ((*o0)["shape"], json::array({c.batch, 16}));
  EXPECT_EQ((*o0)["data"].get<std::vector<int32_t>>(), Sum(c));
  EXPECT_EQ((*o1)["data"].get<std::vector<int32_t>>(), Difference(c));
}

void ExpectSimpleOk(httplib::Client& cli, uint32_t seed) {
  const SimpleCase c = MakeSimple(1 + static_cast<int>(seed % 3), seed);
  ExpectSimpleJson(cli.Post("/v2/models/simple/infer", SimpleJson(c), "application/json"), c);
}

BinaryBody MakeBinary(const json& header, const std::vector<std::string>& blobs) {
  BinaryBody b;
  b.body = header.dump();
  b.header_length = b.body.size();
  for (const std::string& blob : blobs) b.body += blob;
  return b;
}

httplib::Result PostBinary(httplib::Client& cli, const std::string& path, const BinaryBody& b,
                           httplib::Headers headers) {
  headers.emplace("Inference-Header-Content-Length", std::to_string(b.header_length));
  return cli.Post(path.c_str(), headers, b.body, "application/octet-stream");
}

BinaryResponse SplitBinary(const httplib::Response& res) {
  BinaryResponse out;
  const size_t n = std::stoul(res.get_header_value("Inference-Header-Content-Length"));
  out.header = json::parse(res.body.substr(0, n));
  size_t at = n;
  for (const json& o : out.header["outputs"]) {
    if (!o.contains("parameters") || !o["parameters"].contains("binary_data_size")) continue;
    const size_t size = o["parameters"]["binary_data_size"].get<size_t>();
    out.blobs[o["name"].get<std::string>()] = res.body.substr(at, size);
    at += size;
  }
  EXPECT_EQ(at, res.body.size());
  return out;
}

std::string HttpPost(const std::string& path, const std::string& body,
                     const std::string& extra_headers) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace supernova::server::http_test

// The server core without a network: repository loading, config completion and checks,
// request validation, dynamic batching, the bounded queue, timeouts, cancellation, reloads
// under load, polling, auth, metrics and graceful shutdown.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <future>
#include <sstream>
#include <thread>

#include "server/inference_server.h"
#include "server/metrics.h"
#include "server/model_config.h"
#include "server/scheduler.h"
#include "server/test_repository.h"

namespace supernova::server {
namespace {

using ::testing::HasSubstr;
using testing::TempRepository;

struct Reply {
  Status status;
  InferResponse response;
};

Reply InferSync(InferenceServer& server, InferRequest request) {
  std::promise<Reply> promise;
  auto future = promise.get_future();
  server.Infer(std::move(request), [&promise](Status s, InferResponse r) {
    promise.set_value({s, std::move(r)});
  });
  return future.get();
}

InferRequest SimpleRequest(int64_t batch, int32_t seed) {
  InferRequest r;
  r.model = "simple";
  std::vector<int32_t> a(batch * 16), b(batch * 16);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = seed + static_cast<int32_t>(i);
    b[i] = 3 * static_cast<int32_t>(i) - seed;
  }
  r.inputs = {{"INPUT0", Tensor::FromVector(a, {batch, 16})},
              {"INPUT1", Tensor::FromVector(b, {batch, 16})}};
  return r;
}

void ExpectSimpleOutputs(const InferRequest& request, const InferResponse& response) {
  ASSERT_EQ(response.outputs.size(), 2u);
  const Tensor& a = request.inputs[0].tensor;
  const Tensor& b = request.inputs[1].tensor;
  EXPECT_EQ(response.outputs[0].name, "OUTPUT0");
  EXPECT_EQ(response.outputs[0].tensor.shape(), a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) {
    EXPECT_EQ(response.outputs[0].tensor.data<int32_t>()[i],
              a.data<int32_t>()[i] + b.data<int32_t>()[i]);
    EXPECT_EQ(response.outputs[1].tensor.data<int32_t>()[i],
              a.data<int32_t>()[i] - b.data<int32_t>()[i]);
  }
}

InferRequest ChainRequest(const std::string& model, int64_t batch, int64_t width, float seed) {
  InferRequest r;
  r.model = model;
  std::vector<float> x(batch * width);
  for (size_t i = 0; i < x.size(); ++i) x[i] = seed + 0.25f * static_cast<float>(i % 97);
  r.inputs = {{"x", Tensor::FromVector(x, {batch, width})}};
  return r;
}

// y == x for the identity chain.
void ExpectEcho(const InferRequest& request, const InferResponse& response) {
  ASSERT_EQ(response.outputs.size(), 1u);
  const Tensor& x = request.inputs[0].tensor;
  const Tensor& y = response.outputs[0].tensor;
  ASSERT_EQ(y.shape(), x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    ASSERT_EQ(y.data<float>()[i], x.data<float>()[i]) << i;
  }
}

// `name{labels} value` or `name value`: a metric name, balanced labels, one space, a number.
bool IsPrometheusSample(const std::string& line) {
  size_t i = 0;
  auto name_char = [](char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
           (!first && std::isdigit(static_cast<unsigned char>(c)));
  };
  while (i < line.size() && name_char(line[i], i == 0)) ++i;
  if (i == 0) return false;
  if (i < line.size() && line[i] == '{') {
    const size_t close = line.find('}', i);
    if (close == std::string::npos) return false;
    i = close + 1;
  }
  if (i >= line.size() || line[i] != ' ') return false;
  const std::string value = line.substr(i + 1);
  if (value == "+Inf" || value == "-Inf" || value == "NaN") return true;
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  return !value.empty() && end == value.c_str() + value.size();
}

std::unique_ptr<InferenceServer> StartServer(const std::string& repo, ServerOptions opts = {}) {
  opts.model_repository = repo;
  auto server = InferenceServer::Create(opts);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

const std::string kSlowConfig = R"(
max_batch_size: 8
dynamic_batching { max_queue_delay_microseconds: 2000 }
instance_group [ { count: 1 kind: KIND_CPU } ]
)";

TEST(ServerCore, ServesTheBundledSimpleModel) {
  TempRepository repo;
  repo.AddBundled("simple");
  auto server = StartServer(repo.path());
  ASSERT_TRUE(server);
  EXPECT_TRUE(server->Live());
  EXPECT_TRUE(server->Ready());
  EXPECT_TRUE(server->ModelReady("simple", ""));
  EXPECT_TRUE(server->ModelReady("simple", "1"));
  EXPECT_FALSE(server->ModelReady("simple", "2"));
  for (int64_t batch : {1, 3, 8}) {
    InferRequest req = SimpleRequest(batch, 5);
    req.id = "req-" + std::to_string(batch);
    Reply r = InferSync(*server, req);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.response.model, "simple");
    EXPECT_EQ(r.response.version, "1");
    EXPECT_EQ(r.response.id, req.id);
    ExpectSimpleOutputs(req, r.response);
  }
  // One output asked for by name.
  InferRequest req = SimpleRequest(2, 9);
  req.outputs = {"OUTPUT1"};
  Reply r = InferSync(*server, req);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.response.outputs.size(), 1u);
  EXPECT_EQ(r.response.outputs[0].name, "OUTPUT1");
  EXPECT_EQ(r.response.outputs[0].tensor.data<int32_t>()[0], 9 - (-9));
}

TEST(ServerCore, MetadataAndConfigFollowTriton) {
  TempRepository repo;
  repo.AddBundled("simple");
  auto server = StartServer(repo.path());
  auto md = server->GetModelMetadata("simple", "");
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(md->platform, "onnxruntime_onnx");
  EXPECT_EQ(md->versions, std::vector<std::string>{"1"});
  ASSERT_EQ(md->inputs.size(), 2u);
  EXPECT_EQ(md->inputs[0].name, "INPUT0");
  EXPECT_EQ(md->inputs[0].datatype, "INT32");
  EXPECT_EQ(md->inputs[0].shape, (std::vector<int64_t>{-1, 16}));
  auto config = server->GetModelConfig("simple", "1");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->max_batch_size(), 8);
  EXPECT_EQ(config->dynamic_batching().preferred_batch_size_size(), 2);
  EXPECT_EQ(server->GetModelMetadata("nope", "").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(server->GetModelConfig("simple", "7").status().code(), Status::Code::kNotFound);
}

TEST(ServerCore, ModelWithoutConfigGetsOneFromTheOnnxFile) {
  TempRepository repo;
  repo.AddIdentityChain("echo", 32, 2, "");
  auto server = StartServer(repo.path());
  auto config = server->GetModelConfig("echo", "");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->name(), "echo");
  EXPECT_EQ(config->platform(), "onnxruntime_onnx");
  EXPECT_EQ(config->max_batch_size(), kDefaultMaxBatchSize);
  EXPECT_TRUE(config->has_dynamic_batching());
  ASSERT_EQ(config->input_size(), 1);
  EXPECT_EQ(config->input(0).name(), "x");
  EXPECT_EQ(config->input(0).data_type(), inference::TYPE_FP32);
  EXPECT_EQ(config->input(0).dims_size(), 1);
  EXPECT_EQ(config->input(0).dims(0), 32);
  EXPECT_EQ(InstanceCount(*config), 1);
  InferRequest req = ChainRequest("echo", 3, 32, 1.5f);
  Reply r = InferSync(*server, req);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ExpectEcho(req, r.response);
}

TEST(ServerCore, BadConfigsFailTheirModelWithAReasonAndNothingElse) {
  TempRepository repo;
  repo.AddBundled("simple");
  repo.AddIdentityChain("bad_syntax", 8, 1, "max_batch_size: 4\ninput [ { name: \"x\" ");
  repo.AddIdentityChain("bad_input", 8, 1, "max_batch_size: 4\ninput [ { name: \"z\" } ]");
  repo.AddIdentityChain(
      "bad_dtype", 8, 1,
      "max_batch_size: 4\ninput [ { name: \"x\" data_type: TYPE_INT64 dims: [8] } ]");
  repo.AddIdentityChain(
      "bad_dims", 8, 1,
      "max_batch_size: 4\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [9] } ]");
  repo.AddIdentityChain("bad_name", 8, 1, "name: \"other\"");
  repo.AddIdentityChain("bad_preferred", 8, 1,
                        "max_batch_size: 4\ndynamic_batching { preferred_batch_size: [ 16 ] }");
  // One over kMaxInstances; and two counts whose sum overflows an int (found by fuzzing).
  repo.AddIdentityChain("bad_instances", 8, 1,
                        "instance_group [ { count: 200 }, { count: 57 kind: KIND_CPU } ]");
  repo.AddIdentityChain("bad_instances_overflow", 8, 1,
                        "instance_group [ { count: 2147483647 }, { count: 2147483647 } ]");
  repo.WriteFile("broken_onnx/1/model.onnx", "this is not a protobuf");
  repo.WriteFile("no_versions/config.pbtxt", "max_batch_size: 1");
  auto server = StartServer(repo.path());
  ASSERT_TRUE(server);
  std::map<std::string, std::string> reasons;
  for (const RepositoryEntry& e : server->RepositoryIndex(false))
    if (e.state != "READY") reasons[e.name] = e.reason;
  EXPECT_THAT(reasons["bad_syntax"], HasSubstr("line 2"));
  EXPECT_THAT(reasons["bad_input"], HasSubstr("'z' is not an input of the model"));
  EXPECT_THAT(reasons["bad_dtype"], HasSubstr("TYPE_INT64 in the config but float32"));
  EXPECT_THAT(reasons["bad_dims"], HasSubstr("dims [9]"));
  EXPECT_THAT(reasons["bad_name"], HasSubstr("differs from the model's directory name"));
  EXPECT_THAT(reasons["bad_preferred"], HasSubstr("preferred_batch_size 16"));
  EXPECT_THAT(reasons["bad_instances"], HasSubstr("add up to 257 instances, over the 256"));
  EXPECT_THAT(reasons["bad_instances_overflow"], HasSubstr("add up to 4294967294 instances"));
  EXPECT_FALSE(reasons["broken_onnx"].empty());
  EXPECT_THAT(reasons["no_versions"], HasSubstr("no version directory"));
  EXPECT_EQ(reasons.count("simple"), 0u);
  // The good model still serves, and the bad ones answer with their reason.
  InferRequest req = SimpleRequest(1, 1);
  Reply ok = InferSync(*server, req);
  ASSERT_TRUE(ok.status.ok());
  ExpectSimpleOutputs(req, ok.response);
  Reply bad = InferSync(*server, ChainRequest("bad_input", 1, 8, 0));
  EXPECT_EQ(bad.status.code(), Status::Code::kUnavailable);
  EXPECT_THAT(bad.status.message(), HasSubstr("not an input"));
}

TEST(ServerCore, TritonConfigFieldsWeDoNotReadAreSkippedWithAWarning) {
  std::vector<std::string> warnings;
  auto config = ParseModelConfig(R"(
name: "m"
platform: "onnxruntime_onnx"
max_batch_size: 4
optimization { execution_accelerators { cpu_execution_accelerator: [ { name: "openvino" } ] } }
model_warmup [ { name: "w" batch_size: 1 } ]
)",
                                 &warnings);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->max_batch_size(), 4);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], HasSubstr("optimization"));
  EXPECT_THAT(warnings[1], HasSubstr("model_warmup"));
}

TEST(ServerCore, InvalidRequestsGetAClearErrorAndDoNotDisturbOthers) {
  TempRepository repo;
  repo.AddBundled("simple");
  auto server = StartServer(repo.path());
  auto expect_error = [&](InferRequest req, Status::Code code, const std::string& text) {
    Reply r = InferSync(*server, std::move(req));
    EXPECT_EQ(r.status.code(), code) << r.status.ToString();
    EXPECT_THAT(r.status.message(), HasSubstr(text));
    InferRequest good = SimpleRequest(1, 2);
    Reply ok = InferSync(*server, good);
    ASSERT_TRUE(ok.status.ok()) << ok.status.ToString();
    ExpectSimpleOutputs(good, ok.response);
  };
  InferRequest r = SimpleRequest(1, 0);
  r.model = "missing";
  expect_error(r, Status::Code::kNotFound, "unknown model 'missing'");
  r = SimpleRequest(1, 0);
  r.version = "3";
  expect_error(r, Status::Code::kNotFound, "no ready version 3");
  r = SimpleRequest(1, 0);
  r.version = "x1";
  expect_error(r, Status::Code::kInvalidArgument, "invalid version");
  r = SimpleRequest(1, 0);
  r.inputs[0].tensor = Tensor::FromVector(std::vector<float>(16, 1.0f), {1, 16});
  expect_error(r, Status::Code::kInvalidArgument, "datatype FP32 but model 'simple' expects INT32");
  r = SimpleRequest(1, 0);
  r.inputs[1].tensor = Tensor::FromVector(std::vector<int32_t>(15, 1), {1, 15});
  expect_error(r, Status::Code::kInvalidArgument,
               "shape [1,15] but model 'simple' expects [batch,16]");
  r = SimpleRequest(9, 0);
  expect_error(r, Status::Code::kInvalidArgument, "batch size 9, outside 1..8");
  r = SimpleRequest(2, 0);
  r.inputs[1].tensor = Tensor::FromVector(std::vector<int32_t>(48, 1), {3, 16});
  expect_error(r, Status::Code::kInvalidArgument, "batch size 3 but an earlier input has 2");
  r = SimpleRequest(1, 0);
  r.inputs.pop_back();
  expect_error(r, Status::Code::kInvalidArgument, "missing input 'INPUT1'");
  r = SimpleRequest(1, 0);
  r.inputs.push_back(r.inputs[0]);
  expect_error(r, Status::Code::kInvalidArgument, "given twice");
  r = SimpleRequest(1, 0);
  r.inputs[0].name = "INPUT9";
  expect_error(r, Status::Code::kInvalidArgument, "unexpected input 'INPUT9'");
  r = SimpleRequest(1, 0);
  r.outputs = {"OUTPUT7"};
  expect_error(r, Status::Code::kInvalidArgument, "unexpected output 'OUTPUT7'");
  const std::string metrics = server->MetricsText();
  EXPECT_EQ(testing::MetricSample(metrics, "nv_inference_request_failure", "reason=\"INVALID\""),
            8);
}

TEST(ServerCore, DynamicBatchingMergesConcurrentRequestsAndSplitsExactly) {
  TempRepository repo;
  repo.AddIdentityChain("slow", 256, 24, kSlowConfig);
  auto server = StartServer(repo.path());
  constexpr int kRequests = 24;
  std::vector<InferRequest> requests;
  std::vector<std::promise<Reply>> promises(kRequests);
  for (int i = 0; i < kRequests; ++i) requests.push_back(ChainRequest("slow", 1 + i % 3, 256, i));
  for (int i = 0; i < kRequests; ++i)
    server->Infer(requests[i], [&promises, i](Status s, InferResponse r) {
      promises[i].set_value({s, std::move(r)});
    });
  int64_t rows = 0;
  for (int i = 0; i < kRequests; ++i) {
    Reply r = promises[i].get_future().get();
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ExpectEcho(requests[i], r.response);
    rows += requests[i].inputs[0].tensor.dim(0);
  }
  const std::string metrics = server->MetricsText();
  const double executions =
      testing::MetricSample(metrics, "nv_inference_exec_count", "model=\"slow\"");
  EXPECT_EQ(testing::MetricSample(metrics, "nv_inference_count", "model=\"slow\""), rows);
  EXPECT_EQ(testing::MetricSample(metrics, "nv_inference_request_success", "model=\"slow\""),
            kRequests);
  // 24 requests of 48 rows with max_batch_size 8: at least 6 executions, and far fewer than 24.
  EXPECT_GE(executions, 6);
  EXPECT_LT(executions, kRequests);
  EXPECT_GT(testing::MetricSample(metrics, "supernova_batch_size_bucket", "le=\"8\""),
            testing::MetricSample(metrics, "supernova_batch_size_bucket", "le=\"1\""));
}

TEST(ServerCore, ThreeInstancesShareOneVersionAndAnswerExactly) {
  TempRepository repo;
  repo.AddIdentityChain("multi", 128, 8, R"(
max_batch_size: 4
instance_group [ { count: 2 kind: KIND_CPU }, { count: 1 } ]
parameters { key: "num_threads" value: { string_value: "1" } }
)");
  auto server = StartServer(repo.path());
  auto config = server->GetModelConfig("multi", "");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(InstanceCount(*config), 3);
  std::vector<std::thread> clients;
  std::atomic<int> exact{0};
  for (int c = 0; c < 6; ++c)
    clients.emplace_back([&, c] {
      for (int i = 0; i < 10; ++i) {
        InferRequest req = ChainRequest("multi", 1 + i % 4, 128, static_cast<float>(c * 10 + i));
        Reply r = InferSync(*server, req);
        if (!r.status.ok()) continue;
        const Tensor& y = r.response.outputs[0].tensor;
        bool same = y.shape() == req.inputs[0].tensor.shape();
        for (int64_t k = 0; same && k < y.numel(); ++k)
          same = y.data<float>()[k] == req.inputs[0].tensor.data<float>()[k];
        exact += same;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(exact.load(), 60);
}

// A config's max_run_bytes parameter (or the server's default) bounds the tensors one
// inference may hold: a request past it fails with ResourceExhausted and the model goes on.
TEST(ServerCore, RunMemoryLimitRefusesTheRequestThatWouldPassItAndServesTheNext) {
  TempRepository repo;
  repo.AddIdentityChain(
      "bounded", 64, 2,
      R"(parameters { key: "max_run_bytes" value: { string_value: "1048576" } })");
  repo.AddIdentityChain("server_default", 64, 2, "max_batch_size: 0");
  repo.AddIdentityChain("bad_limit", 64, 2,
                        R"(parameters { key: "max_run_bytes" value: { string_value: "1MB" } })");
  ServerOptions opts;
  opts.max_run_bytes = size_t{1} << 20;
  auto server = StartServer(repo.path(), opts);
  ASSERT_TRUE(server);
  std::map<std::string, std::string> reasons;
  for (const RepositoryEntry& e : server->RepositoryIndex(false))
    if (e.state != "READY") reasons[e.name] = e.reason;
  EXPECT_THAT(reasons["bad_limit"], HasSubstr("max_run_bytes must be a number of bytes"));
  EXPECT_EQ(reasons.count("bounded"), 0u);
  for (const std::string model : {"bounded", "server_default"}) {
    SCOPED_TRACE(model);
    // 8192 rows of 64 floats are 2 MiB for each tensor the chain makes.
    Reply big = InferSync(*server, ChainRequest(model, 8192, 64, 1));
    EXPECT_EQ(big.status.code(), Status::Code::kResourceExhausted) << big.status.ToString();
    EXPECT_THAT(big.status.message(), HasSubstr("max_run_bytes"));
    const InferRequest small = ChainRequest(model, 256, 64, 2);  // 64 KiB a tensor
    Reply r = InferSync(*server, small);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ExpectEcho(small, r.response);
    EXPECT_TRUE(server->ModelReady(model, ""));
  }
}

TEST(ServerCore, FullQueueRefusesAtOnceInsteadOfGrowing) {
  TempRepository repo;
  repo.AddIdentityChain("slow", 512, 32, R"(
max_batch_size: 1
dynamic_batching { default_queue_policy { max_queue_size: 2 } }
)");
  auto server = StartServer(repo.path());
  constexpr int kRequests = 12;
  std::vector<InferRequest> requests;
  std::vector<std::promise<Reply>> promises(kRequests);
  for (int i = 0; i < kRequests; ++i) requests.push_back(ChainRequest("slow", 1, 512, i));
  for (int i = 0; i < kRequests; ++i)
    server->Infer(requests[i], [&promises, i](Status s, InferResponse r) {
      promises[i].set_value({s, std::move(r)});
    });
  int ok = 0, refused = 0;
  for (int i = 0; i < kRequests; ++i) {
    Reply r = promises[i].get_future().get();
    if (r.status.ok()) {
      ++ok;
      ExpectEcho(requests[i], r.response);
    } else {
      EXPECT_EQ(r.status.code(), Status::Code::kUnavailable);
      EXPECT_THAT(r.status.message(), HasSubstr("queue is full"));
      ++refused;
    }
  }
  // One running and two queued at most while the others arrive.
  EXPECT_GE(ok, 1);
  EXPECT_GE(refused, 1);
  EXPECT_EQ(ok + refused, kRequests);
  EXPECT_EQ(testing::MetricSample(server->MetricsText(), "nv_inference_request_failure",
                                  "reason=\"REJECTED\""),
            refused);
}

TEST(ServerCore, TimedOutRequestsFailWithoutRunningAndCancelledOnesLeaveTheQueue) {
  TempRepository repo;
  repo.AddIdentityChain("slow", 512, 48, "max_batch_size: 1\ndynamic_batching { }");
  auto server = StartServer(repo.path());
  // Occupy the only instance, then queue one request with a short timeout and one to cancel.
  std::promise<Reply> first, timed, cancelled;
  server->Infer(ChainRequest("slow", 1, 512, 0), [&](Status s, InferResponse r) {
    first.set_value({s, std::move(r)});
  });
  InferRequest t = ChainRequest("slow", 1, 512, 1);
  t.timeout_us = 1;
  server->Infer(t, [&](Status s, InferResponse r) { timed.set_value({s, std::move(r)}); });
  auto handle = server->Infer(ChainRequest("slow", 1, 512, 2), [&](Status s, InferResponse r) {
    cancelled.set_value({s, std::move(r)});
  });
  ASSERT_TRUE(handle);
  handle->Cancel();
  auto cancelled_future = cancelled.get_future();
  // Cancel answers at once, from the cancelling thread, while the first request still runs.
  ASSERT_EQ(cancelled_future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(cancelled_future.get().status.code(), Status::Code::kCancelled);
  EXPECT_EQ(timed.get_future().get().status.code(), Status::Code::kDeadlineExceeded);
  EXPECT_TRUE(first.get_future().get().status.ok());
  const std::string metrics = server->MetricsText();
  EXPECT_EQ(testing::MetricSample(metrics, "nv_inference_request_failure", "reason=\"TIMEOUT\""),
            1);
  EXPECT_EQ(testing::MetricSample(metrics, "nv_inference_request_failure", "reason=\"CANCELED\""),
            1);
  EXPECT_EQ(testing::MetricSample(metrics, "nv_inference_exec_count", "model=\"slow\""), 1);
}

TEST(ServerCore, ReloadUnderLoadSwapsVersionsWithoutFailingARequest) {
  TempRepository repo;
  repo.AddIdentityChain("m", 128, 8, "max_batch_size: 8\ndynamic_batching { }", 1);
  auto server = StartServer(repo.path());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, wrong{0}, on_v1{0}, on_v2{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&, c] {
      for (int i = 0; !stop.load(); ++i) {
        InferRequest req = ChainRequest("m", 1 + (i % 2), 128, static_cast<float>(c * 1000 + i));
        Reply r = InferSync(*server, req);
        if (!r.status.ok()) {
          ++failures;
          continue;
        }
        const Tensor& y = r.response.outputs[0].tensor;
        for (int64_t k = 0; k < y.numel(); ++k)
          if (y.data<float>()[k] != req.inputs[0].tensor.data<float>()[k]) {
            ++wrong;
            break;
          }
        (r.response.version == "1" ? on_v1 : on_v2)++;
      }
    });
  auto wait_for = [&](std::atomic<int>& counter, int n) {
    for (int i = 0; i < 2000 && counter.load() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  wait_for(on_v1, 20);
  repo.AddIdentityChain("m", 128, 8, "max_batch_size: 8\ndynamic_batching { }", 2);
  ASSERT_TRUE(server->LoadModel("m").ok());
  wait_for(on_v2, 20);
  ASSERT_TRUE(server->LoadModel("m").ok());  // the same version again: a fresh session
  wait_for(on_v2, 40);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(on_v1.load(), 20);
  EXPECT_GE(on_v2.load(), 40);
  EXPECT_TRUE(server->WaitIdle(std::chrono::seconds(30)));  // retired versions drained
  EXPECT_FALSE(server->ModelReady("m", "1"));
  EXPECT_TRUE(server->ModelReady("m", "2"));
}

// y = x for one float input of four values, without batching.
class EchoBackend : public ModelBackend {
 public:
  EchoBackend() {
    in_.push_back({"x", DataType::kFloat32, ValueKind::kTensor, true, {4}, {""}});
    out_.push_back({"y", DataType::kFloat32, ValueKind::kTensor, true, {4}, {""}});
  }
  const std::vector<TensorInfo>& inputs() const override { return in_; }
  const std::vector<TensorInfo>& outputs() const override { return out_; }
  Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
             std::vector<Tensor>* outputs) const override {
    outputs->assign({feeds.at(0).second.Clone()});
    return Status::Ok();
  }

 private:
  std::vector<TensorInfo> in_, out_;
};

// The race a reload opens: the server resolves a version, the version starts unloading, and
// only then the request reaches its scheduler. Asked to, the scheduler hands the request back
// whole instead of refusing it, so the server can send it to the successor.
TEST(ServerCore, AnUnloadingVersionHandsARequestBackWhenAskedAndRefusesItOtherwise) {
  auto config = ParseModelConfig(
      "name: \"echo\"\n"
      "input { name: \"x\" data_type: TYPE_FP32 dims: [4] }\n"
      "output { name: \"y\" data_type: TYPE_FP32 dims: [4] }\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  Metrics metrics;
  auto scheduler = std::make_shared<Scheduler>("echo", "1", std::make_shared<EchoBackend>(),
                                               *config, 16, metrics.ForModel("echo", "1"));
  scheduler->Start();
  auto request = [](float v) {
    InferRequest r;
    r.model = "echo";
    r.inputs = {{"x", Tensor::FromVector(std::vector<float>{v, v + 1, v + 2, v + 3}, {4})}};
    return r;
  };

  // Before unloading, the same call queues and answers.
  std::promise<Reply> first;
  std::optional<Scheduler::Unaccepted> unaccepted;
  scheduler->Enqueue(
      request(1),
      [&](Status s, InferResponse r) {
        first.set_value({s, std::move(r)});
      },
      [] {}, &unaccepted);
  Reply r1 = first.get_future().get();
  ASSERT_TRUE(r1.status.ok()) << r1.status.ToString();
  EXPECT_FALSE(unaccepted.has_value());
  ASSERT_EQ(r1.response.outputs.size(), 1u);
  EXPECT_EQ(r1.response.outputs[0].tensor.data<float>()[3], 4.0f);

  scheduler->Drain();
  bool called = false, finished = false;
  auto handle = scheduler->Enqueue(
      request(7), [&](Status, InferResponse) { called = true; }, [&] { finished = true; },
      &unaccepted);
  EXPECT_EQ(handle, nullptr);
  EXPECT_FALSE(called);
  EXPECT_FALSE(finished);
  ASSERT_TRUE(unaccepted.has_value());
  EXPECT_EQ(unaccepted->request.model, "echo");
  ASSERT_EQ(unaccepted->request.inputs.size(), 1u);
  EXPECT_EQ(unaccepted->request.inputs[0].tensor.data<float>()[0], 7.0f);
  unaccepted->done(Status::Ok(), {});
  unaccepted->on_finish();
  EXPECT_TRUE(called);
  EXPECT_TRUE(finished);

  // Not asked to, it refuses and says why.
  Status refused;
  scheduler->Enqueue(
      request(9), [&](Status s, InferResponse) { refused = s; }, [] {});
  EXPECT_EQ(refused.code(), Status::Code::kUnavailable);
  EXPECT_THAT(refused.message(), HasSubstr("is unloading"));
  // Only the refusal counts as a failure; the request handed back does not.
  EXPECT_THAT(metrics.Text(), HasSubstr("nv_inference_request_failure{model=\"echo\",version=\"1\","
                                        "reason=\"REJECTED\"} 1\n"));
}

TEST(ServerCore, UnloadAndExplicitLoadWithAConfigGivenAsJson) {
  TempRepository repo;
  repo.AddBundled("simple");
  auto server = StartServer(repo.path());
  ASSERT_TRUE(server->UnloadModel("simple").ok());
  EXPECT_FALSE(server->ModelReady("simple", ""));
  Reply r = InferSync(*server, SimpleRequest(1, 0));
  EXPECT_EQ(r.status.code(), Status::Code::kUnavailable);
  EXPECT_THAT(r.status.message(), HasSubstr("unloaded"));
  EXPECT_EQ(server->UnloadModel("nothing").code(), Status::Code::kNotFound);
  EXPECT_EQ(server->LoadModel("nothing").code(), Status::Code::kNotFound);
  EXPECT_EQ(server->LoadModel("../etc").code(), Status::Code::kInvalidArgument);
  // Reload with a config that turns batching off.
  ASSERT_TRUE(server
                  ->LoadModel("simple", R"({"max_batch_size": 0,
      "input": [{"name": "INPUT0", "data_type": "TYPE_INT32", "dims": [1, 16]},
                {"name": "INPUT1", "data_type": "TYPE_INT32", "dims": [1, 16]}]})")
                  .ok());
  auto config = server->GetModelConfig("simple", "");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->max_batch_size(), 0);
  InferRequest one = SimpleRequest(1, 4);
  r = InferSync(*server, one);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ExpectSimpleOutputs(one, r.response);
  EXPECT_EQ(InferSync(*server, SimpleRequest(2, 4)).status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(server->LoadModel("simple", "{not json").code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(server->ModelReady("simple", ""));  // a failed reload keeps what was serving
}

TEST(ServerCore, VersionPolicyChoosesWhichVersionsServe) {
  TempRepository repo;
  const std::string all = "max_batch_size: 4\nversion_policy { all { } }";
  repo.AddIdentityChain("m", 8, 1, all, 1);
  repo.AddIdentityChain("m", 8, 1, all, 2);
  repo.AddIdentityChain("m", 8, 1, all, 3);
  repo.AddIdentityChain("latest", 8, 1, "", 1);
  repo.AddIdentityChain("latest", 8, 1, "", 4);
  repo.AddIdentityChain("pick", 8, 1, "version_policy { specific { versions: [1] } }", 1);
  repo.AddIdentityChain("pick", 8, 1, "", 2);
  auto server = StartServer(repo.path());
  auto md = server->GetModelMetadata("m", "");
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->versions, (std::vector<std::string>{"1", "2", "3"}));
  Reply r = InferSync(*server, ChainRequest("m", 1, 8, 0));
  EXPECT_EQ(r.response.version, "3");
  InferRequest v1 = ChainRequest("m", 1, 8, 0);
  v1.version = "1";
  EXPECT_EQ(InferSync(*server, v1).response.version, "1");
  EXPECT_TRUE(server->ModelReady("latest", "4"));
  EXPECT_FALSE(server->ModelReady("latest", "1"));
  EXPECT_TRUE(server->ModelReady("pick", "1"));
  EXPECT_FALSE(server->ModelReady("pick", "2"));
}

TEST(ServerCore, PollingLoadsNewChangedAndRemovedModels) {
  TempRepository repo;
  repo.AddBundled("simple");
  ServerOptions opts;
  opts.poll_interval_s = 0.1;
  auto server = StartServer(repo.path(), opts);
  auto eventually = [](const std::function<bool()>& cond) {
    for (int i = 0; i < 600; ++i) {  // a wait, not a timing assertion: up to 30 s
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  repo.AddIdentityChain("late", 16, 1, "");
  EXPECT_TRUE(eventually([&] { return server->ModelReady("late", "1"); }));
  repo.AddIdentityChain("late", 16, 1, "", 2);
  EXPECT_TRUE(eventually([&] { return server->ModelReady("late", "2"); }));
  EXPECT_FALSE(server->ModelReady("late", "1"));
  repo.Remove("late");
  EXPECT_TRUE(eventually([&] { return !server->ModelReady("late", ""); }));
  EXPECT_TRUE(server->ModelReady("simple", "1"));
}

TEST(ServerCore, TokensSeparateInferenceFromAdministration) {
  TempRepository repo;
  ServerOptions opts;
  opts.infer_token = "infer-secret";
  opts.admin_token = "admin-secret";
  auto server = StartServer(repo.path(), opts);
  EXPECT_TRUE(server->Authorize(Access::kPublic, "").ok());
  EXPECT_EQ(server->Authorize(Access::kInfer, "").code(), Status::Code::kUnauthenticated);
  EXPECT_EQ(server->Authorize(Access::kInfer, "Basic abc").code(), Status::Code::kUnauthenticated);
  EXPECT_EQ(server->Authorize(Access::kInfer, "Bearer wrong").code(),
            Status::Code::kPermissionDenied);
  EXPECT_EQ(server->Authorize(Access::kInfer, "Bearer infer-secre").code(),
            Status::Code::kPermissionDenied);
  EXPECT_TRUE(server->Authorize(Access::kInfer, "Bearer infer-secret").ok());
  EXPECT_TRUE(server->Authorize(Access::kInfer, "bearer admin-secret").ok());
  EXPECT_EQ(server->Authorize(Access::kAdmin, "Bearer infer-secret").code(),
            Status::Code::kPermissionDenied);
  EXPECT_TRUE(server->Authorize(Access::kAdmin, "Bearer admin-secret").ok());

  ServerOptions admin_only;
  admin_only.admin_token = "admin-secret";
  auto closed = StartServer(repo.path(), admin_only);
  EXPECT_EQ(closed->Authorize(Access::kInfer, "").code(), Status::Code::kUnauthenticated);
  EXPECT_TRUE(closed->Authorize(Access::kInfer, "Bearer admin-secret").ok());
  ServerOptions infer_only;
  infer_only.infer_token = "infer-secret";
  auto shared = StartServer(repo.path(), infer_only);
  EXPECT_TRUE(shared->Authorize(Access::kAdmin, "Bearer infer-secret").ok());
  EXPECT_EQ(shared->Authorize(Access::kAdmin, "Bearer other").code(),
            Status::Code::kPermissionDenied);

  // With no token at all, inference is open and administration is off, whatever is sent.
  TempRepository repo2;
  auto open = StartServer(repo2.path());
  EXPECT_TRUE(open->Authorize(Access::kInfer, "").ok());
  for (const char* header : {"", "Bearer ", "Bearer anything"}) {
    const Status admin = open->Authorize(Access::kAdmin, header);
    EXPECT_EQ(admin.code(), Status::Code::kPermissionDenied) << header;
    EXPECT_THAT(admin.message(), HasSubstr("--admin-token-file")) << header;
  }
}

// The comparison hashes both sides: a prefix, an extension, a token differing only in its last
// byte, one with an embedded NUL and one that differs in length all fail; only the exact bytes
// pass. (Behaviour only: timing is not measurable reliably in a unit test.)
TEST(ServerCore, TokenComparisonAcceptsOnlyTheExactBytes) {
  TempRepository repo;
  ServerOptions opts;
  opts.admin_token = std::string("adm\0in-", 7) + std::string(200, 'x');
  auto server = StartServer(repo.path(), opts);
  const std::string right = "Bearer " + opts.admin_token;
  EXPECT_TRUE(server->Authorize(Access::kAdmin, right).ok());
  std::string last = right;
  last.back() = 'y';
  for (const std::string& wrong : {right.substr(0, right.size() - 1), right + "x", last,
                                   std::string("Bearer adm"), "Bearer " + std::string(4096, 'x')})
    EXPECT_EQ(server->Authorize(Access::kAdmin, wrong).code(), Status::Code::kPermissionDenied)
        << wrong.size();
}

TEST(ServerCore, ShutdownRefusesNewRequestsAndFinishesQueuedOnes) {
  TempRepository repo;
  repo.AddIdentityChain("slow", 512, 32, "max_batch_size: 1\ndynamic_batching { }");
  auto server = StartServer(repo.path());
  std::vector<InferRequest> requests;
  std::vector<std::promise<Reply>> promises(4);
  for (int i = 0; i < 4; ++i) requests.push_back(ChainRequest("slow", 1, 512, i));
  for (int i = 0; i < 4; ++i)
    server->Infer(requests[i], [&promises, i](Status s, InferResponse r) {
      promises[i].set_value({s, std::move(r)});
    });
  server->BeginShutdown();
  EXPECT_FALSE(server->Ready());
  Reply refused = InferSync(*server, ChainRequest("slow", 1, 512, 9));
  EXPECT_EQ(refused.status.code(), Status::Code::kUnavailable);
  EXPECT_THAT(refused.status.message(), HasSubstr("shutting down"));
  EXPECT_TRUE(server->WaitIdle(std::chrono::seconds(60)));
  for (int i = 0; i < 4; ++i) {
    Reply r = promises[i].get_future().get();
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ExpectEcho(requests[i], r.response);
  }
}

TEST(ServerCore, MetricsAreValidPrometheusText) {
  TempRepository repo;
  repo.AddBundled("simple");
  auto server = StartServer(repo.path());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(InferSync(*server, SimpleRequest(2, i)).status.ok());
  const std::string text = server->MetricsText();
  EXPECT_EQ(
      testing::MetricSample(text, "nv_inference_request_success", "model=\"simple\",version=\"1\""),
      3);
  EXPECT_EQ(testing::MetricSample(text, "nv_inference_count", "model=\"simple\""), 6);
  EXPECT_EQ(
      testing::MetricSample(text, "supernova_request_duration_seconds_count", "model=\"simple\""),
      3);
  EXPECT_EQ(testing::MetricSample(text, "supernova_request_duration_seconds_bucket", "le=\"+Inf\""),
            3);
  // Every line is a comment or `name{labels} number`.
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') {
      EXPECT_TRUE(IsPrometheusSample(line)) << line;
    }
  }
}

}  // namespace
}  // namespace supernova::server

// The gRPC front end end to end (grpc_fixture.h): inference with raw and typed contents,
// batches, requested outputs, versions, concurrent callers, and bad requests that must fail
// cleanly and change nothing.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "server/grpc_fixture.h"

namespace supernova::server {
namespace {

using namespace grpc_test;  // NOLINT: the test helpers

// ---- Inference -----------------------------------------------------------------------------

TEST_F(GrpcTest, InferRawContents) {
  repo_.AddBundled("simple");
  Start();
  ModelInferResponse resp;
  grpc::Status s = Infer(SimpleRequest(1, 5), &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 5);
}

TEST_F(GrpcTest, InferTypedContents) {
  repo_.AddBundled("simple");
  Start();
  ModelInferResponse resp;
  grpc::Status s = Infer(SimpleRequest(1, 11, /*typed=*/true), &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 11);
}

TEST_F(GrpcTest, InferBatchOfThreeInOneRequest) {
  repo_.AddBundled("simple");
  Start();
  ModelInferResponse resp;
  grpc::Status s = Infer(SimpleRequest(3, 1000), &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 3, 1000);
  s = Infer(SimpleRequest(3, 2000, /*typed=*/true), &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 3, 2000);
}

TEST_F(GrpcTest, InferRequestedOutputsOnly) {
  repo_.AddBundled("simple");
  Start();
  ModelInferRequest req = SimpleRequest(2, 3);
  req.add_outputs()->set_name("OUTPUT1");
  ModelInferResponse resp;
  grpc::Status s = Infer(req, &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 2, 3, {"OUTPUT1"});
}

TEST_F(GrpcTest, InferSpecificVersion) {
  repo_.AddBundled("simple");
  Start();
  ModelInferRequest req = SimpleRequest(1, 4);
  req.set_model_version("1");
  ModelInferResponse resp;
  grpc::Status s = Infer(req, &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 4);
}

TEST_F(GrpcTest, ConcurrentCallersAllExact) {
  repo_.AddBundled("simple");
  Start();
  constexpr int kThreads = 8, kEach = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int seed = 1000 * t + i, batch = 1 + (i % 3);
        ModelInferResponse resp;
        grpc::Status s = Infer(SimpleRequest(batch, seed), &resp);
        EXPECT_TRUE(s.ok()) << CodeText(s);
        if (!s.ok()) continue;
        ExpectSimpleAnswer(resp, batch, seed);
        ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
}

// Every malformed request gets a clear error of the right code, and changes nothing: the next
// good request is answered correctly.
TEST_F(GrpcTest, BadRequestsFailCleanlyAndChangeNothing) {
  repo_.AddBundled("simple");
  Start();
  struct Case {
    std::string what;
    ModelInferRequest req;
    grpc::StatusCode code;
  };
  std::vector<Case> cases;
  {
    ModelInferRequest r = SimpleRequest();
    r.set_model_name("nonexistent");
    cases.push_back({"unknown model", r, grpc::StatusCode::NOT_FOUND});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.set_model_version("7");
    cases.push_back({"unknown version", r, grpc::StatusCode::NOT_FOUND});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs(0)->set_datatype("FP32");  // same byte count, wrong type
    cases.push_back({"wrong datatype", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs(0)->set_datatype("FLOAT");
    cases.push_back({"unknown datatype", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r;
    r.set_model_name("simple");
    AddInput(&r, "INPUT0", "INT32", {1, 15});
    AddInput(&r, "INPUT1", "INT32", {1, 15});
    r.add_raw_input_contents(std::string(15 * 4, '\0'));
    r.add_raw_input_contents(std::string(15 * 4, '\0'));
    cases.push_back({"wrong shape", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest(9);  // max_batch_size is 8
    cases.push_back({"batch too large", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs(1)->set_shape(0, -1);
    cases.push_back({"negative dim", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_raw_input_contents(1)->pop_back();
    cases.push_back({"raw byte count one short", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_raw_input_contents(0)->append(4, '\0');
    cases.push_back({"raw byte count one element long", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_raw_input_contents()->RemoveLast();
    cases.push_back({"raw contents for one input of two", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest(1, 0, /*typed=*/true);
    r.mutable_inputs(0)->mutable_contents()->add_int_contents(1);
    cases.push_back({"typed element count", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    // A few bytes claiming 2^40 elements: refused before anything is allocated for them.
    ModelInferRequest r = SimpleRequest(1, 0, /*typed=*/true);
    r.mutable_inputs(0)->set_shape(1, int64_t{1} << 40);
    cases.push_back(
        {"typed contents far short of a huge shape", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest(1, 0, /*typed=*/true);
    r.mutable_inputs(0)->clear_contents();
    cases.push_back({"input without data", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest(1, 0, /*typed=*/true);
    r.add_raw_input_contents(Bytes(Input0(1, 0)));
    r.add_raw_input_contents(Bytes(Input1(1)));
    cases.push_back({"both raw and typed", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.add_outputs()->set_name("OUTPUT7");
    cases.push_back({"unknown requested output", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs()->RemoveLast();
    r.mutable_raw_input_contents()->RemoveLast();
    cases.push_back({"missing input", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs(1)->set_name("INPUT9");
    cases.push_back({"unknown input", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs(1)->set_name("INPUT0");
    cases.push_back({"input given twice", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    (*r.mutable_parameters())["timeout"].set_string_param("soon");
    cases.push_back({"timeout not an integer", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].what);
    ModelInferResponse resp;
    grpc::Status s = Infer(cases[i].req, &resp);
    EXPECT_EQ(s.error_code(), cases[i].code) << CodeText(s);
    EXPECT_FALSE(s.error_message().empty());
    ExpectSimpleWorks(static_cast<int>(i));
  }
  // Refusals before any model (unknown model or version; malformed requests) are counted
  // under the gRPC code they got.
  EXPECT_EQ(Metric(*core_, "supernova_requests_rejected_total{protocol=\"grpc\",code=\"5\"}"), 2);
  EXPECT_GE(Metric(*core_, "supernova_requests_rejected_total{protocol=\"grpc\",code=\"3\"}"), 1);
}

TEST_F(GrpcTest, TypedContentsOutOfRangeForNarrowType) {
  // An INT8 input whose int_contents value does not fit is refused, not wrapped around. Any
  // model will do: the request fails before it reaches one.
  repo_.AddBundled("simple");
  Start();
  ModelInferRequest r;
  r.set_model_name("simple");
  AddInput(&r, "INPUT0", "INT8", {1});
  r.mutable_inputs(0)->mutable_contents()->add_int_contents(300);
  ModelInferResponse resp;
  grpc::Status s = Infer(r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << CodeText(s);
  EXPECT_NE(s.error_message().find("300"), std::string::npos) << s.error_message();
  ExpectSimpleWorks();
}

}  // namespace
}  // namespace supernova::server

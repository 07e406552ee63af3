// grpc_load: a closed-loop load client for a KServe v2 / Triton gRPC inference server
// (`supernova serve`, Triton, or anything else speaking inference.GRPCInferenceService).
//
//   grpc_load --target 127.0.0.1:8001 --model simple --concurrency 32 --duration 10
//   grpc_load --model slow --input-shape x:4,1024 --json
//
// `--concurrency` callers each keep one ModelInfer in flight, issuing the next as soon as
// the previous one answers (raw_input_contents, as Triton's perf_analyzer sends them). The
// inputs come from ModelMetadata: the model's datatypes, -1 dims replaced by 1 (or by
// --input-shape), random values. For Triton's `simple` model (INT32 INPUT0 + INPUT1 →
// OUTPUT0 sum, OUTPUT1 difference) every answer is also checked element by element.
// Requests answered during the first --warmup seconds are not counted. Prints one line:
// requests, errors, req/s, p50 and p99 latency in ms (one JSON object with --json).
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "grpc_service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

size_t ElementSize(const std::string& datatype) {
  static const std::map<std::string, size_t> kSizes = {
      {"BOOL", 1},   {"UINT8", 1}, {"INT8", 1},   {"UINT16", 2}, {"INT16", 2},
      {"FP16", 2},   {"BF16", 2},  {"UINT32", 4}, {"INT32", 4},  {"FP32", 4},
      {"UINT64", 8}, {"INT64", 8}, {"FP64", 8}};
  auto it = kSizes.find(datatype);
  return it == kSizes.end() ? 0 : it->second;
}

// Random contents for one tensor: floats in [0, 1), integers in [0, 10), booleans.
std::string RandomBytes(const std::string& datatype, int64_t numel, std::mt19937* rng) {
  std::string bytes(static_cast<size_t>(numel) * ElementSize(datatype), '\0');
  std::uniform_real_distribution<float> real(0.0f, 1.0f);
  std::uniform_int_distribution<int> small(0, 9);
  for (int64_t i = 0; i < numel; ++i) {
    char* p = bytes.data() + static_cast<size_t>(i) * ElementSize(datatype);
    if (datatype == "FP32") {
      const float v = real(*rng);
      std::memcpy(p, &v, sizeof v);
    } else if (datatype == "FP64") {
      const double v = real(*rng);
      std::memcpy(p, &v, sizeof v);
    } else if (datatype == "FP16" || datatype == "BF16") {
      const float f = real(*rng);
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      uint16_t h = 0;
      if (datatype == "BF16") {
        h = static_cast<uint16_t>(bits >> 16);
      } else {  // [0, 1): a normal half (or zero) from the float's exponent and top mantissa
        const int exp = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
        if (exp > 0) h = static_cast<uint16_t>((exp << 10) | ((bits >> 13) & 0x3ff));
      }
      std::memcpy(p, &h, sizeof h);
    } else if (datatype == "BOOL") {
      *p = static_cast<char>(small(*rng) & 1);
    } else {  // integers, little-endian: the low byte carries the value
      *p = static_cast<char>(small(*rng));
    }
  }
  return bytes;
}

struct Options {
  std::string target = "127.0.0.1:8001";
  std::string model = "simple";
  std::string version;
  int concurrency = 1;
  double duration_s = 10;
  double warmup_s = 1;
  std::vector<std::string> input_shapes;  // name:d0,d1,...
  int channels = 1;
  std::string token;
  bool json = false;
};

// One request, built once from the model's metadata and sent by every caller.
struct Workload {
  inference::ModelInferRequest request;
  bool check_simple = false;  // verify OUTPUT0 == INPUT0 + INPUT1, OUTPUT1 == INPUT0 - INPUT1
};

bool ParseShapes(const std::vector<std::string>& specs,
                 std::map<std::string, std::vector<int64_t>>* out, std::string* error) {
  for (const std::string& spec : specs) {
    const size_t colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      *error = "--input-shape wants name:d0,d1,... (got '" + spec + "')";
      return false;
    }
    std::vector<int64_t> dims;
    std::stringstream ss(spec.substr(colon + 1));
    std::string dim;
    while (std::getline(ss, dim, ',')) {
      try {
        dims.push_back(std::stoll(dim));
      } catch (const std::exception&) {
        *error = "--input-shape: '" + dim + "' is not a number in '" + spec + "'";
        return false;
      }
      if (dims.back() < 0) {
        *error = "--input-shape: negative dim in '" + spec + "'";
        return false;
      }
    }
    (*out)[spec.substr(0, colon)] = dims;
  }
  return true;
}

bool BuildWorkload(inference::GRPCInferenceService::Stub* stub, const Options& opt, Workload* w,
                   std::string* error) {
  std::map<std::string, std::vector<int64_t>> shapes;
  if (!ParseShapes(opt.input_shapes, &shapes, error)) return false;

  inference::ModelMetadataRequest mreq;
  mreq.set_name(opt.model);
  mreq.set_version(opt.version);
  inference::ModelMetadataResponse meta;
  grpc::ClientContext ctx;
  if (!opt.token.empty()) ctx.AddMetadata("authorization", "Bearer " + opt.token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status s = stub->ModelMetadata(&ctx, mreq, &meta);
  if (!s.ok()) {
    *error = "ModelMetadata(" + opt.model + ") failed: " + s.error_message();
    return false;
  }

  std::mt19937 rng(42);
  w->request.set_model_name(opt.model);
  w->request.set_model_version(opt.version);
  for (const auto& in : meta.inputs()) {
    if (ElementSize(in.datatype()) == 0) {
      *error = "input '" + in.name() + "' has datatype " + in.datatype() +
               ", which grpc_load cannot generate";
      return false;
    }
    std::vector<int64_t> dims(in.shape().begin(), in.shape().end());
    auto given = shapes.find(in.name());
    if (given != shapes.end()) {
      dims = given->second;
      shapes.erase(given);
    }
    int64_t numel = 1;
    for (int64_t& d : dims) {
      if (d < 0) d = 1;
      numel *= d;
    }
    auto* t = w->request.add_inputs();
    t->set_name(in.name());
    t->set_datatype(in.datatype());
    for (int64_t d : dims) t->add_shape(d);
    *w->request.add_raw_input_contents() = RandomBytes(in.datatype(), numel, &rng);
  }
  if (!shapes.empty()) {
    *error = "--input-shape names '" + shapes.begin()->first + "', which the model has no input of";
    return false;
  }
  auto has = [](const auto& tensors, const char* name, const char* dtype) {
    return std::any_of(tensors.begin(), tensors.end(),
                       [&](const auto& t) { return t.name() == name && t.datatype() == dtype; });
  };
  w->check_simple =
      meta.inputs_size() == 2 && has(meta.inputs(), "INPUT0", "INT32") &&
      has(meta.inputs(), "INPUT1", "INT32") && has(meta.outputs(), "OUTPUT0", "INT32") &&
      has(meta.outputs(), "OUTPUT1", "INT32") && w->request.inputs(0).name() == "INPUT0";
  return true;
}

// Empty when the response is the right answer for Triton's `simple` model.
std::string CheckSimple(const inference::ModelInferRequest& req,
                        const inference::ModelInferResponse& resp) {
  const std::string& a = req.raw_input_contents(0);
  const std::string& b = req.raw_input_contents(1);
  if (resp.outputs_size() != resp.raw_output_contents_size())
    return "outputs and raw_output_contents differ in count";
  for (int o = 0; o < resp.outputs_size(); ++o) {
    const bool sum = resp.outputs(o).name() == "OUTPUT0";
    const std::string& out = resp.raw_output_contents(o);
    if (out.size() != a.size()) return "output " + resp.outputs(o).name() + " has the wrong size";
    for (size_t i = 0; i < a.size() / 4; ++i) {
      int32_t x, y, z;
      std::memcpy(&x, a.data() + 4 * i, 4);
      std::memcpy(&y, b.data() + 4 * i, 4);
      std::memcpy(&z, out.data() + 4 * i, 4);
      if (z != (sum ? x + y : x - y))
        return "output " + resp.outputs(o).name() + " is wrong at element " + std::to_string(i);
    }
  }
  return resp.outputs_size() == 2 ? "" : "expected 2 outputs";
}

// The shared tallies of a run. Latencies are kept per caller (no lock on the hot path) and
// merged at the end.
struct Run {
  const Workload* work = nullptr;
  std::vector<inference::GRPCInferenceService::Stub*> stubs;
  std::string token;
  Clock::time_point measure_from, end;

  std::mutex mu;
  std::condition_variable cv;
  int active = 0;                              // guarded by mu
  std::map<std::string, int64_t> error_kinds;  // guarded by mu
};

class Caller {
 public:
  Caller(Run* run, inference::GRPCInferenceService::Stub* stub) : run_(run), stub_(stub) {}

  void Issue() {
    ctx_ = std::make_unique<grpc::ClientContext>();
    if (!run_->token.empty()) ctx_->AddMetadata("authorization", "Bearer " + run_->token);
    response_.Clear();
    start_ = Clock::now();
    stub_->async()->ModelInfer(ctx_.get(), &run_->work->request, &response_,
                               [this](grpc::Status s) { OnDone(s); });
  }

  const std::vector<double>& latencies_ms() const { return latencies_ms_; }
  int64_t errors() const { return errors_; }

 private:
  void OnDone(const grpc::Status& s) {
    const Clock::time_point now = Clock::now();
    std::string error;
    if (!s.ok()) {
      error = "gRPC " + std::to_string(s.error_code()) + ": " + s.error_message();
    } else if (run_->work->check_simple) {
      error = CheckSimple(run_->work->request, response_);
    }
    if (start_ >= run_->measure_from && now <= run_->end) {
      if (error.empty()) {
        latencies_ms_.push_back(std::chrono::duration<double, std::milli>(now - start_).count());
      } else {
        ++errors_;
        std::lock_guard<std::mutex> lock(run_->mu);
        ++run_->error_kinds[error];
      }
    }
    if (now < run_->end) {
      Issue();
      return;
    }
    std::lock_guard<std::mutex> lock(run_->mu);
    if (--run_->active == 0) run_->cv.notify_all();
  }

  Run* const run_;
  inference::GRPCInferenceService::Stub* const stub_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  inference::ModelInferResponse response_;
  Clock::time_point start_;
  std::vector<double> latencies_ms_;
  int64_t errors_ = 0;
};

double Percentile(std::vector<double>* sorted, double p) {
  if (sorted->empty()) return 0;
  const size_t i =
      std::min(sorted->size() - 1, static_cast<size_t>(p * static_cast<double>(sorted->size())));
  return (*sorted)[i];
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"Closed-loop gRPC load (KServe v2 ModelInfer) against an inference server"};
  app.add_option("--target", opt.target, "host:port of the server")->capture_default_str();
  app.add_option("--model", opt.model, "model name")->capture_default_str();
  app.add_option("--model-version", opt.version, "model version (default: the server's choice)");
  app.add_option("--concurrency", opt.concurrency, "requests kept in flight")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--duration", opt.duration_s, "seconds measured")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--warmup", opt.warmup_s, "seconds before measuring")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--input-shape", opt.input_shapes,
                 "name:d0,d1,... for an input (default: the metadata's shape, -1 → 1); repeatable");
  app.add_option("--channels", opt.channels, "gRPC channels (TCP connections) the callers share")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--token", opt.token, "bearer token sent as `authorization`");
  app.add_flag("--json", opt.json, "print one JSON object instead of a line");
  CLI11_PARSE(app, argc, argv);

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  std::vector<std::unique_ptr<inference::GRPCInferenceService::Stub>> stubs;
  for (int i = 0; i < opt.channels; ++i) {
    // A distinct argument per channel keeps gRPC from sharing one connection among them.
    args.SetInt("grpc_load.channel", i);
    stubs.push_back(inference::GRPCInferenceService::NewStub(
        grpc::CreateCustomChannel(opt.target, grpc::InsecureChannelCredentials(), args)));
  }

  Workload work;
  std::string error;
  if (!BuildWorkload(stubs[0].get(), opt, &work, &error)) {
    std::cerr << "grpc_load: " << error << "\n";
    return 1;
  }

  Run run;
  run.work = &work;
  run.token = opt.token;
  const Clock::time_point t0 = Clock::now();
  run.measure_from =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.warmup_s));
  run.end = run.measure_from + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(opt.duration_s));
  std::vector<std::unique_ptr<Caller>> callers;
  for (int i = 0; i < opt.concurrency; ++i)
    callers.push_back(
        std::make_unique<Caller>(&run, stubs[static_cast<size_t>(i % opt.channels)].get()));
  run.active = opt.concurrency;
  for (auto& c : callers) c->Issue();
  {
    std::unique_lock<std::mutex> lock(run.mu);
    run.cv.wait(lock, [&] { return run.active == 0; });
  }

  std::vector<double> lat;
  int64_t errors = 0;
  for (const auto& c : callers) {
    lat.insert(lat.end(), c->latencies_ms().begin(), c->latencies_ms().end());
    errors += c->errors();
  }
  std::sort(lat.begin(), lat.end());
  const auto ok = static_cast<int64_t>(lat.size());
  const double rps = static_cast<double>(ok) / opt.duration_s;
  const double p50 = Percentile(&lat, 0.50), p99 = Percentile(&lat, 0.99);

  if (opt.json) {
    nlohmann::json j = {{"tool", "grpc_load"},
                        {"target", opt.target},
                        {"model", opt.model},
                        {"concurrency", opt.concurrency},
                        {"channels", opt.channels},
                        {"duration_s", opt.duration_s},
                        {"requests", ok + errors},
                        {"errors", errors},
                        {"req_per_s", rps},
                        {"p50_ms", p50},
                        {"p99_ms", p99},
                        {"checked", work.check_simple}};
    if (!run.error_kinds.empty()) j["error_kinds"] = run.error_kinds;
    std::cout << j.dump() << "\n";
  } else {
    std::printf(
        "grpc_load model=%s concurrency=%d duration=%.1fs requests=%lld errors=%lld "
        "req/s=%.1f p50=%.3f ms p99=%.3f ms%s\n",
        opt.model.c_str(), opt.concurrency, opt.duration_s, static_cast<long long>(ok + errors),
        static_cast<long long>(errors), rps, p50, p99,
        work.check_simple ? " (answers checked)" : "");
    for (const auto& [kind, n] : run.error_kinds)
      std::fprintf(stderr, "  %lld x %s\n", static_cast<long long>(n), kind.c_str());
  }
  return errors == 0 && ok > 0 ? 0 : 2;
}

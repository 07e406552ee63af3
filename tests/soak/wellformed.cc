// The well-formed clients: HTTP with JSON tensors, HTTP with the binary tensor extension, and
// gRPC with raw contents, each cycling through the three models and checking every answer
// against its exact value (`simple`: sum and difference; `steady` and `churn`: y = x).
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "grpc_service.grpc.pb.h"
#include "soak/soak.h"

namespace supernova::soak {
namespace {

using json = nlohmann::json;

constexpr int kSimpleWidth = 16;
const char* const kModels[] = {"simple", "steady", "churn"};

// One request's numbers and the answer they must get back.
struct Case {
  std::string model;
  std::vector<int32_t> in0, in1;  // simple
  std::vector<float> x;           // steady, churn
  bool IsSimple() const { return model == "simple"; }
};

Case MakeCase(int client, int64_t n) {
  Case c;
  c.model = kModels[n % 3];
  const int32_t seed = static_cast<int32_t>((client * 1000003 + n) % 100000);
  if (c.IsSimple()) {
    for (int i = 0; i < kSimpleWidth; ++i) {
      c.in0.push_back(seed + i);
      c.in1.push_back(3 * i - client);
    }
  } else {
    for (int i = 0; i < kChainWidth; ++i)
      c.x.push_back(static_cast<float>(seed % 1000) * 0.5f + static_cast<float>(i % 13));
  }
  return c;
}

std::vector<int32_t> Sum(const Case& c) {
  std::vector<int32_t> v(kSimpleWidth);
  for (int i = 0; i < kSimpleWidth; ++i) v[i] = c.in0[i] + c.in1[i];
  return v;
}
std::vector<int32_t> Difference(const Case& c) {
  std::vector<int32_t> v(kSimpleWidth);
  for (int i = 0; i < kSimpleWidth; ++i) v[i] = c.in0[i] - c.in1[i];
  return v;
}

template <typename T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}
template <typename T>
std::vector<T> FromBytes(const std::string& s) {
  std::vector<T> v(s.size() / sizeof(T));
  std::memcpy(v.data(), s.data(), v.size() * sizeof(T));
  return v;
}

// Whether outputs (by name, raw little-endian bytes) are the case's exact answer.
bool AnswerIs(const Case& c, const std::map<std::string, std::string>& outputs) {
  auto get = [&](const std::string& name) {
    auto it = outputs.find(name);
    return it == outputs.end() ? std::string() : it->second;
  };
  if (c.IsSimple())
    return FromBytes<int32_t>(get("OUTPUT0")) == Sum(c) &&
           FromBytes<int32_t>(get("OUTPUT1")) == Difference(c);
  return FromBytes<float>(get("y")) == c.x;
}

// Files one answer under its outcome. `status`: the HTTP status, gRPC's mapped onto it (OK 200,
// UNAVAILABLE 503, others 1000 + code), -1 when no answer came. Returns whether the client
// goes on: after the SIGTERM it leaves at its first refusal.
bool Record(Tally& tally, const Shutdown& shutdown, const std::string& protocol, const Case& c,
            Clock::time_point started, int status, bool answer_ok, const std::string& message) {
  const std::string kind = protocol + "/" + c.model;
  const bool before = shutdown.Before(started);
  const std::string when = before ? "" : "_after_sigterm";
  if (status == 200) {
    // Sent before the signal, answered after it: the requests a graceful shutdown is about.
    const bool in_flight = before && !shutdown.Before(Clock::now());
    const std::string ok = in_flight ? "ok_in_flight_at_sigterm" : "ok" + when;
    tally.Add(kind, answer_ok ? ok : "FAIL_wrong_answer", answer_ok ? "" : kind + ": " + message);
    return true;
  }
  const bool shutting_down = message.find("shutting down") != std::string::npos;
  const bool unloaded = c.model == "churn" && message.find("not ready") != std::string::npos;
  if (status == 503 && unloaded && !shutting_down) {
    tally.Add(kind, "unavailable_unloaded" + when);
    return before;
  }
  // Refused with 503 before the server took it: allowed once the signal is on its way (the
  // client's clock cannot tell "sent just before" from "arrived just after" the server saw it).
  if (status == 503 && shutting_down && shutdown.signalled.load())
    return tally.Add(kind, "refused_shutdown" + when), false;
  // Started after the signal and the listener was already gone: never accepted, so not a loss
  // (the server's exit code says whether every accepted request finished).
  if (!before && status == -1) return tally.Add(kind, "no_connection_after_sigterm"), false;
  // gRPC cancels the calls it has taken off the wire but not yet handed to the service when
  // its listener stops: an explicit refusal, and one of a request the core never had (sent
  // before or after the signal, as with 503 above).
  if (shutdown.signalled.load() && status == 1000 + grpc::StatusCode::CANCELLED)
    return tally.Add(kind, "cancelled_by_listener_stop" + when), false;
  tally.Add(kind,
            (status == -1 ? "FAIL_lost" : "FAIL_status_" + std::to_string(status)) +
                (before && shutdown.signalled.load() ? "_in_flight_at_sigterm" : when),
            kind + ": " + std::to_string(status) + " " + message);
  return before;
}

void Pause(const Settings& s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(s.pause_ms));
}

httplib::Client HttpClient(const Settings& s) {
  httplib::Client http("127.0.0.1", s.http_port);
  http.set_keep_alive(true);
  http.set_tcp_nodelay(true);  // else Nagle holds the body back behind the headers' ACK
  http.set_read_timeout(60);
  http.set_bearer_token_auth(s.infer_token);
  return http;
}

}  // namespace

void RunHttpJsonClient(const Settings& s, int id, Tally& tally, const Shutdown& shutdown) {
  httplib::Client http = HttpClient(s);
  for (int64_t n = 0; !shutdown.stop_clients.load(); ++n, Pause(s)) {
    const Case c = MakeCase(id, n);
    json inputs = json::array();
    if (c.IsSimple()) {
      for (const auto* v : {&c.in0, &c.in1})
        inputs.push_back({{"name", v == &c.in0 ? "INPUT0" : "INPUT1"},
                          {"datatype", "INT32"},
                          {"shape", {1, kSimpleWidth}},
                          {"data", *v}});
    } else {
      inputs.push_back(
          {{"name", "x"}, {"datatype", "FP32"}, {"shape", {1, kChainWidth}}, {"data", c.x}});
    }
    const Clock::time_point started = Clock::now();
    auto res = http.Post("/v2/models/" + c.model + "/infer", json{{"inputs", inputs}}.dump(),
                         "application/json");
    int status = res ? res->status : -1;
    bool ok = false;
    std::string message = res ? res->body : httplib::to_string(res.error());
    if (status == 200) {
      const json out = json::parse(res->body, nullptr, false);
      std::map<std::string, std::string> outputs;
      if (!out.is_discarded() && out.contains("outputs"))
        for (const json& o : out["outputs"]) {
          const std::string name = o.value("name", "");
          if (c.IsSimple())
            outputs[name] = Bytes(o["data"].get<std::vector<int32_t>>());
          else
            outputs[name] = Bytes(o["data"].get<std::vector<float>>());
        }
      ok = AnswerIs(c, outputs);
    }
    if (!Record(tally, shutdown, "http_json", c, started, status, ok, message)) return;
  }
}

void RunHttpBinaryClient(const Settings& s, int id, Tally& tally, const Shutdown& shutdown) {
  httplib::Client http = HttpClient(s);
  for (int64_t n = 0; !shutdown.stop_clients.load(); ++n, Pause(s)) {
    const Case c = MakeCase(id + 100, n);
    json inputs = json::array(), outputs = json::array();
    std::string blobs;
    auto add_input = [&](const char* name, const char* type, int width, const std::string& b) {
      inputs.push_back({{"name", name},
                        {"datatype", type},
                        {"shape", {1, width}},
                        {"parameters", {{"binary_data_size", b.size()}}}});
      blobs += b;
    };
    if (c.IsSimple()) {
      add_input("INPUT0", "INT32", kSimpleWidth, Bytes(c.in0));
      add_input("INPUT1", "INT32", kSimpleWidth, Bytes(c.in1));
      for (const char* o : {"OUTPUT0", "OUTPUT1"})
        outputs.push_back({{"name", o}, {"parameters", {{"binary_data", true}}}});
    } else {
      add_input("x", "FP32", kChainWidth, Bytes(c.x));
      outputs.push_back({{"name", "y"}, {"parameters", {{"binary_data", true}}}});
    }
    const std::string header = json{{"inputs", inputs}, {"outputs", outputs}}.dump();
    const httplib::Headers headers = {
        {"Inference-Header-Content-Length", std::to_string(header.size())}};
    const Clock::time_point started = Clock::now();
    auto res = http.Post("/v2/models/" + c.model + "/infer", headers, header + blobs,
                         "application/octet-stream");
    const int status = res ? res->status : -1;
    bool ok = false;
    std::string message = res ? res->body : httplib::to_string(res.error());
    if (status == 200 && res->has_header("Inference-Header-Content-Length")) {
      const size_t n_json = std::stoul(res->get_header_value("Inference-Header-Content-Length"));
      const json out = json::parse(res->body.substr(0, n_json), nullptr, false);
      std::map<std::string, std::string> got;
      size_t at = n_json;
      if (!out.is_discarded())
        for (const json& o : out["outputs"]) {
          const size_t size = o["parameters"].value("binary_data_size", size_t{0});
          got[o.value("name", "")] = res->body.substr(std::min(at, res->body.size()), size);
          at += size;
        }
      ok = at == res->body.size() && AnswerIs(c, got);
    }
    if (!Record(tally, shutdown, "http_binary", c, started, status, ok, message)) return;
  }
}

void RunGrpcClient(const Settings& s, int id, Tally& tally, const Shutdown& shutdown) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(s.grpc_port),
                                     grpc::InsecureChannelCredentials());
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  for (int64_t n = 0; !shutdown.stop_clients.load(); ++n, Pause(s)) {
    const Case c = MakeCase(id + 200, n);
    inference::ModelInferRequest req;
    req.set_model_name(c.model);
    auto add_input = [&](const char* name, const char* type, int width, const std::string& b) {
      auto* in = req.add_inputs();
      in->set_name(name);
      in->set_datatype(type);
      in->add_shape(1);
      in->add_shape(width);
      req.add_raw_input_contents(b);
    };
    if (c.IsSimple()) {
      add_input("INPUT0", "INT32", kSimpleWidth, Bytes(c.in0));
      add_input("INPUT1", "INT32", kSimpleWidth, Bytes(c.in1));
    } else {
      add_input("x", "FP32", kChainWidth, Bytes(c.x));
    }
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + s.infer_token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    inference::ModelInferResponse resp;
    const Clock::time_point started = Clock::now();
    const grpc::Status st = stub->ModelInfer(&ctx, req, &resp);
    int status = st.ok() ? 200 : 1000 + st.error_code();
    if (st.error_code() == grpc::StatusCode::UNAVAILABLE) {
      // UNAVAILABLE is also what gRPC says when it cannot connect: no answer at all.
      const bool from_server = st.error_message().find("not ready") != std::string::npos ||
                               st.error_message().find("shutting down") != std::string::npos;
      status = from_server ? 503 : -1;
    }
    bool ok = false;
    if (st.ok()) {
      std::map<std::string, std::string> got;
      for (int i = 0; i < resp.outputs_size() && i < resp.raw_output_contents_size(); ++i)
        got[resp.outputs(i).name()] = resp.raw_output_contents(i);
      ok = AnswerIs(c, got);
    }
    if (!Record(tally, shutdown, "grpc", c, started, status, ok, st.error_message())) return;
  }
}

}  // namespace supernova::soak

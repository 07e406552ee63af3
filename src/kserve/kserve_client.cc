#include "kserve/kserve_client.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <utility>

#include "grpc_service.grpc.pb.h"
#include "kserve/bytes.h"

namespace supernova::kserve {

namespace {

struct TypeName {
  DataType dtype;
  const char* name;
};
constexpr std::array<TypeName, 14> kTypes = {{
    {DataType::kBool, "BOOL"},
    {DataType::kUint8, "UINT8"},
    {DataType::kUint16, "UINT16"},
    {DataType::kUint32, "UINT32"},
    {DataType::kUint64, "UINT64"},
    {DataType::kInt8, "INT8"},
    {DataType::kInt16, "INT16"},
    {DataType::kInt32, "INT32"},
    {DataType::kInt64, "INT64"},
    {DataType::kFloat16, "FP16"},
    {DataType::kFloat32, "FP32"},
    {DataType::kFloat64, "FP64"},
    {DataType::kBFloat16, "BF16"},
    {DataType::kString, "BYTES"},  // length-prefixed elements: kserve/bytes.h
}};

Status::Code FromGrpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Status::Code::kInvalidArgument;
    case grpc::StatusCode::NOT_FOUND:
      return Status::Code::kNotFound;
    case grpc::StatusCode::UNIMPLEMENTED:
      return Status::Code::kUnimplemented;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return Status::Code::kFailedPrecondition;
    case grpc::StatusCode::OUT_OF_RANGE:
      return Status::Code::kOutOfRange;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return Status::Code::kResourceExhausted;
    case grpc::StatusCode::UNAVAILABLE:
      return Status::Code::kUnavailable;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Status::Code::kDeadlineExceeded;
    case grpc::StatusCode::CANCELLED:
      return Status::Code::kCancelled;
    case grpc::StatusCode::UNAUTHENTICATED:
      return Status::Code::kUnauthenticated;
    case grpc::StatusCode::PERMISSION_DENIED:
      return Status::Code::kPermissionDenied;
    case grpc::StatusCode::ALREADY_EXISTS:
      return Status::Code::kAlreadyExists;
    default:
      return Status::Code::kInternal;
  }
}

Status FromGrpc(const std::string& target, const grpc::Status& s) {
  return Status(FromGrpc(s.error_code()),
                fmt::format("remote {}: gRPC code {}: {}", target, static_cast<int>(s.error_code()),
                            s.error_message()));
}

// gRPC reconnects a broken channel on its own timers, but sees an attempt's progress only while
// something polls the channel: a fail-fast call on a channel in TRANSIENT_FAILURE fails at once
// without polling, and gRPC's backup poller looks every 5 s, so a server restarted under a
// client that kept calling went unnoticed for many seconds. A call on a channel that is not
// ready first lets it connect, polling, for at most kConnectWaitMs (a quarter of a shorter
// deadline): a refused connection ends the wait at once, and the call then fails fast.
constexpr double kConnectWaitMs = 100;

void StartCall(grpc::Channel& channel, grpc::ClientContext* ctx, double timeout_ms) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = [](double v) {
    return std::chrono::microseconds(static_cast<int64_t>(v * 1000));
  };
  ctx->set_deadline(now + ms(timeout_ms));
  if (channel.GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY)
    channel.WaitForConnected(now + ms(std::min(kConnectWaitMs, timeout_ms / 4)));
}

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

Result<Tensor> ReadOutput(const inference::ModelInferResponse::InferOutputTensor& out,
                          const std::string& raw) {
  SN_ASSIGN_OR_RETURN(DataType dtype, DataTypeFromKServe(out.datatype()));
  Shape shape(out.shape().begin(), out.shape().end());
  for (int64_t d : shape)
    if (d < 0) return Status::InvalidArgument("output '" + out.name() + "' has a negative dim");
  if (dtype == DataType::kString) return DecodeBytes(raw, shape, "output '" + out.name() + "'");
  Tensor t(dtype, shape);
  if (raw.size() != t.nbytes())
    return Status::InvalidArgument(fmt::format("output '{}': {} bytes for {}{} ({} expected)",
                                               out.name(), raw.size(), out.datatype(),
                                               ShapeToString(shape), t.nbytes()));
  if (!raw.empty()) std::memcpy(t.raw_data(), raw.data(), raw.size());
  return t;
}

}  // namespace

const char* KServeDatatype(DataType dtype) {
  for (const TypeName& t : kTypes)
    if (t.dtype == dtype) return t.name;
  return nullptr;
}

Result<DataType> DataTypeFromKServe(const std::string& name) {
  for (const TypeName& t : kTypes)
    if (name == t.name) return t.dtype;
  return Status::Unimplemented("datatype '" + name + "' is not one the client reads");
}

struct KServeClient::Stub {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<inference::GRPCInferenceService::Stub> service;
};

KServeClient::KServeClient(std::string target, std::unique_ptr<Stub> stub)
    : target_(std::move(target)), stub_(std::move(stub)) {}
KServeClient::~KServeClient() = default;

Result<std::unique_ptr<KServeClient>> KServeClient::Create(const std::string& target, bool gzip) {
  if (target.empty() || target.find(':') == std::string::npos)
    return Status::InvalidArgument("remote '" + target + "': expected HOST:PORT");
  grpc::ChannelArguments args;
  // Cut tensors of large models exceed gRPC's 4 MiB default.
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // The "then compressed": the channel gzips every message; the server inflates it.
  if (gzip) args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  // Reconnect promptly once the cloud is back, rather than after gRPC's growing backoff,
  // so that a probe after an outage reaches it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto stub = std::make_unique<Stub>();
  stub->channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  stub->service = inference::GRPCInferenceService::NewStub(stub->channel);
  return std::unique_ptr<KServeClient>(new KServeClient(target, std::move(stub)));
}

Result<RemoteReply> KServeClient::Infer(const std::string& model, const NamedTensors& inputs,
                                        double timeout_ms) {
  RemoteReply reply;
  inference::ModelInferRequest req;
  req.set_model_name(model);
  for (const auto& [name, t] : inputs) {
    const char* datatype = KServeDatatype(t.dtype());
    if (datatype == nullptr)
      return Status::Unimplemented("input '" + name + "': " + DataTypeName(t.dtype()) +
                                   " has no KServe datatype");
    auto* in = req.add_inputs();
    in->set_name(name);
    in->set_datatype(datatype);
    for (int64_t d : t.shape()) in->add_shape(d);
    std::string* raw = req.add_raw_input_contents();
    if (t.dtype() == DataType::kString)
      AppendEncodedBytes(*raw, t);
    else
      raw->assign(static_cast<const char*>(t.raw_data()), t.nbytes());
    reply.sent_bytes += raw->size();
  }
  inference::ModelInferResponse resp;
  grpc::ClientContext ctx;
  const auto t0 = std::chrono::steady_clock::now();
  StartCall(*stub_->channel, &ctx, timeout_ms);
  grpc::Status s = stub_->service->ModelInfer(&ctx, req, &resp);
  reply.wall_ms = MsSince(t0);
  if (!s.ok()) return FromGrpc(target_, s);
  if (resp.raw_output_contents_size() != resp.outputs_size())
    return Status::InvalidArgument(fmt::format("remote {}: {} outputs with {} raw contents",
                                               target_, resp.outputs_size(),
                                               resp.raw_output_contents_size()));
  for (int i = 0; i < resp.outputs_size(); ++i) {
    auto t = ReadOutput(resp.outputs(i), resp.raw_output_contents(i));
    if (!t.ok()) return t.status().WithContext("remote " + target_);
    reply.received_bytes += resp.raw_output_contents(i).size();
    reply.outputs.emplace_back(resp.outputs(i).name(), std::move(t).value());
  }
  return reply;
}

Result<double> KServeClient::Live(double timeout_ms) {
  inference::ServerLiveRequest req;
  inference::ServerLiveResponse resp;
  grpc::ClientContext ctx;
  const auto t0 = std::chrono::steady_clock::now();
  StartCall(*stub_->channel, &ctx, timeout_ms);
  grpc::Status s = stub_->service->ServerLive(&ctx, req, &resp);
  const double ms = MsSince(t0);
  if (!s.ok()) return FromGrpc(target_, s);
  if (!resp.live()) return Status::Unavailable("remote " + target_ + " says it is not live");
  return ms;
}

}  // namespace supernova::kserve

#include "stream/kserve_cloud.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "collab/link.h"
#include "kserve/emulated_link.h"
#include "kserve/kserve_client.h"
#include "stream/jpeg_encode.h"

namespace supernova::stream {

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// --cloud-link: a schedule when it names request numbers ("0:10,20;50:off"), else one link.
Result<kserve::LinkSchedule> ParseCloudLink(const std::string& spec) {
  if (spec.find(':') != std::string::npos) return kserve::LinkSchedule::Parse(spec);
  SN_ASSIGN_OR_RETURN(collab::Link link, collab::ParseLink(spec));
  return kserve::LinkSchedule::Constant(link);
}

// The answer's DETECTIONS [N,6] (x1, y1, x2, y2, score, class) as they are; null where the
// answer has no such output.
Result<const Tensor*> FindDetections(const kserve::NamedTensors& outputs) {
  const Tensor* t = nullptr;
  for (const auto& [name, tensor] : outputs)
    if (name == "DETECTIONS") t = &tensor;
  if (t == nullptr) return t;
  if (t->dtype() != DataType::kFloat32 || t->shape().size() != 2 || t->shape()[1] != 6)
    return Status::InvalidArgument(fmt::format(
        "DETECTIONS is {}{}, not FP32 [N,6]", DataTypeName(t->dtype()), ShapeToString(t->shape())));
  return t;
}

// The rows as detections, the box divided by the scale the image was sent at; a row with a
// value that is not finite is no box.
std::vector<Detection> Rows(const Tensor& t, double scale_x, double scale_y) {
  const float* v = t.data<float>();
  std::vector<Detection> out;
  for (int64_t i = 0; i < t.shape()[0]; ++i, v += 6) {
    if (!std::all_of(v, v + 6, [](float x) { return std::isfinite(x); })) continue;  // no box
    Detection d;
    d.box.x1 = static_cast<float>(v[0] / scale_x);
    d.box.y1 = static_cast<float>(v[1] / scale_y);
    d.box.x2 = static_cast<float>(v[2] / scale_x);
    d.box.y2 = static_cast<float>(v[3] / scale_y);
    d.score = v[4];
    d.class_id = static_cast<int>(std::lround(v[5]));
    out.push_back(d);
  }
  return out;
}

// DETECTIONS [N,6] in the image's pixels as detections in the frame's, clipped to it.
Result<std::vector<Detection>> ReadDetections(const kserve::NamedTensors& outputs,
                                              const Frame& frame, double scale_x, double scale_y) {
  SN_ASSIGN_OR_RETURN(const Tensor* t, FindDetections(outputs));
  if (t == nullptr) return Status::InvalidArgument("the answer has no DETECTIONS output");
  const auto w = static_cast<float>(frame.width), h = static_cast<float>(frame.height);
  std::vector<Detection> out;
  for (Detection d : Rows(*t, scale_x, scale_y)) {
    d.box.x1 = std::clamp(d.box.x1, 0.f, w);
    d.box.y1 = std::clamp(d.box.y1, 0.f, h);
    d.box.x2 = std::clamp(d.box.x2, 0.f, w);
    d.box.y2 = std::clamp(d.box.y2, 0.f, h);
    // A box the clip leaves empty was wholly outside the frame.
    if (d.box.x2 > d.box.x1 && d.box.y2 > d.box.y1) out.push_back(d);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<KServeCloudDetector>> KServeCloudDetector::Create(
    const KServeCloudOptions& options) {
  if (options.model.empty()) return Status::InvalidArgument("the cloud needs a model name");
  if (options.max_in_flight < 1)
    return Status::InvalidArgument("calls in flight must be at least 1");
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100)
    return Status::InvalidArgument(
        fmt::format("JPEG quality {} is not in 1..100", options.jpeg_quality));
  if (!(options.timeout_ms > 0)) return Status::InvalidArgument("the cloud's timeout must be > 0");
  kserve::LinkSchedule schedule;
  if (!options.link.empty()) {
    auto s = ParseCloudLink(options.link);
    if (!s.ok()) return s.status().WithContext("--cloud-link");
    schedule = std::move(s).value();
  }
  std::vector<std::unique_ptr<kserve::Transport>> transports;
  for (int i = 0; i < options.max_in_flight; ++i) {
    SN_ASSIGN_OR_RETURN(std::unique_ptr<kserve::KServeClient> client,
                        kserve::KServeClient::Create(options.target, options.gzip));
    std::unique_ptr<kserve::Transport> t = std::move(client);
    // Every worker's link has the same seed: a call's fate follows from its number alone,
    // whichever worker carries it.
    if (!options.link.empty())
      t = std::make_unique<kserve::EmulatedLink>(std::move(t), schedule, options.link_seed);
    transports.push_back(std::move(t));
  }
  return std::make_unique<KServeCloudDetector>(options, std::move(transports));
}

KServeCloudDetector::KServeCloudDetector(const KServeCloudOptions& options,
                                         std::vector<std::unique_ptr<kserve::Transport>> transports)
    : options_(options), transports_(std::move(transports)) {
  options_.max_in_flight = static_cast<int>(transports_.size());
  for (auto& t : transports_) workers_.emplace_back([this, tp = t.get()] { Work(tp); });
}

KServeCloudDetector::~KServeCloudDetector() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  // The workers finish what is queued first: each call has a deadline, and every callback
  // must run once.
  for (auto& w : workers_) w.join();
}

bool KServeCloudDetector::Submit(const std::string& stream, FramePtr frame, FrameFeatures features,
                                 Callback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || in_flight_ >= options_.max_in_flight) return false;
    ++in_flight_;
    queue_.push_back(Call{stream, std::move(frame), std::move(features), std::move(done),
                          submitted_++, Clock::now()});
  }
  wake_.notify_one();
  return true;
}

int KServeCloudDetector::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

std::string KServeCloudDetector::Describe() const {
  std::string s = fmt::format("grpc {} model {}, ", options_.target, options_.model);
  if (options_.decode) {
    s += "features " + options_.features_label;
  } else {
    s += fmt::format("jpeg q{}", options_.jpeg_quality);
    if (options_.max_side > 0) s += fmt::format(" max side {}", options_.max_side);
  }
  s += fmt::format(", {} in flight, {:g} ms deadline", options_.max_in_flight, options_.timeout_ms);
  if (!options_.link.empty()) s += ", emulated link " + options_.link;
  return s;
}

void KServeCloudDetector::Work(kserve::Transport* transport) {
  for (;;) {
    Call call;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      call = std::move(queue_.front());
      queue_.pop_front();
    }
    Result<CloudAnswer> answer = Run(transport, call);
    if (!answer.ok())
      answer = answer.status().WithContext(
          fmt::format("cloud call for frame {} of {}", call.frame->index, call.stream));
    call.done(std::move(answer));
    // Counted as in flight until its callback returned, so that a caller who waits for
    // in_flight() == 0 knows every answer has been handled.
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
  }
}

Result<double> KServeCloudDetector::TimeLeftMs(const Call& call, const char* what) const {
  const double left_ms = options_.timeout_ms - MsSince(call.submitted);
  if (left_ms <= 0)
    return Status(Status::Code::kDeadlineExceeded,
                  fmt::format("the {:g} ms deadline passed before {}", options_.timeout_ms, what));
  return left_ms;
}

Result<CloudAnswer> KServeCloudDetector::Run(kserve::Transport* transport, const Call& call) const {
  if (options_.decode) return RunFeatures(transport, call);
  const Frame& frame = *call.frame;
  SN_ASSIGN_OR_RETURN(EncodedImage image,
                      EncodeJpeg(frame, options_.jpeg_quality, options_.max_side));
  SN_ASSIGN_OR_RETURN(const double left_ms, TimeLeftMs(call, "the frame was sent"));
  Tensor bytes(DataType::kString, {1});
  bytes.data<std::string>()[0] = std::move(image.bytes);
  transport->BeginRequest(call.number);
  SN_ASSIGN_OR_RETURN(kserve::RemoteReply reply,
                      transport->Infer(options_.model, {{"IMAGE", std::move(bytes)}}, left_ms));
  CloudAnswer answer;
  answer.frame_index = frame.index;
  SN_ASSIGN_OR_RETURN(answer.detections,
                      ReadDetections(reply.outputs, frame, image.scale_x, image.scale_y));
  answer.round_trip_ms = MsSince(call.submitted);
  answer.sent_bytes = reply.sent_bytes;
  answer.received_bytes = reply.received_bytes;
  return answer;
}

Result<CloudAnswer> KServeCloudDetector::RunFeatures(kserve::Transport* transport,
                                                     const Call& call) const {
  if (call.features.empty())
    return Status::InvalidArgument(
        "the frame has no features to send: the edge detector does not return the cut tensors");
  SN_ASSIGN_OR_RETURN(const double left_ms, TimeLeftMs(call, "the features were sent"));
  transport->BeginRequest(call.number);
  SN_ASSIGN_OR_RETURN(kserve::RemoteReply reply,
                      transport->Infer(options_.model, call.features, left_ms));
  CloudAnswer answer;
  answer.frame_index = call.frame->index;
  // A tail served as a supernova_detector answers DETECTIONS in its input's pixels; a plain
  // one, the source model's outputs, which the edge decodes.
  SN_ASSIGN_OR_RETURN(const Tensor* rows, FindDetections(reply.outputs));
  if (rows != nullptr && options_.to_frame) {
    answer.detections = options_.to_frame(Rows(*rows, 1, 1), *call.frame);
  } else {
    auto detections = options_.decode(reply.outputs, *call.frame);
    if (!detections.ok()) return detections.status().WithContext("the tail's answer");
    answer.detections = std::move(detections).value();
  }
  answer.round_trip_ms = MsSince(call.submitted);
  answer.sent_bytes = reply.sent_bytes;
  answer.received_bytes = reply.received_bytes;
  return answer;
}

}  // namespace supernova::stream

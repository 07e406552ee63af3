#include "kserve/emulated_link.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <utility>

#include "kserve/bytes.h"

namespace supernova::kserve {

namespace {

Status LinkError(Status::Code code, const std::string& why) {
  return Status(code, "emulated link: " + why);
}

// Milliseconds one direction of an exchange takes: half the round trip plus the payload
// serialized at the bandwidth (collab::Link::TransferMs split in two).
double OneWayMs(const collab::Link& link, size_t bytes) {
  return link.TransferMs(bytes) - link.rtt_ms / 2;
}

size_t DownBytes(const RemoteReply& r) { return r.received_bytes; }
size_t DownBytes(double) { return 0; }
void SetWall(RemoteReply& r, double ms) { r.wall_ms = ms; }
void SetWall(double& r, double ms) { r = ms; }
double WallOf(const RemoteReply& r) { return r.wall_ms; }
double WallOf(double r) { return r; }

// SplitMix64's finalizer: a well-mixed 64-bit hash, so that neighbouring requests and messages
// draw independent-looking numbers.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

Result<LinkSchedule> LinkSchedule::Parse(const std::string& text) {
  LinkSchedule s;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ';')) {
    const size_t colon = item.find(':');
    if (colon == std::string::npos)
      return Status::InvalidArgument(fmt::format(
          "link schedule '{}': '{}' is not REQUEST:BW,RTT[,LOSS] or REQUEST:off", text, item));
    LinkPhase phase;
    const std::string req = item.substr(0, colon), what = item.substr(colon + 1);
    char* end = nullptr;
    errno = 0;
    phase.from_request = std::strtoll(req.c_str(), &end, 10);
    if (req.empty() || end != req.c_str() + req.size() || errno != 0 || phase.from_request < 0)
      return Status::InvalidArgument(
          fmt::format("link schedule '{}': '{}' is not a request number (0, 1, ...)", text, req));
    if (s.phases_.empty() ? phase.from_request != 0
                          : phase.from_request <= s.phases_.back().from_request)
      return Status::InvalidArgument(
          fmt::format("link schedule '{}': request numbers must start at 0 and ascend", text));
    if (what == "off") {
      phase.off = true;
    } else {
      auto link = collab::ParseLink(what);
      if (!link.ok()) return link.status().WithContext("link schedule '" + text + "'");
      phase.link = *link;
    }
    s.phases_.push_back(phase);
  }
  if (s.phases_.empty())
    return Status::InvalidArgument("link schedule '" + text + "' is empty (0:BW,RTT;...)");
  return s;
}

LinkSchedule LinkSchedule::Constant(const collab::Link& link) {
  LinkSchedule s;
  s.phases_.push_back(LinkPhase{0, false, link});
  return s;
}

const LinkPhase& LinkSchedule::At(int64_t request) const {
  size_t i = 0;
  while (i + 1 < phases_.size() && phases_[i + 1].from_request <= request) ++i;
  return phases_[i];
}

EmulatedLink::EmulatedLink(std::unique_ptr<Transport> wire, LinkSchedule schedule, uint64_t seed,
                           std::function<void(double)> sleep)
    : wire_(std::move(wire)),
      schedule_(std::move(schedule)),
      seed_(seed),
      sleep_(std::move(sleep)) {
  if (!sleep_)
    sleep_ = [](double ms) {
      if (ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
    };
}

bool EmulatedLink::Lose() {
  // One draw per exchange whatever the loss, so that changing the loss of one phase does not
  // shift which messages the other phases lose.
  const uint64_t h = Mix(Mix(Mix(seed_) ^ static_cast<uint64_t>(request_)) ^ message_++);
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  return u < phase().link.loss;
}

template <typename T, typename Call>
Result<T> EmulatedLink::Exchange(size_t up, double timeout_ms, Call&& call) {
  const LinkPhase& p = phase();
  if (p.off)
    return LinkError(
        Status::Code::kUnavailable,
        fmt::format("the remote is unreachable (off from request {})", p.from_request));
  if (Lose()) {
    ++lost_;
    sleep_(timeout_ms);
    return LinkError(Status::Code::kDeadlineExceeded,
                     fmt::format("message lost ({:g}% loss); no answer in {:g} ms",
                                 p.link.loss * 100, timeout_ms));
  }
  // The emulated time is the sleeps plus the real call, so that a test's recorded sleeps
  // and the reported wall time agree.
  const double up_ms = OneWayMs(p.link, up);
  if (up_ms >= timeout_ms) {
    sleep_(timeout_ms);
    return LinkError(Status::Code::kDeadlineExceeded,
                     fmt::format("{} bytes need {:.1f} ms on {}; the deadline is {:g} ms", up,
                                 up_ms, p.link.ToString(), timeout_ms));
  }
  sleep_(up_ms);
  Result<T> r = call(timeout_ms - up_ms);
  if (!r.ok()) return r.status();
  const double down_ms = OneWayMs(p.link, DownBytes(*r));
  const double so_far = up_ms + WallOf(*r);
  if (so_far + down_ms > timeout_ms) {
    sleep_(timeout_ms - so_far);
    return LinkError(Status::Code::kDeadlineExceeded,
                     fmt::format("the answer needs {:.1f} ms more on {}; the deadline is {:g} ms",
                                 down_ms, p.link.ToString(), timeout_ms));
  }
  sleep_(down_ms);
  SetWall(*r, so_far + down_ms);
  return r;
}

Result<RemoteReply> EmulatedLink::Infer(const std::string& model, const NamedTensors& inputs,
                                        double timeout_ms) {
  size_t up = 0;
  for (const auto& [name, t] : inputs)
    up += t.dtype() == DataType::kString ? EncodedBytesSize(t) : t.nbytes();
  return Exchange<RemoteReply>(
      up, timeout_ms, [&](double left_ms) { return wire_->Infer(model, inputs, left_ms); });
}

Result<double> EmulatedLink::Live(double timeout_ms) {
  return Exchange<double>(0, timeout_ms, [&](double left_ms) { return wire_->Live(left_ms); });
}

}  // namespace supernova::kserve

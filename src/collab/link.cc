#include "collab/link.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace supernova::collab {

namespace {

// Below this many payload bytes a request measures the round trip, not the bandwidth.
constexpr size_t kSmallPayload = 4096;

double Bits(size_t bytes) { return static_cast<double>(bytes) * 8.0; }

}  // namespace

double Link::TransferMs(size_t up, size_t down) const {
  const double bits_per_ms = bandwidth_mbit * 1e3;
  return rtt_ms + (bits_per_ms > 0 ? Bits(up + down) / bits_per_ms : HUGE_VAL);
}

std::string Link::ToString() const {
  std::string s = fmt::format("{:g} Mbit/s, {:g} ms RTT", bandwidth_mbit, rtt_ms);
  if (loss > 0) s += fmt::format(", {:g}% loss", loss * 100);
  return s;
}

Result<std::vector<double>> ParseNumberList(const std::string& text, const std::string& what,
                                            const std::string& usage) {
  std::vector<double> parts;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || end != item.c_str() + item.size() || errno != 0 || !std::isfinite(v))
      return Status::InvalidArgument(
          fmt::format("{} '{}': '{}' is not a number ({})", what, text, item, usage));
    parts.push_back(v);
  }
  return parts;
}

Result<Link> ParseLink(const std::string& text) {
  SN_ASSIGN_OR_RETURN(std::vector<double> parts,
                      ParseNumberList(text, "link", "BW_MBIT,RTT_MS[,LOSS]"));
  if (parts.size() < 2 || parts.size() > 3)
    return Status::InvalidArgument(
        fmt::format("link '{}': expected BW_MBIT,RTT_MS[,LOSS], as 10,20", text));
  Link link{parts[0], parts[1], parts.size() == 3 ? parts[2] : 0.0};
  if (link.bandwidth_mbit <= 0)
    return Status::InvalidArgument(fmt::format("link '{}': bandwidth must be above 0", text));
  if (link.rtt_ms < 0)
    return Status::InvalidArgument(fmt::format("link '{}': RTT must not be negative", text));
  if (link.loss < 0 || link.loss >= 1)
    return Status::InvalidArgument(fmt::format("link '{}': loss must be in [0, 1)", text));
  return link;
}

void LinkEstimate::Observe(size_t up, size_t down, double ms, double server_ms) {
  const double wire_ms = std::max(0.0, ms - std::max(0.0, server_ms));
  auto blend = [this](double old, double sample, int n) {
    return n == 0 ? sample : (1 - weight_) * old + weight_ * sample;
  };
  if (up + down <= kSmallPayload) {
    // A shorter round trip is taken at once: no exchange beats the path's delay, so a short
    // one shows the link got better (after a slow spell the average would lag for many
    // probes); a longer one is averaged in, so that one late answer does not move it far.
    rtt_ms_ =
        rtt_samples_ > 0 && wire_ms < rtt_ms_ ? wire_ms : blend(rtt_ms_, wire_ms, rtt_samples_);
    ++rtt_samples_;
    return;
  }
  // A large payload says nothing until a small exchange has measured the RTT to subtract.
  if (rtt_samples_ == 0) return;
  const double serial_ms = wire_ms - rtt_ms_;
  if (serial_ms <= 0) {
    // Faster than the RTT estimate allows: the RTT has fallen (this exchange bounds it from
    // above), and the bandwidth is at least what the whole exchange carried in its time. Both
    // move the estimates toward a link that got better, which otherwise would wait for
    // probes to bring the RTT down before any large exchange counted.
    rtt_ms_ = blend(rtt_ms_, wire_ms, rtt_samples_);
    ++rtt_samples_;
    const double at_least = wire_ms > 0 ? Bits(up + down) / (wire_ms * 1e3) : 0;
    if (at_least > bandwidth_mbit_) {
      bandwidth_mbit_ = blend(bandwidth_mbit_, at_least, bw_samples_);
      ++bw_samples_;
    }
    return;
  }
  bandwidth_mbit_ = blend(bandwidth_mbit_, Bits(up + down) / (serial_ms * 1e3), bw_samples_);
  ++bw_samples_;
}

Link LinkEstimate::link() const { return Link{bandwidth_mbit_, rtt_ms_, 0}; }

}  // namespace supernova::collab

// A network link between two nodes as the collab parts see it: bandwidth, round trip and
// loss. Split execution predicts transfer time with it, the placement planner prices links
// with it, and the edge keeps a measured one up to date (LinkEstimate).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "supernova/status.h"

namespace supernova::collab {

struct Link {
  double bandwidth_mbit = 0;  // payload throughput, megabits (10^6 bits) per second
  double rtt_ms = 0;          // round trip of an empty request
  double loss = 0;            // share of messages lost, 0..1

  // One request carrying `up` bytes and answered with `down` bytes: the round trip plus both
  // payloads serialized at the link's bandwidth (one direction at a time, as a request and
  // its answer are).
  double TransferMs(size_t up, size_t down = 0) const;
  std::string ToString() const;  // "10 Mbit/s, 20 ms RTT"
};

// A comma-separated list of finite numbers, as the collab flags take them (--link,
// --edge-power); the error names `what`, the text and the `usage` ("BW_MBIT,RTT_MS[,LOSS]").
Result<std::vector<double>> ParseNumberList(const std::string& text, const std::string& what,
                                            const std::string& usage);

// "BW_MBIT,RTT_MS[,LOSS]" as `supernova split --link` takes it: "10,20", "1,100,0.01".
Result<Link> ParseLink(const std::string& text);

// The link as measured from requests: a moving estimate of RTT (from small exchanges) and of
// bandwidth (from the time large payloads take beyond the RTT). Not thread-safe.
class LinkEstimate {
 public:
  // `weight` is the share the newest sample takes in the moving average.
  explicit LinkEstimate(double weight = 0.3) : weight_(weight) {}
  // A request of `up` + `down` payload bytes that took `ms` end to end, of which
  // `server_ms` was spent computing on the far side. Exchanges of at most 4 KiB measure the
  // RTT (a liveness probe will do: a shorter one replaces the estimate, a longer one is
  // averaged in); larger ones, once the RTT is known, the bandwidth.
  void Observe(size_t up, size_t down, double ms, double server_ms);
  bool known() const { return rtt_samples_ > 0 && bw_samples_ > 0; }
  // Each half alone, for a caller that fills the other from a prior (the plan's link).
  bool has_rtt() const { return rtt_samples_ > 0; }
  bool has_bandwidth() const { return bw_samples_ > 0; }
  Link link() const;

 private:
  double weight_;
  double rtt_ms_ = 0, bandwidth_mbit_ = 0;
  int rtt_samples_ = 0, bw_samples_ = 0;
};

}  // namespace supernova::collab

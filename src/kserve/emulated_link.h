// A slow, lossy or absent network link emulated inside the transport, deterministic so that CI
// can test how the edge runner adapts (docs/collab.md, "Emulated links").
//
// Each message pays, before it is sent, RTT/2 plus its payload bytes at the bandwidth, and
// its answer the same on the way back: a request of `up` bytes answered with `down` takes
// collab::Link::TransferMs(up, down) more than on the real wire. A message is lost with the link's
// loss probability, drawn from the seed, the request number and the message's place in its
// request alone, so a run repeats exactly, and so do several links of one seed that share the
// request numbers among threads (the stream's cloud detector, one link per call in flight); a
// lost request behaves as a timeout (the caller waits its whole deadline). A schedule changes the
// link at given request numbers; "off" makes the remote unreachable (calls fail at once, as
// a refused connection does).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collab/link.h"
#include "kserve/transport.h"

namespace supernova::kserve {

struct LinkPhase {
  int64_t from_request = 0;  // the phase holds from this request number on
  bool off = false;          // unreachable
  collab::Link link;
};

class LinkSchedule {
 public:
  // "REQ:BW,RTT[,LOSS];REQ:off;..." with REQ ascending from 0, e.g.
  // "0:100,5;20:1,100;40:off" (100 Mbit/s and 5 ms, then 1 Mbit/s and 100 ms from request
  // 20, unreachable from request 40).
  static Result<LinkSchedule> Parse(const std::string& text);
  // One link for every request.
  static LinkSchedule Constant(const collab::Link& link);

  const LinkPhase& At(int64_t request) const;
  const std::vector<LinkPhase>& phases() const { return phases_; }

 private:
  std::vector<LinkPhase> phases_;
};

class EmulatedLink : public Transport {
 public:
  // `sleep` waits the given milliseconds; tests may replace it, the runner sleeps for real.
  EmulatedLink(std::unique_ptr<Transport> wire, LinkSchedule schedule, uint64_t seed = 1,
               std::function<void(double)> sleep = nullptr);

  Result<RemoteReply> Infer(const std::string& model, const NamedTensors& inputs,
                            double timeout_ms) override;
  Result<double> Live(double timeout_ms) override;
  void BeginRequest(int64_t request) override {
    request_ = request;
    message_ = 0;
  }

  const LinkPhase& phase() const { return schedule_.At(request_); }
  int64_t lost() const { return lost_; }

 private:
  // Whether the next message is lost (one draw per message).
  bool Lose();
  // One exchange of `up` then `down` payload bytes around `call`, within `timeout_ms`.
  template <typename T, typename Call>
  Result<T> Exchange(size_t up, double timeout_ms, Call&& call);

  std::unique_ptr<Transport> wire_;
  LinkSchedule schedule_;
  uint64_t seed_;
  std::function<void(double)> sleep_;
  int64_t request_ = 0;
  uint64_t message_ = 0;  // messages of this request so far
  int64_t lost_ = 0;
};

}  // namespace supernova::kserve

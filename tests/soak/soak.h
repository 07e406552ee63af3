// What the soak driver's parts share (docs/server.md, "Soak and faults"): the settings of a
// run, the tally of requests by kind and outcome, and the clock that says when SIGTERM went.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace supernova::soak {

using Clock = std::chrono::steady_clock;

struct Settings {
  double duration_s = 60;
  int http_port = -1, grpc_port = -1;
  std::string infer_token, admin_token;
  size_t max_body_bytes = 1u << 20;
  // The idle timeout outlasts the exit timeout on purpose: a slow client still trickling at the
  // SIGTERM must not hold the exit past --exit-timeout-secs.
  double idle_timeout_s = 8;
  int exit_timeout_s = 4;
  int clients = 4;       // well-formed clients of each protocol
  int pause_ms = 2;      // between one client's requests: keeps the CPU share modest
  int slow_clients = 2;  // always this many trickling a byte per 100 ms
};

// The models of the run's repository: `simple` (bundled, INT32 sum and difference) and
// `steady` (y = x) stay loaded all run; `churn` (y = x) is loaded, reloaded and unloaded.
inline constexpr int kChainWidth = 256;

// Requests by kind (e.g. "http_json/simple") and outcome ("ok", "unavailable_unloaded", ...).
// An outcome that starts with "FAIL" fails the run; the first failures' details are kept.
class Tally {
 public:
  void Add(const std::string& kind, const std::string& outcome, const std::string& detail = "");
  long Failures() const;
  // Requests whose kind and outcome start with these prefixes.
  long Count(const std::string& kind_prefix, const std::string& outcome_prefix) const;
  // One JSON line per (kind, outcome): {"kind":..,"outcome":..,"count":..}.
  std::vector<std::string> JsonLines() const;
  std::vector<std::string> FailureDetails() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, long> counts_;
  std::vector<std::string> details_;
};

// Set once, when the driver sends SIGTERM: a request that started before it must be answered.
struct Shutdown {
  std::atomic<bool> stop_clients{false};  // the run is over: clients leave
  std::atomic<bool> signalled{false};
  std::atomic<int64_t> signalled_at_ns{0};  // Clock time of the SIGTERM
  bool Before(Clock::time_point t) const {
    return !signalled.load() || t.time_since_epoch().count() < signalled_at_ns.load();
  }
};

// The clients (wellformed.cc, hostile.cc, admin.cc): each runs until shutdown.stop_clients, or,
// for the well-formed ones, until their first refusal after the SIGTERM.
void RunHttpJsonClient(const Settings& s, int id, Tally& tally, const Shutdown& shutdown);
void RunHttpBinaryClient(const Settings& s, int id, Tally& tally, const Shutdown& shutdown);
void RunGrpcClient(const Settings& s, int id, Tally& tally, const Shutdown& shutdown);
void RunHostileClient(const Settings& s, Tally& tally, const Shutdown& shutdown);
void RunSlowClient(const Settings& s, Tally& tally, const Shutdown& shutdown);
void RunAdminLoop(const Settings& s, Tally& tally, const Shutdown& shutdown);

}  // namespace supernova::soak

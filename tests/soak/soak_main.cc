// soak_driver [--duration S] [--clients N] [--pause-ms MS] [--slow-clients N]: a real
// `supernova serve` on a temporary repository in explicit model control with tokens, under
// well-formed, hostile and slow clients and an admin loop for S seconds, its RSS and open fds
// sampled; then SIGTERM under that load. Prints JSON lines (requests by kind and outcome, the
// series, the shutdown, the verdict) and exits 1 on any failure. docs/server.md, "Soak and
// faults", says what passes and why.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/serve_process.h"
#include "server/test_repository.h"
#include "soak/sampler.h"
#include "soak/soak.h"

namespace supernova::soak {
namespace {

using json = nlohmann::json;
using testing::ServeProcess;
using testing::TempRepository;

// Growth limits, on the medians of the first and last thirds after warm-up. RSS moves in steps
// of megabytes as model reloads come and go through the allocator's arenas, so 20 % (and 4 MiB
// on a server of a few tens of MiB); a leak of a kilobyte per request at this load is megabytes a
// minute and crosses it. Open fds move by the few connections open at a sample's instant (slow
// clients, one hostile one, reconnects); one fd leaked per hostile connection or per reload
// crosses 8 within seconds.
constexpr double kRssRatio = 1.20;
constexpr long kRssSlackKib = 4096;
constexpr long kFdSlack = 8;

struct Args {
  Settings settings;
  bool ok = true;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) return a.ok = false, a;
    if (flag == "--duration")
      a.settings.duration_s = std::atof(value);
    else if (flag == "--clients")
      a.settings.clients = std::atoi(value);
    else if (flag == "--pause-ms")
      a.settings.pause_ms = std::atoi(value);
    else if (flag == "--slow-clients")
      a.settings.slow_clients = std::atoi(value);
    else
      return a.ok = false, a;
    ++i;
  }
  return a;
}

std::string WriteToken(const std::string& dir, const std::string& name, const std::string& token) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << token << "\n";
  return path;
}

void Emit(const json& j) { std::cout << j.dump() << std::endl; }

int Run(Settings s) {
  TempRepository repo;
  repo.AddBundled("simple");
  const std::string batched = "max_batch_size: 8\ndynamic_batching { }";
  repo.AddIdentityChain("steady", kChainWidth, 8, batched);
  repo.AddIdentityChain("churn", kChainWidth, 8, batched);
  std::string secrets = (std::filesystem::temp_directory_path() / "soak-XXXXXX").string();
  if (mkdtemp(secrets.data()) == nullptr) return std::cerr << "mkdtemp failed\n", 2;
  s.infer_token = "infer-" + std::to_string(getpid());
  s.admin_token = "admin-" + std::to_string(getpid());

  ServeProcess serve({"--model-repository",
                      repo.path(),
                      "--model-control-mode",
                      "explicit",
                      "--load-model",
                      "simple",
                      "--load-model",
                      "steady",
                      "--load-model",
                      "churn",
                      "--infer-token-file",
                      WriteToken(secrets, "infer", s.infer_token),
                      "--admin-token-file",
                      WriteToken(secrets, "admin", s.admin_token),
                      "--max-body-bytes",
                      std::to_string(s.max_body_bytes),
                      "--http-idle-timeout-secs",
                      std::to_string(s.idle_timeout_s),
                      "--exit-timeout-secs",
                      std::to_string(s.exit_timeout_s)});
  const bool ready = serve.WaitReady();
  std::filesystem::remove_all(secrets);
  if (!ready) return std::cerr << "server did not start:\n" << serve.Log(), 2;
  s.http_port = serve.http_port();
  s.grpc_port = serve.grpc_port();

  Tally tally;
  Shutdown shutdown;
  Sampler sampler(serve.pid());
  std::vector<std::thread> threads;
  for (int i = 0; i < s.clients; ++i) {
    threads.emplace_back([&, i] { RunHttpJsonClient(s, i, tally, shutdown); });
    threads.emplace_back([&, i] { RunHttpBinaryClient(s, i, tally, shutdown); });
    threads.emplace_back([&, i] { RunGrpcClient(s, i, tally, shutdown); });
  }
  for (int i = 0; i < s.slow_clients; ++i)
    threads.emplace_back([&] { RunSlowClient(s, tally, shutdown); });
  threads.emplace_back([&] { RunHostileClient(s, tally, shutdown); });
  threads.emplace_back([&] { RunAdminLoop(s, tally, shutdown); });

  const Clock::time_point start = Clock::now();
  const auto end = start + std::chrono::duration<double>(s.duration_s);
  // A line a minute: a long run shows it is alive and how it goes.
  for (auto next = start + std::chrono::minutes(1); Clock::now() < end;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (Clock::now() < next) continue;
    next += std::chrono::minutes(1);
    const Sample now = sampler.Latest();
    Emit({{"progress_s", std::chrono::duration<double>(Clock::now() - start).count()},
          {"ok", tally.Count("", "ok")},
          {"failures", tally.Failures()},
          {"rss_kib", now.rss_kib},
          {"fds", now.fds}});
  }

  // SIGTERM under load: the clients keep sending until their first refusal.
  const Clock::time_point signalled_at = Clock::now();
  shutdown.signalled_at_ns = signalled_at.time_since_epoch().count();
  shutdown.signalled = true;
  serve.Signal(SIGTERM);
  auto exited = std::async(std::launch::async, [&] { return serve.Wait(); });
  const bool exited_in_time =
      exited.wait_for(std::chrono::seconds(s.exit_timeout_s + 60)) == std::future_status::ready;
  if (!exited_in_time) serve.Signal(SIGKILL);
  const int exit_code = exited.get();
  const double exit_s = std::chrono::duration<double>(Clock::now() - signalled_at).count();
  shutdown.stop_clients = true;
  for (std::thread& t : threads) t.join();
  sampler.Stop();

  std::vector<std::string> reasons;
  for (const std::string& line : tally.JsonLines()) std::cout << line << "\n";
  const GrowthVerdict growth =
      JudgeGrowth(sampler.Before(shutdown), std::min(10.0, s.duration_s / 5), kRssRatio,
                  kRssSlackKib, kFdSlack);
  for (const std::string& line : growth.json_lines) std::cout << line << "\n";
  reasons.insert(reasons.end(), growth.reasons.begin(), growth.reasons.end());
  Emit({{"shutdown", {{"exit_code", exit_code}, {"seconds", exit_s}}}});

  if (tally.Failures() > 0)
    reasons.push_back(std::to_string(tally.Failures()) + " failed requests");
  for (const std::string& d : tally.FailureDetails()) reasons.push_back("  " + d);
  if (exit_code != 0) reasons.push_back("server exit code " + std::to_string(exit_code));
  // The server's own deadline is the grace; process exit and this clock add a little.
  if (exit_s > s.exit_timeout_s + 1.0)
    reasons.push_back("server took " + std::to_string(exit_s) + " s to exit, over " +
                      std::to_string(s.exit_timeout_s));
  // A run where some kind never happened proves nothing about it.
  for (const char* kind : {"http_json/simple", "http_binary/steady", "grpc/churn", "admin/unload",
                           "hostile/", "slow/"})
    if (tally.Count(kind, "ok") == 0) reasons.push_back(std::string("no success of ") + kind);
  Emit({{"verdict", reasons.empty() ? "pass" : "fail"}, {"reasons", reasons}});
  if (!reasons.empty()) {
    const std::string log = serve.Log();
    std::cerr << "server log (last 4000 bytes):\n"
              << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  }
  return reasons.empty() ? 0 : 1;
}

}  // namespace
}  // namespace supernova::soak

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const supernova::soak::Args args = supernova::soak::Parse(argc, argv);
  if (!args.ok) {
    std::cerr << "usage: soak_driver [--duration S] [--clients N] [--pause-ms MS] "
                 "[--slow-clients N]\n";
    return 2;
  }
  return supernova::soak::Run(args.settings);
}

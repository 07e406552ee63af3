// The admin client: loads, reloads and unloads `churn` in a loop through the repository API with
// the admin token while the well-formed clients send to it (and to the models that stay).
#include <httplib.h>

#include <thread>

#include "soak/soak.h"

namespace supernova::soak {

void RunAdminLoop(const Settings& s, Tally& tally, const Shutdown& shutdown) {
  httplib::Client http("127.0.0.1", s.http_port);
  http.set_read_timeout(60);
  http.set_bearer_token_auth(s.admin_token);
  // Unloaded for a short while, loaded for longer: most churn requests find it there.
  const std::pair<const char*, int> steps[] = {{"reload", 1000}, {"unload", 400}, {"load", 1000}};
  for (int n = 0; !shutdown.signalled.load() && !shutdown.stop_clients.load(); ++n) {
    const auto& [step, pause_ms] = steps[n % 3];
    const Clock::time_point started = Clock::now();
    const std::string action = std::string(step) == "unload" ? "unload" : "load";
    auto res = http.Post("/v2/repository/models/churn/" + action, "{}", "application/json");
    if (!shutdown.Before(started)) break;  // the answer may be a refusal now
    if (res && res->status == 200)
      tally.Add(std::string("admin/") + step, "ok");
    else
      tally.Add(std::string("admin/") + step, "FAIL",
                std::string(step) + ": " +
                    (res ? std::to_string(res->status) + " " + res->body
                         : httplib::to_string(res.error())));
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
}

}  // namespace supernova::soak

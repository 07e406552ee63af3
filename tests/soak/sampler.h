// The server's resident memory and open descriptors, sampled once a second from /proc, and the
// verdict on their growth.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "soak/soak.h"

namespace supernova::soak {

struct Sample {
  double t_s;  // since the sampler started
  long rss_kib;
  long fds;
};

class Sampler {
 public:
  explicit Sampler(pid_t pid);
  ~Sampler();  // stops
  void Stop();
  // The latest sample ({0, -1, -1} before the first).
  Sample Latest() const;
  // The samples taken while `shutdown` was not yet signalled.
  std::vector<Sample> Before(const Shutdown& shutdown) const;

 private:
  pid_t pid_;
  Clock::time_point start_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::pair<Clock::time_point, Sample>> samples_;
  std::thread thread_;
};

struct GrowthVerdict {
  bool ok = true;
  std::vector<std::string> reasons;     // why not
  std::vector<std::string> json_lines;  // each series' min, median, max and its thirds
};

// Drops the first `warmup_s`, then compares the median of the last third of the samples with
// the first third's: RSS may grow by at most `rss_ratio` (and `rss_slack_kib`), fds by `fd_slack`.
GrowthVerdict JudgeGrowth(const std::vector<Sample>& samples, double warmup_s, double rss_ratio,
                          long rss_slack_kib, long fd_slack);

}  // namespace supernova::soak

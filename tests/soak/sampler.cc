#include "soak/sampler.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

namespace supernova::soak {
namespace {

long ReadRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

long CountFds(pid_t pid) {
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) return -1;
  long n = 0;
  while (dirent* e = readdir(dir))
    if (e->d_name[0] != '.') ++n;
  closedir(dir);
  return n;
}

long Median(std::vector<long> v) {
  if (v.empty()) return -1;
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace

Sampler::Sampler(pid_t pid) : pid_(pid), start_(Clock::now()) {
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      const Clock::time_point now = Clock::now();
      const Sample s{std::chrono::duration<double>(now - start_).count(), ReadRssKib(pid_),
                     CountFds(pid_)};
      if (s.rss_kib < 0 || s.fds < 0) return;  // the process is gone
      {
        std::lock_guard lock(mu_);
        samples_.emplace_back(now, s);
      }
      for (int i = 0; i < 10 && !stop_.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

Sampler::~Sampler() { Stop(); }

void Sampler::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Sample Sampler::Latest() const {
  std::lock_guard lock(mu_);
  return samples_.empty() ? Sample{0, -1, -1} : samples_.back().second;
}

std::vector<Sample> Sampler::Before(const Shutdown& shutdown) const {
  std::lock_guard lock(mu_);
  std::vector<Sample> out;
  for (const auto& [t, s] : samples_)
    if (shutdown.Before(t)) out.push_back(s);
  return out;
}

GrowthVerdict JudgeGrowth(const std::vector<Sample>& samples, double warmup_s, double rss_ratio,
                          long rss_slack_kib, long fd_slack) {
  GrowthVerdict v;
  std::vector<Sample> kept;
  for (const Sample& s : samples)
    if (s.t_s >= warmup_s) kept.push_back(s);
  const size_t third = kept.size() / 3;
  if (third < 2) {
    v.ok = false;
    v.reasons.push_back("too few samples after warm-up: " + std::to_string(kept.size()));
    return v;
  }
  auto judge = [&](const char* name, long Sample::*field, auto limit_of) {
    std::vector<long> all, first, last;
    for (size_t i = 0; i < kept.size(); ++i) {
      const long x = kept[i].*field;
      all.push_back(x);
      if (i < third) first.push_back(x);
      if (i >= kept.size() - third) last.push_back(x);
    }
    const long m_first = Median(first), m_last = Median(last);
    const long limit = limit_of(m_first);
    v.json_lines.push_back(nlohmann::json{
        {"series", name},
        {"samples", all.size()},
        {"min", *std::min_element(all.begin(), all.end())},
        {"median", Median(all)},
        {"max", *std::max_element(all.begin(), all.end())},
        {"first_third_median", m_first},
        {"last_third_median", m_last},
        {"limit", limit}}.dump());
    if (m_last > limit) {
      v.ok = false;
      v.reasons.push_back(std::string(name) + " grew: median " + std::to_string(m_first) + " -> " +
                          std::to_string(m_last) + " (limit " + std::to_string(limit) + ")");
    }
  };
  judge("rss_kib", &Sample::rss_kib, [&](long first) {
    return static_cast<long>(static_cast<double>(first) * rss_ratio) + rss_slack_kib;
  });
  judge("fds", &Sample::fds, [&](long first) { return first + fd_slack; });
  return v;
}

}  // namespace supernova::soak

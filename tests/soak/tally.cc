#include <nlohmann/json.hpp>

#include "soak/soak.h"

namespace supernova::soak {

void Tally::Add(const std::string& kind, const std::string& outcome, const std::string& detail) {
  std::lock_guard lock(mu_);
  ++counts_[{kind, outcome}];
  // The first few failures tell what went wrong; thousands of copies would not.
  if (outcome.rfind("FAIL", 0) == 0 && details_.size() < 20)
    details_.push_back(detail.substr(0, 400));
}

long Tally::Failures() const {
  std::lock_guard lock(mu_);
  long n = 0;
  for (const auto& [key, count] : counts_)
    if (key.second.rfind("FAIL", 0) == 0) n += count;
  return n;
}

long Tally::Count(const std::string& kind_prefix, const std::string& outcome_prefix) const {
  std::lock_guard lock(mu_);
  long n = 0;
  for (const auto& [key, count] : counts_)
    if (key.first.rfind(kind_prefix, 0) == 0 && key.second.rfind(outcome_prefix, 0) == 0)
      n += count;
  return n;
}

std::vector<std::string> Tally::JsonLines() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> lines;
  for (const auto& [key, count] : counts_)
    lines.push_back(
        nlohmann::json{{"kind", key.first}, {"outcome", key.second}, {"count", count}}.dump());
  return lines;
}

std::vector<std::string> Tally::FailureDetails() const {
  std::lock_guard lock(mu_);
  return details_;
}

}  // namespace supernova::soak

#include "conformance/known_failures.h"

#include <sstream>

namespace supernova::conformance {

namespace {

constexpr const char* kBlanks = " \t";

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(kBlanks);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(kBlanks) - b + 1);
}

}  // namespace

bool IsChanceReason(const std::string& reason) { return reason.rfind(kChancePrefix, 0) == 0; }

Result<std::map<std::string, KnownFailure>> ParseKnownFailures(const std::string& text,
                                                               const std::string& path) {
  std::map<std::string, KnownFailure> known;
  std::istringstream in(text);
  std::string line, previous;
  for (int number = 1; std::getline(in, line); ++number) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    const size_t gap = line.find_first_of(kBlanks);
    if (gap == std::string::npos)
      return Status::InvalidArgument(where + "'" + line + "' has no reason");
    const std::string name = line.substr(0, gap);
    if (name <= previous)
      return Status::InvalidArgument(
          where + name + (name == previous ? " is listed twice" : "") +
          (name < previous ? " is out of order (after " + previous + "): keep the list sorted"
                           : ""));
    known[name] = {Trim(line.substr(gap)), number};
    previous = name;
  }
  return known;
}

std::set<std::string> OpsNamedByReason(const std::string& reason) {
  const std::string tail = " not implemented";
  std::string list;
  if (reason.rfind("op ", 0) == 0)
    list = reason.substr(3);
  else if (reason.rfind("ops ", 0) == 0)
    list = reason.substr(4);
  else
    return {};
  if (list.size() <= tail.size() || list.compare(list.size() - tail.size(), tail.size(), tail))
    return {};
  list.resize(list.size() - tail.size());
  std::set<std::string> ops;
  std::istringstream items(list);
  for (std::string op; std::getline(items, op, ',');) ops.insert(Trim(op));
  return ops;
}

std::string MissingOpsReason(const std::set<std::string>& ops) {
  std::string names;
  for (const std::string& op : ops) names += (names.empty() ? "" : ", ") + op;
  return (ops.size() > 1 ? "ops " : "op ") + names + " not implemented";
}

Verdict Compare(const std::vector<Outcome>& outcomes,
                const std::map<std::string, KnownFailure>& known,
                const std::function<bool(const std::string&)>& selected) {
  Verdict v;
  std::set<std::string> seen;
  for (const Outcome& o : outcomes) {
    seen.insert(o.name);
    const auto listed = known.find(o.name);
    const bool chance = listed != known.end() && IsChanceReason(listed->second.reason);
    if (o.passed && chance) {
      // The draws happened to match the recorded ones: the test proves nothing either way.
      ++v.known;
      ++v.known_by_reason[listed->second.reason];
      continue;
    }
    if (o.passed) {
      ++v.passed;
      if (listed != known.end())
        v.fixed.push_back(o.name + ": passes now; remove it from the list (line " +
                          std::to_string(listed->second.line) + ")");
      continue;
    }
    const std::string actual = o.missing_ops.empty() ? o.detail : MissingOpsReason(o.missing_ops);
    if (listed == known.end()) {
      v.new_failures.push_back(o.name + ": " + actual);
      continue;
    }
    const std::set<std::string> claimed = OpsNamedByReason(listed->second.reason);
    // Random draws may differ only in their values; a wrong shape or dtype, or a failed run,
    // is a real failure.
    const bool values_only = o.missing_ops.empty() &&
                             o.detail.find(kValueMismatch) != std::string::npos &&
                             o.detail.find("shape") == std::string::npos;
    if (claimed != o.missing_ops || (chance && !values_only)) {
      v.wrong_reasons.push_back(o.name + ": listed as '" + listed->second.reason + "' (line " +
                                std::to_string(listed->second.line) + "), but now: " + actual);
      continue;
    }
    ++v.known;
    ++v.known_by_reason[listed->second.reason];
  }
  for (const auto& [name, entry] : known)
    if (selected(name) && !seen.count(name))
      v.not_in_suite.push_back(name + ": listed (line " + std::to_string(entry.line) +
                               ") but not in the suite");
  return v;
}

}  // namespace supernova::conformance

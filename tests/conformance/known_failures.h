// The checked-in list of ONNX node tests that do not pass (known_failures.txt), and the
// comparison of a run against it. The list must be exact: a failure it does not name, a test
// it names that passes, and a test it names that the suite no longer has all fail the run,
// so the list is always the true account of what does not work.
//
// Format: one test per line, "NAME REASON" (the reason is everything after the first run of
// blanks, and must be there); lines sorted by name; blank lines and lines starting with '#'
// are ignored. A reason of the form "op X not implemented" or "ops X, Y not implemented" is
// checked: the test must fail to open because exactly those operators have no kernel. A
// reason starting "random draws:" marks a test whose expected outputs are random draws the
// test data does not let anyone reproduce: it must fail on values alone (shapes and dtypes
// still match), and when the draws happen to match it is not "fixed" (it counts as known).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "supernova/status.h"

namespace supernova::conformance {

struct KnownFailure {
  std::string reason;
  int line = 0;
};

inline constexpr const char* kChancePrefix = "random draws:";
// What the runner's detail says when an output has the right shape but other values.
inline constexpr const char* kValueMismatch = "elements differ";

// Whether a reason marks a test whose outcome is chance (see above).
bool IsChanceReason(const std::string& reason);

// Parses the list; the error names the file and line of the first malformed entry.
Result<std::map<std::string, KnownFailure>> ParseKnownFailures(const std::string& text,
                                                               const std::string& path);

// The operators a reason says are missing ({X, Y} for "ops X, Y not implemented"); empty
// for every other reason.
std::set<std::string> OpsNamedByReason(const std::string& reason);

// The reason to list for a test whose operators `ops` have no kernel.
std::string MissingOpsReason(const std::set<std::string>& ops);

// How one test came out.
struct Outcome {
  std::string name;
  bool passed = false;
  std::set<std::string> missing_ops;  // set when it failed to open for want of kernels
  std::string detail;                 // why it did not pass
};

// A run compared with the list. Every vector holds "name: explanation" lines.
struct Verdict {
  int passed = 0;
  int known = 0;
  std::vector<std::string> new_failures;   // failed, not listed
  std::vector<std::string> fixed;          // listed, passed
  std::vector<std::string> wrong_reasons;  // listed as missing ops it does not miss, or so
  std::vector<std::string> not_in_suite;   // listed, not among the tests run
  std::map<std::string, int> known_by_reason;
  bool ok() const {
    return new_failures.empty() && fixed.empty() && wrong_reasons.empty() && not_in_suite.empty();
  }
};

// `selected` says which listed names the run was meant to cover (all, or those a --filter
// picked), so that a filtered run does not call the rest of the list stale.
Verdict Compare(const std::vector<Outcome>& outcomes,
                const std::map<std::string, KnownFailure>& known,
                const std::function<bool(const std::string&)>& selected);

}  // namespace supernova::conformance

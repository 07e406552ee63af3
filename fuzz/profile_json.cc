// A capability profile (profiles/capability_profile.h): the JSON of a `--target FILE.json`
// that `supernova profile` and `plan` read, which a user may write by hand.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "profiles/capability_profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace sp = supernova::profiles;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto profile = sp::ParseProfile(text, "fuzz.json");
  if (!profile.ok()) return 0;
  // The names the reports print for whatever was accepted.
  (void)sp::PartitionRuleName(profile->partition);
  (void)sp::FloatPolicyName(profile->float_policy);
  return 0;
}

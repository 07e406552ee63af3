// The profiles/*.json files, compiled into the binary so that `--target edgetpu` works from any
// directory. The definition is generated at build time by cmake/embed_files.cmake.
#pragma once

#include <vector>

namespace supernova::profiles {

struct EmbeddedProfile {
  const char* name;  // file name without ".json"
  const char* json;  // the file's text
};

// Every embedded profile, in file-name order.
const std::vector<EmbeddedProfile>& EmbeddedProfiles();

}  // namespace supernova::profiles

# Writes a C++ source that holds every DIR/*.json as a string, for
# src/profiles/embedded_profiles.h. Run as: cmake -DDIR=<profiles> -DOUT=<file.cc> -P <this>.
# The raw-string delimiter cannot occur in a profile: the build fails if one ever contains it.
file(GLOB files "${DIR}/*.json")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WE)
  file(READ "${f}" text)
  string(FIND "${text}" ")sn_profile\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the embedding delimiter )sn_profile\"")
  endif()
  string(APPEND body "      {\"${name}\", R\"sn_profile(${text})sn_profile\"},\n")
endforeach()
set(content "// Generated from profiles/*.json by cmake/embed_profiles.cmake. Do not edit.
#include \"profiles/embedded_profiles.h\"

namespace supernova::profiles {

const std::vector<EmbeddedProfile>& EmbeddedProfiles() {
  static const std::vector<EmbeddedProfile> kProfiles = {
${body}  };
  return kProfiles;
}

}  // namespace supernova::profiles
")
# Rewrite only on change, so an untouched profile set rebuilds nothing.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${content}")

# Capability profiles (src/profiles, data in profiles/*.json): what an accelerator that cannot
# run here would take, for `supernova check`. The JSON files are embedded into a generated
# source so that built-in targets need no files at run time.
file(GLOB SUPERNOVA_PROFILE_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/profiles/*.json)
set(SUPERNOVA_EMBEDDED_PROFILES_CC ${CMAKE_CURRENT_BINARY_DIR}/embedded_profiles.cc)
add_custom_command(
  OUTPUT ${SUPERNOVA_EMBEDDED_PROFILES_CC}
  COMMAND ${CMAKE_COMMAND} "-DFILES=${SUPERNOVA_PROFILE_FILES}"
          -DOUT=${SUPERNOVA_EMBEDDED_PROFILES_CC} -DHEADER=profiles/embedded_profiles.h
          -DNAMESPACE=supernova::profiles -DTYPE=EmbeddedProfile -DFUNCTION=EmbeddedProfiles
          -DSTRIP_EXT=ON -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
  DEPENDS ${SUPERNOVA_PROFILE_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
  COMMENT "Embedding capability profiles"
  VERBATIM)
file(GLOB SUPERNOVA_PROFILE_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cc)
supernova_layer(profiles KIND STATIC
  SOURCES ${SUPERNOVA_PROFILE_SOURCES} ${SUPERNOVA_EMBEDDED_PROFILES_CC}
  HEADERS profiles/*.h
  DEPENDS ir optimizer provider_api
  LINK nlohmann_json::nlohmann_json)

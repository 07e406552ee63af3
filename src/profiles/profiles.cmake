# Capability profiles (src/profiles, data in profiles/*.json), part of supernova_core. The JSON
# files are embedded into a generated source so that built-in targets need no files at run time.
file(GLOB SUPERNOVA_PROFILE_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/profiles/*.json)
set(SUPERNOVA_EMBEDDED_PROFILES_CC ${CMAKE_CURRENT_BINARY_DIR}/embedded_profiles.cc)
add_custom_command(
  OUTPUT ${SUPERNOVA_EMBEDDED_PROFILES_CC}
  COMMAND ${CMAKE_COMMAND} -DDIR=${PROJECT_SOURCE_DIR}/profiles
          -DOUT=${SUPERNOVA_EMBEDDED_PROFILES_CC} -P ${PROJECT_SOURCE_DIR}/cmake/embed_profiles.cmake
  DEPENDS ${SUPERNOVA_PROFILE_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_profiles.cmake
  COMMENT "Embedding capability profiles"
  VERBATIM)
target_sources(supernova_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/capability_profile.cc
                                      ${CMAKE_CURRENT_LIST_DIR}/profile_evaluator.cc
                                      ${SUPERNOVA_EMBEDDED_PROFILES_CC})
target_link_libraries(supernova_core PRIVATE nlohmann_json::nlohmann_json)

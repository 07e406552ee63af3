# The web console of `supernova serve` (docs/console.md): the page (src/console/web, compiled
# in), its JSON API and the models' history (console), and the streams the server runs for it
# (console_streams), apart so that the console itself knows no stream type.
file(GLOB SUPERNOVA_CONSOLE_WEB CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/web/*)
set(SUPERNOVA_CONSOLE_WEB_CC ${CMAKE_CURRENT_BINARY_DIR}/console_web_assets.cc)
add_custom_command(
  OUTPUT ${SUPERNOVA_CONSOLE_WEB_CC}
  COMMAND ${CMAKE_COMMAND} "-DFILES=${SUPERNOVA_CONSOLE_WEB}" -DOUT=${SUPERNOVA_CONSOLE_WEB_CC}
          -DHEADER=console/web_assets.h -DNAMESPACE=supernova::console -DTYPE=WebAsset
          -DFUNCTION=WebAssets -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
  DEPENDS ${SUPERNOVA_CONSOLE_WEB} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
  COMMENT "Embedding the console's web page"
  VERBATIM)

supernova_layer(console KIND STATIC
  SOURCES console/console.cc console/model_history.cc ${SUPERNOVA_CONSOLE_WEB_CC}
  HEADERS console/console.h console/model_history.h console/stream_view.h console/web_assets.h
  DEPENDS server
  LINK nlohmann_json::nlohmann_json fmt::fmt)

supernova_layer(console_streams KIND STATIC
  SOURCES console/stream_hub.cc
  HEADERS console/stream_hub.h
  DEPENDS console stream annotate
  LINK nlohmann_json::nlohmann_json fmt::fmt)

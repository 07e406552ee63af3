# Cloud-edge collaboration (DESIGN part 5): link models, profiles and split planning of one
# model between edge and cloud, and placement of pipelines across end, edge and cloud. It
# rewrites the IR and runs models through the session, so it sits above the runtime; it
# speaks no network protocol (that is collab_remote's), so `supernova` links it without gRPC.
file(GLOB SUPERNOVA_COLLAB_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/collab/*.cc)
supernova_layer(collab KIND STATIC
  SOURCES ${SUPERNOVA_COLLAB_SOURCES}
  HEADERS collab/*.h
  DEPENDS ir ops optimizer runtime
  LINK fmt::fmt nlohmann_json::nlohmann_json)

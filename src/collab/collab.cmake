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

# The edge runner of split execution (docs/collab.md): the KServe v2 gRPC client, the
# emulated link and the runner that picks a cut per request and falls back to the edge. A
# layer of its own because it speaks gRPC, which `supernova` must not map; it reaches the
# server only through the generated stubs, never the server's internals.
file(GLOB SUPERNOVA_COLLAB_REMOTE_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/collab/remote/*.cc)
supernova_layer(collab_remote KIND STATIC
  SOURCES ${SUPERNOVA_COLLAB_REMOTE_SOURCES}
  HEADERS collab/remote/*.h
  DEPENDS collab
  INTERFACE supernova_server_proto
  LINK fmt::fmt nlohmann_json::nlohmann_json)

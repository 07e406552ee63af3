# Cloud-edge collaboration (DESIGN part 5): link models, profiles and split planning of one
# model between edge and cloud, and placement of pipelines across end, edge and cloud. It
# rewrites the IR and runs models through the session, so it sits above the runtime; it
# speaks no network protocol (that is collab_remote's), so `supernova` links it without gRPC.
# The link model (bandwidth, RTT, loss; the measured estimate) is a layer of its own, free of the
# runtime: the KServe client's link emulator (kserve_client) is built on it too.
supernova_layer(collab_link KIND STATIC
  SOURCES collab/link.cc
  HEADERS collab/link.h
  DEPENDS common
  LINK fmt::fmt)

file(GLOB SUPERNOVA_COLLAB_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/collab/*.cc)
list(REMOVE_ITEM SUPERNOVA_COLLAB_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/collab/link.cc)
file(GLOB SUPERNOVA_COLLAB_HEADERS RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/collab/*.h)
list(REMOVE_ITEM SUPERNOVA_COLLAB_HEADERS collab/link.h)
supernova_layer(collab KIND STATIC
  SOURCES ${SUPERNOVA_COLLAB_SOURCES}
  HEADERS ${SUPERNOVA_COLLAB_HEADERS}
  DEPENDS ir ops optimizer runtime collab_link
  LINK fmt::fmt nlohmann_json::nlohmann_json)
# The placement search promises the same result for a seed on every machine (collab/nsga2.h).
# A compiler that fuses a*b+c into one multiply-add rounds once where x86-64 rounds twice: GCC
# does so on aarch64, where the instruction is always there, and the search took another path
# (Nsga2.FindsMostOfTheExhaustiveFront evaluated 35,000 plans instead of under 29,412).
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(supernova_collab PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-ffp-contract=off>)
endif()

# The edge runner of split execution (docs/collab.md): the runner that picks a cut per request
# and falls back to the edge, over the KServe v2 gRPC client and emulated link of
# kserve_client. A layer of its own because it speaks gRPC, which `supernova` must not map.
file(GLOB SUPERNOVA_COLLAB_REMOTE_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/collab/remote/*.cc)
supernova_layer(collab_remote KIND STATIC
  SOURCES ${SUPERNOVA_COLLAB_REMOTE_SOURCES}
  HEADERS collab/remote/*.h
  DEPENDS collab kserve_client
  LINK fmt::fmt nlohmann_json::nlohmann_json)

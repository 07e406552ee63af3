# Model compression (DESIGN part 2): calibration, int8 QDQ export, channel pruning, layer
# folding and the agreement measures the compress report gives. It rewrites the IR and runs
# models through the session to calibrate, so it sits above the runtime and is linked only into
# `supernova`.
file(GLOB SUPERNOVA_COMPRESS_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/compress/*.cc)
supernova_layer(compress KIND STATIC
  SOURCES ${SUPERNOVA_COMPRESS_SOURCES}
  HEADERS compress/*.h
  DEPENDS ir ops optimizer runtime stream)

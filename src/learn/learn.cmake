# On-device learning (DESIGN part 6, docs/learn.md): embeddings from a model's layer, the
# crash-safe class store, prototype and imprinting classifiers, the imprinted ONNX export and
# online refinement. It cuts and extends models in the IR and runs them through the session,
# so it sits above the runtime; the command line, the server and the stream use it.
find_package(ZLIB REQUIRED)  # CRC-32 of the class files
file(GLOB SUPERNOVA_LEARN_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/learn/*.cc)
supernova_layer(learn KIND STATIC
  SOURCES ${SUPERNOVA_LEARN_SOURCES}
  HEADERS learn/*.h
  DEPENDS ir ops optimizer runtime
  LINK ZLIB::ZLIB nlohmann_json::nlohmann_json)

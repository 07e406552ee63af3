# `supernova serve`: the KServe v2 / Triton-compatible inference server (docs/server.md).
# Included from src/CMakeLists.txt.

set(SUPERNOVA_PROTO_DIR ${PROJECT_SOURCE_DIR}/proto)
set(SUPERNOVA_PROTO_OUT ${CMAKE_CURRENT_BINARY_DIR}/server_proto)
file(MAKE_DIRECTORY ${SUPERNOVA_PROTO_OUT})

# config.pbtxt's messages (text format parsing, JSON for the HTTP config endpoint) and the
# gRPC service, generated with the full protobuf runtime.
function(supernova_protoc name)
  add_custom_command(
    OUTPUT ${SUPERNOVA_PROTO_OUT}/${name}.pb.cc ${SUPERNOVA_PROTO_OUT}/${name}.pb.h
           ${SUPERNOVA_PROTO_OUT}/${name}.grpc.pb.cc ${SUPERNOVA_PROTO_OUT}/${name}.grpc.pb.h
    COMMAND protobuf::protoc --cpp_out=${SUPERNOVA_PROTO_OUT} --grpc_out=${SUPERNOVA_PROTO_OUT}
            --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
            -I ${SUPERNOVA_PROTO_DIR} ${SUPERNOVA_PROTO_DIR}/${name}.proto
    DEPENDS ${SUPERNOVA_PROTO_DIR}/${name}.proto protobuf::protoc gRPC::grpc_cpp_plugin
    COMMENT "protoc ${name}.proto")
endfunction()
supernova_protoc(model_config)
supernova_protoc(grpc_service)

add_library(supernova_config_proto STATIC ${SUPERNOVA_PROTO_OUT}/model_config.pb.cc)
target_include_directories(supernova_config_proto SYSTEM PUBLIC ${SUPERNOVA_PROTO_OUT})
target_link_libraries(supernova_config_proto PUBLIC protobuf::libprotobuf)

add_library(supernova_server_proto STATIC ${SUPERNOVA_PROTO_OUT}/grpc_service.pb.cc
                                          ${SUPERNOVA_PROTO_OUT}/grpc_service.grpc.pb.cc)
target_link_libraries(supernova_server_proto PUBLIC supernova_config_proto gRPC::grpc++)

# The protocol-neutral core: repository, config, scheduler, metrics, auth, logs. Small and free
# of Beast and gRPC, so the sanitizer tree builds and tests it too. It uses the runtime through
# the public API alone (supernova/session.h).
supernova_layer(server_core KIND STATIC
  SOURCES server/backend.cc server/bytes.cc server/datatypes.cc server/inference_server.cc server/log.cc server/metrics.cc
          server/model_config.cc server/model_repository.cc server/scheduler.cc
  HEADERS server/backend.h server/bytes.h server/inference_server.h server/log.h server/metrics.h server/model_config.h
          server/model_repository.h server/scheduler.h
  DEPENDS kserve_bytes
  INTERFACE supernova_lib supernova_config_proto OpenSSL::Crypto Threads::Threads
  LINK nlohmann_json::nlohmann_json fmt::fmt)

# The front ends: HTTP/REST and metrics (Boost.Beast, OpenSSL) and gRPC.
supernova_layer(server KIND STATIC
  SOURCES server/grpc_request.cc server/grpc_server.cc server/http_codec.cc server/http_routes.cc server/http_server.cc
  HEADERS server/grpc_request.h server/grpc_server.h server/http_codec.h server/http_server.h server/http_server_impl.h
  DEPENDS server_core
  INTERFACE supernova_server_proto Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads
  LINK nlohmann_json::nlohmann_json fmt::fmt)

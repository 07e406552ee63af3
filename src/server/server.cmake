# `supernova serve`: the KServe v2 / Triton-compatible inference server (docs/server.md).
# Included from src/CMakeLists.txt.

# Messages and the gRPC service, generated from proto/ with the full protobuf runtime
# (text format for config.pbtxt, JSON for the HTTP config endpoint).
set(SUPERNOVA_PROTO_DIR ${PROJECT_SOURCE_DIR}/proto)
set(SUPERNOVA_PROTO_OUT ${CMAKE_CURRENT_BINARY_DIR}/server_proto)
file(MAKE_DIRECTORY ${SUPERNOVA_PROTO_OUT})

set(supernova_proto_srcs)
foreach(name model_config)
  add_custom_command(
    OUTPUT ${SUPERNOVA_PROTO_OUT}/${name}.pb.cc ${SUPERNOVA_PROTO_OUT}/${name}.pb.h
    COMMAND protobuf::protoc --cpp_out=${SUPERNOVA_PROTO_OUT} -I ${SUPERNOVA_PROTO_DIR}
            ${SUPERNOVA_PROTO_DIR}/${name}.proto
    DEPENDS ${SUPERNOVA_PROTO_DIR}/${name}.proto protobuf::protoc
    COMMENT "protoc ${name}.proto")
  list(APPEND supernova_proto_srcs ${SUPERNOVA_PROTO_OUT}/${name}.pb.cc)
endforeach()
foreach(name grpc_service)
  if(EXISTS ${SUPERNOVA_PROTO_DIR}/${name}.proto)
    add_custom_command(
      OUTPUT ${SUPERNOVA_PROTO_OUT}/${name}.pb.cc ${SUPERNOVA_PROTO_OUT}/${name}.pb.h
             ${SUPERNOVA_PROTO_OUT}/${name}.grpc.pb.cc ${SUPERNOVA_PROTO_OUT}/${name}.grpc.pb.h
      COMMAND protobuf::protoc --cpp_out=${SUPERNOVA_PROTO_OUT} --grpc_out=${SUPERNOVA_PROTO_OUT}
              --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
              -I ${SUPERNOVA_PROTO_DIR} ${SUPERNOVA_PROTO_DIR}/${name}.proto
      DEPENDS ${SUPERNOVA_PROTO_DIR}/${name}.proto protobuf::protoc gRPC::grpc_cpp_plugin
      COMMENT "protoc ${name}.proto (with the gRPC service)")
    list(APPEND supernova_proto_srcs ${SUPERNOVA_PROTO_OUT}/${name}.pb.cc
                                     ${SUPERNOVA_PROTO_OUT}/${name}.grpc.pb.cc)
  endif()
endforeach()
add_library(supernova_server_proto STATIC ${supernova_proto_srcs})
target_include_directories(supernova_server_proto SYSTEM PUBLIC ${SUPERNOVA_PROTO_OUT})
target_link_libraries(supernova_server_proto PUBLIC protobuf::libprotobuf gRPC::grpc++)

# The protocol-neutral core (repository, scheduler, metrics, auth) and the two front ends.
file(GLOB SUPERNOVA_SERVER_SRCS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/server/*.cc)
add_library(supernova_server STATIC ${SUPERNOVA_SERVER_SRCS})
target_link_libraries(supernova_server PUBLIC supernova_core supernova_server_proto
                                       Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads
                                       PRIVATE nlohmann_json::nlohmann_json fmt::fmt)
target_compile_definitions(supernova_server PRIVATE SUPERNOVA_VERSION="${PROJECT_VERSION}")
supernova_warnings(supernova_server)

# Debian packages with CPack (docs/deploy.md):
#   supernova      the executables, libsupernova, the provider plugins, a systemd unit that runs
#                  `supernova-serve` as the unprivileged user `supernova` on the model repository
#                  in /var/lib/supernova/models, flags in /etc/supernova/serve.env
#   supernova-dev  the headers, the CMake package and the pkg-config file
# Made by `cpack -G DEB` in a configured and built tree (scripts/package.sh), for the tree's
# architecture: amd64 here, arm64 from the cross tree (scripts/build_arm64.sh).
# The cuda plugin is left out: its CUDA libraries come from NVIDIA's toolkit, not from Debian
# packages a .deb could depend on.

# The service's files, in a component a plain `cmake --install` leaves out (the unit and the
# configuration belong to the package's absolute paths, not to an install prefix).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/supernova.service
        DESTINATION lib/systemd/system COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/sysusers.conf RENAME supernova.conf
        DESTINATION lib/sysusers.d COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/serve.env
        DESTINATION /etc/supernova COMPONENT service EXCLUDE_FROM_ALL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/model_repository/
        DESTINATION share/supernova/model_repository COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/deploy.md ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION share/doc/supernova COMPONENT service EXCLUDE_FROM_ALL)

# The tree's target architecture, not the build machine's (a cross tree makes arm64 packages).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME supernova)
set(CPACK_PACKAGE_VENDOR "Supernova")
set(CPACK_PACKAGE_CONTACT "Supernova developers <supernova@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ONNX inference service for edge devices")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_THREADS 0)  # compress with every core
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime service dev)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_COMPONENT_RUNTIME_GROUP server)
set(CPACK_COMPONENT_SERVICE_GROUP server)
set(CPACK_COMPONENT_DEV_GROUP dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME supernova)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME supernova-dev)
set(CPACK_DEBIAN_SERVER_DESCRIPTION
    "ONNX inference service for edge devices\n Its own ONNX runtime (oneDNN CPU kernels, plugin execution providers), a KServe v2 /\n Triton-compatible HTTP and gRPC server run by systemd, a video pipeline, cloud-edge\n collaboration and on-device few-shot learning.")
set(CPACK_DEBIAN_DEV_DESCRIPTION
    "ONNX inference service for edge devices: development files\n Headers, CMake package (find_package(Supernova)) and pkg-config file of libsupernova.")
# Dependencies from the ELF files' needs (dpkg-shlibdeps), our own libraries found in the package.
set(CPACK_DEBIAN_SERVER_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
    ${CMAKE_BINARY_DIR}/lib ${CMAKE_BINARY_DIR}/lib/supernova)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "passwd")  # useradd, where systemd-sysusers is not
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "supernova (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/deb/postinst ${PROJECT_SOURCE_DIR}/packaging/deb/prerm
    ${PROJECT_SOURCE_DIR}/packaging/deb/postrm ${PROJECT_SOURCE_DIR}/packaging/deb/conffiles)
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

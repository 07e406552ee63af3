# Providers that bring heavy libraries, as plugins (providers/plugin.h): each is a static
# library of its code (which its tests link) and a module, supernova_provider_<name>.so, in the
# plugin directory beside libsupernova (build/lib/supernova), opened with dlopen only by a
# session that asks for it.

# Every plugin this build makes, as one target (scripts/run.sh builds it).
add_custom_target(supernova_plugins)

# supernova_plugin(name [COMPONENT c]): the install component is `runtime` unless named.
function(supernova_plugin name)
  cmake_parse_arguments(PLUGIN "" "COMPONENT" "" ${ARGN})
  if(NOT PLUGIN_COMPONENT)
    set(PLUGIN_COMPONENT runtime)
  endif()
  add_library(supernova_provider_${name} MODULE providers/${name}/plugin.cc)
  target_link_libraries(supernova_provider_${name} PRIVATE supernova_${name})
  set_target_properties(supernova_provider_${name} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${SUPERNOVA_PLUGIN_DIR}
    # Only the entry point is exported; the rest of the plugin is its own business.
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    INSTALL_RPATH "$ORIGIN/..")
  # A plugin that leaves a symbol undefined fails at link time, not when loaded. Not under
  # clang's sanitizers: clang puts their runtime in the executable, so a plugin's calls into it
  # are undefined until it is loaded there.
  if(NOT (SUPERNOVA_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang"))
    target_link_options(supernova_provider_${name} PRIVATE -Wl,--no-undefined)
  endif()
  supernova_warnings(supernova_provider_${name})
  set_property(GLOBAL APPEND PROPERTY SUPERNOVA_PLUGINS supernova_provider_${name})
  add_dependencies(supernova_plugins supernova_provider_${name})
  install(TARGETS supernova_provider_${name}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/supernova COMPONENT ${PLUGIN_COMPONENT})
endfunction()

# The opencv provider, where OpenCV's DNN module is installed (cmake/opencv.cmake).
option(SUPERNOVA_OPENCV "Build the opencv execution provider when OpenCV DNN is found" ON)
if(SUPERNOVA_OPENCV AND SUPERNOVA_OPENCV_FOUND)
  supernova_layer(opencv KIND STATIC
    SOURCES providers/opencv/opencv_provider.cc
    HEADERS providers/opencv/opencv_provider.h
    DEPENDS cpu provider_api ir
    LINK supernova::opencv_dnn)
  supernova_plugin(opencv)
  message(STATUS "opencv provider: plugin (${SUPERNOVA_OPENCV_DNN_LIB})")
elseif(SUPERNOVA_OPENCV)
  message(STATUS "opencv provider: skipped (libopencv-dnn-dev not found)")
endif()

# The cuda provider (cmake/cuda.cmake decides whether this build has it).
if(SUPERNOVA_WITH_CUDA_BUILD)
  supernova_layer(cuda KIND STATIC
    SOURCES providers/cuda/arena.cc providers/cuda/cuda_common.cc providers/cuda/cuda_provider.cc
            providers/cuda/device_state.cc providers/cuda/piece.cc providers/cuda/ops_dnn.cc providers/cuda/ops_blas.cc
            providers/cuda/ops_misc.cc providers/cuda/supports.cc
            providers/cuda/kernels_elementwise.cu providers/cuda/kernels_layout.cu
    HEADERS providers/cuda/*.h
    DEPENDS ops provider_api ir
    INTERFACE CUDA::cudart CUDA::cublas ${CUDNN_LIBRARY})
  target_include_directories(supernova_cuda_headers SYSTEM INTERFACE ${CUDNN_INCLUDE_DIR})
  # Not in the Debian package (cmake/packaging.cmake): CUDA's libraries are NVIDIA's.
  supernova_plugin(cuda COMPONENT cuda)
endif()

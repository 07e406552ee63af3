# The cuda provider is built where the toolkit and cuDNN are, whether or not this machine has a
# GPU: Supports() answers without a device, so placements can be planned on any build host.
# Sets SUPERNOVA_WITH_CUDA_BUILD and the CUDNN_LIBRARY / CUDNN_INCLUDE_DIR cache entries.
set(SUPERNOVA_WITH_CUDA_BUILD OFF)
if(SUPERNOVA_CUDA AND SUPERNOVA_SANITIZE)
  # nvcc takes no -fsanitize, and ASan's shadow memory clashes with the CUDA driver.
  message(STATUS "cuda provider: skipped (sanitizer build)")
elseif(SUPERNOVA_CUDA)
  include(CheckLanguage)
  # The toolkit's usual home is not on PATH in most shells; look there before giving up.
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    message(STATUS "cuda provider: skipped (no CUDA compiler found)")
  else()
    # sm_90 (the GPU machine) as real code; PTX for Turing on, JIT-compiled by the driver.
    # Set before enable_language so that CMake does not choose its own default.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES "75-virtual;90-real")
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit)
    if(CUDAToolkit_FOUND)
      find_library(CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR})
      find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
    endif()
    # cudnn_version.h came with cuDNN 8, the oldest the provider builds against (JetPack 5 and
    # 6 ship 8, desktops 9; src/providers/cuda/cuda_common.h says what differs).
    set(SUPERNOVA_CUDNN_VERSION "")
    if(CUDNN_INCLUDE_DIR AND EXISTS ${CUDNN_INCLUDE_DIR}/cudnn_version.h)
      file(STRINGS ${CUDNN_INCLUDE_DIR}/cudnn_version.h _sn_cudnn_defines
           REGEX "^#define CUDNN_(MAJOR|MINOR) +[0-9]+")
      string(REGEX REPLACE ".*CUDNN_MAJOR +([0-9]+).*" "\\1" _sn_cudnn_major "${_sn_cudnn_defines}")
      string(REGEX REPLACE ".*CUDNN_MINOR +([0-9]+).*" "\\1" _sn_cudnn_minor "${_sn_cudnn_defines}")
      set(SUPERNOVA_CUDNN_VERSION "${_sn_cudnn_major}.${_sn_cudnn_minor}")
    endif()
    if(NOT CUDAToolkit_FOUND)
      message(STATUS "cuda provider: skipped (CUDA toolkit libraries not found)")
    elseif(NOT CUDNN_LIBRARY OR NOT CUDNN_INCLUDE_DIR)
      message(STATUS "cuda provider: skipped (cuDNN not found)")
    elseif(NOT SUPERNOVA_CUDNN_VERSION OR SUPERNOVA_CUDNN_VERSION VERSION_LESS 8)
      message(STATUS "cuda provider: skipped (cuDNN older than 8 in ${CUDNN_INCLUDE_DIR})")
    else()
      set(SUPERNOVA_WITH_CUDA_BUILD ON)
      # The kernels are plain C++17 device code; the host sides are in .cc files.
      set(CMAKE_CUDA_STANDARD 17)
      set(CMAKE_CUDA_STANDARD_REQUIRED ON)
      message(STATUS "cuda provider: CUDA ${CUDAToolkit_VERSION}, cuDNN ${SUPERNOVA_CUDNN_VERSION} "
                     "(${CUDNN_LIBRARY}), architectures ${CMAKE_CUDA_ARCHITECTURES}")
    endif()
  endif()
endif()

# OpenCV's DNN module, for the opencv execution provider (src/) and the benchmark's OpenCV
# peer (bench/). Debian's libopencv-dnn-dev ships no CMake config, so its libraries are found
# by name. Where found: SUPERNOVA_OPENCV_FOUND and the target supernova::opencv_dnn.
find_library(SUPERNOVA_OPENCV_DNN_LIB opencv_dnn)
find_library(SUPERNOVA_OPENCV_CORE_LIB opencv_core)
find_path(SUPERNOVA_OPENCV_INCLUDE_DIR opencv2/dnn.hpp PATHS /usr/include/opencv4)
set(SUPERNOVA_OPENCV_FOUND OFF)
if(SUPERNOVA_OPENCV_DNN_LIB AND SUPERNOVA_OPENCV_CORE_LIB AND SUPERNOVA_OPENCV_INCLUDE_DIR)
  set(SUPERNOVA_OPENCV_FOUND ON)
  add_library(supernova::opencv_dnn INTERFACE IMPORTED)
  target_include_directories(supernova::opencv_dnn SYSTEM INTERFACE ${SUPERNOVA_OPENCV_INCLUDE_DIR})
  target_link_libraries(supernova::opencv_dnn INTERFACE ${SUPERNOVA_OPENCV_DNN_LIB}
                                                        ${SUPERNOVA_OPENCV_CORE_LIB})
endif()

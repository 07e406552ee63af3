# The stream pipeline (DESIGN part 4): the frame-skip controller, post-processing (YOLO
# decoding, NMS, letterbox, top-k) and the SORT-style tracker with its assignment.
# Included from src/CMakeLists.txt.
add_library(supernova_stream STATIC stream/assignment.cc stream/frame_skip.cc stream/postprocess.cc
                                    stream/tracker.cc)
target_link_libraries(supernova_stream PUBLIC supernova_core PRIVATE fmt::fmt)
supernova_warnings(supernova_stream)

# Video I/O and the MQTT sink come from Debian's FFmpeg and mosquitto libraries.
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libswscale libavutil)
pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)

# The sinks: MQTT (EdgeX events), JSON lines and annotated video. Apart from supernova_stream
# so that they build and test without the runtime: Status, FFmpeg, libmosquitto and JSON.
add_library(supernova_sinks STATIC stream/sinks.cc stream/mqtt_sink.cc stream/video_sink.cc
                                   stream/draw.cc)
target_link_libraries(supernova_sinks
  PUBLIC supernova_common
  PRIVATE PkgConfig::FFMPEG PkgConfig::MOSQUITTO nlohmann_json::nlohmann_json Threads::Threads)
supernova_warnings(supernova_sinks)

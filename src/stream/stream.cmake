# The stream pipeline (DESIGN part 4): the frame-skip controller, the detector (pre- and
# post-processing over a session: YOLO, SSD and CenterNet decoding, NMS, letterbox), the
# SORT-style tracker and the pipeline that runs them per stream with cross-stream batching.
# Included from src/CMakeLists.txt.
add_library(supernova_stream STATIC stream/assignment.cc stream/detector.cc stream/frame_skip.cc
                                    stream/pipeline.cc stream/postprocess.cc stream/tracker.cc)
target_link_libraries(supernova_stream PUBLIC supernova_core PRIVATE fmt::fmt)
supernova_warnings(supernova_stream)

# Video I/O and the MQTT sink come from Debian's FFmpeg and mosquitto libraries.
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libswscale libavutil)
pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)
# V4L2 cameras are FFmpeg input devices: libavdevice.
pkg_check_modules(AVDEVICE REQUIRED IMPORTED_TARGET libavdevice)

# Video sources (files, RTSP, HTTP, V4L2 cameras, image folders): only Status and FFmpeg, not
# the runtime, so that they build and test on their own.
add_library(supernova_video STATIC stream/video_input.cc stream/video_source.cc)
target_link_libraries(supernova_video PUBLIC supernova_common Threads::Threads
                                      PRIVATE PkgConfig::FFMPEG PkgConfig::AVDEVICE)
supernova_warnings(supernova_video)

# The sinks: MQTT (EdgeX events), JSON lines and annotated video. Apart from supernova_stream
# so that they build and test without the runtime: Status, FFmpeg, libmosquitto and JSON.
add_library(supernova_sinks STATIC stream/sinks.cc stream/mqtt_sink.cc stream/video_sink.cc
                                   stream/draw.cc)
target_link_libraries(supernova_sinks
  PUBLIC supernova_common
  PRIVATE PkgConfig::FFMPEG PkgConfig::MOSQUITTO nlohmann_json::nlohmann_json Threads::Threads)
supernova_warnings(supernova_sinks)

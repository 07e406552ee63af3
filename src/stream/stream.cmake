# The stream pipeline (DESIGN part 4) in four libraries, so that each part builds and tests with
# no more than it needs: the frame and track types with the SORT-style tracker; the video
# sources (FFmpeg); the sinks (MQTT, JSON lines, annotated video); and the pipeline itself
# (frame-skip controller, detector pre- and post-processing, cross-stream batching), which uses
# the runtime through its public API alone.
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libswscale libavutil)
pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)
# V4L2 cameras are FFmpeg input devices: libavdevice.
pkg_check_modules(AVDEVICE REQUIRED IMPORTED_TARGET libavdevice)

supernova_layer(stream_base KIND STATIC
  SOURCES stream/assignment.cc stream/escalation.cc stream/fusion.cc stream/thumbnail.cc
          stream/tracker.cc
  HEADERS stream/assignment.h stream/cloud.h stream/escalation.h stream/frame.h
          stream/frame_source.h stream/fusion.h stream/labeller.h stream/samples.h
          stream/thumbnail.h stream/tracker.h
  DEPENDS common)

# Video sources (files, RTSP, HTTP, V4L2 cameras, image folders).
supernova_layer(video KIND STATIC
  SOURCES stream/video_input.cc stream/video_source.cc stream/video_plugin.cc
  HEADERS stream/video_input.h stream/video_source.h stream/video_plugin.h
  DEPENDS stream_base common
  INTERFACE Threads::Threads
  LINK PkgConfig::FFMPEG PkgConfig::AVDEVICE)

# The same as a plugin, supernova_video.so beside the provider plugins (stream/video_plugin.h):
# `supernova serve` opens it only when it runs streams, so that an idle server maps no FFmpeg.
add_library(supernova_video_plugin MODULE stream/video_plugin_entry.cc)
target_link_libraries(supernova_video_plugin PRIVATE supernova::video)
set_target_properties(supernova_video_plugin PROPERTIES
  PREFIX ""
  OUTPUT_NAME supernova_video
  LIBRARY_OUTPUT_DIRECTORY ${SUPERNOVA_PLUGIN_DIR}
  CXX_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON
  INSTALL_RPATH "$ORIGIN/..")
if(NOT (SUPERNOVA_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang"))
  target_link_options(supernova_video_plugin PRIVATE -Wl,--no-undefined)
endif()
supernova_warnings(supernova_video_plugin)
add_dependencies(supernova_plugins supernova_video_plugin)
install(TARGETS supernova_video_plugin
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/supernova COMPONENT runtime)

# What a frame shows: tracks drawn and named, labels files, frames as JPEG (the annotated
# video, the cloud detector's requests, the console's frames). stb only: a server that shows
# frames links this and none of the sinks' FFmpeg and broker.
supernova_layer(annotate KIND STATIC
  SOURCES stream/draw.cc stream/jpeg_encode.cc stream/labels.cc
  HEADERS stream/draw.h stream/jpeg_encode.h stream/labels.h
  DEPENDS stream_base common
  LINK ${STB_LIBRARY})

# The sinks: MQTT (EdgeX events), JSON lines and annotated video.
supernova_layer(sinks KIND STATIC
  SOURCES stream/sinks.cc stream/mqtt_sink.cc stream/video_sink.cc
  HEADERS stream/sinks.h stream/sink_impl.h
  DEPENDS annotate stream_base common
  LINK PkgConfig::FFMPEG PkgConfig::MOSQUITTO nlohmann_json::nlohmann_json Threads::Threads)

# The pipeline: frame skipping, detector, batching across streams.
supernova_layer(stream KIND STATIC
  SOURCES stream/detector.cc stream/frame_skip.cc stream/pipeline.cc stream/postprocess.cc
  HEADERS stream/detector.h stream/frame_skip.h stream/pipeline.h stream/postprocess.h
  DEPENDS stream_base
  INTERFACE supernova_lib Threads::Threads
  LINK fmt::fmt)

# Joint inference's cloud side as the edge sees it (docs/joint.md): the CloudDetector that
# sends frames as JPEG to a remote supernova serve over KServe v2 gRPC. A layer of its own so
# that only what streams with a cloud links gRPC.
supernova_layer(stream_cloud KIND STATIC
  SOURCES stream/kserve_cloud.cc
  HEADERS stream/kserve_cloud.h
  DEPENDS stream_base annotate kserve_client
  INTERFACE Threads::Threads
  LINK fmt::fmt)

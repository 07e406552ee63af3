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
          stream/frame_source.h stream/fusion.h stream/labeller.h stream/thumbnail.h
          stream/tracker.h
  DEPENDS common)

# Video sources (files, RTSP, HTTP, V4L2 cameras, image folders).
supernova_layer(video KIND STATIC
  SOURCES stream/video_input.cc stream/video_source.cc
  HEADERS stream/video_input.h stream/video_source.h
  DEPENDS stream_base common
  INTERFACE Threads::Threads
  LINK PkgConfig::FFMPEG PkgConfig::AVDEVICE)

# The sinks: MQTT (EdgeX events), JSON lines and annotated video; and frames as JPEG (the
# cloud detector's requests, the console's snapshots).
supernova_layer(sinks KIND STATIC
  SOURCES stream/sinks.cc stream/mqtt_sink.cc stream/video_sink.cc stream/draw.cc
          stream/jpeg_encode.cc
  HEADERS stream/sinks.h stream/sink_impl.h stream/draw.h stream/jpeg_encode.h
  DEPENDS stream_base common
  LINK PkgConfig::FFMPEG PkgConfig::MOSQUITTO nlohmann_json::nlohmann_json Threads::Threads
       ${STB_LIBRARY})

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
  DEPENDS stream_base sinks kserve_client
  INTERFACE Threads::Threads
  LINK fmt::fmt)

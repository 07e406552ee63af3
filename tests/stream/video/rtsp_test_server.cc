// A live RTSP camera stand-in for the video source tests: serves GStreamer's test pattern as
// RTP/JPEG at rtsp://127.0.0.1:PORT/test.
//
//   rtsp_test_server PORT [WIDTHxHEIGHT]
//
// Prints "READY rtsp://127.0.0.1:PORT/test" once it listens; exits on SIGTERM or SIGINT, and
// with status 1 if it cannot listen. The pattern is SMPTE colour bars (white, yellow, cyan,
// green, magenta, red, blue from left to right), which lets a test check colours end to end.
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <glib-unix.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

gboolean Quit(gpointer loop) {
  g_main_loop_quit(static_cast<GMainLoop*>(loop));
  return G_SOURCE_REMOVE;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::atoi(argv[1]) <= 0) {
    std::fprintf(stderr, "usage: %s PORT [WIDTHxHEIGHT]\n", argv[0]);
    return 2;
  }
  const std::string port = argv[1];
  int width = 320, height = 240;
  if (argc >= 3 && std::sscanf(argv[2], "%dx%d", &width, &height) != 2) {
    std::fprintf(stderr, "bad size '%s', expected WIDTHxHEIGHT\n", argv[2]);
    return 2;
  }
  gst_init(&argc, &argv);

  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  GstRTSPServer* server = gst_rtsp_server_new();
  g_object_set(server, "address", "127.0.0.1", "service", port.c_str(), nullptr);

  // The RTP/JPEG payloader takes I420 only; is-live paces the source like a camera.
  const std::string launch =
      "( videotestsrc is-live=true ! video/x-raw,format=I420,width=" + std::to_string(width) +
      ",height=" + std::to_string(height) +
      ",framerate=25/1 ! jpegenc quality=90 ! rtpjpegpay name=pay0 pt=26 )";
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, launch.c_str());
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, "/test", factory);  // takes the factory
  g_object_unref(mounts);

  guint source = gst_rtsp_server_attach(server, nullptr);
  if (source == 0) {
    std::fprintf(stderr, "cannot listen on 127.0.0.1:%s\n", port.c_str());
    g_object_unref(server);
    g_main_loop_unref(loop);
    return 1;
  }
  g_unix_signal_add(SIGTERM, Quit, loop);
  g_unix_signal_add(SIGINT, Quit, loop);
  std::printf("READY rtsp://127.0.0.1:%s/test\n", port.c_str());
  std::fflush(stdout);

  g_main_loop_run(loop);

  g_source_remove(source);
  g_object_unref(server);
  g_main_loop_unref(loop);
  return 0;
}

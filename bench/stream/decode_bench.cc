// Decode-only throughput of the stream's VideoSource: every frame of a file decoded and
// converted to packed BGR (what the pipeline gets), as fast as it goes. bench/stream/run.sh
// times `ffmpeg -f rawvideo -pix_fmt bgr24` on the same file beside it.
//
//   decode_bench --source vtest.avi --repeat 3 [--threads 2] [--width 640 --height 480]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <vector>

#include "stream/video_source.h"

int main(int argc, char** argv) {
  using namespace supernova::stream;  // NOLINT
  CLI::App app("Decode-only throughput of VideoSource");
  std::string url;
  int repeat = 3, threads = 0, width = 0, height = 0;
  app.add_option("--source", url, "Video file")->required();
  app.add_option("--repeat", repeat, "Runs; the median is reported")->capture_default_str();
  app.add_option("--threads", threads, "Decoder threads (0: FFmpeg's choice)")
      ->capture_default_str();
  app.add_option("--width", width, "Scale to this width (0: the source's)");
  app.add_option("--height", height, "Scale to this height (0: the source's)");
  CLI11_PARSE(app, argc, argv);

  std::vector<double> fps;
  int64_t frames = 0;
  for (int r = 0; r < repeat; ++r) {
    SourceOptions o;
    o.realtime = false;
    o.decoder_threads = threads;
    o.width = width;
    o.height = height;
    auto source = VideoSource::Open(url, o);
    if (!source.ok()) {
      std::cerr << "decode_bench: " << source.status().ToString() << "\n";
      return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    frames = 0;
    while (true) {
      auto f = (*source)->Read();
      if (!f.ok()) {
        if (f.status().code() != supernova::Status::Code::kOutOfRange) {
          std::cerr << "decode_bench: " << f.status().ToString() << "\n";
          return 1;
        }
        break;
      }
      ++frames;
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fps.push_back(static_cast<double>(frames) / s);
  }
  std::sort(fps.begin(), fps.end());
  std::cout << fmt::format(R"({{"frames":{},"fps_median":{:.1f},"fps_runs":[{:.1f}]}})", frames,
                           fps[fps.size() / 2], fmt::join(fps, ","))
            << "\n";
  return 0;
}

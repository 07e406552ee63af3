// supernova-stream: `supernova stream` (cmd_stream.cc) as an executable of its own, so that
// FFmpeg and libmosquitto are mapped only by the stream (commands.h).
#include "supernova/commands.h"

int main(int argc, char** argv) {
  return supernova::tools::CommandLineMain(argc, argv, {supernova::tools::AddStreamCommand},
                                           "stream");
}

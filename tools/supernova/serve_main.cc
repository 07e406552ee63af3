// supernova-serve: `supernova serve` (cmd_serve.cc) as an executable of its own, so that the
// server's libraries are mapped only by the server (commands.h).
#include "supernova/commands.h"

int main(int argc, char** argv) {
  return supernova::tools::CommandLineMain(argc, argv, {supernova::tools::AddServeCommand},
                                           "serve");
}

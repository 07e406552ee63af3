// supernova-collab: `supernova run --split DIR --remote HOST:PORT` (cmd_split_run.cc) as an
// executable of its own, so that gRPC is mapped only where a split runs (commands.h).
#include "supernova/commands.h"

int main(int argc, char** argv) {
  return supernova::tools::CommandLineMain(argc, argv, {supernova::tools::AddSplitRunCommand},
                                           "run");
}

// supernova: the command line over the Supernova libraries.
#include <cstdio>
#include <exception>
#include <new>

#include "supernova/commands.h"

namespace supernova::tools {
int Fail(const std::string& message) {
  std::fprintf(stderr, "supernova: error: %s\n", message.c_str());
  return 1;
}
}  // namespace supernova::tools

int main(int argc, char** argv) {
  CLI::App app{"Supernova: ONNX inference for edge devices"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "supernova 0.1.0");
  int exit_code = 0;
  supernova::tools::AddInfoCommand(app, &exit_code);
  supernova::tools::AddRunCommand(app, &exit_code);
  supernova::tools::AddBenchCommand(app, &exit_code);
  supernova::tools::AddCheckCommand(app, &exit_code);
  supernova::tools::AddServeCommand(app, &exit_code);
  supernova::tools::AddStreamCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::bad_alloc&) {
    return supernova::tools::Fail("out of memory");
  } catch (const std::exception& e) {
    return supernova::tools::Fail(e.what());
  }
  return exit_code;
}

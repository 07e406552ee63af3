// supernova: the command line over the Supernova libraries.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "supernova/commands.h"

namespace {

// Commands that are executables of their own beside this one (commands.h).
struct External {
  const char* name;
  const char* help;
};
constexpr External kExternal[] = {
    {"serve", "Serve a Triton-layout model repository over KServe v2 HTTP and gRPC"},
    {"stream", "Detect and track objects on live video; results to MQTT, JSON lines or video"},
};
// `run --split DIR` runs a split model against a remote server: supernova-collab's.
constexpr External kSplitRun = {"collab", "run with --split"};

bool NamesSplit(int argc, char** argv) {
  for (int i = 2; i < argc; ++i)
    if (std::strcmp(argv[i], "--split") == 0 || std::strncmp(argv[i], "--split=", 8) == 0)
      return true;
  return false;
}

// Runs supernova-<command> from this executable's directory in place of this process, with the
// same arguments (and so the same pid, for a service manager's signals). Returns only on failure.
int Exec(const External& command, char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string path =
      (self.parent_path() / ("supernova-" + std::string(command.name))).string();
  if (ec) return supernova::tools::Fail(std::string(command.name) + ": cannot locate this program");
  execv(path.c_str(), argv);
  return supernova::tools::Fail(std::string(command.name) + ": cannot run " + path + ": " +
                                std::strerror(errno));
}

void AddExternal(CLI::App& app, const External& command) {
  // Listed in --help; never parsed here (main hands the arguments over first).
  app.add_subcommand(command.name, command.help)->allow_extras()->prefix_command();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1)
    for (const External& command : kExternal)
      if (std::strcmp(argv[1], command.name) == 0) return Exec(command, argv);
  if (argc > 1 && std::strcmp(argv[1], "run") == 0 && NamesSplit(argc, argv))
    return Exec(kSplitRun, argv);
  using namespace supernova::tools;  // NOLINT
  return CommandLineMain(
      argc, argv,
      {AddInfoCommand, AddRunCommand, AddBenchCommand, AddCheckCommand, AddCompressCommand,
       AddProfileCommand, AddSplitCommand, AddPlanCommand, AddLearnCommand,
       [](CLI::App& app, int*) { AddExternal(app, kExternal[0]); },
       [](CLI::App& app, int*) { AddExternal(app, kExternal[1]); }});
}

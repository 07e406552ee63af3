// Subcommands of the `supernova` command line. Each returns the process exit code and
// prints errors as one line on stderr.
//
// `supernova` itself holds the commands that need only the runtime (info, run, bench, check);
// serve and stream are executables of their own beside it (supernova-serve, supernova-stream),
// which `supernova serve ...` and `supernova stream ...` run in its place, so that a command
// that runs a model never maps gRPC, Beast, FFmpeg or libmosquitto.
#pragma once

#include <CLI/CLI.hpp>
#include <initializer_list>
#include <string>
#include <vector>

namespace supernova::tools {

// Each registers its subcommand; when it runs, its exit code is stored in *exit_code.
using AddCommand = void (*)(CLI::App& app, int* exit_code);
void AddInfoCommand(CLI::App& app, int* exit_code);
void AddRunCommand(CLI::App& app, int* exit_code);
void AddBenchCommand(CLI::App& app, int* exit_code);
void AddCheckCommand(CLI::App& app, int* exit_code);
void AddCompressCommand(CLI::App& app, int* exit_code);
void AddProfileCommand(CLI::App& app, int* exit_code);
void AddSplitCommand(CLI::App& app, int* exit_code);
void AddPlanCommand(CLI::App& app, int* exit_code);
void AddLearnCommand(CLI::App& app, int* exit_code);
void AddServeCommand(CLI::App& app, int* exit_code);
void AddStreamCommand(CLI::App& app, int* exit_code);
// `supernova run --split DIR --remote HOST:PORT`: in supernova-collab (it speaks gRPC).
void AddSplitRunCommand(CLI::App& app, int* exit_code);

// Parses argv against the given subcommands and runs the one named; usage errors exit as
// CLI11 says, other failures print one line and exit 1. Where `implied` is set and argv[1] is
// not a subcommand, argv is read as if `implied` came first (supernova-serve --http-port 0).
int CommandLineMain(int argc, char** argv, std::initializer_list<AddCommand> commands,
                    const char* implied = nullptr);

// Prints "supernova: error: <message>" and returns 1.
int Fail(const std::string& message);

// --preprocess, --size and --bgr: how `run`, `compress` and `learn` read images (tensor_io.h's
// InputOptions), with the same words everywhere.
void AddImageFlags(CLI::App* cmd, std::string* preprocess, std::string* size, bool* bgr);

// "a,b,,c" -> {"a", "b", "c"}: an option's comma-separated list, empty items dropped.
std::vector<std::string> SplitCommaList(const std::string& text);

}  // namespace supernova::tools

// Subcommands of the `supernova` command line. Each returns the process exit code and
// prints errors as one line on stderr.
#pragma once

#include <CLI/CLI.hpp>

namespace supernova::tools {

// Each registers its subcommand; when it runs, its exit code is stored in *exit_code.
void AddInfoCommand(CLI::App& app, int* exit_code);
void AddRunCommand(CLI::App& app, int* exit_code);
void AddBenchCommand(CLI::App& app, int* exit_code);
void AddCheckCommand(CLI::App& app, int* exit_code);
void AddServeCommand(CLI::App& app, int* exit_code);
void AddStreamCommand(CLI::App& app, int* exit_code);

// Prints "supernova: error: <message>" and returns 1.
int Fail(const std::string& message);

}  // namespace supernova::tools

// Runs the `supernova` command line as a user would: a real process, its output and exit code.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace supernova::testing {

struct CliOutput {
  int code;
  std::string text;  // stdout, and stderr unless sent elsewhere
};

// Runs a shell command line; `stderr_to` says where stderr goes (by default it joins stdout in
// CliOutput::text).
inline CliOutput Shell(const std::string& command, const std::string& stderr_to = "&1") {
  FILE* p = popen((command + " 2>" + stderr_to).c_str(), "r");
  CliOutput o{-1, ""};
  if (!p) return o;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) o.text.append(buf.data(), n);
  int status = pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// `supernova ARGS`. `env`: VAR=value assignments for the process ("LD_DEBUG=files").
inline CliOutput Cli(const std::string& args, const std::string& stderr_to = "&1",
                     const std::string& env = "") {
  return Shell(env + " " + std::string(SUPERNOVA_CLI) + " " + args, stderr_to);
}

}  // namespace supernova::testing

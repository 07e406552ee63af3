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

// A user error: exit 1 and one line on stderr.
inline bool OneErrorLine(const CliOutput& o) {
  return o.code == 1 && o.text.find("supernova: error: ") == 0 &&
         o.text.find('\n') == o.text.size() - 1;
}

#ifdef SUPERNOVA_ORT_NODE_MODULE
// The ONNX Runtime peer (onnxruntime-node) scripts/build.sh installs: a test that needs it
// skips where it is missing.
inline const std::string kOrtModule = SUPERNOVA_ORT_NODE_MODULE;
// Runs `model` in ONNX Runtime on the inputs `request` names (tools/reference/ort_run.js).
inline CliOutput RunOnnxRuntime(const std::string& model, const std::string& request) {
  return Shell("ORT_NODE_MODULE=" + kOrtModule + " node " + std::string(SUPERNOVA_SOURCE_DIR) +
               "/tools/reference/ort_run.js " + model + " " + request);
}
#endif

}  // namespace supernova::testing

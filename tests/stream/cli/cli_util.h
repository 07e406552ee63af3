// What the tests of `supernova stream` as a process share: running it, reading its JSON lines
// and its final metrics, the squares model the clips are made for.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "stream/squares.h"
#include "stream/video/test_media.h"

namespace supernova::stream {

// The complete lines of a file another process may be writing: a last line without its newline
// is still being written, and left out.
inline std::vector<std::string> CompleteLines(const std::string& path) {
  std::ifstream in(path);
  std::string text(std::istreambuf_iterator<char>(in), {});
  text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::vector<std::string> lines;
  std::istringstream s(text);
  for (std::string line; std::getline(s, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

inline std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const std::string& line : CompleteLines(path)) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Where RunCli puts the command's stderr, for a test that reads it while the command runs.
inline std::string CliStderrPath() { return video_test::TempDir() + "/cli_stderr.txt"; }

// Runs the command line to its end; returns the exit status, stderr in *err.
inline int RunCli(const std::vector<std::string>& args, std::string* err) {
  const std::string log = CliStderrPath();
  std::string cmd = SUPERNOVA_CLI;
  for (const std::string& a : args) cmd += " '" + a + "'";
  const int status = std::system((cmd + " 2>" + log + " >/dev/null").c_str());
  std::ifstream in(log);
  err->assign(std::istreambuf_iterator<char>(in), {});
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The final per-stream metrics line on stderr.
inline nlohmann::json FinalMetrics(const std::string& err) {
  nlohmann::json last;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("{\"stream\"", 0) == 0) last = nlohmann::json::parse(line);
  return last;
}

inline std::string SquaresModel() {
  const std::string path = video_test::TempDir() + "/squares40.onnx";
  // The clip's square is 40 pixels; the model takes the clip's 320 x 240.
  const Status s = supernova::testing::WriteSquaresModel(path, 320, 240, 40, 0);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return path;
}

}  // namespace supernova::stream

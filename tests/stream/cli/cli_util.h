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

inline std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Runs the command line to its end; returns the exit status, stderr in *err.
inline int RunCli(const std::vector<std::string>& args, std::string* err) {
  const std::string log = video_test::TempDir() + "/cli_stderr.txt";
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

// What each command maps, from the dynamic loader's own account (LD_DEBUG=files names every
// shared object a process opens, at start and through dlopen): the commands that run a model
// load the runtime and nothing of the server, the stream or a provider they were not asked
// for; a provider plugin is opened when named. Footprint figures (time, RSS) are measured by
// bench/footprint.sh, not here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "tools/cli_util.h"

namespace supernova {
namespace {

namespace fs = std::filesystem;

// The shared objects `supernova <args>` opened, by file name.
std::set<std::string> Loaded(const std::string& args, int* code = nullptr) {
  testing::CliOutput o = testing::Cli(args, "&1", "LD_DEBUG=files");
  if (code) *code = o.code;
  std::set<std::string> files;
  std::istringstream lines(o.text);
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find("file=");
    if (at == std::string::npos) continue;
    const std::string path = line.substr(at + 5, line.find_first_of(" \t", at) - at - 5);
    files.insert(fs::path(path).filename().string());
  }
  return files;
}

// Names in `files` containing any of `parts`.
std::string Matching(const std::set<std::string>& files, const std::vector<std::string>& parts) {
  std::string found;
  for (const std::string& f : files)
    for (const std::string& p : parts)
      if (f.find(p) != std::string::npos) found += f + " ";
  return found;
}

// The libraries a command that runs a model must not map.
const std::vector<std::string> kHeavy = {
    "cuda",    "cublas",   "cudnn",     "opencv", "grpc",
    "avcodec", "avformat", "mosquitto", "libssl", "supernova_provider_"};

const std::string kClassifier =
    std::string(SUPERNOVA_ASSETS_DIR) + "/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx";

TEST(CliFootprint, HelpLoadsTheRuntimeAndNothingHeavy) {
  int code = -1;
  const auto files = Loaded("--help", &code);
  EXPECT_EQ(code, 0);
  ASSERT_TRUE(files.count("libsupernova.so.0.1")) << "LD_DEBUG gave no account";
  EXPECT_EQ(Matching(files, kHeavy), "");
}

TEST(CliFootprint, RunOnTheCpuLoadsNoPluginNorServerLibraries) {
  ASSERT_TRUE(fs::exists(kClassifier))
      << "model missing: " << kClassifier << " (scripts/fetch_models.sh fetches it)";
  const fs::path out = fs::temp_directory_path() / ("sn_footprint_" + std::to_string(getpid()));
  int code = -1;
  const auto files = Loaded("run " + kClassifier + " --input " + SUPERNOVA_TEST_DATA_DIR +
                                "/models/ppocr_cls/input_0.pb --output-dir " + out.string(),
                            &code);
  fs::remove_all(out);
  EXPECT_EQ(code, 0);
  ASSERT_TRUE(files.count("libdnnl.so.2"));
  EXPECT_EQ(Matching(files, kHeavy), "");
}

TEST(CliFootprint, NamingAProviderOpensItsPlugin) {
  ASSERT_TRUE(fs::exists(kClassifier)) << "model missing: " << kClassifier;
  if (!fs::exists(std::string(SUPERNOVA_PLUGIN_DIR) + "/supernova_provider_opencv.so"))
    GTEST_SKIP() << "this build has no opencv plugin (libopencv-dnn-dev not found)";
  int code = -1;
  const auto files = Loaded("info --providers opencv,cpu " + kClassifier, &code);
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(files.count("supernova_provider_opencv.so"));
  EXPECT_NE(Matching(files, {"libopencv_dnn"}), "");
  EXPECT_EQ(Matching(files, {"cuda", "grpc", "avcodec"}), "");
}

// serve and stream are executables of their own, run in place of `supernova`.
TEST(CliFootprint, ServeAndStreamRunTheirOwnExecutables) {
  int code = -1;
  auto files = Loaded("serve --help", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(Matching(files, {"grpc"}), "");
  // Its streams' video comes from the video plugin, opened only when it runs streams.
  EXPECT_EQ(Matching(files, {"avcodec", "mosquitto", "supernova_provider_", "supernova_video"}),
            "");
  files = Loaded("stream --help", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(Matching(files, {"avcodec"}), "");
  // The stream speaks KServe v2 gRPC to its cloud (--cloud, docs/joint.md).
  EXPECT_NE(Matching(files, {"grpc"}), "");
  EXPECT_EQ(Matching(files, {"supernova_provider_"}), "");
  testing::CliOutput o = testing::Cli("serve --help");
  EXPECT_NE(o.text.find("--model-repository"), std::string::npos) << o.text;
}

}  // namespace
}  // namespace supernova

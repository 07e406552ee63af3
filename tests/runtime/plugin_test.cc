// The plugin loader (runtime/provider_registry.h) on plugins built for the tests
// (tests/runtime/plugins/relu_plugin.cc): one that works, one built for another runtime, one
// without the entry point, and files that are no shared object at all.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "ir/onnx_import.h"
#include "optimizer/graph_builder.h"
#include "runtime/provider_registry.h"
#include "supernova/session.h"
#include "supernova/version.h"
#include "test_util.h"

namespace supernova {
namespace {

namespace fs = std::filesystem;

std::string TestPlugin(const std::string& variant) {
  return std::string(SUPERNOVA_TEST_PLUGIN_DIR) + "/test_plugin_" + variant + ".so";
}

TEST(Plugin, OpensAndItsProviderRunsInASession) {
  auto info = runtime::OpenPlugin(TestPlugin("good"), "test_relu");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_STREQ((*info)->name, "test_relu");
  EXPECT_STREQ((*info)->runtime_version, SUPERNOVA_VERSION);
  runtime::RegisterProvider("test_relu", (*info)->make);

  // x -> Relu -> Floor: the plugin takes Relu, the cpu Floor.
  testing::GraphBuilder b;
  b.Output(b.Op("Floor", {b.Op("Relu", {b.Input("x", {3, 5})})}));
  auto bytes = ir::ExportOnnxBytes(b.model());
  ASSERT_TRUE(bytes.ok());
  SessionOptions o;
  o.providers = {"test_relu"};
  auto s = Session::OpenBytes(*bytes, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->placement().providers, (std::vector<std::string>{"test_relu", "cpu"}));
  EXPECT_EQ((*s)->placement().nodes[0].provider, "test_relu");
  EXPECT_EQ((*s)->placement().nodes[1].provider, "cpu");
  std::vector<Tensor> out;
  ASSERT_TRUE((*s)->Run(b.feeds(), &out).ok());
  const Tensor& x = b.feeds()[0].second;
  for (int64_t i = 0; i < x.numel(); ++i)
    EXPECT_EQ(out[0].data<float>()[i], std::floor(std::max(0.f, x.data<float>()[i]))) << i;
}

TEST(Plugin, BuiltForAnotherRuntimeIsRefused) {
  auto info = runtime::OpenPlugin(TestPlugin("wrong_abi"), "test_relu");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(info.status().message().find("was built for runtime 0.0.1 (plugin ABI " +
                                         std::to_string(providers::kPluginAbiVersion + 1) +
                                         "), this is " + SUPERNOVA_VERSION + " (plugin ABI " +
                                         std::to_string(providers::kPluginAbiVersion) + ")"),
            std::string::npos)
      << info.status().message();
}

TEST(Plugin, SharedObjectWithoutTheEntryPointIsRefused) {
  auto info = runtime::OpenPlugin(TestPlugin("no_entry"), "test_relu");
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("is not a provider plugin (no SupernovaProviderPlugin)"),
            std::string::npos)
      << info.status().message();
}

TEST(Plugin, PluginHoldingAnotherProviderIsRefused) {
  auto info = runtime::OpenPlugin(TestPlugin("good"), "cuda");
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("holds provider 'test_relu'"), std::string::npos)
      << info.status().message();
}

TEST(Plugin, MissingOrCorruptFilesAreUnavailableWithTheLoadersReason) {
  auto missing = runtime::OpenPlugin("/nonexistent/supernova_provider_x.so", "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "no plugin /nonexistent/supernova_provider_x.so");

  const fs::path dir = fs::temp_directory_path() / ("sn_plugin_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string garbage = (dir / "supernova_provider_garbage.so").string();
  std::ofstream(garbage) << "not an ELF file\n";
  auto corrupt = runtime::OpenPlugin(garbage, "garbage");
  fs::remove_all(dir);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), Status::Code::kUnavailable);
  // dlopen's own words: "... invalid ELF header" or "file too short".
  EXPECT_NE(corrupt.status().message().find(garbage), std::string::npos)
      << corrupt.status().message();
}

// The runtime looks for plugins beside itself: build/lib/supernova in the build tree, as
// installed; the plugins this build made are there.
TEST(Plugin, DirectoryIsBesideTheRuntimeLibrary) {
  const fs::path dir = runtime::PluginDirectory();
  EXPECT_EQ(dir.filename(), "supernova");
  EXPECT_TRUE(fs::exists(dir.parent_path() / "libsupernova.so")) << dir;
  EXPECT_EQ(runtime::PluginPath("opencv"), (dir / "supernova_provider_opencv.so").string());
  const std::vector<std::string> names = runtime::ProviderNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "cpu"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "cpu_reference"), names.end());
  // Every provider plugin there is a provider; the directory holds other plugins too (the
  // video sources, supernova_video.so), which are not.
  const std::string prefix = "supernova_provider_";
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (!file.starts_with(prefix)) continue;
    const std::string name = file.substr(prefix.size(), file.size() - prefix.size() - 3);
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << file;
  }
  EXPECT_EQ(std::find(names.begin(), names.end(), "video"), names.end())
      << "the video plugin is not a provider";
}

}  // namespace
}  // namespace supernova

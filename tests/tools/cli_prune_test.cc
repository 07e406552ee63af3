// `supernova compress --prune-channels` and `--fold` as a user runs them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ir/onnx_import.h"
#include "test_models.h"
#include "tools/cli_util.h"

namespace fs = std::filesystem;

namespace supernova {
namespace {

using testing::Cli;
using testing::ModelRoot;

class CliPruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("supernova_cli_prune_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "calib");
    SUPERNOVA_REQUIRE_MODEL(model_, ModelRoot::kAssets);
    fs::copy_file(std::string(SUPERNOVA_TEST_DATA_DIR) + "/models/ppocr_cls/input_0.pb",
                  dir_ / "calib" / "input_0.pb");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
  const std::string model_ =
      std::string(SUPERNOVA_ASSETS_DIR) + "/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx";
};

TEST_F(CliPruneTest, PrunesRecoversAndReports) {
  const std::string out = Path("pruned.onnx");
  auto o = Cli("compress " + model_ + " -o " + out + " --prune-channels 0.3 --fold --calib " +
                   Path("calib") + " --threads 1 --runs 2 --json",
               "/dev/null");
  ASSERT_EQ(o.code, 0) << o.text;
  const nlohmann::json j = nlohmann::json::parse(o.text);
  ASSERT_EQ(j["steps"][0]["step"], "prune") << o.text;
  const auto& prune = j["steps"][0];
  EXPECT_LT(prune["channels"]["after"].get<double>(), prune["channels"]["before"].get<double>());
  EXPECT_GT(prune["batch_norms_measured"].get<int>() + prune["bias_corrected"].get<int>(), 0);
  EXPECT_LT(j["file_bytes"]["after"].get<double>(), 0.8 * j["file_bytes"]["before"].get<double>());
  bool folded = false;
  for (const auto& s : j["steps"]) folded = folded || s["step"] == "fold_layers";
  EXPECT_TRUE(folded) << o.text;
  auto m = ir::ImportOnnxFile(out);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  for (const auto& n : m->graph.nodes) EXPECT_EQ(n.domain, "") << n.Label();
}

TEST_F(CliPruneTest, CoupledChannelsCanStayWhole) {
  auto all =
      Cli("compress " + model_ + " -o " + Path("all.onnx") +
              " --prune-channels 0.5 --runs 1 --threads 1 --calib " + Path("calib") + " --json",
          "/dev/null");
  auto alone = Cli("compress " + model_ + " -o " + Path("alone.onnx") +
                       " --prune-channels 0.5 --no-prune-coupled --runs 1 --threads 1 --calib " +
                       Path("calib") + " --json",
                   "/dev/null");
  ASSERT_EQ(all.code, 0) << all.text;
  ASSERT_EQ(alone.code, 0) << alone.text;
  const auto a = nlohmann::json::parse(all.text)["steps"][0];
  const auto b = nlohmann::json::parse(alone.text)["steps"][0];
  EXPECT_EQ(b["coupled"], false);
  // The classifier's residual Adds couple some convs: left whole, fewer channels go.
  EXPECT_LT(b["channels"]["before"].get<double>(), a["channels"]["before"].get<double>());
}

TEST_F(CliPruneTest, BadRatioOrCriterionIsOneLineAndNoFile) {
  const std::string out = Path("pruned.onnx");
  auto ratio = Cli("compress " + model_ + " -o " + out + " --prune-channels 1.5");
  EXPECT_EQ(ratio.code, 1);
  EXPECT_NE(ratio.text.find("--prune-channels 1.5 is outside [0, 1)"), std::string::npos)
      << ratio.text;
  auto criterion =
      Cli("compress " + model_ + " -o " + out + " --prune-channels 0.3 --prune-criterion l3");
  EXPECT_EQ(criterion.code, 1);
  EXPECT_NE(criterion.text.find("unknown pruning criterion 'l3'"), std::string::npos)
      << criterion.text;
  EXPECT_EQ(std::count(criterion.text.begin(), criterion.text.end(), '\n'), 1) << criterion.text;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace supernova

// `supernova run --split DIR --remote HOST:PORT` as a user runs it: `supernova` hands it to
// supernova-collab, which writes the same output files as `supernova run` of the whole model.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "collab/remote/split_fixture.h"
#include "ir/value_proto.h"
#include "server/serve_process.h"
#include "tools/cli_util.h"

namespace supernova::collab {
namespace {

namespace fs = std::filesystem;
using supernova::testing::Cli;
using supernova::testing::CliOutput;
using namespace supernova::collab::testing;  // NOLINT

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) lines.push_back(j);
  }
  return lines;
}

TEST(SplitCli, RunWithSplitWritesWhatRunOfTheWholeModelWrites) {
  SplitDir d = MakeSplitDir();
  supernova::testing::ServeProcess serve({"--model-repository", d.dir + "/repository"});
  ASSERT_TRUE(serve.WaitReady()) << serve.Log();
  const std::string x = d.dir + "/x.pb";
  ASSERT_TRUE(ir::WriteValueFile(x, Value(d.feeds[0].second), ValueKind::kTensor, "x").ok());

  const CliOutput whole =
      Cli(fmt::format("run {}/whole.onnx -i x={} --threads 1 -o {}/whole_out", d.dir, x, d.dir));
  ASSERT_EQ(whole.code, 0) << whole.text;
  const CliOutput split =
      Cli(fmt::format(
              "run x={} --split {} --remote 127.0.0.1:{} --cut 2 --threads 1 --requests 3 --json "
              "-o {}/split_out",
              x, d.dir, serve.grpc_port(), d.dir),
          "/dev/null");
  ASSERT_EQ(split.code, 0) << split.text;
  const auto records = JsonLines(split.text);
  ASSERT_EQ(records.size(), 3u) << split.text;
  for (const auto& r : records) {
    EXPECT_EQ(r["candidate"], kCutP1) << r.dump();
    EXPECT_EQ(r["tail_at"], "remote") << r.dump();
    EXPECT_TRUE(r["fallback"].is_null()) << r.dump();
    EXPECT_EQ(r["sent_bytes"], 32 * 8 * 8 * 4);
  }
  for (const char* out : {"output_0.pb", "output_1.pb"}) {
    const std::string a = ReadText(d.dir + "/whole_out/" + out);
    ASSERT_FALSE(a.empty()) << out;
    EXPECT_EQ(a, ReadText(d.dir + "/split_out/" + out)) << out << " differs";
  }
}

TEST(SplitCli, ABadSplitDirectoryIsOneLineAndExitCodeOne) {
  SplitDir d = MakeSplitDir();
  fs::remove(d.dir + "/plan.json");
  const CliOutput o = Cli(fmt::format("run x=none.pb --split {} --remote 127.0.0.1:1", d.dir));
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_EQ(std::count(o.text.begin(), o.text.end(), '\n'), 1) << o.text;
  EXPECT_NE(o.text.find("no plan.json"), std::string::npos) << o.text;
}

TEST(SplitCli, AnUnreachableRemoteStillAnswersEveryRequest) {
  SplitDir d = MakeSplitDir();
  const std::string x = d.dir + "/x.pb";
  ASSERT_TRUE(ir::WriteValueFile(x, Value(d.feeds[0].second), ValueKind::kTensor, "x").ok());
  const CliOutput o = Cli(fmt::format(
      "run -i x={} --split {} --remote 127.0.0.1:1 --threads 1 --requests 4 --timeout-ms 500", x,
      d.dir));
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("4 requests, 4 ran their tail on the edge"), std::string::npos) << o.text;
}

}  // namespace
}  // namespace supernova::collab

// A split served as one model of an edge `supernova serve` (platform "supernova_split"): a
// client of the edge server sees the whole model's results, the tail running on a cloud
// server, or on the edge when the cloud is gone; a config without a remote does not load.
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "collab/remote/split_fixture.h"
#include "kserve/kserve_client.h"
#include "server/serve_process.h"

namespace supernova::collab {
namespace {

namespace fs = std::filesystem;
using supernova::testing::ServeProcess;
using namespace supernova::collab::testing;  // NOLINT
using kserve::KServeClient;
using kserve::RemoteReply;

// <dir>/edge/<name>/config.pbtxt naming the split and the remote, and <name>/1 the split. The
// cut is pinned: on the loopback the chooser would rightly keep everything on the edge.
std::string EdgeRepository(const SplitDir& d, const std::string& name, const std::string& remote) {
  const fs::path repo = fs::path(d.dir) / "edge";
  fs::create_directories(repo / name / "1");
  // A copy, not a symlink: the server refuses a version directory that leads outside its
  // repository, and d.dir holds the repository.
  for (const fs::directory_entry& e : fs::directory_iterator(d.dir))
    if (e.path().filename() != "edge")
      fs::copy(e.path(), repo / name / "1" / e.path().filename(), fs::copy_options::recursive);
  std::ofstream config(repo / name / "config.pbtxt");
  config << "platform: \"supernova_split\"\n";
  if (!remote.empty())
    config << "parameters { key: \"remote\" value { string_value: \"" << remote << "\" } }\n";
  config << "parameters { key: \"timeout_ms\" value { string_value: \"20000\" } }\n";
  config << "parameters { key: \"cut\" value { string_value: \"" << kCutP1 << "\" } }\n";
  return repo.string();
}

// The reply's outputs in the whole model's order (an undefined tensor for one it lacks, and
// any it should not have at the end), for BitEqual against the whole model's.
std::vector<Tensor> InModelOrder(const SplitDir& d, const RemoteReply& reply) {
  const std::vector<std::string>& names = d.whole.graph.outputs;
  std::vector<Tensor> ordered;
  for (const std::string& name : names) {
    auto it = std::find_if(reply.outputs.begin(), reply.outputs.end(),
                           [&](const auto& o) { return o.first == name; });
    ordered.push_back(it == reply.outputs.end() ? Tensor() : it->second);
  }
  for (const auto& [name, t] : reply.outputs)
    if (std::find(names.begin(), names.end(), name) == names.end()) ordered.push_back(t);
  return ordered;
}

TEST(ServedSplit, EdgeServerAnswersWithTheWholeModelsResultsWithOrWithoutTheCloud) {
  SplitDir d = MakeSplitDir();
  auto cloud = std::make_unique<ServeProcess>(
      std::vector<std::string>{"--model-repository", d.dir + "/repository"});
  ASSERT_TRUE(cloud->WaitReady()) << cloud->Log();
  ServeProcess edge({"--model-repository",
                     EdgeRepository(d, "split", "127.0.0.1:" + std::to_string(cloud->grpc_port())),
                     "--threads-per-instance", "1"});
  ASSERT_TRUE(edge.WaitReady()) << edge.Log();

  auto client = KServeClient::Create("127.0.0.1:" + std::to_string(edge.grpc_port()), false);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  for (int r = 0; r < 3; ++r) {
    auto reply = (*client)->Infer("split", d.feeds, 10000);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString() << "\n" << edge.Log();
    EXPECT_TRUE(BitEqual(d.expected, InModelOrder(d, *reply)));
  }
  EXPECT_FALSE(edge.Logged("split_tail_local")) << edge.Log();

  // The cloud goes away: the edge server still answers, running the tail itself, and says so.
  cloud->Signal(SIGKILL);
  cloud->Wait();
  cloud.reset();
  for (int r = 0; r < 3; ++r) {
    auto reply = (*client)->Infer("split", d.feeds, 10000);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString() << "\n" << edge.Log();
    EXPECT_TRUE(BitEqual(d.expected, InModelOrder(d, *reply)));
  }
  EXPECT_TRUE(edge.Logged("split_tail_local")) << edge.Log();
}

TEST(ServedSplit, AConfigWithoutARemoteDoesNotLoadAndSaysWhy) {
  SplitDir d = MakeSplitDir();
  ServeProcess edge({"--model-repository", EdgeRepository(d, "split", "")});
  ASSERT_TRUE(edge.WaitReady()) << edge.Log();
  EXPECT_NE(edge.Log().find("needs parameter remote"), std::string::npos) << edge.Log();
  auto client = KServeClient::Create("127.0.0.1:" + std::to_string(edge.grpc_port()), false);
  ASSERT_TRUE(client.ok());
  auto reply = (*client)->Infer("split", d.feeds, 5000);
  EXPECT_FALSE(reply.ok());
}

}  // namespace
}  // namespace supernova::collab

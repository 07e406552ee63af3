// The model repository is a boundary (docs/security.md): whatever its directories, symlinks and
// configs say, and whatever name a load request gives, the server reads no file outside it. Each
// refusal names its reason in the repository index, and nothing else in the repository suffers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "server/inference_server.h"
#include "server/test_repository.h"

namespace supernova::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TempRepository;

std::unique_ptr<InferenceServer> StartOn(const std::string& repo) {
  ServerOptions opts;
  opts.model_repository = repo;
  auto server = InferenceServer::Create(opts);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

// Every row's reason by model name (the last row of a model wins).
std::map<std::string, std::string> IndexReasons(const InferenceServer& server) {
  std::map<std::string, std::string> reasons;
  for (const RepositoryEntry& e : server.RepositoryIndex(false)) reasons[e.name] = e.reason;
  return reasons;
}

constexpr char kOutside[] = "leads outside the model repository";

TEST(RepositoryConfinement, SymlinksLeadingOutsideAreRefusedAndThoseInsideServe) {
  TempRepository outside;  // a valid model, but not the server's
  outside.AddBundled("simple");
  const fs::path there = fs::path(outside.path()) / "simple";
  TempRepository repo;
  repo.AddBundled("simple");
  const fs::path root = repo.path();
  // The model directory, a version directory, the model file: each a symlink out.
  fs::create_directory_symlink(there, root / "dir_link");
  repo.WriteFile("version_link/config.pbtxt", "");
  fs::create_directory_symlink(there / "1", root / "version_link" / "1");
  repo.WriteFile("file_link/config.pbtxt", "");
  fs::create_directories(root / "file_link" / "1");
  fs::create_symlink(there / "1" / "model.onnx", root / "file_link" / "1" / "model.onnx");
  // A relative symlink that climbs out with "..".
  fs::create_directories(root / "climb" / "1");
  fs::create_symlink(fs::relative(there / "1" / "model.onnx", root / "climb" / "1"),
                     root / "climb" / "1" / "model.onnx");
  // Symlinks that stay inside are the repository's own business.
  fs::create_directories(root / "inside" / "1");
  fs::create_symlink("../../simple/1/model.onnx", root / "inside" / "1" / "model.onnx");

  auto server = StartOn(repo.path());
  ASSERT_TRUE(server);
  const auto reasons = IndexReasons(*server);
  for (const char* model : {"dir_link", "version_link", "file_link", "climb"}) {
    EXPECT_FALSE(server->ModelReady(model, "")) << model;
    ASSERT_TRUE(reasons.count(model)) << model;
    EXPECT_THAT(reasons.at(model), HasSubstr(kOutside)) << model;
    EXPECT_EQ(reasons.at(model).find(outside.path()), std::string::npos)
        << "the reason reaches clients: it must not name the target";
    // An explicit load is refused the same way.
    const Status s = server->LoadModel(model);
    EXPECT_FALSE(s.ok()) << model;
    EXPECT_THAT(s.message(), HasSubstr(kOutside)) << model;
  }
  EXPECT_THAT(reasons.at("dir_link"), HasSubstr("model directory"));
  EXPECT_THAT(reasons.at("version_link"), HasSubstr("version directory"));
  EXPECT_THAT(reasons.at("file_link"), HasSubstr("model file"));
  EXPECT_TRUE(server->ModelReady("inside", "1"));
  EXPECT_TRUE(server->ModelReady("simple", "1"));
}

TEST(RepositoryConfinement, ConfigFileNamesArePlainNames) {
  TempRepository outside;
  outside.AddBundled("simple");
  TempRepository repo;
  repo.AddBundled("simple");
  const std::string escape =
      fs::relative(fs::path(outside.path()) / "simple/1/model.onnx", fs::path(repo.path()) / "x/1")
          .string();
  for (const auto& [model, file] :
       std::map<std::string, std::string>{{"dotdot", escape},
                                          {"absolute", outside.path() + "/simple/1/model.onnx"},
                                          {"nested", "sub/model.onnx"}}) {
    repo.WriteFile(model + "/config.pbtxt", "default_model_filename: \"" + file + "\"\n");
    repo.WriteFile(model + "/1/unused", "");
  }
  auto server = StartOn(repo.path());
  ASSERT_TRUE(server);
  const auto reasons = IndexReasons(*server);
  for (const char* model : {"dotdot", "absolute", "nested"}) {
    EXPECT_FALSE(server->ModelReady(model, "")) << model;
    EXPECT_THAT(reasons.at(model), HasSubstr("default_model_filename")) << model;
  }
  // A config given with the load request is held to the same rule, and a refused reload
  // keeps the version that serves.
  const Status s = server->LoadModel(
      "simple", R"({"default_model_filename": ")" + outside.path() + R"(/simple/1/model.onnx"})");
  EXPECT_EQ(s.code(), Status::Code::kInvalidModel) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("default_model_filename"));
  EXPECT_TRUE(server->ModelReady("simple", "1"));
}

TEST(RepositoryConfinement, LoadRequestNamesAreSinglePathComponents) {
  TempRepository repo;
  repo.AddBundled("simple");
  auto server = StartOn(repo.path());
  ASSERT_TRUE(server);
  for (const std::string& name :
       {std::string(), std::string("."), std::string(".."), std::string("../simple"),
        std::string("simple/1"), std::string("simple\\..\\simple"), std::string("simple\0x", 8),
        std::string(".hidden")}) {
    EXPECT_EQ(server->LoadModel(name).code(), Status::Code::kInvalidArgument) << name;
  }
  EXPECT_TRUE(server->ModelReady("simple", "1"));
}

}  // namespace
}  // namespace supernova::server

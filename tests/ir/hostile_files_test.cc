// Hostile model files (issue 19): external data that reaches outside the model's folder or
// names a range that overflows, and files larger than protobuf can parse. Each is refused
// with a Status naming the problem, before anything of the claimed size is read.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ir/hostile_model.h"
#include "ir/onnx_import.h"
#include "supernova/session.h"
#include "temp_dir.h"

namespace supernova::ir {
namespace {

using hostile::HostileModel;
using hostile::Mentions;
using hostile::UnderMemoryCap;

// A folder holding model.onnx, whose initializer "w" (4 floats) lives in external data
// described by `entries` (key, value), and weights.bin with 16 bytes.
class ExternalData : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "model");
    std::ofstream(dir_ / "model" / "weights.bin", std::ios::binary) << std::string(16, '\x01');
    std::ofstream(dir_ / "secret.bin", std::ios::binary) << std::string(16, '\x02');
  }
  std::string Write(const std::vector<std::pair<std::string, std::string>>& entries) {
    HostileModel m;
    m.Input("x", {4}).Output("y");
    m.Node("Add", {"x", "w"}, {"y"});
    onnx::TensorProto* w = m.graph()->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(4);
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    for (const auto& [k, v] : entries) {
      auto* e = w->add_external_data();
      e->set_key(k);
      e->set_value(v);
    }
    const std::string path = (dir_ / "model" / "model.onnx").string();
    std::ofstream(path, std::ios::binary) << m.Bytes();
    return path;
  }
  // ImportOnnxFile and Session::Open both refuse the file with `code`, naming `what`.
  void ExpectRefused(const std::string& path, Status::Code code, const std::string& what) {
    auto imported = ImportOnnxFile(path);
    ASSERT_FALSE(imported.ok()) << "the importer accepted " << path;
    EXPECT_EQ(imported.status().code(), code) << imported.status().ToString();
    EXPECT_TRUE(Mentions(imported.status(), what)) << imported.status().ToString();
    auto session = Session::Open(path);
    ASSERT_FALSE(session.ok()) << "Session::Open accepted " << path;
    EXPECT_EQ(session.status().code(), code) << session.status().ToString();
    EXPECT_TRUE(Mentions(session.status(), what)) << session.status().ToString();
  }
  supernova::testing::TempDir tmp_;
  std::filesystem::path dir_ = tmp_.path();
};

TEST_F(ExternalData, InsideTheFolderLoads) {
  auto s = Session::Open(Write({{"location", "weights.bin"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->weights_bytes(), 16u);
}

TEST_F(ExternalData, DotDotIsRefused) {
  ExpectRefused(Write({{"location", "../secret.bin"}}), Status::Code::kInvalidModel,
                "outside the model's directory");
  ExpectRefused(Write({{"location", "sub/../../secret.bin"}}), Status::Code::kInvalidModel,
                "outside the model's directory");
}

TEST_F(ExternalData, AbsolutePathIsRefused) {
  ExpectRefused(Write({{"location", (dir_ / "secret.bin").string()}}), Status::Code::kInvalidModel,
                "outside the model's directory");
}

TEST_F(ExternalData, SymlinkOutOfTheFolderIsRefused) {
  std::error_code ec;
  std::filesystem::create_symlink(dir_ / "secret.bin", dir_ / "model" / "link.bin", ec);
  if (ec) GTEST_SKIP() << "cannot make a symlink here: " << ec.message();
  ExpectRefused(Write({{"location", "link.bin"}}), Status::Code::kInvalidModel,
                "outside the model's directory");
  // A link that stays inside the folder is no escape.
  std::filesystem::create_symlink("weights.bin", dir_ / "model" / "inside.bin", ec);
  ASSERT_FALSE(ec) << ec.message();
  auto s = Session::Open(Write({{"location", "inside.bin"}}));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
}

TEST_F(ExternalData, RangesThatOverflowAreRefused) {
  const std::string max = std::to_string(INT64_MAX);
  ExpectRefused(Write({{"location", "weights.bin"}, {"offset", max}, {"length", "16"}}),
                Status::Code::kInvalidModel, "exceeds");
  ExpectRefused(Write({{"location", "weights.bin"}, {"offset", "8"}, {"length", max}}),
                Status::Code::kInvalidModel, "exceeds");
  ExpectRefused(Write({{"location", "weights.bin"}, {"offset", "-4"}}), Status::Code::kInvalidModel,
                "exceeds");
}

TEST_F(ExternalData, NonNumericOffsetsAreRefused) {
  // std::stoll threw here once: the exception ended the process.
  ExpectRefused(Write({{"location", "weights.bin"}, {"offset", "twelve"}}),
                Status::Code::kInvalidModel, "offset 'twelve'");
  ExpectRefused(Write({{"location", "weights.bin"}, {"length", "99999999999999999999999"}}),
                Status::Code::kInvalidModel, "length '99999999999999999999999'");
  ExpectRefused(Write({{"location", "weights.bin"}, {"offset", "4x"}}), Status::Code::kInvalidModel,
                "offset '4x'");
}

TEST(HostileFiles, ModelFileOverTwoGigabytesIsRefusedUnread) {
  supernova::testing::TempDir tmp;
  const std::string path = tmp / "big.onnx";
  HostileModel m;
  m.Input("x", {1}).Output("y").Node("Identity", {"x"}, {"y"});
  std::ofstream(path, std::ios::binary) << m.Bytes();
  std::error_code ec;
  // Sparse: the file claims 2 GiB and more but takes no disk.
  std::filesystem::resize_file(path, (uintmax_t{1} << 31) + 16, ec);
  if (ec) GTEST_SKIP() << "this filesystem cannot hold a sparse 2 GiB file: " << ec.message();
  UnderMemoryCap(
      [&] {
        auto r = ImportOnnxFile(path);
        return !r.ok() && r.status().code() == Status::Code::kInvalidModel &&
               Mentions(r.status(), "2 GiB");
      },
      size_t{256} << 20);
  auto s = Session::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kInvalidModel);
  EXPECT_TRUE(Mentions(s.status(), "2 GiB")) << s.status().ToString();
}

}  // namespace
}  // namespace supernova::ir

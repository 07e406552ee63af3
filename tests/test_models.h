// What a missing model means to a test. The npm-packaged models in the assets directory come
// with the README's test command (scripts/build.sh runs scripts/fetch_models.sh), so a test
// that finds one missing fails. ../shared/models lies outside the repository: a test whose
// model is not there is skipped, and says which file it wanted. A model kept with the test
// data (tests/data/models/<name>/model.onnx) is part of the checkout: missing, it fails.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace supernova::testing {

enum class ModelRoot { kAssets, kShared, kData };

// Empty when `path` exists; otherwise why it is missing and how to get it.
inline std::string MissingModel(const std::string& path, ModelRoot root) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return "";
  switch (root) {
    case ModelRoot::kAssets:
      return "model missing: " + path + " (scripts/fetch_models.sh fetches it)";
    case ModelRoot::kShared:
      return "shared model not here: " + path + " (../shared/models is outside the repository)";
    case ModelRoot::kData:
      break;
  }
  return "model missing from the test data: " + path;
}

}  // namespace supernova::testing

// In a test body or SetUp(): fails the test when an assets model is missing, skips it when a
// shared model is.
#define SUPERNOVA_REQUIRE_MODEL(path, root)                                                \
  do {                                                                                     \
    const std::string supernova_missing_ = ::supernova::testing::MissingModel(path, root); \
    if (supernova_missing_.empty()) break;                                                 \
    if ((root) == ::supernova::testing::ModelRoot::kShared) {                              \
      GTEST_SKIP() << supernova_missing_;                                                  \
    }                                                                                      \
    FAIL() << supernova_missing_;                                                          \
  } while (0)

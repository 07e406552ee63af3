// Helpers of the class store's tests (class_store, refine, crash): a scratch directory, every
// file's bytes (to show a failed call changed nothing), unit vectors.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace supernova::learn::store_test {

using ScratchDir = supernova::testing::TempDir;

inline std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Every file and directory under `dir`, by relative path, with its bytes ("<dir>" for a
// directory): equal snapshots mean nothing was created, removed or changed.
inline std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const std::string rel = std::filesystem::relative(e.path(), dir).string();
    files[rel] = e.is_directory() ? "<dir>" : FileBytes(e.path().string());
  }
  return files;
}

// `v` divided by its L2 norm.
inline std::vector<float> Normalized(std::vector<float> v) {
  double sq = 0;
  for (float x : v) sq += double{x} * x;
  for (float& x : v) x = static_cast<float>(x / std::sqrt(sq));
  return v;
}

inline std::vector<float> Concat(const std::vector<std::vector<float>>& rows) {
  std::vector<float> out;
  for (const auto& r : rows) out.insert(out.end(), r.begin(), r.end());
  return out;
}

inline double CosineOf(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i)
    ab += double{a[i]} * b[i], aa += double{a[i]} * a[i], bb += double{b[i]} * b[i];
  return ab / std::sqrt(aa * bb);
}

}  // namespace supernova::learn::store_test

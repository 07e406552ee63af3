// The real models the compress tests prune and fold (where they are: see test_models.h).
#pragma once

#include <cctype>
#include <filesystem>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "ir/graph.h"
#include "test_models.h"

namespace supernova::testing {

struct CompressModelCase {
  std::string path;
  ModelRoot root;
};

// Test names and gtest's printout use the file's stem, not the struct's bytes.
inline void PrintTo(const CompressModelCase& c, std::ostream* os) { *os << c.path; }
inline std::string CompressCaseName(const ::testing::TestParamInfo<CompressModelCase>& info) {
  std::string name = std::filesystem::path(info.param.path).stem().string();
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

// The shape of a model's first input with unknown dims (the batch) as 1.
inline Shape FirstInputShape(const ir::Graph& g) {
  Shape s;
  for (const ir::Dim& d : *g.TypeOf(g.inputs[0])->dims) s.push_back(d.known() ? d.value : 1);
  return s;
}

}  // namespace supernova::testing

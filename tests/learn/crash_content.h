// What the crash test's writer (store_writer.cc) puts in a class store, and how the test reads
// it back: content from which a reader can tell, beyond the CRC, that a class is one whole
// state. Example s of class k is a unit vector that encodes k and s, so a class whose count
// is C must hold exactly the examples C-n .. C-1, their mean as its anchor, and a prototype
// that is the anchor or the anchor refined r times by a rule the checker knows.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace supernova::learn::crash {

inline constexpr const char* kEmbedder = "crash-test:rows";
inline constexpr int64_t kDim = 8;
inline constexpr int64_t kMaxExamples = 5;  // small, so the oldest examples go often
inline constexpr int kClasses = 6;

inline std::string ClassName(int k) { return "c" + std::to_string(k); }

inline std::vector<float> Row(int k, int64_t s) {
  std::vector<float> v(kDim, 0.25f);
  v[0] = 1;
  v[1] = static_cast<float>(k) * 0.01f;
  v[2] = static_cast<float>(s) * 0.001f;
  double sq = 0;
  for (float x : v) sq += double{x} * x;
  for (float& x : v) x = static_cast<float>(x / std::sqrt(sq));
  return v;
}

// k and s back from a row Row made.
inline void DecodeRow(const float* row, int* k, int64_t* s) {
  *k = static_cast<int>(std::lround(row[1] / row[0] / 0.01f));
  *s = std::llround(row[2] / row[0] / 0.001f);
}

// The prototype after r refinements of a class enrolled at `anchor`.
inline std::vector<float> Refined(const std::vector<float>& anchor, int64_t r) {
  std::vector<float> p = anchor;
  for (float& x : p) x *= 1.0f - 1e-3f * static_cast<float>(r);
  return p;
}

}  // namespace supernova::learn::crash

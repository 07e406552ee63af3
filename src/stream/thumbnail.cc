#include "stream/thumbnail.h"

#include <cstdlib>

namespace supernova::stream {
namespace {
constexpr int kGridW = 64, kGridH = 36;
}  // namespace

std::vector<uint8_t> Thumbnail(const Frame& f) {
  std::vector<uint8_t> g(kGridW * kGridH);
  if (f.width <= 0 || f.height <= 0 || f.bgr.size() < static_cast<size_t>(f.width) * f.height * 3)
    return g;
  for (int y = 0; y < kGridH; ++y)
    for (int x = 0; x < kGridW; ++x) {
      const size_t sx = (static_cast<size_t>(x) * 2 + 1) * f.width / (2 * kGridW);
      const size_t sy = (static_cast<size_t>(y) * 2 + 1) * f.height / (2 * kGridH);
      const uint8_t* p = &f.bgr[(sy * f.width + sx) * 3];
      g[y * kGridW + x] = static_cast<uint8_t>((p[0] + 2 * p[1] + p[2]) / 4);
    }
  return g;
}

double MeanAbsDifference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size() || a.empty()) return 255.0;
  int64_t sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(int{a[i]} - int{b[i]});
  return static_cast<double>(sum) / static_cast<double>(a.size());
}

}  // namespace supernova::stream

// A coarse grey thumbnail of a frame and the mean absolute difference of two: the cheap
// measure of "how much did the picture change" that frame skipping (stillness) and escalation
// (scene change) both decide on.
//
//   std::vector<uint8_t> a = Thumbnail(*frame1), b = Thumbnail(*frame2);
//   double change = MeanAbsDifference(a, b);   // 0 (same) .. 255 (black to white)
#pragma once

#include <cstdint>
#include <vector>

#include "stream/frame.h"

namespace supernova::stream {

// Luma ((B + 2G + R) / 4) point-sampled on a 64 x 36 grid: enough to see a scene change, and
// ~2300 reads whatever the frame's size. A frame without pixels gives an all-black thumbnail.
std::vector<uint8_t> Thumbnail(const Frame& frame);

// Mean absolute difference of two thumbnails on the 0..255 scale; 255 (the most) when there
// is nothing to compare (an empty one, or two of different sizes).
double MeanAbsDifference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b);

}  // namespace supernova::stream

// A frame as the JPEG a remote detector decodes (the cloud detector's request body), encoded
// with stb_image_write, optionally downscaled first so that a slow link carries fewer bytes.
//
//   auto jpeg = EncodeJpeg(*frame, /*quality=*/75, /*max_side=*/640);
//   // jpeg->bytes on the wire; a box the remote finds at x in the image is at x / jpeg->scale_x
//   // in the frame
#pragma once

#include <string>

#include "stream/frame.h"
#include "supernova/status.h"

namespace supernova::stream {

struct EncodedImage {
  std::string bytes;  // the JPEG file
  int width = 0, height = 0;
  // Image pixels per frame pixel along each axis (1 unless downscaled).
  double scale_x = 1, scale_y = 1;
};

// `quality` 1..100 as stb's (and libjpeg's) scale; `max_side` > 0 shrinks the frame, keeping
// its aspect, until its longer side is at most that many pixels (never enlarges).
Result<EncodedImage> EncodeJpeg(const Frame& frame, int quality, int max_side = 0);

}  // namespace supernova::stream

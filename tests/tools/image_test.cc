// Images as learn and run read them: decoded from bytes in memory, resized and normalised from
// pixels with any row stride, and the options an image input of a model asks for.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "supernova/tensor_io.h"

namespace supernova::tools {
namespace {

void PutLe(std::string& s, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A 24-bit BMP (BITMAPINFOHEADER, rows bottom-up, BGR, each row padded to 4 bytes) of `rgb`.
std::string Bmp(int32_t w, int32_t h, const std::vector<uint8_t>& rgb) {
  const uint32_t row = (static_cast<uint32_t>(w) * 3 + 3) / 4 * 4;
  std::string s = "BM";
  PutLe(s, 54 + row * static_cast<uint32_t>(h), 4);
  PutLe(s, 0, 4);
  PutLe(s, 54, 4);  // pixel data offset
  PutLe(s, 40, 4);  // header size
  PutLe(s, static_cast<uint32_t>(w), 4);
  PutLe(s, static_cast<uint32_t>(h), 4);
  PutLe(s, 1, 2);                              // planes
  PutLe(s, 24, 2);                             // bits per pixel
  for (int i = 0; i < 6; ++i) PutLe(s, 0, 4);  // no compression, sizes and palette left out
  for (int y = h - 1; y >= 0 && !rgb.empty(); --y) {
    for (int x = 0; x < w; ++x)
      for (int c = 2; c >= 0; --c) s.push_back(static_cast<char>(rgb[(y * w + x) * 3 + c]));
    s.append(row - static_cast<uint32_t>(w) * 3, '\0');
  }
  return s;
}

TEST(DecodeImage, ReadsPixelsFromMemoryInRgbOrder) {
  const std::vector<uint8_t> rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
  Result<RgbImage> image = DecodeImage(Bmp(2, 2, rgb), "two.bmp");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->width, 2);
  EXPECT_EQ(image->height, 2);
  EXPECT_EQ(image->pixels, rgb);
}

TEST(DecodeImage, RefusesWhatIsNoImageAndImagesTooLargeToDecode) {
  Result<RgbImage> junk = DecodeImage("not an image at all", "notes.txt");
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find("cannot decode image notes.txt"), std::string::npos)
      << junk.status().message();
  // A header that claims 100000 x 2 pixels, without the data: refused before decoding.
  Result<RgbImage> huge = DecodeImage(Bmp(100000, 2, {}), "huge.bmp");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("100000x2"), std::string::npos) << huge.status().message();
  // A PPM of width 0 that stb decodes to no pixels (found by fuzzing): an error, not an image.
  Result<RgbImage> empty = DecodeImage("P6\n0 7\n255\n", "empty.ppm");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty.ppm is 0x7: no pixels"), std::string::npos)
      << empty.status().message();
  // Headers of uncompressed formats claiming more pixels than the file holds (found by
  // fuzzing: stb would fill them with zeros, hundreds of megabytes from a few bytes).
  for (const auto& [bytes, name] :
       {std::pair<std::string, std::string>{"P6 10661\n7207\n255\n", "short.ppm"},
        {Bmp(10000, 7000, {}), "short.bmp"},
        // TGA, uncompressed true colour (type 2), 13904 x 8241 x 24 bits, and no pixels.
        {std::string("\0\0\2\0\0\0\0\0\0\0\0\0\x50\x36\x31\x20\x18\0", 18), "short.tga"},
        // The same run-length coded (type 10): at most 128 pixels from each 4 bytes.
        {std::string("\0\0\x0a\0\0\0\0\0\0\0\0\0\x50\x36\x31\x20\x18\0", 18), "short_rle.tga"}}) {
    Result<RgbImage> r = DecodeImage(bytes, name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.status().message().find("cannot hold the pixels"), std::string::npos)
        << r.status().message();
  }
  // A complete one still decodes, however its rows are padded.
  EXPECT_TRUE(DecodeImage(Bmp(3, 2, std::vector<uint8_t>(18, 7)), "three.bmp").ok());
  EXPECT_TRUE(DecodeImage(std::string("P6 1\n1\n255\n") + "abc", "one.ppm").ok());
}

TEST(ImageToTensor, NormalisesEachChannelAndHonoursTheRowStride) {
  // 2 x 2 pixels, rows 8 bytes apart: the two bytes after each row are not pixels.
  const std::vector<uint8_t> padded = {0,  51, 102, 153, 204, 255, 99, 99,
                                       30, 60, 90,  120, 150, 180, 99, 99};
  ImageOptions o;
  o.norm = Normalization::kUnit;
  Result<Tensor> t = ImageToTensor(padded.data(), 2, 2, 8, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->shape(), (Shape{1, 3, 2, 2}));
  // NCHW: channel 0 holds the R of each pixel in row order.
  const std::vector<float> r = {0, 153, 30, 120}, b = {102, 255, 90, 180};
  for (int i = 0; i < 4; ++i) {
    EXPECT_FLOAT_EQ(t->data<float>()[i], r[i] / 255.0f) << i;
    EXPECT_FLOAT_EQ(t->data<float>()[8 + i], b[i] / 255.0f) << i;
  }
  // BGR NHWC, raw: the first pixel reads 102, 51, 0.
  o.bgr = true;
  o.nchw = false;
  o.norm = Normalization::kRaw;
  t = ImageToTensor(padded.data(), 2, 2, 8, o);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->shape(), (Shape{1, 2, 2, 3}));
  EXPECT_FLOAT_EQ(t->data<float>()[0], 102);
  EXPECT_FLOAT_EQ(t->data<float>()[2], 0);
  // Down to one pixel: half-pixel bilinear samples the centre, the mean of the four.
  o = ImageOptions{};
  o.norm = Normalization::kRaw;
  o.height = o.width = 1;
  t = ImageToTensor(padded.data(), 2, 2, 8, o);
  ASSERT_TRUE(t.ok());
  EXPECT_FLOAT_EQ(t->data<float>()[0], (0 + 153 + 30 + 120) / 4.0f);
  EXPECT_FALSE(ImageToTensor(padded.data(), 2, 2, 5, o).ok());  // rows overlap
}

TEST(ImageOptionsFor, FollowsTheModelsInputAndTheFlags) {
  TensorInfo nhwc{"in", DataType::kFloat32, ValueKind::kTensor, true, {1, 128, 96, 3}, {}};
  Result<ImageOptions> o = ImageOptionsFor(nhwc, {"signed", "", true});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_FALSE(o->nchw);
  EXPECT_EQ(o->height, 128);
  EXPECT_EQ(o->width, 96);
  EXPECT_TRUE(o->bgr);
  EXPECT_EQ(o->norm, Normalization::kSigned);
  TensorInfo dynamic{"x", DataType::kFloat32, ValueKind::kTensor, true, {-1, 3, -1, -1}, {}};
  o = ImageOptionsFor(dynamic, {"paddle", "48x320", false});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->nchw);
  EXPECT_EQ(o->height, 48);
  EXPECT_EQ(o->width, 320);
  EXPECT_FALSE(ImageOptionsFor(dynamic, {"", "", false}).ok());        // no --preprocess
  EXPECT_FALSE(ImageOptionsFor(nhwc, {"unit", "64x64", false}).ok());  // contradicts 128x96
  TensorInfo flat{"v", DataType::kFloat32, ValueKind::kTensor, true, {1, 10}, {}};
  EXPECT_FALSE(ImageOptionsFor(flat, {"unit", "", false}).ok());  // not an image input
}

}  // namespace
}  // namespace supernova::tools

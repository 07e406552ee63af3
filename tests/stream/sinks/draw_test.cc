// Drawing on small BGR buffers, pixel by pixel.
#include "stream/draw.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace supernova::stream {
namespace {

// A w x h image with `pad` spare bytes at the end of every row (they must stay untouched).
struct Image {
  Image(int w, int h, int pad = 0) : width(w), height(h), stride(3 * w + pad) {
    bytes.assign(static_cast<size_t>(stride) * h, 0);
  }
  BgrView view() { return {bytes.data(), width, height, stride}; }
  Color at(int x, int y) const {
    const uint8_t* p = &bytes[static_cast<size_t>(y) * stride + 3 * static_cast<size_t>(x)];
    return {p[0], p[1], p[2]};
  }
  bool PaddingIsZero() const {
    for (int y = 0; y < height; ++y)
      for (int i = 3 * width; i < stride; ++i)
        if (bytes[static_cast<size_t>(y) * stride + i] != 0) return false;
    return true;
  }
  // The picture as rows of '#' (the colour) and '.' (black).
  std::vector<std::string> Picture(Color c) const {
    std::vector<std::string> rows;
    for (int y = 0; y < height; ++y) {
      std::string row;
      for (int x = 0; x < width; ++x) row += at(x, y) == c ? '#' : at(x, y) == Color{} ? '.' : '?';
      rows.push_back(row);
    }
    return rows;
  }
  int width, height, stride;
  std::vector<uint8_t> bytes;
};

constexpr Color kRed{0, 0, 255};

TEST(Draw, FillRectClipsToTheImage) {
  Image img(6, 4, 2);
  FillRect(img.view(), -3, -2, 2, 2, kRed);
  FillRect(img.view(), 5, 3, 100, 100, kRed);
  FillRect(img.view(), 10, 10, 20, 20, kRed);                       // wholly outside
  FillRect(img.view(), 3, 1, 3, 4, kRed);                           // empty
  EXPECT_EQ(img.Picture(kRed), (std::vector<std::string>{"##....",  //
                                                         "##....",  //
                                                         "......",  //
                                                         ".....#"}));
  EXPECT_TRUE(img.PaddingIsZero());
}

TEST(Draw, RectOutlineStaysInsideTheRectangle) {
  Image img(9, 8, 3);
  DrawRect(img.view(), 1, 1, 8, 7, kRed, 2);
  EXPECT_EQ(img.Picture(kRed), (std::vector<std::string>{".........",  //
                                                         ".#######.",  //
                                                         ".#######.",  //
                                                         ".##...##.",  //
                                                         ".##...##.",  //
                                                         ".#######.",  //
                                                         ".#######.",  //
                                                         "........."}));
  EXPECT_TRUE(img.PaddingIsZero());

  Image thin(5, 5);
  DrawRect(thin.view(), 1, 1, 4, 4, kRed, 2);  // thinner than two lines: filled
  EXPECT_EQ(thin.Picture(kRed), (std::vector<std::string>{".....",  //
                                                          ".###.",  //
                                                          ".###.",  //
                                                          ".###.",  //
                                                          "....."}));
}

TEST(Draw, GlyphsAreFiveBySevenOnASixPixelAdvance) {
  EXPECT_EQ(TextWidth("", 1), 0);
  EXPECT_EQ(TextWidth("7", 1), 5);
  EXPECT_EQ(TextWidth("#12", 1), 17);
  EXPECT_EQ(TextWidth("#12", 2), 34);
  EXPECT_EQ(TextHeight(3), 21);
  for (const char c : std::string("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz -_.:#/%()?+=,"))
    EXPECT_TRUE(HasGlyph(c)) << c;
  EXPECT_FALSE(HasGlyph('@'));

  Image img(11, 7);
  DrawText(img.view(), 0, 0, "1L", kRed, 1);
  EXPECT_EQ(img.Picture(kRed), (std::vector<std::string>{"..#...#....",  //
                                                         ".##...#....",  //
                                                         "..#...#....",  //
                                                         "..#...#....",  //
                                                         "..#...#....",  //
                                                         "..#...#....",  //
                                                         ".###..#####"}));
}

TEST(Draw, TextScalesLowerCaseAndUnknownCharacters) {
  Image big(10, 14), small(5, 7);
  DrawText(big.view(), 0, 0, "T", kRed, 2);
  DrawText(small.view(), 0, 0, "T", kRed, 1);
  for (int y = 0; y < 14; ++y)
    for (int x = 0; x < 10; ++x) ASSERT_EQ(big.at(x, y), small.at(x / 2, y / 2)) << x << "," << y;

  Image lower(5, 7), upper(5, 7), unknown(5, 7), question(5, 7);
  DrawText(lower.view(), 0, 0, "k", kRed, 1);
  DrawText(upper.view(), 0, 0, "K", kRed, 1);
  DrawText(unknown.view(), 0, 0, "@", kRed, 1);
  DrawText(question.view(), 0, 0, "?", kRed, 1);
  EXPECT_EQ(lower.bytes, upper.bytes);
  EXPECT_EQ(unknown.bytes, question.bytes);

  Image clipped(4, 4);  // partly outside: no crash, only the visible part
  DrawText(clipped.view(), -2, -3, "8", kRed, 1);
  EXPECT_EQ(clipped.Picture(kRed)[0], "##..");  // row 3 of '8' (.###.) from column 2
}

TEST(Draw, TrackColoursAreStableAndDistinct) {
  std::set<std::tuple<int, int, int>> seen;
  for (int64_t id = 1; id <= 12; ++id) {
    const Color c = TrackColor(id);
    EXPECT_EQ(c, TrackColor(id));
    EXPECT_TRUE(seen.insert({c.b, c.g, c.r}).second) << "id " << id;
  }
  EXPECT_EQ(TrackColor(-1), TrackColor(11));
}

TEST(Draw, LabelledBoxPutsItsTagAboveOrInside) {
  Image img(40, 40, 1);
  const Box box{10.4f, 20.0f, 30.0f, 35.6f};  // pixels [10, 30) x [20, 36)
  EXPECT_EQ(ToPixels(box).x1, 10);
  EXPECT_EQ(ToPixels(box).y2, 36);
  DrawLabelledBox(img.view(), box, "1", kRed, {.thickness = 1, .text_scale = 1});
  // The outline.
  for (int x = 10; x < 30; ++x) EXPECT_EQ(img.at(x, 35), kRed) << x;
  for (int y = 20; y < 36; ++y) EXPECT_EQ(img.at(10, y), kRed) << y;
  for (int y = 20; y < 36; ++y) EXPECT_EQ(img.at(29, y), kRed) << y;
  EXPECT_EQ(img.at(20, 28), Color{});  // interior untouched
  EXPECT_EQ(img.at(30, 28), Color{});  // outside untouched
  // The tag: 7 px wide (5 + 2 padding), 9 high, right above the box; white text on red.
  const Color white{255, 255, 255};
  EXPECT_EQ(img.at(10, 11), kRed);
  EXPECT_EQ(img.at(16, 19), kRed);
  EXPECT_EQ(img.at(17, 15), Color{});
  EXPECT_EQ(img.at(10, 10), Color{});
  EXPECT_EQ(img.at(13, 12), white);  // '1' top row: ..#..
  EXPECT_EQ(img.at(12, 12), kRed);
  EXPECT_TRUE(img.PaddingIsZero());

  Image top(40, 40);  // no room above: the tag goes inside the box's top edge
  DrawLabelledBox(top.view(), {5, 2, 35, 30}, "1", kRed, {.thickness = 1, .text_scale = 1});
  EXPECT_EQ(top.at(8, 3), white);
  EXPECT_EQ(top.at(20, 15), Color{});

  Image yellow(20, 20);  // a light colour gets black text
  DrawLabelledBox(yellow.view(), {2, 12, 18, 19}, "1", {0, 255, 255}, {1, 1});
  EXPECT_EQ(yellow.at(5, 4), Color{});
  EXPECT_EQ(yellow.at(4, 4), (Color{0, 255, 255}));
}

TEST(Draw, DegenerateBoxesDrawNothing) {
  Image img(16, 16);
  const std::vector<uint8_t> before = img.bytes;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  DrawLabelledBox(img.view(), {5, 5, 5, 9}, "x", kRed, {});
  DrawLabelledBox(img.view(), {9, 5, 2, 9}, "x", kRed, {});
  DrawLabelledBox(img.view(), {nan, 1, 8, 8}, "x", kRed, {});
  DrawLabelledBox(img.view(), {-inf, 1, -inf, 8}, "x", kRed, {});
  EXPECT_EQ(img.bytes, before);
  // Partly outside: the visible part of the outline only.
  DrawLabelledBox(img.view(), {-5, -5, 10, 10}, "", kRed, {.thickness = 2, .text_scale = 1});
  EXPECT_EQ(img.at(9, 0), kRed);
  EXPECT_EQ(img.at(0, 8), kRed);
  EXPECT_EQ(img.at(0, 0), Color{});
  EXPECT_EQ(img.at(10, 10), Color{});
  DrawLabelledBox(img.view(), {-1e30f, -1e30f, 1e30f, 1e30f}, "huge", kRed, {});
}

}  // namespace
}  // namespace supernova::stream

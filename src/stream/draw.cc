#include "stream/draw.h"

#include <algorithm>
#include <cmath>

namespace supernova::stream {
namespace {

// One glyph: seven rows of five pixels, bit 4 the leftmost.
struct Glyph {
  char c;
  uint8_t rows[7];
};

constexpr int kGlyphWidth = 5, kGlyphHeight = 7, kAdvance = 6;

// clang-format off
constexpr Glyph kFont[] = {
    {'0', {0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110}},
    {'1', {0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110}},
    {'2', {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111}},
    {'3', {0b11110, 0b00001, 0b00001, 0b01110, 0b00001, 0b00001, 0b11110}},
    {'4', {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010}},
    {'5', {0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110}},
    {'6', {0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110}},
    {'7', {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000}},
    {'8', {0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110}},
    {'9', {0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100}},
    {'A', {0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001}},
    {'B', {0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110}},
    {'C', {0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110}},
    {'D', {0b11110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11110}},
    {'E', {0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111}},
    {'F', {0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000}},
    {'G', {0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111}},
    {'H', {0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001}},
    {'I', {0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110}},
    {'J', {0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100}},
    {'K', {0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001}},
    {'L', {0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111}},
    {'M', {0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001}},
    {'N', {0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001, 0b10001}},
    {'O', {0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110}},
    {'P', {0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000}},
    {'Q', {0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101}},
    {'R', {0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001}},
    {'S', {0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110}},
    {'T', {0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100}},
    {'U', {0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110}},
    {'V', {0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100}},
    {'W', {0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010}},
    {'X', {0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001}},
    {'Y', {0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00100}},
    {'Z', {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111}},
    {' ', {0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000}},
    {'-', {0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000}},
    {'_', {0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111}},
    {'.', {0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100}},
    {':', {0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000}},
    {'#', {0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010}},
    {'/', {0b00001, 0b00010, 0b00010, 0b00100, 0b01000, 0b01000, 0b10000}},
    {'%', {0b11001, 0b11010, 0b00010, 0b00100, 0b01000, 0b01011, 0b10011}},
    {'(', {0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010}},
    {')', {0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000}},
    {'?', {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100}},
    {'+', {0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000}},
    {'=', {0b00000, 0b00000, 0b11111, 0b00000, 0b11111, 0b00000, 0b00000}},
    {',', {0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000}},
};
// clang-format on

const Glyph* FindGlyph(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (const Glyph& g : kFont)
    if (g.c == c) return &g;
  return nullptr;
}

// Distinct hues at full saturation, ordered so that neighbouring ids differ strongly.
constexpr Color kPalette[] = {
    {0, 0, 255},   {255, 128, 0}, {0, 200, 0},   {255, 0, 255}, {0, 255, 255}, {255, 255, 0},
    {0, 128, 255}, {128, 0, 255}, {128, 255, 0}, {255, 0, 128}, {0, 255, 128}, {0, 0, 160},
};

int ClampToInt(float v) {
  if (!std::isfinite(v)) return 0;
  return static_cast<int>(std::lround(std::clamp(v, -1e7f, 1e7f)));
}

}  // namespace

Color TrackColor(int64_t track_id) {
  constexpr int64_t n = sizeof kPalette / sizeof kPalette[0];
  return kPalette[((track_id % n) + n) % n];
}

void FillRect(BgrView image, int x1, int y1, int x2, int y2, Color color) {
  x1 = std::max(x1, 0);
  y1 = std::max(y1, 0);
  x2 = std::min(x2, image.width);
  y2 = std::min(y2, image.height);
  if (x1 >= x2 || y1 >= y2) return;
  for (int y = y1; y < y2; ++y) {
    uint8_t* p = image.data + static_cast<size_t>(y) * image.stride + 3 * static_cast<size_t>(x1);
    for (int x = x1; x < x2; ++x, p += 3) {
      p[0] = color.b;
      p[1] = color.g;
      p[2] = color.r;
    }
  }
}

void DrawRect(BgrView image, int x1, int y1, int x2, int y2, Color color, int thickness) {
  if (x2 <= x1 || y2 <= y1 || thickness <= 0) return;
  const int t = thickness;
  if (2 * t >= x2 - x1 || 2 * t >= y2 - y1) return FillRect(image, x1, y1, x2, y2, color);
  FillRect(image, x1, y1, x2, y1 + t, color);          // top
  FillRect(image, x1, y2 - t, x2, y2, color);          // bottom
  FillRect(image, x1, y1 + t, x1 + t, y2 - t, color);  // left
  FillRect(image, x2 - t, y1 + t, x2, y2 - t, color);  // right
}

bool HasGlyph(char c) { return FindGlyph(c) != nullptr; }

int TextWidth(std::string_view text, int scale) {
  if (text.empty()) return 0;
  return static_cast<int>(text.size()) * kAdvance * scale - (kAdvance - kGlyphWidth) * scale;
}

int TextHeight(int scale) { return kGlyphHeight * scale; }

void DrawText(BgrView image, int x, int y, std::string_view text, Color color, int scale) {
  if (scale < 1) return;
  static const Glyph* const kUnknown = FindGlyph('?');
  for (const char c : text) {
    const Glyph* g = FindGlyph(c);
    if (g == nullptr) g = kUnknown;
    for (int row = 0; row < kGlyphHeight; ++row)
      for (int col = 0; col < kGlyphWidth; ++col)
        if (g->rows[row] & (1u << (kGlyphWidth - 1 - col)))
          FillRect(image, x + col * scale, y + row * scale, x + (col + 1) * scale,
                   y + (row + 1) * scale, color);
    x += kAdvance * scale;
  }
}

PixelRect ToPixels(const Box& box) {
  return {ClampToInt(box.x1), ClampToInt(box.y1), ClampToInt(box.x2), ClampToInt(box.y2)};
}

void DrawLabelledBox(BgrView image, const Box& box, std::string_view label, Color color,
                     const BoxStyle& style) {
  if (!std::isfinite(box.x1) || !std::isfinite(box.y1) || !std::isfinite(box.x2) ||
      !std::isfinite(box.y2))
    return;
  const PixelRect r = ToPixels(box);
  if (r.x2 <= r.x1 || r.y2 <= r.y1) return;
  DrawRect(image, r.x1, r.y1, r.x2, r.y2, color, style.thickness);
  if (label.empty()) return;

  const int scale = std::max(style.text_scale, 1);
  const int pad = scale;
  const int tag_w = TextWidth(label, scale) + 2 * pad;
  const int tag_h = TextHeight(scale) + 2 * pad;
  // Above the box where it fits, else inside its top edge; kept within the image sideways.
  const int tag_y = r.y1 - tag_h >= 0 ? r.y1 - tag_h : r.y1;
  const int tag_x = std::max(0, std::min(r.x1, image.width - tag_w));
  FillRect(image, tag_x, tag_y, tag_x + tag_w, tag_y + tag_h, color);
  const int luma = (299 * color.r + 587 * color.g + 114 * color.b) / 1000;
  const Color ink = luma > 140 ? Color{0, 0, 0} : Color{255, 255, 255};
  DrawText(image, tag_x + pad, tag_y + pad, label, ink, scale);
}

}  // namespace supernova::stream

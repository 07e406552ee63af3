// Drawing on packed BGR images for the annotated-video sink: rectangles, a tiny built-in
// bitmap font and a labelled box in a colour per track.
//
//   BgrView image{frame.data(), width, height, width * 3};
//   DrawLabelledBox(image, track.box, "#7 person", TrackColor(7), BoxStyle{});
//
// Everything clips to the image: coordinates may lie partly or wholly outside it. Pixel
// rectangles are half-open, [x1, x2) x [y1, y2). Plain functions on caller-owned memory;
// safe to call from any thread on distinct images.
#pragma once

#include <cstdint>
#include <string_view>

#include "stream/tracker.h"

namespace supernova::stream {

struct Color {
  uint8_t b = 0, g = 0, r = 0;
  bool operator==(const Color&) const = default;
};

// A packed BGR image the caller owns: pixel (x, y) is data[y * stride + 3 * x] (B, G, R).
struct BgrView {
  uint8_t* data = nullptr;
  int width = 0, height = 0;
  int stride = 0;  // bytes from one row to the next, at least 3 * width
};

// A saturated colour for a track id; ids a few apart get clearly different colours, and the
// same id always gets the same colour.
Color TrackColor(int64_t track_id);

void FillRect(BgrView image, int x1, int y1, int x2, int y2, Color color);
// The outline of [x1, x2) x [y1, y2), `thickness` pixels wide, drawn inside the rectangle
// (it never covers pixels outside it). A rectangle thinner than twice the line is filled.
void DrawRect(BgrView image, int x1, int y1, int x2, int y2, Color color, int thickness);

// The font: 5x7-pixel glyphs on a 6-pixel advance for digits, letters (lower case drawn as
// upper case) and " -_.:#/%()?+=,"; any other character is drawn as '?'. `scale` >= 1 makes
// every font pixel a scale x scale square.
bool HasGlyph(char c);
int TextWidth(std::string_view text, int scale);  // pixels, without trailing spacing
int TextHeight(int scale);                        // 7 * scale
// Draws the glyphs' set pixels in `color` with the text's top-left corner at (x, y);
// background pixels are left unchanged.
void DrawText(BgrView image, int x, int y, std::string_view text, Color color, int scale);

struct BoxStyle {
  int thickness = 2;   // outline width in pixels
  int text_scale = 1;  // font scale of the label
};

// The box (its corners rounded to whole pixels) outlined in `color`, and `label` on a filled
// tag of the same colour, in black or white, whichever reads better: above the box's top-left
// corner, or inside the box's top edge where there is no room above. An empty label draws no
// tag. Draws nothing for a box with no area or a corner that is not a finite number.
void DrawLabelledBox(BgrView image, const Box& box, std::string_view label, Color color,
                     const BoxStyle& style);

// The pixel rectangle DrawLabelledBox outlines for `box`: corners rounded to the nearest
// integer, so [x1, x2) x [y1, y2) covers the box.
struct PixelRect {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};
PixelRect ToPixels(const Box& box);

}  // namespace supernova::stream

#include "base64.h"

#include <array>
#include <cstdint>

namespace supernova::tools {
namespace {

constexpr std::array<int8_t, 256> MakeTable() {
  std::array<int8_t, 256> t{};
  for (size_t i = 0; i < t.size(); ++i) t[i] = -1;
  constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}

}  // namespace

std::optional<std::string> DecodeBase64(std::string_view text) {
  static constexpr std::array<int8_t, 256> kTable = MakeTable();
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=')
    pad = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    uint32_t group = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      int v = kTable[static_cast<unsigned char>(c)];
      if (c == '=' && last && k >= 4 - pad) v = 0;
      if (v < 0) return std::nullopt;
      group = (group << 6) | static_cast<uint32_t>(v);
    }
    const size_t bytes = last ? 3 - pad : 3;
    for (size_t k = 0; k < bytes; ++k)
      out.push_back(static_cast<char>((group >> (16 - 8 * k)) & 0xFF));
    // Canonical: the bits the padding leaves over are zero.
    if (last && pad > 0 && (group & ((1u << (8 * pad)) - 1)) != 0) return std::nullopt;
  }
  return out;
}

}  // namespace supernova::tools

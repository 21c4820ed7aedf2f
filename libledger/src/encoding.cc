// encoding.cc — hex and base64 from ledger/types.h.
//
// Decoders are strict on purpose: signed notes and key files must have exactly one
// encoding, so a parser never accepts two spellings of the same bytes.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/types.h"

namespace ledger {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Maps a base64 character to its 6-bit value; -1 for anything else (including '=').
constexpr std::array<int, 256> MakeBase64Table() {
  std::array<int, 256> table{};
  for (int& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kBase64Alphabet[i])] = i;
  return table;
}
constexpr std::array<int, 256> kBase64Table = MakeBase64Table();

}  // namespace

std::string ToHex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0xf]);
  }
  return out;
}

bool FromHex(std::string_view hex, std::uint8_t* out, std::size_t n) {
  if (hex.size() != 2 * n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16 |
                      static_cast<unsigned char>(bytes[i + 1]) << 8 |
                      static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kBase64Alphabet[(v >> shift) & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
  if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
  out.push_back(kBase64Alphabet[v >> 18]);
  out.push_back(kBase64Alphabet[(v >> 12) & 63]);
  out.push_back(rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=');
  out.push_back('=');
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 != 0) return false;
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  out->reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    std::size_t data_chars = last ? 4 - pad : 4;
    std::uint32_t v = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      int d = j < data_chars ? kBase64Table[static_cast<unsigned char>(text[i + j])] : 0;
      if (d < 0) return false;  // bad character, or '=' anywhere but the end
      v = v << 6 | static_cast<std::uint32_t>(d);
    }
    // Strictness: the bits under the padding must be zero, or two texts decode alike.
    if (pad == 1 && last && (v & 0xff) != 0) return false;
    if (pad == 2 && last && (v & 0xffff) != 0) return false;
    out->push_back(static_cast<char>(v >> 16));
    if (data_chars > 2) out->push_back(static_cast<char>(v >> 8));
    if (data_chars > 3) out->push_back(static_cast<char>(v));
  }
  return true;
}

}  // namespace ledger

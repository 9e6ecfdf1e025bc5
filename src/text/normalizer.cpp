#include "text/normalizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "base/check.h"
#include "text/utf8.h"

namespace lmaas::text {

std::string nfkc(std::string_view s) {
  // ASCII is its own NFKC form: most text skips the decomposition.
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) return std::string(s);
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
                   &mapped, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(mapped, &std::free);
  LMAAS_CHECK(n >= 0, "NFKC normalisation failed: {}", utf8proc_errmsg(n));
  return std::string(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n));
}

std::string lowercase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {  // ASCII fast path
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c));
      ++pos;
      continue;
    }
    append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(next_code_point(s, pos)))));
  }
  return out;
}

bool is_cjk(char32_t cp) {
  struct Range {
    char32_t first, last;
  };
  static constexpr Range kRanges[] = {
      {0x1100, 0x11FF},   {0x2E80, 0x2FDF},   {0x3000, 0x303F},   {0x3040, 0x309F},  // jamo, radicals, punct, hiragana
      {0x30A0, 0x30FF},   {0x3130, 0x318F},   {0x31F0, 0x31FF},   {0x3400, 0x4DBF},  // katakana, compat jamo, ext A
      {0x4E00, 0x9FFF},   {0xA960, 0xA97F},   {0xAC00, 0xD7AF},   {0xD7B0, 0xD7FF},  // han, jamo ext, hangul
      {0xF900, 0xFAFF},   {0xFF66, 0xFF9F},   {0x20000, 0x2FA1F}, {0x30000, 0x3134F},  // compat, half kana, ext B+
  };
  for (const Range& r : kRanges)
    if (cp >= r.first && cp <= r.last) return true;
  return false;
}

}  // namespace lmaas::text

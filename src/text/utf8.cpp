#include "text/utf8.h"

#include <utf8proc.h>

namespace lmaas::text {
namespace {

// Length of the valid sequence at `pos`, or a negative number when it is invalid.
utf8proc_ssize_t valid_sequence_length(std::string_view s, size_t pos) {
  utf8proc_int32_t cp = 0;
  return utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + pos),
                          static_cast<utf8proc_ssize_t>(s.size() - pos), &cp);
}

}  // namespace

std::optional<size_t> find_invalid_utf8(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {  // ASCII fast path
      ++pos;
      continue;
    }
    const utf8proc_ssize_t n = valid_sequence_length(s, pos);
    if (n <= 0) return pos;
    pos += static_cast<size_t>(n);
  }
  return std::nullopt;
}

std::string replace_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const utf8proc_ssize_t n = static_cast<unsigned char>(s[pos]) < 0x80 ? 1 : valid_sequence_length(s, pos);
    if (n > 0) {
      out.append(s.substr(pos, static_cast<size_t>(n)));
      pos += static_cast<size_t>(n);
      continue;
    }
    append_utf8(out, 0xFFFD);
    ++pos;  // then skip the continuation bytes that belonged to the broken sequence
    while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
  }
  return out;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

char32_t next_code_point(std::string_view s, size_t& pos) {
  utf8proc_int32_t cp = 0;
  const utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + pos),
                                              static_cast<utf8proc_ssize_t>(s.size() - pos), &cp);
  if (n <= 0) {  // not valid UTF-8: treat the byte as U+FFFD rather than loop forever
    ++pos;
    return 0xFFFD;
  }
  pos += static_cast<size_t>(n);
  return static_cast<char32_t>(cp);
}

void append_utf8(std::string& out, char32_t cp) {
  utf8proc_uint8_t buf[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

}  // namespace lmaas::text

// UTF-8 checks and conversions for text coming from files and requests. Invalid input is never
// silently mangled: callers either report the first bad byte (file:line:byte) or ask for replacement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lmaas::text {

// Byte offset of the first invalid UTF-8 sequence (bad lead or continuation byte, truncated sequence,
// overlong form, surrogate, or a code point above U+10FFFF), or nullopt when `s` is valid.
std::optional<size_t> find_invalid_utf8(std::string_view s);
// `s` with every invalid sequence replaced by U+FFFD (one per maximal invalid subpart).
std::string replace_invalid_utf8(std::string_view s);
// ISO-8859-1 bytes → UTF-8 (every byte is a code point; never fails).
std::string latin1_to_utf8(std::string_view s);

// Decodes the code point at `pos` of valid UTF-8 and advances `pos` past it.
char32_t next_code_point(std::string_view s, size_t& pos);
void append_utf8(std::string& out, char32_t cp);

}  // namespace lmaas::text

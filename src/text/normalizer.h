// Unicode normalisation and character classes (utf8proc). Inputs must be valid UTF-8 (text/utf8.h).
#pragma once

#include <string>
#include <string_view>

namespace lmaas::text {

// Compatibility composition (NFKC): full-width forms become ASCII, ligatures split, etc.
std::string nfkc(std::string_view s);
// Simple (one-to-one) Unicode lowercase mapping per code point. Python's str.lower() applies the full
// mapping, which differs for a handful of characters (e.g. 'İ': two code points there, one here;
// docs/training.md lists the departures from Keras).
std::string lowercase(std::string_view s);
// Han ideographs, Hiragana, Katakana, Hangul and CJK symbols/punctuation: characters that a CJK-aware
// word tokenizer makes tokens of their own (those scripts do not separate words by spaces).
bool is_cjk(char32_t cp);

}  // namespace lmaas::text

// What every line-oriented data reader does to a physical line, in one place: the delimiter's name
// ("tab", "space") to its text, a trailing '\r' and a first-line byte-order mark dropped, invalid UTF-8
// reported with file:line:byte (or replaced by U+FFFD), ASCII trimming, and the malformed-line policy (an
// error naming file:line, or skipped, counted and the first reports kept). Used by DatasetReader and
// read_parallel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lmaas::train {

enum class InvalidUtf8 { kError, kReplace };
enum class BadLines { kError, kSkip };

// "tab" → "\t", "space" → " ", anything else as given.
std::string resolve_delimiter(const std::string& name);
// Drops a trailing '\r' and, on line 1, a UTF-8 byte-order mark.
void strip_line_end(std::string& line, int64_t line_no);
// Invalid UTF-8: an error "<where>: invalid UTF-8 at byte N (<hint>--invalid-utf8 replace substitutes
// U+FFFD)", or the line with U+FFFD substituted.
Status check_line_utf8(std::string& line, InvalidUtf8 mode, const std::string& where, std::string_view hint = "");
// `s` without the characters of `chars` at either end.
std::string trim_chars(std::string_view s, std::string_view chars);

// Malformed lines under a BadLines policy.
struct SkippedLines {
  static constexpr size_t kMaxReports = 20;
  int64_t count = 0;
  std::vector<std::string> reports;  // "file:line: reason" for the first kMaxReports
  // kError: an error "<where>: <reason> (--bad-lines skip skips such lines)"; kSkip: counted, OK.
  Status record(BadLines mode, const std::string& where, const std::string& reason);
};

}  // namespace lmaas::train

#include "train/line_checks.h"

#include "text/utf8.h"

namespace lmaas::train {

std::string resolve_delimiter(const std::string& name) {
  if (name == "tab") return "\t";
  if (name == "space") return " ";
  return name;
}

void strip_line_end(std::string& line, int64_t line_no) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
}

Status check_line_utf8(std::string& line, InvalidUtf8 mode, const std::string& where, std::string_view hint) {
  const auto bad = text::find_invalid_utf8(line);
  if (!bad) return Status();
  if (mode == InvalidUtf8::kReplace) {
    line = text::replace_invalid_utf8(line);
    return Status();
  }
  return Status(Code::kInvalidArgument, where + ": invalid UTF-8 at byte " + std::to_string(*bad + 1) + " (" +
                                            std::string(hint) + "--invalid-utf8 replace substitutes U+FFFD)");
}

std::string trim_chars(std::string_view s, std::string_view chars) {
  const size_t a = s.find_first_not_of(chars);
  if (a == std::string_view::npos) return "";
  return std::string(s.substr(a, s.find_last_not_of(chars) - a + 1));
}

Status SkippedLines::record(BadLines mode, const std::string& where, const std::string& reason) {
  if (mode == BadLines::kError)
    return Status(Code::kInvalidArgument, where + ": " + reason + " (--bad-lines skip skips such lines)");
  ++count;
  if (reports.size() < kMaxReports) reports.push_back(where + ": " + reason);
  return Status();
}

}  // namespace lmaas::train

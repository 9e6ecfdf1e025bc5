// DatasetReader: labelled texts from a file, one example at a time (streaming: files larger than memory
// are fine; rewind() starts another epoch). Formats:
//   tsv / csv  delimited, with a header naming the columns (default columns "text" and "label") or
//              without one (columns by 0-based index; default label 0, text 1). When the text column is
//              the last one, it takes the rest of the line, delimiters included ("1 a b c" with a space
//              delimiter is label "1", text "a b c": SST's layout). csv follows RFC 4180 quoting
//              (quoted fields may hold delimiters, doubled quotes and line breaks); tsv has no quoting.
//   jsonl      one JSON object per line; text and label are keys (numbers are accepted as labels).
//   fasttext   "__label__<label> <text>" (one label per line).
// Every line is checked: invalid UTF-8 is an error naming file:line:byte (or replaced by U+FFFD, or the
// file read as latin-1, by option); a malformed line (missing column, empty label, bad JSON) is an error
// naming file:line, or skipped and counted.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "base/status.h"
#include "train/line_checks.h"

namespace lmaas::train {

enum class DataFormat { kTsv, kCsv, kJsonl, kFastText };
Result<DataFormat> parse_data_format(const std::string& name);  // tsv | csv | jsonl | fasttext
// From the file name: .csv → csv, .jsonl/.json → jsonl, .ft/.fasttext → fasttext, else tsv.
DataFormat guess_data_format(const std::string& path);

enum class TextEncoding { kUtf8, kLatin1 };

struct DataSpec {
  std::string path;
  std::optional<DataFormat> format;  // nullopt: guess from the name
  bool header = true;                // tsv/csv
  std::string delimiter;             // one character; default tab (tsv) or comma (csv); "space" = ' '
  std::string text_column;           // name (header) or 0-based index; default "text" / 1
  std::string label_column;          // name (header) or 0-based index; default "label" / 0
  std::string label_pattern;         // regex: the label becomes its first capture group (e.g. "^([^:]+)")
  TextEncoding encoding = TextEncoding::kUtf8;
  InvalidUtf8 invalid_utf8 = InvalidUtf8::kError;
  BadLines bad_lines = BadLines::kError;
};

struct Example {
  std::string text;
  std::string label;
  int64_t line = 0;  // 1-based line where the example starts
};

class DatasetReader {
 public:
  static Result<std::unique_ptr<DatasetReader>> open(const DataSpec& spec);

  // The next example; false at the end of the file. Errors name file:line.
  Result<bool> next(Example& out);
  Status rewind();
  int64_t n_skipped() const { return skipped_.count; }
  // "file:line: reason" for the first skipped lines (at most SkippedLines::kMaxReports).
  const std::vector<std::string>& skip_reports() const { return skipped_.reports; }
  const DataSpec& spec() const { return spec_; }

 private:
  explicit DatasetReader(DataSpec spec) : spec_(std::move(spec)) {}
  Status read_header();
  // Reads one record (csv: possibly several physical lines) into fields; false at end of file.
  // The header is split at every delimiter; data lines may leave the rest of the line to the text.
  Result<bool> next_record(std::vector<std::string>& fields, int64_t& first_line, bool header = false);
  Result<bool> read_line(std::string& line);  // one physical line, checked and converted to UTF-8
  Status parse_record(const std::vector<std::string>& fields, Example& out) const;
  Status malformed(int64_t line, const std::string& reason);  // error, or counts and returns OK to skip
  std::string where(int64_t line) const;

  DataSpec spec_;
  DataFormat format_ = DataFormat::kTsv;
  char delimiter_ = '\t';
  std::ifstream in_;
  int64_t line_no_ = 0;
  size_t text_index_ = 1, label_index_ = 0, n_header_fields_ = 0;
  std::optional<std::regex> label_regex_;
  SkippedLines skipped_;
};

}  // namespace lmaas::train

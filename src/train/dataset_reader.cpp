#include "train/dataset_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "text/utf8.h"

namespace lmaas::train {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string trim(std::string_view s) { return trim_chars(s, " \t\r\n"); }

std::optional<size_t> as_index(const std::string& column) {
  if (column.empty() || !std::all_of(column.begin(), column.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return static_cast<size_t>(std::stoull(column));
}

// Splits on `delim`; with max_fields > 0 the last field takes the rest of the line.
std::vector<std::string> split_fields(const std::string& line, char delim, size_t max_fields) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    if (max_fields > 0 && out.size() + 1 == max_fields) {
      out.push_back(line.substr(start));
      return out;
    }
    const size_t hit = line.find(delim, start);
    if (hit == std::string::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, hit - start));
    start = hit + 1;
  }
}

}  // namespace

Result<DataFormat> parse_data_format(const std::string& name) {
  if (name == "tsv") return DataFormat::kTsv;
  if (name == "csv") return DataFormat::kCsv;
  if (name == "jsonl") return DataFormat::kJsonl;
  if (name == "fasttext") return DataFormat::kFastText;
  return Status(Code::kInvalidArgument, "data format '" + name + "' is not one of tsv, csv, jsonl, fasttext");
}

DataFormat guess_data_format(const std::string& path) {
  if (ends_with(path, ".csv")) return DataFormat::kCsv;
  if (ends_with(path, ".jsonl") || ends_with(path, ".json")) return DataFormat::kJsonl;
  if (ends_with(path, ".ft") || ends_with(path, ".fasttext")) return DataFormat::kFastText;
  return DataFormat::kTsv;
}

Result<std::unique_ptr<DatasetReader>> DatasetReader::open(const DataSpec& spec) {
  std::unique_ptr<DatasetReader> r(new DatasetReader(spec));
  r->format_ = spec.format.value_or(guess_data_format(spec.path));
  const bool delimited = r->format_ == DataFormat::kTsv || r->format_ == DataFormat::kCsv;
  if (!spec.delimiter.empty() && !delimited)
    return Status(Code::kInvalidArgument, "--delimiter applies to tsv and csv data only");
  if (delimited) {
    const std::string d = resolve_delimiter(spec.delimiter);
    if (d.size() > 1) return Status(Code::kInvalidArgument, "delimiter '" + d + "' must be one character");
    r->delimiter_ = d.empty() ? (r->format_ == DataFormat::kCsv ? ',' : '\t') : d[0];
  }
  if (!spec.label_pattern.empty()) {
    try {
      r->label_regex_.emplace(spec.label_pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Status(Code::kInvalidArgument, "label pattern '" + spec.label_pattern + "': " + e.what());
    }
    if (r->label_regex_->mark_count() < 1)
      return Status(Code::kInvalidArgument, "label pattern '" + spec.label_pattern + "' needs a capture group");
  }
  r->in_.open(spec.path, std::ios::binary);
  if (!r->in_) return Status(Code::kNotFound, "cannot open data file " + spec.path + ": " + std::strerror(errno));
  Status s = r->read_header();
  if (!s.is_ok()) return s;
  return r;
}

std::string DatasetReader::where(int64_t line) const { return spec_.path + ":" + std::to_string(line); }

Status DatasetReader::read_header() {
  const bool delimited = format_ == DataFormat::kTsv || format_ == DataFormat::kCsv;
  if (!delimited || !spec_.header) {
    if (delimited) {  // columns by index
      auto text = as_index(spec_.text_column.empty() ? "1" : spec_.text_column);
      auto label = as_index(spec_.label_column.empty() ? "0" : spec_.label_column);
      if (!text || !label)
        return Status(Code::kInvalidArgument, spec_.path + ": without a header, text and label columns are 0-based "
                                                           "indices (got '" + spec_.text_column + "', '" +
                                                           spec_.label_column + "')");
      if (*text == *label) return Status(Code::kInvalidArgument, "text and label columns are the same column");
      text_index_ = *text, label_index_ = *label;
    }
    return Status();
  }
  std::vector<std::string> header;
  int64_t line = 0;
  auto got = next_record(header, line, true);
  if (!got.is_ok()) return got.status();
  if (!got.value()) return Status(Code::kInvalidArgument, spec_.path + ": empty file (expected a header line)");
  n_header_fields_ = header.size();
  auto resolve = [&](const std::string& wanted, const char* fallback, size_t& index) -> Status {
    const std::string name = wanted.empty() ? fallback : wanted;
    if (auto i = as_index(name)) {
      if (*i >= header.size())
        return Status(Code::kInvalidArgument, where(line) + ": column " + name + " is past the header's " +
                                                   std::to_string(header.size()) + " columns");
      index = *i;
      return Status();
    }
    for (size_t i = 0; i < header.size(); ++i)
      if (trim(header[i]) == name) {
        index = i;
        return Status();
      }
    std::string names;
    for (const auto& h : header) names += (names.empty() ? "" : ", ") + trim(h);
    return Status(Code::kInvalidArgument,
                  where(line) + ": no column named '" + name + "' in the header (columns: " + names + ")");
  };
  Status s = resolve(spec_.text_column, "text", text_index_);
  if (s.is_ok()) s = resolve(spec_.label_column, "label", label_index_);
  if (s.is_ok() && text_index_ == label_index_)
    s = Status(Code::kInvalidArgument, "text and label columns are the same column");
  return s;
}

Result<bool> DatasetReader::read_line(std::string& line) {
  if (!std::getline(in_, line)) {
    if (in_.bad()) return Status(Code::kInternal, spec_.path + ": read error: " + std::strerror(errno));
    return false;
  }
  ++line_no_;
  strip_line_end(line, line_no_);
  if (spec_.encoding == TextEncoding::kLatin1) {
    line = text::latin1_to_utf8(line);
    return true;
  }
  Status s = check_line_utf8(line, spec_.invalid_utf8, where(line_no_), "--encoding latin-1 reads the file as ISO-8859-1; ");
  if (!s.is_ok()) return s;
  return true;
}

Result<bool> DatasetReader::next_record(std::vector<std::string>& fields, int64_t& first_line, bool header) {
  std::string line;
  do {  // blank lines carry nothing: skip them
    auto got = read_line(line);
    if (!got.is_ok() || !got.value()) return got;
  } while (trim(line).empty());
  first_line = line_no_;
  fields.clear();
  if (format_ == DataFormat::kTsv) {
    size_t max_fields = 0;  // the text column, when last, takes the rest of the line
    if (!header && n_header_fields_ > 0 && text_index_ + 1 == n_header_fields_) max_fields = n_header_fields_;
    if (!header && n_header_fields_ == 0 && text_index_ > label_index_) max_fields = text_index_ + 1;
    fields = split_fields(line, delimiter_, max_fields);
    return true;
  }
  if (format_ != DataFormat::kCsv) {
    fields.push_back(std::move(line));
    return true;
  }
  // RFC 4180: a quoted field may hold delimiters, "" for a quote, and line breaks.
  std::string field;
  bool quoted = false;
  size_t i = 0;
  while (true) {
    if (i == line.size()) {
      if (!quoted) break;
      field.push_back('\n');
      auto got = read_line(line);
      if (!got.is_ok()) return got;
      if (!got.value()) return Status(Code::kInvalidArgument, where(first_line) + ": quoted field is never closed");
      i = 0;
      continue;
    }
    const char c = line[i++];
    if (quoted) {
      if (c != '"') field.push_back(c);
      else if (i < line.size() && line[i] == '"') field.push_back('"'), ++i;
      else quoted = false;
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == delimiter_) {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field.push_back(c);
    }
  }
  fields.push_back(std::move(field));
  return true;
}

Status DatasetReader::malformed(int64_t line, const std::string& reason) {
  return skipped_.record(spec_.bad_lines, where(line), reason);
}

Status DatasetReader::parse_record(const std::vector<std::string>& fields, Example& out) const {
  std::string label;
  switch (format_) {
    case DataFormat::kTsv:
    case DataFormat::kCsv: {
      const size_t needed = std::max(text_index_, label_index_) + 1;
      if (n_header_fields_ > 0 && fields.size() != n_header_fields_)
        return Status(Code::kInvalidArgument, std::to_string(fields.size()) + " fields where the header has " +
                                                  std::to_string(n_header_fields_));
      if (fields.size() < needed)
        return Status(Code::kInvalidArgument,
                      std::to_string(fields.size()) + " fields, column " + std::to_string(needed - 1) + " is missing");
      out.text = fields[text_index_];
      label = fields[label_index_];
      break;
    }
    case DataFormat::kJsonl: {
      nlohmann::json j = nlohmann::json::parse(fields[0], nullptr, false);
      if (j.is_discarded() || !j.is_object()) return Status(Code::kInvalidArgument, "not a JSON object");
      const std::string text_key = spec_.text_column.empty() ? "text" : spec_.text_column;
      const std::string label_key = spec_.label_column.empty() ? "label" : spec_.label_column;
      if (!j.contains(text_key) || !j[text_key].is_string())
        return Status(Code::kInvalidArgument, "no string field '" + text_key + "'");
      if (!j.contains(label_key)) return Status(Code::kInvalidArgument, "no field '" + label_key + "'");
      out.text = j[text_key].get<std::string>();
      const auto& l = j[label_key];
      if (l.is_string()) label = l.get<std::string>();
      else if (l.is_number_integer() || l.is_boolean()) label = l.dump();
      else return Status(Code::kInvalidArgument, "field '" + label_key + "' is not a string or an integer");
      break;
    }
    case DataFormat::kFastText: {
      const std::string& line = fields[0];
      const std::string prefix = "__label__";
      size_t pos = line.find_first_not_of(' ');
      if (pos == std::string::npos || line.compare(pos, prefix.size(), prefix) != 0)
        return Status(Code::kInvalidArgument, "no __label__ at the start of the line");
      const size_t end = std::min(line.find(' ', pos), line.size());
      label = line.substr(pos + prefix.size(), end - pos - prefix.size());
      out.text = end < line.size() ? trim(line.substr(end)) : "";
      if (out.text.rfind(prefix, 0) == 0)
        return Status(Code::kInvalidArgument, "several labels on one line (lmaas trains one label per text)");
      break;
    }
  }
  label = trim(label);
  if (label_regex_) {
    std::smatch m;
    if (!std::regex_search(label, m, *label_regex_))
      return Status(Code::kInvalidArgument, "label '" + label + "' does not match the label pattern");
    label = m[1].str();
  }
  if (label.empty()) return Status(Code::kInvalidArgument, "empty label");
  out.label = std::move(label);
  return Status();
}

Result<bool> DatasetReader::next(Example& out) {
  std::vector<std::string> fields;
  while (true) {
    int64_t line = 0;
    auto got = next_record(fields, line);
    if (!got.is_ok() || !got.value()) return got;
    out.line = line;
    Status s = parse_record(fields, out);
    if (s.is_ok()) return true;
    Status m = malformed(line, s.message());
    if (!m.is_ok()) return m;
  }
}

Status DatasetReader::rewind() {
  in_.clear();
  in_.seekg(0);
  line_no_ = 0;
  skipped_ = SkippedLines();
  if (!in_) return Status(Code::kInternal, spec_.path + ": cannot rewind");
  return read_header();  // past the header again (the columns resolve as before)
}

}  // namespace lmaas::train

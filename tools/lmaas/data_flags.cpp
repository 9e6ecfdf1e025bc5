#include "data_flags.h"

namespace lmaas::cli {

void add_data_flags(ConfigValues& v, CLI::App* cmd) {
  using K = ConfigValues::Kind;
  v.add(cmd, "--format", K::kString, "data format: tsv | csv | jsonl | fasttext (default: from the file name)");
  v.add_switch(cmd, "--no-header", "header", false, "tsv/csv files have no header line (columns by index)");
  v.add(cmd, "--delimiter", K::kString, "tsv/csv field delimiter: one character, 'tab' or 'space'");
  v.add(cmd, "--text-column", K::kString, "text column: name, or 0-based index (default 'text' / 1)");
  v.add(cmd, "--label-column", K::kString, "label column: name, or 0-based index (default 'label' / 0)");
  v.add(cmd, "--label-pattern", K::kString, "regex; the label becomes its first capture group, e.g. '^([^:]+)'");
  v.add(cmd, "--encoding", K::kString, "utf-8 (default) | latin-1");
  v.add(cmd, "--invalid-utf8", K::kString, "error (default) | replace");
  v.add(cmd, "--bad-lines", K::kString, "malformed lines: error (default) | skip");
}

Result<train::DataSpec> data_spec_from(const nlohmann::json& o, const std::string& path) {
  train::DataSpec s;
  s.path = path;
  const std::string format = get<std::string>(o, "format", "");
  if (!format.empty()) {
    auto f = train::parse_data_format(format);
    if (!f.is_ok()) return f.status();
    s.format = f.value();
  }
  s.header = get<bool>(o, "header", true);
  s.delimiter = get<std::string>(o, "delimiter", "");
  // Columns may be written as numbers in a config file.
  auto column = [&](const char* key) {
    if (!o.contains(key)) return std::string();
    return o[key].is_number_integer() ? std::to_string(o[key].get<int64_t>()) : get<std::string>(o, key, "");
  };
  s.text_column = column("text_column");
  s.label_column = column("label_column");
  s.label_pattern = get<std::string>(o, "label_pattern", "");
  const std::string encoding = get<std::string>(o, "encoding", "utf-8");
  if (encoding == "latin-1" || encoding == "latin1" || encoding == "iso-8859-1") s.encoding = train::TextEncoding::kLatin1;
  else if (encoding != "utf-8" && encoding != "utf8")
    return Status(Code::kInvalidArgument, "option 'encoding': '" + encoding + "' is not utf-8 or latin-1");
  Status policies = line_policies_from(o, s.invalid_utf8, s.bad_lines);
  if (!policies.is_ok()) return policies;
  return s;
}

Status line_policies_from(const nlohmann::json& o, train::InvalidUtf8& invalid_utf8, train::BadLines& bad_lines) {
  const std::string invalid = get<std::string>(o, "invalid_utf8", "error");
  if (invalid != "error" && invalid != "replace")
    return Status(Code::kInvalidArgument, "option 'invalid_utf8': '" + invalid + "' is not error or replace");
  invalid_utf8 = invalid == "replace" ? train::InvalidUtf8::kReplace : train::InvalidUtf8::kError;
  const std::string bad = get<std::string>(o, "bad_lines", "error");
  if (bad != "error" && bad != "skip")
    return Status(Code::kInvalidArgument, "option 'bad_lines': '" + bad + "' is not error or skip");
  bad_lines = bad == "skip" ? train::BadLines::kSkip : train::BadLines::kError;
  return Status::ok();
}

void add_parallel_flags(ConfigValues& v, CLI::App* cmd) {
  using K = ConfigValues::Kind;
  v.add(cmd, "--source-column", K::kInt, "translation, one file: 0-based column of the source sentence (0)");
  v.add(cmd, "--target-column", K::kInt, "translation, one file: 0-based column of the target sentence (1)");
}

Result<train::ParallelSpec> parallel_spec_from(const nlohmann::json& o, const std::string& path,
                                               const std::string& target_path) {
  train::ParallelSpec s;
  s.paths = {path};
  if (!target_path.empty()) s.paths.push_back(target_path);
  s.source_column = static_cast<int>(get<int64_t>(o, "source_column", 0));
  s.target_column = static_cast<int>(get<int64_t>(o, "target_column", 1));
  const std::string delimiter = get<std::string>(o, "delimiter", "");
  if (!delimiter.empty()) s.delimiter = delimiter;
  Status policies = line_policies_from(o, s.invalid_utf8, s.bad_lines);
  if (!policies.is_ok()) return policies;
  return s;
}

}  // namespace lmaas::cli

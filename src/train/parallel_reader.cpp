// read_parallel: LineFile yields the physical lines of a plain or gzip file (one buffer, lines of any
// length); PairCollector trims and keeps pairs or counts skips (train/line_checks.h holds the per-line
// checks shared with DatasetReader). The one-file and two-file layouts
// differ only in where a pair's two sides come from.
#include "train/parallel_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "train/line_checks.h"

namespace lmaas::train {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 16;
constexpr const char* kAsciiSpace = " \t\n\v\f\r";

// The lines of one file, plain or gzip (sniffed from its first two bytes). Owns its file handle;
// single-threaded. Lines come without '\n', a trailing '\r' or (on line 1) a UTF-8 byte-order mark.
class LineFile {
 public:
  LineFile() = default;
  LineFile(const LineFile&) = delete;
  LineFile& operator=(const LineFile&) = delete;
  ~LineFile() {
    if (gz_ != nullptr) gzclose_r(gz_);
    if (plain_ != nullptr) std::fclose(plain_);
  }

  Status open(const std::string& path) {
    path_ = path;
    plain_ = std::fopen(path.c_str(), "rb");
    if (plain_ == nullptr)
      return Status(Code::kNotFound, "cannot open parallel data file " + path + ": " + std::strerror(errno));
    unsigned char magic[2] = {0, 0};
    const size_t n = std::fread(magic, 1, 2, plain_);
    if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      std::fclose(plain_);
      plain_ = nullptr;
      gz_ = gzopen(path.c_str(), "rb");
      if (gz_ == nullptr)
        return Status(Code::kNotFound, "cannot open gzip file " + path + ": " + std::strerror(errno));
    } else if (std::fseek(plain_, 0, SEEK_SET) != 0) {
      return Status(Code::kInternal, path + ": cannot seek: " + std::strerror(errno));
    }
    buf_.resize(kChunkBytes);
    return Status();
  }

  // The next line; false at the end of the file.
  Result<bool> next(std::string& line) {
    line.clear();
    bool any = false;  // a byte or a '\n' was seen: there is a line, even an empty one
    while (true) {
      if (pos_ == end_) {
        if (eof_) break;
        LMAAS_RETURN_IF_ERROR(fill());
        continue;
      }
      const char* start = buf_.data() + pos_;
      const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
      const size_t n = nl != nullptr ? static_cast<size_t>(nl - start) : end_ - pos_;
      line.append(start, n);
      any = true;
      pos_ += n;
      if (nl != nullptr) {
        ++pos_;
        break;
      }
    }
    if (!any) return false;
    strip_line_end(line, ++line_no_);
    return true;
  }

  // Reads to the end; the number of lines in the file.
  Result<int64_t> count_lines() {
    std::string line;
    while (true) {
      LMAAS_ASSIGN_OR_RETURN(bool more, next(line));
      if (!more) return line_no_;
    }
  }

  const std::string& path() const { return path_; }
  int64_t line_no() const { return line_no_; }
  std::string where() const { return path_ + ":" + std::to_string(line_no_); }

 private:
  Status fill() {
    pos_ = end_ = 0;
    if (gz_ != nullptr) {
      const int n = gzread(gz_, buf_.data(), static_cast<unsigned>(buf_.size()));
      int err = Z_OK;
      std::string msg = gzerror(gz_, &err);
      if (n <= 0 && err != Z_OK) {  // a truncated stream reads as Z_BUF_ERROR with n == 0
        if (msg.rfind(path_ + ": ", 0) == 0) msg.erase(0, path_.size() + 2);  // zlib names the file too
        return Status(Code::kDataLoss, path_ + ": corrupt or truncated gzip data after line " +
                                           std::to_string(line_no_) + " (" + msg + ")");
      }
      if (n <= 0)
        eof_ = true;
      else
        end_ = static_cast<size_t>(n);
      return Status();
    }
    end_ = std::fread(buf_.data(), 1, buf_.size(), plain_);
    if (std::ferror(plain_)) return Status(Code::kInternal, path_ + ": read error: " + std::strerror(errno));
    if (end_ == 0) eof_ = true;
    return Status();
  }

  std::string path_;
  std::FILE* plain_ = nullptr;
  gzFile gz_ = nullptr;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_no_ = 0;
};

bool blank(const std::string& s) { return s.find_first_not_of(kAsciiSpace) == std::string::npos; }

std::vector<std::string> split(const std::string& line, const std::string& delimiter) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t hit; (hit = line.find(delimiter, start)) != std::string::npos; start = hit + delimiter.size())
    out.push_back(line.substr(start, hit - start));
  out.push_back(line.substr(start));
  return out;
}

std::string delimiter_name(const std::string& d) {
  if (d == "\t") return "tab";
  if (d == " ") return "space";
  if (d == ",") return "comma";
  return "'" + d + "'";
}

// Keeps well-formed pairs; a malformed line is an error or is skipped and counted, by spec.bad_lines.
class PairCollector {
 public:
  PairCollector(const ParallelSpec& spec, ParallelData& out) : spec_(spec), out_(out) {}

  bool full() const {
    return spec_.max_pairs >= 0 && static_cast<int64_t>(out_.pairs.size()) >= spec_.max_pairs;
  }

  Status malformed(const std::string& where, const std::string& reason) {
    return skipped_.record(spec_.bad_lines, where, reason);
  }
  // Moves the skip count and reports into the output.
  void finish() {
    out_.n_skipped = skipped_.count;
    out_.skip_reports = std::move(skipped_.reports);
  }

  // `where_source` / `where_target` name the file:line each side came from.
  Status add(std::string_view source, std::string_view target, int64_t line, const std::string& where_source,
             const std::string& where_target, const std::string& what_source,
             const std::string& what_target) {
    SentencePair p{trim_chars(source, kAsciiSpace), trim_chars(target, kAsciiSpace), line};
    if (p.source.empty()) return malformed(where_source, "empty source sentence" + what_source);
    if (p.target.empty()) return malformed(where_target, "empty target sentence" + what_target);
    out_.pairs.push_back(std::move(p));
    return Status();
  }

 private:
  const ParallelSpec& spec_;
  ParallelData& out_;
  SkippedLines skipped_;
};

Status read_columns(const ParallelSpec& spec, const std::string& delimiter, PairCollector& pairs) {
  LineFile file;
  LMAAS_RETURN_IF_ERROR(file.open(spec.paths[0]));
  const size_t n_needed = static_cast<size_t>(std::max(spec.source_column, spec.target_column)) + 1;
  std::string line;
  while (!pairs.full()) {
    LMAAS_ASSIGN_OR_RETURN(bool more, file.next(line));
    if (!more) break;
    LMAAS_RETURN_IF_ERROR(check_line_utf8(line, spec.invalid_utf8, file.where()));
    if (blank(line)) continue;
    const std::vector<std::string> fields = split(line, delimiter);
    if (fields.size() < n_needed) {
      LMAAS_RETURN_IF_ERROR(pairs.malformed(
          file.where(), "expected at least " + std::to_string(n_needed) + " " + delimiter_name(delimiter) +
                            "-separated columns, found " + std::to_string(fields.size())));
      continue;
    }
    LMAAS_RETURN_IF_ERROR(pairs.add(
        fields[static_cast<size_t>(spec.source_column)], fields[static_cast<size_t>(spec.target_column)],
        file.line_no(), file.where(), file.where(), " (column " + std::to_string(spec.source_column) + ")",
        " (column " + std::to_string(spec.target_column) + ")"));
  }
  return Status();
}

Status misaligned(LineFile& source, LineFile& target) {
  LMAAS_ASSIGN_OR_RETURN(const int64_t n_source, source.count_lines());
  LMAAS_ASSIGN_OR_RETURN(const int64_t n_target, target.count_lines());
  return Status(Code::kInvalidArgument, "parallel data: " + source.path() + " has " +
                                            std::to_string(n_source) + " lines but " + target.path() +
                                            " has " + std::to_string(n_target) +
                                            ": the files must be aligned line by line");
}

Status read_aligned(const ParallelSpec& spec, PairCollector& pairs) {
  LineFile source, target;
  LMAAS_RETURN_IF_ERROR(source.open(spec.paths[0]));
  LMAAS_RETURN_IF_ERROR(target.open(spec.paths[1]));
  std::string source_line, target_line;
  while (!pairs.full()) {
    LMAAS_ASSIGN_OR_RETURN(bool more_source, source.next(source_line));
    LMAAS_ASSIGN_OR_RETURN(bool more_target, target.next(target_line));
    if (more_source != more_target) return misaligned(source, target);
    if (!more_source) break;
    LMAAS_RETURN_IF_ERROR(check_line_utf8(source_line, spec.invalid_utf8, source.where()));
    LMAAS_RETURN_IF_ERROR(check_line_utf8(target_line, spec.invalid_utf8, target.where()));
    if (blank(source_line) && blank(target_line)) continue;
    LMAAS_RETURN_IF_ERROR(
        pairs.add(source_line, target_line, source.line_no(), source.where(), target.where(), "", ""));
  }
  return Status();
}

Status check_spec(const ParallelSpec& spec) {
  if (spec.paths.size() != 1 && spec.paths.size() != 2)
    return Status(Code::kInvalidArgument,
                  "parallel data: expected one file (delimited columns) or two files "
                  "(source lines, target lines), got " +
                      std::to_string(spec.paths.size()));
  if (spec.max_pairs == 0 || spec.max_pairs < -1)
    return Status(Code::kInvalidArgument,
                  "max_pairs " + std::to_string(spec.max_pairs) + " must be positive, or -1 for all pairs");
  if (spec.paths.size() == 2) return Status();
  if (spec.source_column < 0 || spec.target_column < 0)
    return Status(Code::kInvalidArgument, "source and target columns are 0-based indices (got " +
                                              std::to_string(spec.source_column) + ", " +
                                              std::to_string(spec.target_column) + ")");
  if (spec.source_column == spec.target_column)
    return Status(Code::kInvalidArgument, "source and target columns are the same column (" +
                                              std::to_string(spec.source_column) + ")");
  if (spec.delimiter.empty()) return Status(Code::kInvalidArgument, "the column delimiter is empty");
  return Status();
}

}  // namespace

Result<ParallelData> read_parallel(const ParallelSpec& spec) {
  LMAAS_RETURN_IF_ERROR(check_spec(spec));
  ParallelData data;
  PairCollector pairs(spec, data);
  if (spec.paths.size() == 1) {
    LMAAS_RETURN_IF_ERROR(read_columns(spec, resolve_delimiter(spec.delimiter), pairs));
  } else {
    LMAAS_RETURN_IF_ERROR(read_aligned(spec, pairs));
  }
  pairs.finish();
  if (data.pairs.empty()) {
    std::string names = spec.paths[0] + (spec.paths.size() == 2 ? " and " + spec.paths[1] : "");
    std::string why = data.n_skipped > 0
                          ? " (" + std::to_string(data.n_skipped) +
                                " malformed lines skipped; first: " + data.skip_reports[0] + ")"
                          : "";
    return Status(Code::kInvalidArgument, "no sentence pairs in " + names + why);
  }
  return data;
}

}  // namespace lmaas::train

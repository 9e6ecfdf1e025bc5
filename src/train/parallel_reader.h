// read_parallel: sentence pairs (source, target) for translation, read whole into memory. Two layouts:
//   one file   delimited columns (tab by default, no header, no quoting); source and target are chosen by
//              0-based column index, and further columns (a licence or attribution column) are ignored.
//   two files  source lines and target lines aligned line by line (Moses/Multi30k style: train.en, train.de).
// A file whose first two bytes are 1f 8b is read as gzip; any other file as plain text. Lines may be of any
// length. A trailing '\r' and a UTF-8 byte-order mark on the first line are dropped, and each sentence is
// trimmed of ASCII whitespace (space, \t, \n, \v, \f, \r) at both ends: translation data often carries
// stray spaces around sentences, and a sentence never starts or ends with one here.
// Invariants of a returned ParallelData: pairs is not empty; every source and target is valid UTF-8,
// non-empty and trimmed; pairs are in file order; line is the 1-based physical line of the pair (the same
// line in both files of the two-file form). Blank lines (a blank line of the one-file form, or a line
// blank in both files) carry nothing and are passed over without being counted as skipped.
// Errors name file:line and what was expected: invalid UTF-8 (or U+FFFD replaces it, by option); a line
// with too few columns or an empty side (or it is skipped and counted, by option); two files with different
// line counts (both counts are reported; nothing is truncated); a missing file; a corrupt or truncated gzip
// stream. With max_pairs the files are read only as far as needed, so a misalignment past that is not seen.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "train/line_checks.h"

namespace lmaas::train {

struct ParallelSpec {
  // One path: delimited columns. Two paths: source lines, then target lines, aligned line by line.
  std::vector<std::string> paths;
  int source_column = 0;  // 0-based; the one-file form only
  int target_column = 1;
  std::string delimiter = "\t";  // the one-file form; any non-empty string ("tab" and "space" are aliases)
  InvalidUtf8 invalid_utf8 = InvalidUtf8::kError;
  BadLines bad_lines = BadLines::kError;  // a line missing a column or with an empty side
  int64_t max_pairs = -1;                 // -1: all; else at most this many pairs (positive)
};

struct SentencePair {
  std::string source;
  std::string target;
  int64_t line = 0;  // 1-based
};

struct ParallelData {
  std::vector<SentencePair> pairs;
  int64_t n_skipped = 0;                  // malformed lines skipped (BadLines::kSkip)
  std::vector<std::string> skip_reports;  // "file:line: reason" for the first kMaxSkipReports of them
  static constexpr size_t kMaxSkipReports = SkippedLines::kMaxReports;
};

Result<ParallelData> read_parallel(const ParallelSpec& spec);

}  // namespace lmaas::train

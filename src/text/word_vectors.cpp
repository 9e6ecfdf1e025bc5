#include "text/word_vectors.h"

#include <charconv>
#include <cmath>
#include <fstream>

namespace lmaas::text {
namespace {

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool parse_int(std::string_view s, int64_t& v) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_float(std::string_view s, float& v) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(v);
}

}  // namespace

Result<WordVectors> WordVectors::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kNotFound, "word vectors: cannot open '" + path + "'");
  WordVectors wv;
  int64_t declared = -1, line_no = 0;
  std::string line;
  auto bad = [&](const std::string& why) {
    return Status(Code::kInvalidArgument, path + ":" + std::to_string(line_no) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++line_no;
    const auto fields = fields_of(line);
    if (fields.empty()) continue;
    int64_t count = 0, dim = 0;
    if (line_no == 1 && fields.size() == 2 && parse_int(fields[0], count) && parse_int(fields[1], dim)) {
      if (count < 0 || dim < 1) return bad("the header must give a word count >= 0 and a dimension >= 1");
      declared = count, wv.dim_ = dim;
      continue;
    }
    const int64_t n_values = static_cast<int64_t>(fields.size()) - 1;
    if (wv.dim_ == 0) {
      if (n_values < 1) return bad("a word with no values");
      wv.dim_ = n_values;
    }
    if (n_values != wv.dim_)
      return bad("'" + std::string(fields[0]) + "' has " + std::to_string(n_values) + " values, expected " +
                 std::to_string(wv.dim_));
    const std::string word(fields[0]);
    if (wv.index_.count(word)) continue;  // the first vector of a repeated word wins
    const size_t at = wv.values_.size();
    wv.values_.resize(at + static_cast<size_t>(wv.dim_));
    for (int64_t j = 0; j < wv.dim_; ++j)
      if (!parse_float(fields[static_cast<size_t>(j + 1)], wv.values_[at + static_cast<size_t>(j)]))
        return bad("value " + std::to_string(j + 1) + " of '" + word + "' ('" + std::string(fields[static_cast<size_t>(j + 1)]) +
                   "') is not a finite number");
    wv.index_.emplace(word, wv.words_.size());
    wv.words_.push_back(word);
  }
  if (in.bad()) return Status(Code::kDataLoss, "word vectors: error while reading '" + path + "'");
  if (wv.words_.empty()) return Status(Code::kInvalidArgument, "word vectors: '" + path + "' lists no words");
  if (declared >= 0 && line_no - 1 < declared)
    return Status(Code::kInvalidArgument, path + ": the header announces " + std::to_string(declared) +
                                              " words but the file ends after " + std::to_string(line_no - 1) +
                                              " lines (truncated?)");
  return wv;
}

std::optional<std::span<const float>> WordVectors::find(const std::string& word) const {
  const auto it = index_.find(word);
  if (it == index_.end()) return std::nullopt;
  return std::span<const float>(values_.data() + it->second * static_cast<size_t>(dim_), static_cast<size_t>(dim_));
}

}  // namespace lmaas::text

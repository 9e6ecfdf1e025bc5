#include "text/word_tokenizer.h"

#include <algorithm>
#include <numeric>
#include <nlohmann/json.hpp>

#include "base/check.h"
#include "text/normalizer.h"
#include "text/utf8.h"

namespace lmaas::text {
namespace {

// Code points of a (valid UTF-8) string.
std::vector<char32_t> code_points(std::string_view s) {
  std::vector<char32_t> out;
  size_t pos = 0;
  while (pos < s.size()) out.push_back(next_code_point(s, pos));
  return out;
}

// Python's str.split(sep) followed by dropping empty pieces.
std::vector<std::string> split_nonempty(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t hit = s.find(sep, start);
    const std::string_view piece = s.substr(start, hit == std::string_view::npos ? std::string_view::npos : hit - start);
    if (!piece.empty()) out.emplace_back(piece);
    if (hit == std::string_view::npos) return out;
    start = hit + sep.size();
  }
}

}  // namespace

WordTokenizer::WordTokenizer(WordTokenizerOptions options) : options_(std::move(options)) {
  LMAAS_CHECK(!options_.split.empty(), "word tokenizer: split must not be empty");
  LMAAS_CHECK(options_.num_words >= 0, "word tokenizer: num_words {} must be >= 0", options_.num_words);
  LMAAS_CHECK(!find_invalid_utf8(options_.filters) && !find_invalid_utf8(options_.split),
              "word tokenizer: filters and split must be valid UTF-8");
  filter_points_ = code_points(options_.filters);
  for (char32_t cp : filter_points_)
    if (cp < 0x80) ascii_filtered_[cp] = true;
}

std::vector<std::string> WordTokenizer::text_to_word_sequence(std::string_view text) const {
  const std::string lowered = options_.lower ? lowercase(text) : std::string(text);
  if (options_.char_level) {
    std::vector<std::string> chars;
    for (char32_t cp : code_points(lowered)) {
      chars.emplace_back();
      append_utf8(chars.back(), cp);
    }
    return chars;
  }
  std::string translated;
  translated.reserve(lowered.size() + 8);
  size_t pos = 0;
  while (pos < lowered.size()) {
    const unsigned char byte = static_cast<unsigned char>(lowered[pos]);
    if (byte < 0x80) {  // ASCII: one table lookup, never CJK
      ++pos;
      if (ascii_filtered_[byte]) translated += options_.split;
      else translated.push_back(static_cast<char>(byte));
      continue;
    }
    const char32_t cp = next_code_point(lowered, pos);
    if (std::find(filter_points_.begin(), filter_points_.end(), cp) != filter_points_.end()) {
      translated += options_.split;
    } else if (options_.cjk_split && is_cjk(cp)) {  // a token of its own: split on both sides
      translated += options_.split;
      append_utf8(translated, cp);
      translated += options_.split;
    } else {
      append_utf8(translated, cp);
    }
  }
  return split_nonempty(translated, options_.split);
}

void WordTokenizer::fit_on_text(std::string_view text) {
  ++document_count_;
  for (std::string& w : text_to_word_sequence(text)) {
    auto [it, inserted] = count_slot_.try_emplace(w, word_counts_.size());
    if (inserted) word_counts_.emplace_back(std::move(w), 0);
    ++word_counts_[it->second].second;
  }
}

void WordTokenizer::fit_on_texts(const std::vector<std::string>& texts) {
  for (const std::string& t : texts) fit_on_text(t);
  finish_fit();
}

void WordTokenizer::finish_fit() {
  std::vector<size_t> order(word_counts_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return word_counts_[a].second > word_counts_[b].second; });
  sorted_words_.clear();
  if (options_.oov_token) sorted_words_.push_back(*options_.oov_token);
  for (size_t i : order) sorted_words_.push_back(word_counts_[i].first);
  LMAAS_CHECK(sorted_words_.size() < static_cast<size_t>(INT32_MAX), "word tokenizer: {} words overflow int32 ids",
              sorted_words_.size());
  word_index_.clear();
  // As Keras' dict(zip(...)): a word listed twice (the oov token also seen in the texts) keeps the later index.
  for (size_t i = 0; i < sorted_words_.size(); ++i) word_index_[sorted_words_[i]] = static_cast<int32_t>(i + 1);
}

std::optional<int32_t> WordTokenizer::index_of(const std::string& word) const {
  auto it = word_index_.find(word);
  if (it == word_index_.end()) return std::nullopt;
  return it->second;
}

std::vector<int32_t> WordTokenizer::text_to_sequence(std::string_view text) const {
  return words_to_sequence(text_to_word_sequence(text));
}

std::vector<int32_t> WordTokenizer::words_to_sequence(const std::vector<std::string>& words) const {
  const int32_t oov = options_.oov_token ? index_of(*options_.oov_token).value_or(-1) : -1;  // -1: none
  std::vector<int32_t> ids;
  for (const std::string& w : words) {
    const int32_t i = index_of(w).value_or(-1);
    if (i >= 0 && !(options_.num_words > 0 && i >= options_.num_words)) ids.push_back(i);
    else if (oov >= 0) ids.push_back(oov);
  }
  return ids;
}

std::vector<std::vector<int32_t>> WordTokenizer::texts_to_sequences(const std::vector<std::string>& texts) const {
  std::vector<std::vector<int32_t>> out;
  out.reserve(texts.size());
  for (const std::string& t : texts) out.push_back(text_to_sequence(t));
  return out;
}

int64_t WordTokenizer::vocab_size() const {
  const int64_t all = static_cast<int64_t>(sorted_words_.size()) + 1;
  return options_.num_words > 0 ? std::min(all, options_.num_words) : all;
}

nlohmann::json WordTokenizer::to_json() const {
  nlohmann::json counts = nlohmann::json::array();
  for (const auto& [w, c] : word_counts_) counts.push_back({w, c});
  return {{"type", "word"},
          {"num_words", options_.num_words},
          {"filters", options_.filters},
          {"lower", options_.lower},
          {"split", options_.split},
          {"char_level", options_.char_level},
          {"oov_token", options_.oov_token ? nlohmann::json(*options_.oov_token) : nlohmann::json(nullptr)},
          {"cjk_split", options_.cjk_split},
          {"document_count", document_count_},
          {"word_counts", counts}};
}

Result<WordTokenizer> WordTokenizer::from_json(const nlohmann::json& j) {
  try {
    if (j.at("type").get<std::string>() != "word")
      return Status(Code::kInvalidArgument, "tokenizer: type '" + j.at("type").get<std::string>() + "' is not 'word'");
    WordTokenizerOptions o;
    o.num_words = j.at("num_words").get<int64_t>();
    o.filters = j.at("filters").get<std::string>();
    o.lower = j.at("lower").get<bool>();
    o.split = j.at("split").get<std::string>();
    o.char_level = j.at("char_level").get<bool>();
    if (!j.at("oov_token").is_null()) o.oov_token = j.at("oov_token").get<std::string>();
    o.cjk_split = j.at("cjk_split").get<bool>();
    WordTokenizer t(o);
    t.document_count_ = j.at("document_count").get<int64_t>();
    for (const auto& entry : j.at("word_counts")) {
      const std::string w = entry.at(0).get<std::string>();
      if (!t.count_slot_.try_emplace(w, t.word_counts_.size()).second)
        return Status(Code::kInvalidArgument, "tokenizer: word '" + w + "' is listed twice in word_counts");
      t.word_counts_.emplace_back(w, entry.at(1).get<int64_t>());
    }
    t.finish_fit();
    return t;
  } catch (const nlohmann::json::exception& e) {
    return Status(Code::kInvalidArgument, std::string("tokenizer: ") + e.what());
  } catch (const Error& e) {
    return Status(e.code(), e.what());
  }
}

}  // namespace lmaas::text

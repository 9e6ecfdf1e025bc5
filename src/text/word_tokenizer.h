// WordTokenizer: Keras' `Tokenizer` (keras.preprocessing.text) in C++, plus CJK awareness.
//   text_to_word_sequence: lowercase (option), every `filters` character becomes `split`, split on
//     `split`, drop empty pieces. With char_level, every character is a token (filters not applied).
//   fit_on_texts: counts words in first-appearance order; word_index sorts them by count, descending,
//     ties in first-appearance order, indices from 1 (0 is padding); oov_token, when set, takes index 1.
//   texts_to_sequences: known words → their index; words with index >= num_words (when num_words > 0)
//     and unknown words → the oov index if there is one, else dropped.
// Departure (cjk_split, on by default): Han, Kana, Hangul and CJK punctuation characters become tokens
// of their own, so "我爱你" is three tokens where Keras sees one word. Off, the behaviour is Keras'.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace lmaas::text {

struct WordTokenizerOptions {
  int64_t num_words = 0;  // 0: no limit (Keras' None)
  std::string filters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";
  bool lower = true;
  std::string split = " ";
  bool char_level = false;
  std::optional<std::string> oov_token;
  bool cjk_split = true;  // lmaas departure; false = Keras
};

class WordTokenizer {
 public:
  explicit WordTokenizer(WordTokenizerOptions options = {});

  std::vector<std::string> text_to_word_sequence(std::string_view text) const;
  // Adds the texts' words to the counts and rebuilds word_index (Keras: callable repeatedly).
  void fit_on_texts(const std::vector<std::string>& texts);
  void fit_on_text(std::string_view text);  // one document; call finish_fit() after the last
  void finish_fit();
  std::vector<int32_t> text_to_sequence(std::string_view text) const;
  // The ids of words already split by text_to_word_sequence (text_to_sequence = this after that).
  std::vector<int32_t> words_to_sequence(const std::vector<std::string>& words) const;
  std::vector<std::vector<int32_t>> texts_to_sequences(const std::vector<std::string>& texts) const;

  const WordTokenizerOptions& options() const { return options_; }
  // Word → index (from 1); absent words have no index.
  std::optional<int32_t> index_of(const std::string& word) const;
  // Words in index order: words()[i - 1] has index i (the oov token first when set).
  const std::vector<std::string>& words() const { return sorted_words_; }
  // Per word, in first-appearance order: (word, count over all texts).
  const std::vector<std::pair<std::string, int64_t>>& word_counts() const { return word_counts_; }
  int64_t document_count() const { return document_count_; }
  // Size of the id space the sequences use: num_words when set, else len(word_index) + 1.
  int64_t vocab_size() const;

  nlohmann::json to_json() const;
  static Result<WordTokenizer> from_json(const nlohmann::json& j);

 private:
  WordTokenizerOptions options_;
  std::vector<char32_t> filter_points_;  // options_.filters decoded once
  std::array<bool, 128> ascii_filtered_{};  // the ASCII ones as a table: most text never searches the list
  std::vector<std::pair<std::string, int64_t>> word_counts_;
  std::unordered_map<std::string, size_t> count_slot_;  // word → position in word_counts_
  std::vector<std::string> sorted_words_;
  std::unordered_map<std::string, int32_t> word_index_;
  int64_t document_count_ = 0;
};

}  // namespace lmaas::text

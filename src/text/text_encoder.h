// TextEncoder: text → model input ids, the whole preprocessing a model bundle records:
//   1. NFKC normalisation (option, on by default),
//   2. a tokenizer — "word" (WordTokenizer, Keras semantics, CJK-aware), "char" (its char_level form),
//      "spm-bpe" / "spm-unigram" (SentencePiece trained on the training texts) — ids from 1, 0 pads,
//   3. truncation to max_len tokens (keeping the beginning),
//   4. optionally (the bow and nbsvm models) hashed word n-grams and, for the word tokenizer, hashed
//      character n-grams of each word ("<word>", fastText's subwords) appended as ids
//      vocab … vocab + buckets - 1.
// fit() learns the vocabulary from texts; save()/load() keep it in a model directory
// (tokenizer.json or tokenizer.model) described by spec_json() (config.json's "tokenizer").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "text/sentencepiece_tokenizer.h"
#include "text/word_tokenizer.h"

namespace lmaas::text {

struct TextEncoderSpec {
  std::string type = "word";  // word | char | spm-bpe | spm-unigram
  bool nfkc = true;
  int64_t max_len = 256;      // tokens kept per text (before n-grams)
  int64_t vocab_size = 0;     // word/char: Keras num_words (0 = every word); spm: the model's size
  bool lower = true;          // word/char
  std::string oov_token;      // word/char; empty = unknown words are dropped (Keras' default)
  int64_t ngrams = 1;         // > 1: hashed n-grams of 2 … ngrams tokens are appended
  int64_t buckets = 0;        // hash buckets for the n-grams
  int64_t char_ngram_min = 0;  // word tokenizer: hashed character n-grams of min … max code points of
  int64_t char_ngram_max = 0;  // "<word>" are appended (0: none), fastText's -minn/-maxn
  int64_t spm_max_texts = 2'000'000;  // spm: texts used to train the model
};
// The spec's values are usable (known type, max_len >= 1, buckets for n-grams, character n-grams only
// with the word tokenizer and 1 <= min <= max).
Status check_spec(const TextEncoderSpec& spec);
Result<TextEncoderSpec> spec_from_json(const nlohmann::json& j);
nlohmann::json spec_to_json(const TextEncoderSpec& spec);

class TextEncoder {
 public:
  // `for_each_text(visit)` calls visit(text) for every training text (it may be called once).
  static Result<TextEncoder> fit(const TextEncoderSpec& spec,
                                 const std::function<Status(const std::function<void(std::string_view)>&)>& for_each_text);
  static Result<TextEncoder> load(const std::string& dir, const nlohmann::json& spec_json);
  // Writes the vocabulary file into `dir` (atomically).
  Status save(const std::string& dir) const;

  std::vector<int32_t> encode(std::string_view text) const;
  // The id space: token ids (0 = padding) then n-gram buckets.
  int64_t vocab_size() const;
  // The token of each token id (word or character; "" for padding), or nothing for SentencePiece.
  std::vector<std::string> token_strings() const;
  const TextEncoderSpec& spec() const { return spec_; }
  nlohmann::json spec_json() const;

 private:
  TextEncoder() = default;
  std::string prepare(std::string_view text) const;  // UTF-8 repair + NFKC
  bool has_buckets() const { return spec_.ngrams > 1 || spec_.char_ngram_max > 0; }
  void append_char_ngrams(std::vector<std::string> words, std::vector<int32_t>& ids) const;
  int64_t token_vocab_size() const;

  TextEncoderSpec spec_;
  std::shared_ptr<WordTokenizer> word_;
  std::shared_ptr<SentencePieceTokenizer> spm_;
};

}  // namespace lmaas::text

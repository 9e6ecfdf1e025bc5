// Internal to the LLM tokenizer (llm_tokenizer.cpp): the three subword algorithms, each turning one
// fragment of plain text (no special tokens left in it) into ids, and the lookups they share.
// - SpmEncoder (spm_tokenizer.cpp): SentencePiece-style BPE. Symbols start as single characters; the
//   adjacent pair whose concatenation is the highest-scoring normal or user-defined piece merges first
//   (ties: leftmost). Symbols that are no piece fall back to <0xXX> byte pieces, else unk.
// - BpeEncoder (bpe_tokenizer.cpp): byte-level BPE. The pre-tokenizer splits the text into words; each
//   word's bytes become GPT-2 alphabet symbols, and the adjacent pair with the lowest merge rank merges
//   first (ties: leftmost).
// - WordPieceEncoder (wordpiece_tokenizer.cpp): BERT's basic tokenizer (clean, CJK split, NFD, accents
//   stripped, lower case, punctuation split) then greedy longest-match-first per word.
// All keep views into the LlmVocab of the VocabIndex they were built from; that vocab must outlive them.
// Encoders are immutable after construction; encode() may run on many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "text/llm_vocab.h"
#include "text/pre_tokenizer.h"

namespace lmaas::text::detail {

// Token text → id over a validated vocab.
class VocabIndex {
 public:
  explicit VocabIndex(const LlmVocab& vocab);
  const LlmVocab& vocab() const { return *vocab_; }
  int32_t find(std::string_view text) const {  // -1 when no token has this text
    const auto it = ids_.find(text);
    return it == ids_.end() ? -1 : it->second;
  }
  size_t max_token_bytes() const { return max_token_bytes_; }

 private:
  const LlmVocab* vocab_;
  std::unordered_map<std::string_view, int32_t> ids_;
  size_t max_token_bytes_ = 0;
};

using text::kSpmSpace;

class SpmEncoder {
 public:
  explicit SpmEncoder(const VocabIndex& index);
  // `text` already has spaces as "▁" (and the space prefix when wanted).
  void encode(std::string_view text, std::vector<int32_t>& out) const;

 private:
  void emit_symbol(std::string_view text, std::vector<int32_t>& out) const;
  int32_t mergeable_id(std::string_view text) const;  // normal or user-defined piece, else -1

  const VocabIndex* index_;
  std::array<int32_t, 256> byte_ids_{};  // <0xXX> piece per byte, -1 when absent
};

// GPT-2's reversible byte ↔ code point table: printable Latin-1 bytes map to themselves, the other 68
// bytes to U+0100.. in byte order.
char32_t byte_to_unicode(uint8_t byte);
std::string byte_level_encode(std::string_view bytes);
// Appends the bytes of GPT-2 alphabet text; characters outside the alphabet are appended as UTF-8.
void byte_level_decode(std::string_view text, std::string& out);

class BpeEncoder {
 public:
  // Fails when the vocab's pre-tokenizer name is unknown.
  static Result<BpeEncoder> create(const VocabIndex& index);
  void encode(std::string_view text, std::vector<int32_t>& out) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t id;  // the merged piece
  };
  BpeEncoder(const VocabIndex& index, PreTokenizer pre) : index_(&index), pre_(std::move(pre)) {}
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  const Merge* find_merge(int32_t left, int32_t right) const;

  const VocabIndex* index_;
  PreTokenizer pre_;
  bool ignore_merges_ = false;  // a word that is a whole token is emitted as is (llama3)
  std::array<int32_t, 256> byte_ids_{};
  std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) → merge
};

class WordPieceEncoder {
 public:
  explicit WordPieceEncoder(const VocabIndex& index) : index_(&index) {}
  void encode(std::string_view text, std::vector<int32_t>& out) const;
  // BERT's basic tokenizer: the normalised words of `text`.
  static std::vector<std::string> split_words(std::string_view text);

 private:
  void encode_word(const std::string& word, std::vector<int32_t>& out) const;
  const VocabIndex* index_;
};

}  // namespace lmaas::text::detail

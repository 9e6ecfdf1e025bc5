// LlmVocab: the tokenizer description a pretrained language model carries with it, in the shape of
// GGUF's `tokenizer.ggml.*` metadata. It is plain data; LlmTokenizer (llm_tokenizer.h) runs it.
// - type: SentencePiece-style BPE driven by piece scores ("llama"), byte-level BPE driven by merge ranks
//   ("gpt2"), or WordPiece ("bert", tokens in llama.cpp's form: word-initial pieces start with "▁",
//   continuation pieces are bare, "[CLS]"-style specials are bare).
// - tokens[i] is the text of id i. SPM pieces use "▁" (U+2581) for spaces and "<0xXX>" for byte pieces;
//   byte-level BPE pieces are in GPT-2's byte-to-unicode alphabet (" " is "Ġ").
// - scores and token_types are either empty (all 0 / all normal) or one per token.
// - merges (byte-level BPE only): "left right", the earlier the higher the priority.
// - Special ids are -1 when absent.
// validate() checks all of the above; LlmTokenizer::create() calls it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lmaas::text {

// The SentencePiece space, "▁" (U+2581), as SPM and WordPiece tokens spell it.
inline constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

enum class LlmVocabType {
  kSpm,        // "llama"
  kBpe,        // "gpt2"
  kWordPiece,  // "bert"
};

// The GGUF `tokenizer.ggml.model` name of a type, and back (kInvalidArgument for other names).
std::string_view llm_vocab_type_name(LlmVocabType type);
Result<LlmVocabType> llm_vocab_type_from_name(std::string_view name);

// GGUF `tokenizer.ggml.token_type` values.
enum class LlmTokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,      // <s>, </s>, <|endoftext|>: matched in text only when parse_special is asked
  kUserDefined = 4,  // always matched in text before the subword algorithm runs
  kUnused = 5,
  kByte = 6,  // SPM "<0xXX>" byte-fallback pieces
};

// Where SPM's add_space_prefix puts its "▁" (spm only). llama.cpp and HF tokenizers' Prepend
// normalizer (Llama 2) do kEveryStretch; HF's Metaspace pre-tokenizer (prepend_scheme "first" / "always")
// adds none to a stretch that already starts with a space, and with "first" none after special tokens.
enum class LlmSpacePrefix {
  kEveryStretch,      // before every stretch of plain text (the text's start, or after a special token)
  kFirstUnlessSpace,  // before the stretch at the start of the text, unless it starts with " " or "▁"
  kEveryUnlessSpace,  // before every stretch that does not start with " " or "▁"
};

struct LlmVocab {
  LlmVocabType type = LlmVocabType::kSpm;
  std::string pre = "default";  // `tokenizer.ggml.pre`: picks the byte-level BPE pre-tokenizer
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<LlmTokenType> token_types;
  std::vector<std::string> merges;

  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t eot_id = -1;  // end of turn (chat models)
  int32_t eom_id = -1;  // end of message
  int32_t unk_id = -1;
  int32_t pad_id = -1;
  int32_t sep_id = -1;
  int32_t cls_id = -1;
  int32_t mask_id = -1;

  bool add_bos = false;          // encode(add_special) puts bos_id first
  bool add_eos = false;          // ... and eos_id last
  bool add_sep = false;          // ... and sep_id last (WordPiece: [CLS] text [SEP])
  bool add_space_prefix = true;  // SPM: a space before the text ("Hello" is encoded as " Hello")
  LlmSpacePrefix space_prefix = LlmSpacePrefix::kEveryStretch;  // SPM: where add_space_prefix applies

  // Byte-level BPE read from a tokenizer.json: its pre-tokenizer regexes as written there (Oniguruma's
  // reading: ^ and $ also match at line breaks), run instead of those `pre` names; `pre` then names the
  // known set they equal, or is "custom". Empty for GGUF vocabs.
  std::vector<std::string> pre_patterns;
  // Byte-level BPE: a word that is itself a token is emitted without merging (HF's ignore_merges). Also
  // on when `pre` names a set that implies it (llama3) and pre_patterns is empty.
  bool ignore_merges = false;

  std::string source;  // where the vocab came from (a path); names it in error messages

  int32_t n_tokens() const { return static_cast<int32_t>(tokens.size()); }
  LlmTokenType token_type(int32_t id) const {
    return token_types.empty() ? LlmTokenType::kNormal : token_types[static_cast<size_t>(id)];
  }
  float score(int32_t id) const { return scores.empty() ? 0.0f : scores[static_cast<size_t>(id)]; }

  // kInvalidArgument naming the field, the offending value and what was expected: no tokens, more than
  // 2^31-1 tokens, an empty or duplicate token, scores/token_types of another size than tokens, an
  // unknown token type, a special id outside [-1, n_tokens), add_bos/add_eos/add_sep without the id,
  // a byte token that is not "<0xXX>", a merge without a "left right" space, WordPiece without unk_id.
  Status validate() const;
};

}  // namespace lmaas::text

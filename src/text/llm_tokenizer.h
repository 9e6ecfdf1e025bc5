// LlmTokenizer: runs the tokenizer a pretrained language model carries (LlmVocab: SentencePiece-style
// BPE, byte-level BPE or WordPiece) the way llama.cpp / HF tokenizers do, id for id.
//
// encode(text, add_special, parse_special):
//   1. Special tokens are cut out of the text first, leftmost-longest: user-defined tokens always,
//      control and unknown-type tokens ("<s>", "<|endoftext|>") only when parse_special is true.
//   2. Each stretch of plain text in between goes through the vocab's algorithm. SPM writes spaces as
//      "▁" and, with add_space_prefix, puts one space before a stretch that opens the text or follows a
//      special token (LlmSpacePrefix: or only where the stretch does not start with a space, or only
//      at the start of the text, as HF's Metaspace pre-tokenizer does).
//   3. add_special puts bos_id first when add_bos, and eos_id / sep_id last when add_eos / add_sep.
//   Empty text gives no ids (besides those add_special asks for). Texts must be under 2 GiB.
// Invalid UTF-8 in text never fails: SPM spells each invalid byte with its <0xXX> piece (unk_id without
// byte pieces), byte-level BPE encodes bytes anyway (its alphabet covers all 256), WordPiece drops them.
//
// token_to_piece(id): the bytes the token stands for: SPM "▁" → " " and <0xXX> → that byte; byte-level
// BPE pieces mapped back to bytes; WordPiece "▁word" → " word"; control and user-defined tokens as their
// text (WordPiece: " [SEP]", a word of its own). Out-of-range ids give "".
// decode(ids, skip_special): the pieces joined; skip_special leaves out control tokens; out-of-range
// ids are skipped. SPM with add_space_prefix drops the one space the encoder put in front, so
// decode(encode(s)) == s for SPM (unless s holds "▁", which reads back as a space, or starts with a
// space under a Metaspace-style LlmSpacePrefix, which adds none to drop) and byte-level BPE
// (for any bytes); WordPiece is lossy (lower case, no accents, no control characters) and, as BERT's
// decoder with clean_up_tokenization_spaces, joins " ." " ," " !" " ?" " n't" " 's" ... back on.
//
// Copies share the immutable state; every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "text/llm_vocab.h"

namespace lmaas::text {

class LlmTokenizer {
 public:
  // Validates the vocab (LlmVocab::validate) and builds the lookups; kInvalidArgument otherwise, or for
  // a byte-level BPE vocab whose pre-tokenizer name is not known.
  static Result<LlmTokenizer> create(LlmVocab vocab);

  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
  std::string token_to_piece(int32_t id) const;
  std::string decode(std::span<const int32_t> ids, bool skip_special) const;

  const LlmVocab& vocab() const;
  LlmVocabType type() const { return vocab().type; }
  int32_t n_vocab() const { return vocab().n_tokens(); }
  int32_t bos_id() const { return vocab().bos_id; }
  int32_t eos_id() const { return vocab().eos_id; }
  int32_t eot_id() const { return vocab().eot_id; }
  int32_t unk_id() const { return vocab().unk_id; }
  int32_t pad_id() const { return vocab().pad_id; }
  int32_t sep_id() const { return vocab().sep_id; }
  int32_t cls_id() const { return vocab().cls_id; }
  int32_t mask_id() const { return vocab().mask_id; }
  // Whether generation ends at this token: eos, eot, eom, and control tokens whose text marks an end
  // ("<|endoftext|>", "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "</s>").
  bool is_eog(int32_t id) const;
  // Control tokens (decode's skip_special leaves them out).
  bool is_control(int32_t id) const;

 private:
  struct Impl;
  explicit LlmTokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace lmaas::text

// write_hf_tokenizer: an LlmVocab as the tokenizer files of a Hugging Face model directory, the inverse of
// read_hf_tokenizer (hf_tokenizer.h): reading the files back gives the same token ids for every text.
// Files: tokenizer.json, tokenizer_config.json (special tokens, add_bos_token / add_eos_token, the chat
// template, model_max_length) and generation_config.json (bos_token_id; eos_token_id, a list when the vocab
// also has end-of-turn / end-of-message tokens). Each is written atomically.
//
// tokenizer.json by vocab type, in the layout of the models' published files:
// - kSpm → model BPE with byte_fallback and fuse_unk, every piece in model.vocab. The merges are derived from
//   the piece scores, as SentencePiece's BPE applies them: every split of a normal piece into two normal or
//   byte pieces is a merge, ordered by the merged piece's score (highest first), then its id, then the ids
//   of the two halves. Spaces: LlmSpacePrefix::kEveryStretch → normalizer [Prepend "▁" (add_space_prefix),]
//   Replace " " → "▁" (Llama 2); kFirstUnlessSpace / kEveryUnlessSpace → a Metaspace pre-tokenizer with
//   prepend_scheme "first" / "always". Decoder: "▁" → " ", ByteFallback, Fuse, and Strip of the first space
//   with add_space_prefix.
// - kBpe → model BPE over byte-level tokens with vocab.merges; pre-tokenizer: one Split (Isolated) per regex
//   (vocab.pre_patterns, else those of vocab.pre) then ByteLevel(use_regex false); ignore_merges as the
//   vocab implies; ByteLevel decoder.
// - kWordPiece → uncased BERT: BertNormalizer, BertPreTokenizer, "##" continuation pieces (llama.cpp's form
//   turned back: "▁x" → "x", bare "x" → "##x", "[...]" and control tokens as they are).
// Unknown and control tokens become special added tokens, user-defined ones plain added tokens; for
// byte-level BPE these are not in model.vocab. The post-processor (TemplateProcessing) puts bos_id first with
// add_bos and eos_id (WordPiece: sep_id with add_sep) last with add_eos.
// Errors: kInvalidArgument for a vocab that fails LlmVocab::validate, a token that is not UTF-8 (naming its
// id) or WordPiece pieces that collide once turned back; an unknown `pre` name; file errors naming the path.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "text/llm_vocab.h"

namespace lmaas {

struct HfTokenizerWriteOptions {
  std::string chat_template;      // Jinja source for tokenizer_config.json's chat_template; "" for none
  int64_t model_max_length = 0;   // tokenizer_config.json's model_max_length; 0: HF's "no limit" value
};

// The tokenizer.json document of `vocab` (compact JSON).
Result<std::string> hf_tokenizer_json(const text::LlmVocab& vocab);

// Writes tokenizer.json, tokenizer_config.json and generation_config.json into the existing directory `dir`.
Status write_hf_tokenizer(const std::string& dir, const text::LlmVocab& vocab,
                          const HfTokenizerWriteOptions& options = {});

}  // namespace lmaas

// read_hf_tokenizer: the tokenizer of a Hugging Face model directory as an LlmVocab, id for id with HF
// tokenizers. Files: tokenizer.json (required), tokenizer_config.json, generation_config.json and
// chat_template.jinja (optional).
//
// tokenizer.json → LlmVocab type:
// - model BPE with spaces spelled "▁" (normalizer [Prepend "▁",] Replace " " → "▁", as Llama 2 / Mistral;
//   or a Metaspace pre-tokenizer with split false) → kSpm. Scores come from the merge ranks (a piece
//   scores minus the rank of the first merge that makes it), so SentencePiece's highest-score-first
//   order is HF's lowest-rank-first order; a piece of more than one character that no merge makes is
//   kUnused (HF can never produce it). With byte_fallback, "<0xXX>" pieces are kByte. Prepend gives
//   add_space_prefix with LlmSpacePrefix::kEveryStretch, Metaspace prepend_scheme "first"/"always"
//   gives kFirstUnlessSpace / kEveryUnlessSpace, "never" none.
// - model BPE with a ByteLevel pre-tokenizer (GPT-2: ByteLevel with its built-in regex; Llama 3, Qwen2,
//   DeepSeek: Split regexes, Digits, then ByteLevel(use_regex false)) → kBpe with the merges, the regexes
//   as pre_patterns (\uXXXX spelled \x{XXXX} for PCRE2), `pre` the known name they equal ("custom"
//   otherwise) and model.ignore_merges.
// - model WordPiece (BERT uncased: BertNormalizer lowercasing, BertPreTokenizer, "##" continuation,
//   100 characters a word) → kWordPiece in llama.cpp's token form: "##x" → "x", special tokens and
//   "[...]" pieces as they are, other pieces "▁" + text.
// - Unigram, WordLevel, and every normalizer, pre-tokenizer or setting lmaas does not run the way HF
//   does (NFC/NFKC normalizers, ByteLevel add_prefix_space, Metaspace split, BPE dropout, cased BERT,
//   Split behaviours other than Isolated, ...) → kUnimplemented naming the file, field and value.
// added_tokens: special → kControl (kUnknown for the model's unk_token), not special → kUserDefined;
// lstrip/rstrip/single_word/normalized are not followed. Ids beyond model.vocab extend the table. Ids
// must cover 0..n-1 with no hole: HF renumbers added tokens past a hole, so such a file does not mean
// what it says (kDataLoss naming the first missing id).
// Special ids and flags: the post_processor (TemplateProcessing, BertProcessing, RobertaProcessing,
// in a Sequence or not) puts a token before the text (bos_id, add_bos; WordPiece: cls_id too) and one
// after it (WordPiece: sep_id, add_sep; others: eos_id and add_eos when it is the EOS token, else
// sep_id and add_sep). tokenizer_config.json then overrides: bos/eos/unk/pad/cls/sep/mask_token
// (a string or {"content": ...}), add_bos_token, add_eos_token. generation_config.json's eos_token_id
// (one id or a list): the first is eos_id unless tokenizer_config names one; the others fill eot_id then
// eom_id ("<|eom_id|>" goes to eom_id); ids beyond those end generation only when
// LlmTokenizer::is_eog knows their text.
// chat_template: tokenizer_config's string, or the "default" entry of its list of {name, template};
// else chat_template.jinja; else "".
// Errors: kNotFound for a missing tokenizer.json; kDataLoss for a file that is not JSON or a field
// that is wrong, naming the file and the field path ("tokenizer.json: model.merges[17]: ..."), the
// value and what was expected; kUnimplemented as above; kInvalidArgument from LlmVocab::validate.
#pragma once

#include <string>

#include "base/status.h"
#include "text/llm_vocab.h"

namespace lmaas {

struct HfTokenizerFiles {
  text::LlmVocab vocab;       // source: the tokenizer.json path
  std::string chat_template;  // Jinja source, "" when the directory has none
};

Result<HfTokenizerFiles> read_hf_tokenizer(const std::string& dir);

}  // namespace lmaas

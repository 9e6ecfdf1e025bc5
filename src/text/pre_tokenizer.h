// PreTokenizer: splits text into words with a sequence of regexes before byte-level BPE runs on each
// word (PCRE2, UTF mode with Unicode properties: \p{L}, \p{N}, \s are Unicode-aware).
// Semantics (those of HF tokenizers' Split(behavior="isolated") chained in a Sequence, which llama.cpp
// follows too): the first regex splits the whole text into its matches and the unmatched stretches
// between them; each following regex splits every piece again the same way, seeing only that piece
// (a lookahead stops at the piece's end). Pieces are never empty and, in order, cover the text exactly.
// Invalid UTF-8 never fails: each invalid byte is matched as if it were U+FFFD and stays in its piece
// as the original byte, so the pieces still cover the input byte for byte.
// Copies share the compiled regexes; split() may run on many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lmaas::text {

// Where ^ and $ match: kTextEnds only at the ends of the piece (llama.cpp's reading of the patterns);
// kLineEnds also at line breaks inside it (Oniguruma's, which Hugging Face tokenizers uses).
enum class RegexAnchors { kTextEnds, kLineEnds };

class PreTokenizer {
 public:
  // The regexes of a GGUF `tokenizer.ggml.pre` name ("default", "gpt-2", "llama3", "deepseek-llm",
  // "deepseek-coder", "falcon", "mpt", "starcoder", "refact", "qwen2", ...); kInvalidArgument for
  // names it does not know, listing those it does.
  static Result<PreTokenizer> for_name(std::string_view pre);
  // kInvalidArgument naming the pattern and PCRE2's message when one does not compile.
  static Result<PreTokenizer> from_patterns(const std::vector<std::string>& patterns,
                                            RegexAnchors anchors = RegexAnchors::kTextEnds);

  // Appends the pieces of `text` to `pieces` (views into `text`).
  void split(std::string_view text, std::vector<std::string_view>& pieces) const;

 private:
  struct Regexes;
  explicit PreTokenizer(std::shared_ptr<const Regexes> regexes) : regexes_(std::move(regexes)) {}
  std::shared_ptr<const Regexes> regexes_;
};

// The regexes of a `tokenizer.ggml.pre` name, in PCRE2's spelling (what PreTokenizer::for_name compiles);
// kInvalidArgument as for_name for an unknown name.
Result<std::vector<std::string>> pre_tokenizer_patterns(std::string_view pre);

// Whether byte-level BPE emits a word that is itself a token without merging (llama3-style vocabs).
bool pre_tokenizer_ignores_merges(std::string_view pre);

// The `tokenizer.ggml.pre` name whose regexes are `patterns` (as a tokenizer.json spells them) and whose
// ignore-merges flag is `ignore_merges`; "" when none is. Spellings that mean the same compare equal:
// \x{HHHH} and the character itself, \r \n \t and those control characters themselves,
// (?i:'s|'t|'re|'ve|'m|'ll|'d) and its ASCII-cased form, and a trailing |\s+ after \s+(?!\S).
std::string_view pre_tokenizer_name_for(const std::vector<std::string>& patterns, bool ignore_merges);

// Length of the UTF-8 character at s[pos] (pos < s.size()) when it is valid, else 1: an invalid byte
// stands alone.
size_t utf8_char_length(std::string_view s, size_t pos);

}  // namespace lmaas::text

// WordPiece (BERT) over a vocab in llama.cpp's form (see llm_encoders.h, WordPieceEncoder).
// Basic tokenization, as HF tokenizers' BertNormalizer (clean_text, handle_chinese_chars, strip_accents,
// lowercase) followed by BertPreTokenizer:
//   - U+0000, U+FFFD and control/format/unassigned/private-use characters are dropped (invalid UTF-8
//     bytes read as U+FFFD, so they are dropped too); whitespace ends a word;
//   - CJK ideographs are words of their own;
//   - each character is decomposed (NFD), combining marks (Mn) are dropped, the rest lower-cased;
//   - punctuation (ASCII punctuation and symbols, Unicode P*) is a word of its own.
// Then per word (words over 100 characters are [UNK], as BERT's max_input_chars_per_word): greedy
// longest-match-first; the first piece is looked up as "▁" + text, the following ones bare. A word
// with a stretch that no piece matches becomes one unk_id.
#include <utf8proc.h>

#include "text/llm_encoders.h"
#include "text/utf8.h"

namespace lmaas::text::detail {
namespace {

constexpr size_t kMaxWordChars = 100;

bool is_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF ||
         category == UTF8PROC_CATEGORY_CN || category == UTF8PROC_CATEGORY_CO;
}

bool is_whitespace(char32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return true;
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL ||
         category == UTF8PROC_CATEGORY_ZP;
}

bool is_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return category >= UTF8PROC_CATEGORY_PC && category <= UTF8PROC_CATEGORY_PO;
}

// BERT's "Chinese character" ranges (CJK Unified Ideographs and their extensions, compatibility
// ideographs), including its 0x2B920 start for the fifth range.
bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Canonical decomposition of one code point (itself when it has none).
size_t decompose(char32_t cp, utf8proc_int32_t (&out)[8]) {
  int boundclass = 0;
  const utf8proc_ssize_t n =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), out, 8, UTF8PROC_DECOMPOSE, &boundclass);
  if (n <= 0 || n > 8) {
    out[0] = static_cast<utf8proc_int32_t>(cp);
    return 1;
  }
  return static_cast<size_t>(n);
}

class WordCollector {
 public:
  void end_word() {
    if (!current_.empty()) words_.push_back(std::move(current_));
    current_.clear();
  }
  void single(char32_t cp) {
    end_word();
    append_utf8(current_, cp);
    end_word();
  }
  void append(char32_t cp) { append_utf8(current_, cp); }
  std::vector<std::string> finish() {
    end_word();
    return std::move(words_);
  }

 private:
  std::vector<std::string> words_;
  std::string current_;
};

}  // namespace

std::vector<std::string> WordPieceEncoder::split_words(std::string_view text) {
  WordCollector words;
  for (size_t pos = 0; pos < text.size();) {
    const char32_t cp = next_code_point(text, pos);
    if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
    if (is_whitespace(cp)) {
      words.end_word();
      continue;
    }
    utf8proc_int32_t parts[8];
    const size_t n_parts = decompose(cp, parts);
    for (size_t i = 0; i < n_parts; ++i) {
      if (utf8proc_category(parts[i]) == UTF8PROC_CATEGORY_MN) continue;
      const auto lower = static_cast<char32_t>(utf8proc_tolower(parts[i]));
      if (is_cjk(cp) || is_punctuation(lower)) {
        words.single(lower);
      } else {
        words.append(lower);
      }
    }
  }
  return words.finish();
}

void WordPieceEncoder::encode(std::string_view text, std::vector<int32_t>& out) const {
  for (const std::string& word : split_words(text)) encode_word(word, out);
}

void WordPieceEncoder::encode_word(const std::string& word, std::vector<int32_t>& out) const {
  std::vector<size_t> ends;  // byte offset after each character
  for (size_t pos = 0; pos < word.size();) {
    pos += utf8_char_length(word, pos);
    ends.push_back(pos);
  }
  const int32_t unk = index_->vocab().unk_id;
  if (ends.size() > kMaxWordChars) {
    out.push_back(unk);
    return;
  }
  const std::string first = std::string(kSpmSpace) + word;
  const size_t mark = out.size();
  size_t start = 0;
  size_t next_char = 0;  // index into ends of the first character after `start`
  while (start < word.size()) {
    int32_t found = -1;
    size_t found_end = next_char;
    for (size_t e = ends.size(); e-- > next_char && found < 0;) {
      const std::string_view piece = start == 0
                                         ? std::string_view(first).substr(0, kSpmSpace.size() + ends[e])
                                         : std::string_view(word).substr(start, ends[e] - start);
      if (piece.size() > index_->max_token_bytes()) continue;
      const int32_t id = index_->find(piece);
      if (id >= 0 && index_->vocab().token_type(id) != LlmTokenType::kControl) {
        found = id;
        found_end = e;
      }
    }
    if (found < 0) {
      out.resize(mark);
      out.push_back(unk);
      return;
    }
    out.push_back(found);
    start = ends[found_end];
    next_char = found_end + 1;
  }
}

}  // namespace lmaas::text::detail

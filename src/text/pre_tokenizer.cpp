// PreTokenizer over PCRE2 (see pre_tokenizer.h). The regexes per `tokenizer.ggml.pre` name are the
// models' own pre-tokenizer patterns (from their tokenizer.json), in the form llama.cpp's converter
// records them: a case-insensitive (?i:'s|...) group is spelled '[sS]|... so that it matches ASCII only.
#include "text/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <utility>

#include "text/utf8.h"

namespace lmaas::text {
namespace {

// GPT-2's word pattern (without its final "|\s+": whitespace it leaves unmatched becomes a piece anyway).
constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|)"
    R"( ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|)"
    R"( ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4o =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+)"
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|)"
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*)"
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|)"
    R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kDeepseekLetters =
    R"(\s?[)"
    R"(A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293})"
    R"(\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C})"
    R"(\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5})"
    R"(\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B})"
    R"(\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45})"
    R"(\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4})"
    R"(\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB})"
    R"(\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115})"
    R"(\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139})"
    R"(\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4})"
    R"(\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F})"
    R"(\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17})"
    R"(\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB})"
    R"(\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943})"
    R"(]+)";
constexpr const char* kCjk = R"([一-龥ࠀ-一가-퟿]+)";
constexpr const char* kBloom = R"( ?[^(\s|.,!?…。，、।۔،)]+)";

struct PreEntry {
  std::vector<std::string_view> names;
  std::vector<const char*> patterns;
  bool ignore_merges = false;
};

const std::vector<PreEntry>& pre_table() {
  static const std::vector<PreEntry> kTable = {
      {{"default", ""}, {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"}, {kLlama3}, true},
      {{"dbrx", "smaug-bpe", "chatglm-bpe", "glm4"}, {kLlama3}},
      {{"deepseek-llm"},
       {R"([\r\n])", kDeepseekLetters, R"(\s?[!-/:-~！-／：-～‘-‟　-。]+)", R"(\s+$)", kCjk, R"(\p{N}+)"}},
      {{"deepseek-coder"}, {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjk, R"(\p{N})"}},
      {{"falcon"}, {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}},
      {{"gpt-2", "mpt", "olmo", "jais", "phi-2", "jina-es", "jina-de", "roberta-bpe"}, {kGpt2}},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"},
       {R"(\p{N})", kGpt2}},
      {{"qwen2", "stablelm2", "deepseek-r1-qwen", "hunyuan"}, {kQwen2}},
      {{"gpt-4o"}, {kGpt4o}},
      {{"bloom", "poro-chat", "gpt3-finnish"}, {kBloom}},
  };
  return kTable;
}

const PreEntry* find_pre(std::string_view pre) {
  for (const PreEntry& entry : pre_table()) {
    for (std::string_view name : entry.names) {
      if (name == pre) return &entry;
    }
  }
  return nullptr;
}

struct CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
using CodePtr = std::unique_ptr<pcre2_code, CodeDeleter>;

struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

struct Span {
  size_t begin;
  size_t end;
};

// `text` as valid UTF-8 for matching: itself when valid, else a copy with each invalid byte replaced by
// U+FFFD, with the original offset of every position that starts a character.
struct MatchableText {
  std::string_view text;
  std::string storage;
  std::vector<size_t> original_offset;  // empty when text is the original

  explicit MatchableText(std::string_view original) : text(original) {
    if (!find_invalid_utf8(original)) return;
    storage.reserve(original.size() + 16);
    original_offset.reserve(original.size() + 16);
    for (size_t pos = 0; pos < original.size();) {
      const size_t n = utf8_char_length(original, pos);
      const bool valid = n > 1 || static_cast<unsigned char>(original[pos]) < 0x80;
      const std::string_view piece = valid ? original.substr(pos, n) : std::string_view("\xEF\xBF\xBD");
      storage.append(piece);
      original_offset.insert(original_offset.end(), piece.size(), pos);
      pos += n;
    }
    original_offset.push_back(original.size());
    text = storage;
  }
  size_t to_original(size_t offset) const {
    return original_offset.empty() ? offset : original_offset[offset];
  }
};

}  // namespace

struct PreTokenizer::Regexes {
  std::vector<CodePtr> codes;
};

size_t utf8_char_length(std::string_view s, size_t pos) {
  const auto lead = static_cast<unsigned char>(s[pos]);
  if (lead < 0x80) return 1;
  const size_t n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (n == 0 || pos + n > s.size()) return 1;
  return find_invalid_utf8(s.substr(pos, n)) ? 1 : n;
}

bool pre_tokenizer_ignores_merges(std::string_view pre) {
  const PreEntry* entry = find_pre(pre);
  return entry != nullptr && entry->ignore_merges;
}

namespace {

// One spelling for patterns that mean the same (see pre_tokenizer_name_for): non-ASCII \x{HHHH} escapes
// as the characters, CR/LF/tab characters as \r \n \t, the case-insensitive contraction group in its
// ASCII-cased form, no |\s+ tail.
std::string canonical_pattern(std::string_view p) {
  static constexpr std::string_view kCaseless = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
  static constexpr std::string_view kCased = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
  static constexpr std::string_view kTail = R"(\s+(?!\S)|\s+)";
  std::string out;
  for (size_t i = 0; i < p.size();) {
    if (p.substr(i, kCaseless.size()) == kCaseless) {
      out.append(kCased);
      i += kCaseless.size();
    } else if (p[i] == '\r' || p[i] == '\n' || p[i] == '\t') {  // a control character as itself
      out.append(p[i] == '\r' ? R"(\r)" : p[i] == '\n' ? R"(\n)" : R"(\t)");
      ++i;
    } else if (p[i] != '\\' || i + 1 == p.size()) {
      out.push_back(p[i++]);
    } else if (p.substr(i, 3) == "\\x{" && p.find('}', i) != std::string_view::npos) {
      const size_t close = p.find('}', i);
      const std::string hex(p.substr(i + 3, close - i - 3));
      const bool is_hex = !hex.empty() && hex.size() <= 6 &&
                          hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
      const unsigned long cp = is_hex ? std::stoul(hex, nullptr, 16) : 0;
      if (cp >= 0x80 && cp <= 0x10FFFF) {
        append_utf8(out, static_cast<char32_t>(cp));
      } else {
        out.append(p.substr(i, close + 1 - i));
      }
      i = close + 1;
    } else {
      out.append(p.substr(i, 2));
      i += 2;
    }
  }
  if (out.size() > kTail.size() && out.ends_with(kTail)) out.resize(out.size() - 4);  // the "|\s+"
  return out;
}

}  // namespace

std::string_view pre_tokenizer_name_for(const std::vector<std::string>& patterns, bool ignore_merges) {
  std::vector<std::string> wanted;
  for (const std::string& pattern : patterns) wanted.push_back(canonical_pattern(pattern));
  for (const PreEntry& entry : pre_table()) {
    if (entry.ignore_merges != ignore_merges || entry.patterns.size() != wanted.size()) continue;
    bool same = true;
    for (size_t i = 0; i < wanted.size() && same; ++i)
      same = canonical_pattern(entry.patterns[i]) == wanted[i];
    if (same) return entry.names.front();
  }
  return "";
}

Result<std::vector<std::string>> pre_tokenizer_patterns(std::string_view pre) {
  const PreEntry* entry = find_pre(pre);
  if (entry == nullptr) {
    std::string known;
    for (const PreEntry& e : pre_table()) {
      for (std::string_view name : e.names) {
        if (!name.empty()) known += (known.empty() ? "" : ", ") + std::string(name);
      }
    }
    return Status(Code::kInvalidArgument,
                  "pre-tokenizer '" + std::string(pre) +
                      "' (tokenizer.ggml.pre) is not known, expected one of: " + known);
  }
  return std::vector<std::string>(entry->patterns.begin(), entry->patterns.end());
}

Result<PreTokenizer> PreTokenizer::for_name(std::string_view pre) {
  LMAAS_ASSIGN_OR_RETURN(const std::vector<std::string> patterns, pre_tokenizer_patterns(pre));
  return from_patterns(patterns);
}

Result<PreTokenizer> PreTokenizer::from_patterns(const std::vector<std::string>& patterns,
                                                 RegexAnchors anchors) {
  auto regexes = std::make_shared<Regexes>();
  const uint32_t options =
      PCRE2_UTF | PCRE2_UCP | (anchors == RegexAnchors::kLineEnds ? PCRE2_MULTILINE : PCRE2_DOLLAR_ENDONLY);
  for (const std::string& pattern : patterns) {
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    CodePtr code(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &error,
                               &error_offset, nullptr));
    if (!code) {
      std::array<PCRE2_UCHAR, 256> message{};
      pcre2_get_error_message(error, message.data(), message.size());
      return Status(Code::kInvalidArgument,
                    "pre-tokenizer pattern '" + pattern + "' does not compile at offset " +
                        std::to_string(error_offset) + ": " + reinterpret_cast<const char*>(message.data()));
    }
    pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE);  // optional: without JIT, matching interprets
    regexes->codes.push_back(std::move(code));
  }
  return PreTokenizer(std::move(regexes));
}

namespace {

// Splits text[span] into the matches of `code` and the stretches between them.
void split_span(const pcre2_code* code, pcre2_match_data* data, std::string_view text, Span span,
                std::vector<Span>& out) {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + span.begin);
  const size_t length = span.end - span.begin;
  size_t pos = 0;
  size_t gap = 0;
  while (pos < length) {
    int rc = pcre2_match(code, subject, length, pos, PCRE2_NO_UTF_CHECK, data, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      rc = pcre2_match(code, subject, length, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, data, nullptr);
    }
    if (rc < 0) break;  // no further match (or a match limit): the rest is one stretch
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    const size_t begin = ovector[0];
    const size_t end = ovector[1];
    if (end <= begin) {  // an empty match splits nothing; look again one character later
      if (begin >= length) break;
      pos = begin + utf8_char_length(text.substr(span.begin, length), begin);
      continue;
    }
    if (begin > gap) out.push_back({span.begin + gap, span.begin + begin});
    out.push_back({span.begin + begin, span.begin + end});
    pos = gap = end;
  }
  if (gap < length) out.push_back({span.begin + gap, span.end});
}

}  // namespace

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& pieces) const {
  if (text.empty()) return;
  const MatchableText matchable(text);
  std::vector<Span> spans{{0, matchable.text.size()}};
  std::vector<Span> next;
  for (const CodePtr& code : regexes_->codes) {
    std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(
        pcre2_match_data_create_from_pattern(code.get(), nullptr));
    next.clear();
    next.reserve(spans.size() * 2);
    for (const Span& span : spans) split_span(code.get(), data.get(), matchable.text, span, next);
    spans.swap(next);
  }
  for (const Span& span : spans) {
    const size_t begin = matchable.to_original(span.begin);
    pieces.push_back(text.substr(begin, matchable.to_original(span.end) - begin));
  }
}

}  // namespace lmaas::text

// tokenizer.json's model, normalizer and pre_tokenizer → LlmVocab (see hf_tokenizer.h for the mapping).
// Normalizers and pre-tokenizers are read as flat lists (Sequences unfolded); a component lmaas does not
// run the way HF tokenizers does is kUnimplemented, never silently skipped.
#include <algorithm>
#include <cctype>

#include "formats/hf_tokenizer_internal.h"
#include "text/pre_tokenizer.h"

namespace lmaas::hf_detail {
namespace {

using text::kSpmSpace;
using text::LlmSpacePrefix;
using text::LlmTokenType;
using text::LlmVocab;
using text::LlmVocabType;

// The regex of HF's ByteLevel pre-tokenizer with use_regex (GPT-2's).
constexpr const char* kByteLevelRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// One component of a normalizer or pre-tokenizer.
struct Part {
  const Json* json;
  std::string path;
  std::string type;
};

// The components of `value` at `path`, Sequences (members `list_key`) unfolded; none for null.
Status flatten(const JsonFile& file, const Json* value, const std::string& path, const char* list_key,
               std::vector<Part>& out) {
  if (value == nullptr || value->is_null()) return Status::ok();
  LMAAS_ASSIGN_OR_RETURN(std::string type, type_of(file, *value, path));
  if (type != "Sequence") {
    out.push_back({value, path, std::move(type)});
    return Status::ok();
  }
  const Json* list = member(*value, list_key);
  const std::string list_path = path + "." + list_key;
  if (list == nullptr || !list->is_array()) {
    return file.error(Code::kDataLoss, list_path,
                      "is " + (list ? show(*list) : "missing") + ", expected a list");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    LMAAS_RETURN_IF_ERROR(
        flatten(file, &(*list)[i], list_path + "[" + std::to_string(i) + "]", list_key, out));
  }
  return Status::ok();
}

// tokenizer.json's normalizer and pre_tokenizer, unfolded.
struct Components {
  std::vector<Part> normalizers;
  std::vector<Part> pre_tokenizers;
};

Result<Components> read_components(const JsonFile& file) {
  Components parts;
  LMAAS_RETURN_IF_ERROR(
      flatten(file, member(file.root, "normalizer"), "normalizer", "normalizers", parts.normalizers));
  LMAAS_RETURN_IF_ERROR(flatten(file, member(file.root, "pre_tokenizer"), "pre_tokenizer", "pretokenizers",
                                parts.pre_tokenizers));
  return parts;
}

Status unsupported(const JsonFile& file, const Part& part, const std::string& why) {
  return file.error(Code::kUnimplemented, part.path, "type '" + part.type + "' " + why);
}

// A string member that must have one value.
Status expect_string(const JsonFile& file, const Part& part, const char* key, std::string_view wanted) {
  const Json* value = member(*part.json, key);
  LMAAS_ASSIGN_OR_RETURN(const std::string text,
                         as_string(file, value ? *value : Json(), part.path + "." + key));
  if (text == wanted) return Status::ok();
  return file.error(Code::kUnimplemented, part.path + "." + key,
                    "is '" + text + "', lmaas supports only '" + std::string(wanted) + "'");
}

// PCRE2 has no \uXXXX (Oniguruma's spelling): write \x{XXXX}.
std::string pcre2_spelling(const std::string& regex) {
  std::string out;
  for (size_t i = 0; i < regex.size(); ++i) {
    const bool hex4 = i + 5 < regex.size() && regex.compare(i, 2, "\\u") == 0 &&
                      std::all_of(regex.begin() + static_cast<std::ptrdiff_t>(i) + 2,
                                  regex.begin() + static_cast<std::ptrdiff_t>(i) + 6,
                                  [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
    if (hex4) {
      out.append("\\x{").append(regex, i + 2, 4).append("}");
      i += 5;
    } else {
      out.push_back(regex[i]);
      if (regex[i] == '\\' && i + 1 < regex.size()) out.push_back(regex[++i]);
    }
  }
  return out;
}

std::string quote_literal(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}-/#").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// A Split component's regex (Isolated, not inverted).
Result<std::string> split_regex(const JsonFile& file, const Part& part) {
  LMAAS_RETURN_IF_ERROR(expect_string(file, part, "behavior", "Isolated"));
  LMAAS_ASSIGN_OR_RETURN(const bool invert, bool_or(file, *part.json, part.path, "invert", false));
  if (invert)
    return file.error(Code::kUnimplemented, part.path + ".invert", "is true, lmaas supports only false");
  const Json* pattern = member(*part.json, "pattern");
  const Json* regex = pattern ? member(*pattern, "Regex") : nullptr;
  const Json* literal = pattern ? member(*pattern, "String") : nullptr;
  if (regex != nullptr) {
    LMAAS_ASSIGN_OR_RETURN(const std::string text, as_string(file, *regex, part.path + ".pattern.Regex"));
    return pcre2_spelling(text);
  }
  if (literal != nullptr) {
    LMAAS_ASSIGN_OR_RETURN(const std::string text, as_string(file, *literal, part.path + ".pattern.String"));
    return quote_literal(text);
  }
  return file.error(
      Code::kDataLoss, part.path + ".pattern",
      "is " + (pattern ? show(*pattern) : "missing") + R"(, expected {"Regex": ...} or {"String": ...})");
}

// Byte-level BPE: the regexes of Split / Digits / ByteLevel(use_regex), ByteLevel last.
Status read_byte_level(const JsonFile& file, const std::vector<Part>& parts, LlmVocab& vocab) {
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part& part = parts[i];
    std::string regex;
    if (part.type == "Split") {
      LMAAS_ASSIGN_OR_RETURN(regex, split_regex(file, part));
    } else if (part.type == "Digits") {
      LMAAS_ASSIGN_OR_RETURN(const bool single,
                             bool_or(file, *part.json, part.path, "individual_digits", false));
      regex = single ? R"(\p{N})" : R"(\p{N}+)";
    } else if (part.type == "ByteLevel") {
      if (i + 1 != parts.size())
        return unsupported(file, part, "must come last (lmaas splits bytes after it)");
      LMAAS_ASSIGN_OR_RETURN(const bool prefix,
                             bool_or(file, *part.json, part.path, "add_prefix_space", true));
      if (prefix) {
        return file.error(Code::kUnimplemented, part.path + ".add_prefix_space",
                          "is true, lmaas supports only false");
      }
      LMAAS_ASSIGN_OR_RETURN(const bool use_regex, bool_or(file, *part.json, part.path, "use_regex", true));
      if (!use_regex) continue;
      regex = kByteLevelRegex;
    } else {
      return unsupported(file, part, "is not supported with byte-level BPE (Split, Digits, ByteLevel are)");
    }
    if (auto compiled = text::PreTokenizer::from_patterns({regex}, text::RegexAnchors::kLineEnds);
        !compiled.is_ok()) {
      return file.error(Code::kDataLoss, part.path, compiled.status().message());
    }
    vocab.pre_patterns.push_back(std::move(regex));
  }
  const std::string_view name = text::pre_tokenizer_name_for(vocab.pre_patterns, vocab.ignore_merges);
  vocab.pre = name.empty() ? "custom" : std::string(name);
  return Status::ok();
}

// SPM-style BPE: [Prepend "▁",] Replace " " → "▁" normalizers and/or a Metaspace pre-tokenizer.
Status read_spm_spaces(const JsonFile& file, const std::vector<Part>& normalizers,
                       const std::vector<Part>& pre_tokenizers, LlmVocab& vocab) {
  bool prepend = false;
  for (const Part& part : normalizers) {
    if (part.type == "Prepend") {
      LMAAS_RETURN_IF_ERROR(expect_string(file, part, "prepend", kSpmSpace));
      prepend = true;
    } else if (part.type == "Replace") {
      const Json* pattern = member(*part.json, "pattern");
      const Json* literal = pattern ? member(*pattern, "String") : nullptr;
      if (literal == nullptr || *literal != " ") {
        return file.error(
            Code::kUnimplemented, part.path + ".pattern",
            "is " + (pattern ? show(*pattern) : "missing") + R"(, lmaas supports only {"String": " "})");
      }
      LMAAS_RETURN_IF_ERROR(expect_string(file, part, "content", kSpmSpace));
    } else {
      return unsupported(file, part, "is not supported with SentencePiece-style BPE (Prepend, Replace are)");
    }
  }
  vocab.add_space_prefix = prepend;
  vocab.space_prefix = LlmSpacePrefix::kEveryStretch;
  for (const Part& part : pre_tokenizers) {
    if (part.type != "Metaspace") {
      return unsupported(file, part, "is not supported with SentencePiece-style BPE (Metaspace is)");
    }
    LMAAS_RETURN_IF_ERROR(expect_string(file, part, "replacement", kSpmSpace));
    LMAAS_ASSIGN_OR_RETURN(const bool split, bool_or(file, *part.json, part.path, "split", true));
    if (split)
      return file.error(Code::kUnimplemented, part.path + ".split", "is true, lmaas supports only false");
    std::string scheme;
    if (const Json* value = member(*part.json, "prepend_scheme")) {
      LMAAS_ASSIGN_OR_RETURN(scheme, as_string(file, *value, part.path + ".prepend_scheme"));
    } else {
      LMAAS_ASSIGN_OR_RETURN(const bool add, bool_or(file, *part.json, part.path, "add_prefix_space", true));
      scheme = add ? "always" : "never";
    }
    if (scheme != "first" && scheme != "always" && scheme != "never") {
      return file.error(Code::kDataLoss, part.path + ".prepend_scheme",
                        "is '" + scheme + "', expected first, always or never");
    }
    if (prepend && scheme != "never") {
      return unsupported(file, part, "prepends a space after a Prepend normalizer did: lmaas adds one only");
    }
    vocab.add_space_prefix = prepend || scheme != "never";
    if (!prepend) {
      vocab.space_prefix =
          scheme == "first" ? LlmSpacePrefix::kFirstUnlessSpace : LlmSpacePrefix::kEveryUnlessSpace;
    }
  }
  return Status::ok();
}

bool has_type(const std::vector<Part>& parts, std::string_view type) {
  return std::any_of(parts.begin(), parts.end(), [&](const Part& p) { return p.type == type; });
}

// model.merges: "left right" strings or [left, right] pairs, each side and the join a token.
Status read_merges(const JsonFile& file, const Json& model, const TokenTable& table,
                   std::vector<std::pair<std::string, std::string>>& merges) {
  const Json* list = member(model, "merges");
  if (list == nullptr || !list->is_array()) {
    return file.error(Code::kDataLoss, "model.merges",
                      "is " + (list ? show(*list) : "missing") + ", expected a list");
  }
  merges.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& merge = (*list)[i];
    const std::string path = "model.merges[" + std::to_string(i) + "]";
    std::string left;
    std::string right;
    if (merge.is_string()) {
      const std::string& text = merge.get_ref<const std::string&>();
      const size_t space = text.find(' ');
      if (space == 0 || space == std::string::npos || space + 1 == text.size() ||
          text.find(' ', space + 1) != std::string::npos) {
        return file.error(Code::kDataLoss, path, "is " + show(merge) + R"(, expected "left right")");
      }
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string() &&
               !merge[0].get_ref<const std::string&>().empty() &&
               !merge[1].get_ref<const std::string&>().empty()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      return file.error(Code::kDataLoss, path,
                        "is " + show(merge) + R"(, expected "left right" or ["left", "right"])");
    }
    for (const std::string* side : {&left, &right}) {
      if (table.find(*side) < 0)
        return file.error(Code::kDataLoss, path, "'" + *side + "' is not a token of model.vocab");
    }
    if (table.find(left + right) < 0) {
      return file.error(Code::kDataLoss, path,
                        "makes '" + left + right + "', which is not a token of model.vocab");
    }
    merges.emplace_back(std::move(left), std::move(right));
  }
  return Status::ok();
}

size_t count_chars(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

bool is_byte_piece(std::string_view text) {
  return text.size() == 6 && text.substr(0, 3) == "<0x" && text[5] == '>' &&
         std::isxdigit(static_cast<unsigned char>(text[3])) &&
         std::isxdigit(static_cast<unsigned char>(text[4]));
}

// Scores from merge ranks; byte pieces; pieces no merge makes.
void to_spm(const std::vector<std::pair<std::string, std::string>>& merges, bool byte_fallback,
            LlmVocab& vocab, const TokenTable& table) {
  const auto n = static_cast<size_t>(vocab.n_tokens());
  const float unmade = -static_cast<float>(merges.size()) - 1.0f;
  vocab.scores.assign(n, unmade);
  std::vector<bool> made(n);
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto id = static_cast<size_t>(table.find(merges[rank].first + merges[rank].second));
    if (!made[id]) vocab.scores[id] = -static_cast<float>(rank);
    made[id] = true;
  }
  for (size_t id = 0; id < n; ++id) {
    if (vocab.token_types[id] != LlmTokenType::kNormal) continue;
    if (byte_fallback && is_byte_piece(vocab.tokens[id])) {
      vocab.token_types[id] = LlmTokenType::kByte;
    } else if (!made[id] && count_chars(vocab.tokens[id]) > 1) {
      vocab.token_types[id] = LlmTokenType::kUnused;
    }
  }
}

Status read_bpe(const JsonFile& file, const Json& model, const TokenTable& table, const Components& parts,
                LlmVocab& vocab) {
  const std::vector<Part>& normalizers = parts.normalizers;
  const std::vector<Part>& pre_tokenizers = parts.pre_tokenizers;
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json* affix = member(model, key);
    if (affix != nullptr && *affix != "") {
      return file.error(Code::kUnimplemented, std::string("model.") + key,
                        "is " + show(*affix) + ", lmaas supports only null or \"\"");
    }
  }
  if (const Json* dropout = member(model, "dropout"); dropout != nullptr && *dropout != 0) {
    return file.error(Code::kUnimplemented, "model.dropout",
                      "is " + show(*dropout) + ", lmaas supports only null (no dropout)");
  }
  LMAAS_ASSIGN_OR_RETURN(vocab.ignore_merges, bool_or(file, model, "model", "ignore_merges", false));
  LMAAS_ASSIGN_OR_RETURN(const bool byte_fallback, bool_or(file, model, "model", "byte_fallback", false));
  std::vector<std::pair<std::string, std::string>> merges;
  LMAAS_RETURN_IF_ERROR(read_merges(file, model, table, merges));
  if (has_type(pre_tokenizers, "ByteLevel")) {
    if (!normalizers.empty()) {
      return unsupported(file, normalizers.front(),
                         "is not supported with byte-level BPE (no normalizer is)");
    }
    vocab.type = LlmVocabType::kBpe;
    vocab.add_space_prefix = false;
    LMAAS_RETURN_IF_ERROR(read_byte_level(file, pre_tokenizers, vocab));
    vocab.merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      const auto& [left, right] = merges[i];
      if (left.find(' ') != std::string::npos || right.find(' ') != std::string::npos) {
        return file.error(
            Code::kUnimplemented, "model.merges[" + std::to_string(i) + "]",
            "has a side with a space ('" + left + "', '" + right + "'): byte-level tokens have none");
      }
      vocab.merges.push_back(left + " " + right);
    }
    return Status::ok();
  }
  if (has_type(pre_tokenizers, "Metaspace") || has_type(normalizers, "Replace")) {
    if (vocab.ignore_merges)
      return file.error(Code::kUnimplemented, "model.ignore_merges",
                        "is true, lmaas supports it only with ByteLevel");
    vocab.type = LlmVocabType::kSpm;
    LMAAS_RETURN_IF_ERROR(read_spm_spaces(file, normalizers, pre_tokenizers, vocab));
    to_spm(merges, byte_fallback, vocab, table);
    return Status::ok();
  }
  return file.error(
      Code::kUnimplemented, "pre_tokenizer",
      "BPE without a ByteLevel pre-tokenizer or spaces spelled \"▁\" (Metaspace, or a Replace normalizer) "
      "is not supported");
}

Status read_wordpiece(const JsonFile& file, const Json& model, const Components& parts, LlmVocab& vocab) {
  const std::vector<Part>& normalizers = parts.normalizers;
  const std::vector<Part>& pre_tokenizers = parts.pre_tokenizers;
  if (normalizers.size() != 1 || normalizers[0].type != "BertNormalizer") {
    return file.error(Code::kUnimplemented, "normalizer",
                      "WordPiece is supported with one BertNormalizer only");
  }
  const Part& bert = normalizers[0];
  for (const char* key : {"clean_text", "handle_chinese_chars", "lowercase"}) {
    LMAAS_ASSIGN_OR_RETURN(const bool on, bool_or(file, *bert.json, bert.path, key, true));
    if (!on)
      return file.error(Code::kUnimplemented, bert.path + "." + key,
                        "is false, lmaas supports only true (uncased BERT)");
  }
  LMAAS_ASSIGN_OR_RETURN(const bool strip_accents,
                         bool_or(file, *bert.json, bert.path, "strip_accents", true));
  if (!strip_accents)
    return file.error(Code::kUnimplemented, bert.path + ".strip_accents",
                      "is false, lmaas supports only null or true");
  if (pre_tokenizers.size() != 1 || pre_tokenizers[0].type != "BertPreTokenizer") {
    return file.error(Code::kUnimplemented, "pre_tokenizer",
                      "WordPiece is supported with one BertPreTokenizer only");
  }
  const Json* prefix = member(model, "continuing_subword_prefix");
  if (prefix != nullptr && *prefix != "##") {
    return file.error(Code::kUnimplemented, "model.continuing_subword_prefix",
                      "is " + show(*prefix) + ", lmaas supports only \"##\"");
  }
  const Json* max_chars = member(model, "max_input_chars_per_word");
  if (max_chars != nullptr && *max_chars != 100) {
    return file.error(Code::kUnimplemented, "model.max_input_chars_per_word",
                      "is " + show(*max_chars) + ", lmaas supports only 100");
  }
  vocab.type = LlmVocabType::kWordPiece;
  vocab.add_space_prefix = false;
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    std::string& token = vocab.tokens[id];
    if (vocab.token_types[id] != LlmTokenType::kNormal || (token.front() == '[' && token.back() == ']'))
      continue;
    token = token.rfind("##", 0) == 0 && token.size() > 2 ? token.substr(2) : std::string(kSpmSpace) + token;
  }
  return Status::ok();
}

}  // namespace

Status read_model(const JsonFile& file, const std::string& model_type, const TokenTable& table,
                  LlmVocab& vocab) {
  const Json& model = *member(file.root, "model");
  vocab.tokens = table.tokens;
  vocab.token_types = table.types;
  int32_t unk_id = -1;
  if (const Json* unk = member(model, "unk_token")) {
    LMAAS_ASSIGN_OR_RETURN(const std::string text, as_string(file, *unk, "model.unk_token"));
    unk_id = table.find(text);
    if (unk_id < 0) return file.error(Code::kDataLoss, "model.unk_token", "'" + text + "' is not a token");
  }
  LMAAS_ASSIGN_OR_RETURN(const Components parts, read_components(file));
  if (model_type == "BPE") {
    LMAAS_RETURN_IF_ERROR(read_bpe(file, model, table, parts, vocab));
  } else {
    if (unk_id < 0)
      return file.error(Code::kDataLoss, "model.unk_token", "is missing, expected WordPiece's unknown token");
    LMAAS_RETURN_IF_ERROR(read_wordpiece(file, model, parts, vocab));
  }
  vocab.unk_id = unk_id;
  if (unk_id >= 0 && vocab.type != LlmVocabType::kWordPiece) {
    vocab.token_types[static_cast<size_t>(unk_id)] = LlmTokenType::kUnknown;
  }
  return Status::ok();
}

}  // namespace lmaas::hf_detail

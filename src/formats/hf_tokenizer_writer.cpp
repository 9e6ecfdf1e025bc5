// write_hf_tokenizer: see hf_tokenizer_writer.h. Documents are built as ordered JSON so the files read in the
// order HF writes them (version first, model last; vocab by id).
#include "formats/hf_tokenizer_writer.h"

#include <algorithm>
#include <filesystem>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "text/pre_tokenizer.h"
#include "text/utf8.h"

namespace lmaas {
namespace {

using Json = nlohmann::ordered_json;
using text::kSpmSpace;
using text::LlmTokenType;
using text::LlmVocab;
using text::LlmVocabType;

bool is_special(LlmTokenType type) { return type == LlmTokenType::kUnknown || type == LlmTokenType::kControl; }
bool is_added(LlmTokenType type) { return is_special(type) || type == LlmTokenType::kUserDefined; }

Json added_token(int32_t id, const std::string& content, bool special) {
  return {{"id", id},         {"content", content},   {"single_word", false}, {"lstrip", false},
          {"rstrip", false},  {"normalized", !special}, {"special", special}};
}

// The added_tokens list; WordPiece adds only its special tokens (its added pieces are plain vocabulary).
Json added_tokens(const LlmVocab& vocab, const std::vector<std::string>& tokens) {
  Json out = Json::array();
  for (int32_t id = 0; id < vocab.n_tokens(); ++id) {
    const LlmTokenType type = vocab.token_type(id);
    const bool added = vocab.type == LlmVocabType::kWordPiece ? is_special(type) : is_added(type);
    if (added) out.push_back(added_token(id, tokens[static_cast<size_t>(id)], is_special(type)));
  }
  return out;
}

// TemplateProcessing putting tokens[first] before and tokens[last] after the text (-1: none); null for neither.
Json template_processing(const std::vector<std::string>& tokens, int32_t first, int32_t last) {
  if (first < 0 && last < 0) return nullptr;
  auto single = [&](int type_id, const char* sequence) {
    Json items = Json::array();
    if (first >= 0) items.push_back({{"SpecialToken", {{"id", tokens[static_cast<size_t>(first)]}, {"type_id", type_id}}}});
    items.push_back({{"Sequence", {{"id", sequence}, {"type_id", type_id}}}});
    if (last >= 0) items.push_back({{"SpecialToken", {{"id", tokens[static_cast<size_t>(last)]}, {"type_id", type_id}}}});
    return items;
  };
  Json pair = single(0, "A");
  for (Json& item : single(1, "B")) pair.push_back(std::move(item));
  Json specials = Json::object();
  for (const int32_t id : {first, last}) {
    if (id < 0) continue;
    const std::string& text = tokens[static_cast<size_t>(id)];
    specials[text] = {{"id", text}, {"ids", {id}}, {"tokens", {text}}};
  }
  return {{"type", "TemplateProcessing"}, {"single", single(0, "A")}, {"pair", pair}, {"special_tokens", specials}};
}

// Offsets of the code-point boundaries inside `piece` (not 0, not the end).
std::vector<size_t> inner_boundaries(const std::string& piece) {
  std::vector<size_t> out;
  for (size_t pos = 0; pos < piece.size();) {
    pos += text::utf8_char_length(piece, pos);
    if (pos < piece.size()) out.push_back(pos);
  }
  return out;
}

// SentencePiece's merges in priority order (see the header).
Json spm_merges(const LlmVocab& vocab) {
  std::unordered_map<std::string_view, int32_t> ids;
  for (int32_t id = 0; id < vocab.n_tokens(); ++id) {
    const LlmTokenType type = vocab.token_type(id);
    if (type == LlmTokenType::kNormal || type == LlmTokenType::kByte) ids.emplace(vocab.tokens[static_cast<size_t>(id)], id);
  }
  struct Merge {
    float score;
    int32_t id, left, right;
    size_t cut;
  };
  std::vector<Merge> merges;
  for (int32_t id = 0; id < vocab.n_tokens(); ++id) {
    if (vocab.token_type(id) != LlmTokenType::kNormal) continue;
    const std::string& piece = vocab.tokens[static_cast<size_t>(id)];
    for (const size_t cut : inner_boundaries(piece)) {
      const auto left = ids.find(std::string_view(piece).substr(0, cut));
      const auto right = ids.find(std::string_view(piece).substr(cut));
      if (left != ids.end() && right != ids.end()) merges.push_back({vocab.score(id), id, left->second, right->second, cut});
    }
  }
  std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    return std::tuple(-a.score, a.id, a.left, a.right) < std::tuple(-b.score, b.id, b.left, b.right);
  });
  Json out = Json::array();
  for (const Merge& m : merges) {
    const std::string& piece = vocab.tokens[static_cast<size_t>(m.id)];
    out.push_back(piece.substr(0, m.cut) + " " + piece.substr(m.cut));
  }
  return out;
}

Json spm_document(const LlmVocab& vocab) {
  const bool prefix = vocab.add_space_prefix;
  Json normalizer = nullptr;
  Json pre_tokenizer = nullptr;
  if (vocab.space_prefix == text::LlmSpacePrefix::kEveryStretch || !prefix) {
    Json steps = Json::array();
    if (prefix) steps.push_back({{"type", "Prepend"}, {"prepend", kSpmSpace}});
    steps.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpmSpace}});
    normalizer = {{"type", "Sequence"}, {"normalizers", steps}};
  } else {
    const char* scheme = vocab.space_prefix == text::LlmSpacePrefix::kFirstUnlessSpace ? "first" : "always";
    pre_tokenizer = {{"type", "Metaspace"}, {"replacement", kSpmSpace}, {"prepend_scheme", scheme}, {"split", false}};
  }
  Json decoders = Json::array({{{"type", "Replace"}, {"pattern", {{"String", kSpmSpace}}}, {"content", " "}},
                               {{"type", "ByteFallback"}},
                               {{"type", "Fuse"}}});
  if (prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  Json tokens = Json::object();
  for (int32_t id = 0; id < vocab.n_tokens(); ++id) tokens[vocab.tokens[static_cast<size_t>(id)]] = id;
  return {{"added_tokens", added_tokens(vocab, vocab.tokens)},
          {"normalizer", normalizer},
          {"pre_tokenizer", pre_tokenizer},
          {"post_processor", template_processing(vocab.tokens, vocab.add_bos ? vocab.bos_id : -1,
                                                 vocab.add_eos ? vocab.eos_id : -1)},
          {"decoder", {{"type", "Sequence"}, {"decoders", decoders}}},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", vocab.unk_id >= 0 ? Json(vocab.tokens[static_cast<size_t>(vocab.unk_id)]) : Json(nullptr)},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", true},
            {"byte_fallback", true},
            {"ignore_merges", false},
            {"vocab", tokens},
            {"merges", spm_merges(vocab)}}}};
}

Json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

Result<Json> bpe_document(const LlmVocab& vocab) {
  std::vector<std::string> patterns = vocab.pre_patterns;
  if (patterns.empty()) {
    LMAAS_ASSIGN_OR_RETURN(patterns, text::pre_tokenizer_patterns(vocab.pre));
  }
  Json steps = Json::array();
  for (const std::string& pattern : patterns) {
    steps.push_back(
        {{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}});
  }
  steps.push_back(byte_level(false));
  Json tokens = Json::object();
  for (int32_t id = 0; id < vocab.n_tokens(); ++id) {
    if (!is_added(vocab.token_type(id))) tokens[vocab.tokens[static_cast<size_t>(id)]] = id;
  }
  const bool ignore_merges = vocab.ignore_merges || (vocab.pre_patterns.empty() && text::pre_tokenizer_ignores_merges(vocab.pre));
  Json decoder = byte_level(true);
  decoder["add_prefix_space"] = true;
  return Json{{"added_tokens", added_tokens(vocab, vocab.tokens)},
              {"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", steps}}},
              {"post_processor", template_processing(vocab.tokens, vocab.add_bos ? vocab.bos_id : -1,
                                                     vocab.add_eos ? vocab.eos_id : -1)},
              {"decoder", decoder},
              {"model",
               {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", vocab.unk_id >= 0 ? Json(vocab.tokens[static_cast<size_t>(vocab.unk_id)]) : Json(nullptr)},
                {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", ignore_merges},
                {"vocab", tokens},
                {"merges", vocab.merges}}}};
}

// llama.cpp's WordPiece tokens in WordPiece's own form.
Result<std::vector<std::string>> wordpiece_tokens(const LlmVocab& vocab) {
  std::vector<std::string> out;
  std::unordered_map<std::string, int32_t> seen;
  for (int32_t id = 0; id < vocab.n_tokens(); ++id) {
    const std::string& token = vocab.tokens[static_cast<size_t>(id)];
    if (token.starts_with(kSpmSpace) && token.size() > kSpmSpace.size()) {
      out.push_back(token.substr(kSpmSpace.size()));
    } else if (vocab.token_type(id) != LlmTokenType::kNormal || (token.front() == '[' && token.back() == ']')) {
      out.push_back(token);
    } else {
      out.push_back("##" + token);
    }
    if (const auto [it, inserted] = seen.emplace(out.back(), id); !inserted) {
      return Status(Code::kInvalidArgument,
                    fmt::format("{}: WordPiece tokens {} and {} both become '{}' in tokenizer.json", vocab.source,
                                it->second, id, out.back()));
    }
  }
  return out;
}

Json wordpiece_document(const LlmVocab& vocab, const std::vector<std::string>& pieces) {
  Json tokens = Json::object();
  for (size_t id = 0; id < pieces.size(); ++id) tokens[pieces[id]] = id;
  return {{"added_tokens", added_tokens(vocab, pieces)},
              {"normalizer",
               {{"type", "BertNormalizer"},
                {"clean_text", true},
                {"handle_chinese_chars", true},
                {"strip_accents", nullptr},
                {"lowercase", true}}},
              {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
              {"post_processor", template_processing(pieces, vocab.add_bos ? vocab.bos_id : -1,
                                                     vocab.add_sep ? vocab.sep_id : -1)},
              {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
              {"model",
               {{"type", "WordPiece"},
                {"unk_token", pieces[static_cast<size_t>(vocab.unk_id)]},
                {"continuing_subword_prefix", "##"},
                {"max_input_chars_per_word", 100},
                {"vocab", tokens}}}};
}

Status check_utf8(const LlmVocab& vocab) {
  for (int32_t id = 0; id < vocab.n_tokens(); ++id) {
    const std::string& token = vocab.tokens[static_cast<size_t>(id)];
    if (const auto at = text::find_invalid_utf8(token)) {
      return Status(Code::kInvalidArgument,
                    fmt::format("{}: token {} is not UTF-8 (byte {}), which tokenizer.json cannot hold", vocab.source,
                                id, *at));
    }
  }
  return Status::ok();
}

Json token_object(const std::string& content) {
  return {{"__type", "AddedToken"}, {"content", content}, {"lstrip", false},
          {"normalized", false},    {"rstrip", false},    {"single_word", false}};
}

// `tokens`: the texts as tokenizer.json spells them.
Json config_document(const LlmVocab& vocab, const std::vector<std::string>& tokens,
                     const HfTokenizerWriteOptions& options) {
  const bool wordpiece = vocab.type == LlmVocabType::kWordPiece;
  Json config = {{"add_bos_token", vocab.add_bos}, {"add_eos_token", vocab.add_eos}};
  const std::pair<const char*, int32_t> named[] = {
      {"bos_token", vocab.bos_id}, {"eos_token", vocab.eos_id}, {"unk_token", vocab.unk_id}, {"pad_token", vocab.pad_id},
      {"cls_token", vocab.cls_id}, {"sep_token", vocab.sep_id}, {"mask_token", vocab.mask_id}};
  for (const auto& [key, id] : named) {
    if (id >= 0) config[key] = token_object(tokens[static_cast<size_t>(id)]);
  }
  config["clean_up_tokenization_spaces"] = wordpiece;
  if (options.model_max_length > 0) config["model_max_length"] = options.model_max_length;
  if (wordpiece) config["do_lower_case"] = true;
  config["tokenizer_class"] = vocab.type == LlmVocabType::kSpm ? "LlamaTokenizer"
                              : wordpiece                      ? "BertTokenizer"
                                                               : "PreTrainedTokenizerFast";
  if (!options.chat_template.empty()) config["chat_template"] = options.chat_template;
  return config;
}

Json generation_document(const LlmVocab& vocab) {
  Json out = Json::object();
  if (vocab.bos_id >= 0) out["bos_token_id"] = vocab.bos_id;
  std::vector<int32_t> ends;
  for (const int32_t id : {vocab.eos_id, vocab.eot_id, vocab.eom_id}) {
    if (id >= 0 && std::find(ends.begin(), ends.end(), id) == ends.end()) ends.push_back(id);
  }
  if (ends.size() == 1) out["eos_token_id"] = ends[0];
  if (ends.size() > 1) out["eos_token_id"] = ends;
  if (vocab.pad_id >= 0) out["pad_token_id"] = vocab.pad_id;
  return out;
}

// tokenizer.json, and the token texts as it spells them.
struct TokenizerDocument {
  Json json;
  std::vector<std::string> tokens;
};

Result<TokenizerDocument> tokenizer_document(const LlmVocab& vocab) {
  LMAAS_RETURN_IF_ERROR(vocab.validate());
  LMAAS_RETURN_IF_ERROR(check_utf8(vocab));
  TokenizerDocument out;
  out.tokens = vocab.tokens;
  Json body;
  if (vocab.type == LlmVocabType::kSpm) {
    body = spm_document(vocab);
  } else if (vocab.type == LlmVocabType::kBpe) {
    LMAAS_ASSIGN_OR_RETURN(body, bpe_document(vocab));
  } else {
    LMAAS_ASSIGN_OR_RETURN(out.tokens, wordpiece_tokens(vocab));
    body = wordpiece_document(vocab, out.tokens);
  }
  out.json = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}};
  for (auto& [key, value] : body.items()) out.json[key] = std::move(value);
  return out;
}

}  // namespace

Result<std::string> hf_tokenizer_json(const text::LlmVocab& vocab) {
  LMAAS_ASSIGN_OR_RETURN(const TokenizerDocument document, tokenizer_document(vocab));
  return document.json.dump();
}

Status write_hf_tokenizer(const std::string& dir, const text::LlmVocab& vocab, const HfTokenizerWriteOptions& options) {
  LMAAS_ASSIGN_OR_RETURN(const TokenizerDocument tokenizer, tokenizer_document(vocab));
  const std::filesystem::path folder(dir);
  LMAAS_RETURN_IF_ERROR(write_file_atomic((folder / "tokenizer.json").string(), tokenizer.json.dump(2) + "\n"));
  LMAAS_RETURN_IF_ERROR(write_file_atomic((folder / "tokenizer_config.json").string(),
                                          config_document(vocab, tokenizer.tokens, options).dump(2) + "\n"));
  return write_file_atomic((folder / "generation_config.json").string(), generation_document(vocab).dump(2) + "\n");
}

}  // namespace lmaas

// Internal to read_hf_tokenizer (hf_tokenizer.cpp, hf_tokenizer_models.cpp): JSON field access that
// names the file and field path in every error, and the token table built from model.vocab and
// added_tokens.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "formats/json_file.h"
#include "text/llm_vocab.h"

namespace lmaas::hf_detail {

using Json = nlohmann::json;

// The JSON file accessors (formats/json_file.h), by their short names here.
using lmaas::as_bool;
using lmaas::as_int;
using lmaas::as_string;
using lmaas::bool_or;
using lmaas::JsonFile;
using lmaas::member;
using lmaas::show;

// `object`'s "type" member (at path + ".type"), kDataLoss when it is missing or not a string.
Result<std::string> type_of(const JsonFile& file, const Json& object, const std::string& path);

// id → text and type, text → id, over model.vocab and added_tokens (ids 0..n-1, each once).
struct TokenTable {
  std::vector<std::string> tokens;
  std::vector<text::LlmTokenType> types;
  std::unordered_map<std::string, int32_t> ids;

  int32_t find(const std::string& text) const {  // -1 when absent
    const auto it = ids.find(text);
    return it == ids.end() ? -1 : it->second;
  }
};

// From tokenizer.json's model, normalizer and pre_tokenizer: vocab.type, tokens, token_types, scores,
// merges, pre, pre_patterns, ignore_merges, add_space_prefix, space_prefix and unk_id (see
// hf_tokenizer.h for the mapping). `model_type` is "BPE" or "WordPiece".
Status read_model(const JsonFile& file, const std::string& model_type, const TokenTable& table,
                  text::LlmVocab& vocab);

}  // namespace lmaas::hf_detail

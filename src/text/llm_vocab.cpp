// LlmVocab validation and type names (see llm_vocab.h).
#include "text/llm_vocab.h"

#include <limits>
#include <unordered_map>

namespace lmaas::text {
namespace {

std::string where(const LlmVocab& vocab) {
  return "tokenizer vocab" + (vocab.source.empty() ? std::string() : " '" + vocab.source + "'");
}

Status invalid(const LlmVocab& vocab, const std::string& message) {
  return Status(Code::kInvalidArgument, where(vocab) + ": " + message);
}

bool is_byte_piece(std::string_view text) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
  };
  return text.size() == 6 && text.substr(0, 3) == "<0x" && hex(text[3]) && hex(text[4]) && text[5] == '>';
}

Status check_tokens(const LlmVocab& vocab) {
  if (vocab.tokens.empty()) return invalid(vocab, "tokens is empty, expected at least one token");
  if (vocab.tokens.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return invalid(vocab,
                   "tokens has " + std::to_string(vocab.tokens.size()) + " entries, expected at most 2^31-1");
  }
  std::unordered_map<std::string_view, size_t> first_id;
  first_id.reserve(vocab.tokens.size());
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const std::string& token = vocab.tokens[i];
    if (token.empty()) return invalid(vocab, "token " + std::to_string(i) + " is empty, expected its text");
    const auto [it, inserted] = first_id.emplace(token, i);
    if (!inserted) {
      return invalid(vocab, "token " + std::to_string(i) + " '" + token + "' duplicates token " +
                                std::to_string(it->second) + ", expected every token text once");
    }
  }
  return Status::ok();
}

Status check_arrays(const LlmVocab& vocab) {
  const size_t n = vocab.tokens.size();
  if (!vocab.scores.empty() && vocab.scores.size() != n) {
    return invalid(vocab, "scores has " + std::to_string(vocab.scores.size()) + " entries, expected " +
                              std::to_string(n) + " (one per token) or none");
  }
  if (!vocab.token_types.empty() && vocab.token_types.size() != n) {
    return invalid(vocab, "token_types has " + std::to_string(vocab.token_types.size()) +
                              " entries, expected " + std::to_string(n) + " (one per token) or none");
  }
  for (size_t i = 0; i < vocab.token_types.size(); ++i) {
    const auto type = static_cast<int32_t>(vocab.token_types[i]);
    if (type < 0 || type > static_cast<int32_t>(LlmTokenType::kByte)) {
      return invalid(vocab,
                     "token_types[" + std::to_string(i) + "] is " + std::to_string(type) +
                         ", expected 0..6 (undefined, normal, unknown, control, user_defined, unused, byte)");
    }
    if (vocab.token_types[i] == LlmTokenType::kByte && !is_byte_piece(vocab.tokens[i])) {
      return invalid(vocab,
                     "byte token " + std::to_string(i) + " is '" + vocab.tokens[i] + "', expected <0xXX>");
    }
  }
  for (size_t i = 0; i < vocab.merges.size(); ++i) {
    const std::string& merge = vocab.merges[i];
    const size_t space = merge.find(' ', 1);
    if (space == std::string::npos || space + 1 >= merge.size()) {
      return invalid(vocab, "merges[" + std::to_string(i) + "] is '" + merge + "', expected 'left right'");
    }
  }
  return Status::ok();
}

Status check_special_ids(const LlmVocab& vocab) {
  const struct {
    const char* name;
    int32_t id;
  } ids[] = {{"bos_id", vocab.bos_id}, {"eos_id", vocab.eos_id}, {"eot_id", vocab.eot_id},
             {"eom_id", vocab.eom_id}, {"unk_id", vocab.unk_id}, {"pad_id", vocab.pad_id},
             {"sep_id", vocab.sep_id}, {"cls_id", vocab.cls_id}, {"mask_id", vocab.mask_id}};
  for (const auto& [name, id] : ids) {
    if (id < -1 || id >= vocab.n_tokens()) {
      return invalid(vocab, std::string(name) + " is " + std::to_string(id) +
                                ", expected -1 (absent) or 0.." + std::to_string(vocab.n_tokens() - 1));
    }
  }
  const struct {
    const char* flag;
    bool on;
    const char* name;
    int32_t id;
  } needs[] = {{"add_bos", vocab.add_bos, "bos_id", vocab.bos_id},
               {"add_eos", vocab.add_eos, "eos_id", vocab.eos_id},
               {"add_sep", vocab.add_sep, "sep_id", vocab.sep_id}};
  for (const auto& need : needs) {
    if (need.on && need.id < 0) {
      return invalid(vocab,
                     std::string(need.flag) + " is set but " + need.name + " is absent, expected a token id");
    }
  }
  if (vocab.type == LlmVocabType::kWordPiece && vocab.unk_id < 0) {
    return invalid(vocab, "unk_id is absent, expected a token id (WordPiece maps unknown words to it)");
  }
  return Status::ok();
}

}  // namespace

std::string_view llm_vocab_type_name(LlmVocabType type) {
  switch (type) {
    case LlmVocabType::kSpm:
      return "llama";
    case LlmVocabType::kBpe:
      return "gpt2";
    case LlmVocabType::kWordPiece:
      return "bert";
  }
  return "unknown";
}

Result<LlmVocabType> llm_vocab_type_from_name(std::string_view name) {
  if (name == "llama") return LlmVocabType::kSpm;
  if (name == "gpt2") return LlmVocabType::kBpe;
  if (name == "bert") return LlmVocabType::kWordPiece;
  return Status(Code::kInvalidArgument, "tokenizer model '" + std::string(name) +
                                            "' is not supported, expected llama (SentencePiece BPE), gpt2 "
                                            "(byte-level BPE) or bert (WordPiece)");
}

Status LlmVocab::validate() const {
  LMAAS_RETURN_IF_ERROR(check_tokens(*this));
  LMAAS_RETURN_IF_ERROR(check_arrays(*this));
  return check_special_ids(*this);
}

}  // namespace lmaas::text

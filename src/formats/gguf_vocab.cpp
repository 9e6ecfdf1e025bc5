// vocab_from_gguf: see gguf_vocab.h.
#include "formats/gguf_vocab.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "text/pre_tokenizer.h"

namespace lmaas {
namespace {

using text::LlmTokenType;
using text::LlmVocab;
using text::LlmVocabType;

std::string key(std::string_view name) { return "tokenizer.ggml." + std::string(name); }

Status annotate(const GgufFile& file, const Status& status) {
  return Status(status.code(), "GGUF '" + file.source_name() + "': " + status.message());
}

Result<std::vector<std::string>> string_array(const GgufFile& file, std::string_view name) {
  LMAAS_ASSIGN_OR_RETURN(const std::vector<std::string_view> views, file.get_string_array(key(name)));
  return std::vector<std::string>(views.begin(), views.end());
}

Status read_arrays(const GgufFile& file, LlmVocab& vocab) {
  LMAAS_ASSIGN_OR_RETURN(vocab.tokens, string_array(file, "tokens"));
  if (file.find(key("scores")) != nullptr) {
    auto scores = file.get_f32_array(key("scores"));
    if (!scores.is_ok()) {  // llama.cpp also takes integer scores
      auto integers = file.get_i32_array(key("scores"));
      if (!integers.is_ok()) return scores.status();
      vocab.scores.assign(integers->begin(), integers->end());
    } else {
      vocab.scores = std::move(scores).value();
    }
  }
  if (file.find(key("token_type")) != nullptr) {
    LMAAS_ASSIGN_OR_RETURN(const std::vector<int32_t> types, file.get_i32_array(key("token_type")));
    for (int32_t type : types) vocab.token_types.push_back(static_cast<LlmTokenType>(type));
  }
  if (vocab.type == LlmVocabType::kBpe || file.find(key("merges")) != nullptr) {
    LMAAS_ASSIGN_OR_RETURN(vocab.merges, string_array(file, "merges"));
  }
  return Status::ok();
}

// A default id, or -1 when the vocab has no such token.
int32_t fit(const LlmVocab& vocab, int32_t id) { return id < vocab.n_tokens() ? id : -1; }

Status read_special_ids(const GgufFile& file, LlmVocab& vocab) {
  const bool spm = vocab.type == LlmVocabType::kSpm;
  const bool bert = vocab.type == LlmVocabType::kWordPiece;
  const struct {
    const char* name;
    int32_t* id;
    int32_t fallback;
  } ids[] = {{"cls_token_id", &vocab.cls_id, bert ? fit(vocab, 101) : -1},
             {"bos_token_id", &vocab.bos_id, spm ? fit(vocab, 1) : -1},
             {"eos_token_id", &vocab.eos_id, spm ? fit(vocab, 2) : -1},
             {"eot_token_id", &vocab.eot_id, -1},
             {"eom_token_id", &vocab.eom_id, -1},
             {"unknown_token_id", &vocab.unk_id,
              spm    ? fit(vocab, 0)
              : bert ? fit(vocab, 100)
                     : -1},
             {"seperator_token_id", &vocab.sep_id, bert ? fit(vocab, 102) : -1},
             {"padding_token_id", &vocab.pad_id, bert ? fit(vocab, 0) : -1},
             {"mask_token_id", &vocab.mask_id, bert ? fit(vocab, 103) : -1}};
  for (const auto& entry : ids) {
    *entry.id = entry.fallback;
    if (file.find(key(entry.name)) == nullptr) continue;
    LMAAS_ASSIGN_OR_RETURN(const int64_t id, file.get_i64(key(entry.name)));
    // Out-of-range values are kept (clamped to int32) so that validate() reports them.
    *entry.id = static_cast<int32_t>(std::max<int64_t>(std::min<int64_t>(id, INT32_MAX), INT32_MIN));
  }
  if (bert && file.find(key("bos_token_id")) == nullptr) vocab.bos_id = vocab.cls_id;  // [CLS] opens the text
  return Status::ok();
}

Status read_flags(const GgufFile& file, LlmVocab& vocab) {
  const bool spm = vocab.type == LlmVocabType::kSpm;
  const bool bert = vocab.type == LlmVocabType::kWordPiece;
  const bool bos_default = spm || bert || text::pre_tokenizer_ignores_merges(vocab.pre);
  LMAAS_ASSIGN_OR_RETURN(vocab.add_bos, file.get_bool_or(key("add_bos_token"), bos_default));
  LMAAS_ASSIGN_OR_RETURN(vocab.add_eos, file.get_bool_or(key("add_eos_token"), false));
  LMAAS_ASSIGN_OR_RETURN(vocab.add_sep, file.get_bool_or(key("add_sep_token"), bert));
  LMAAS_ASSIGN_OR_RETURN(vocab.add_space_prefix, file.get_bool_or(key("add_space_prefix"), spm));
  return Status::ok();
}

Status read_vocab(const GgufFile& file, LlmVocab& vocab) {
  LMAAS_ASSIGN_OR_RETURN(const std::string model, file.get_string(key("model")));
  LMAAS_ASSIGN_OR_RETURN(vocab.type, text::llm_vocab_type_from_name(model));
  LMAAS_ASSIGN_OR_RETURN(vocab.pre, file.get_string_or(key("pre"), "default"));
  LMAAS_RETURN_IF_ERROR(read_arrays(file, vocab));
  LMAAS_RETURN_IF_ERROR(read_special_ids(file, vocab));
  return read_flags(file, vocab);
}

}  // namespace

Result<text::LlmVocab> vocab_from_gguf(const GgufFile& file) {
  LlmVocab vocab;
  vocab.source = file.source_name();
  const Status status = read_vocab(file, vocab);
  if (!status.is_ok()) {
    // The getters' messages already name the file; the model-name check does not.
    return status.message().find(file.source_name()) == std::string::npos ? annotate(file, status) : status;
  }
  LMAAS_RETURN_IF_ERROR(vocab.validate());
  return vocab;
}

}  // namespace lmaas

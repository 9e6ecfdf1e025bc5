// add_vocab_to_gguf: see gguf_vocab_writer.h.
#include "formats/gguf_vocab_writer.h"

#include <string>
#include <vector>

namespace lmaas {

void add_vocab_to_gguf(GgufWriter& w, const text::LlmVocab& v) {
  w.add_string("tokenizer.ggml.model", text::llm_vocab_type_name(v.type));
  if (v.type == text::LlmVocabType::kBpe) w.add_string("tokenizer.ggml.pre", v.pre);
  w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(v.tokens));
  if (!v.scores.empty()) w.add_array("tokenizer.ggml.scores", std::span<const float>(v.scores));
  if (!v.token_types.empty()) {
    std::vector<int32_t> types;
    types.reserve(v.token_types.size());
    for (text::LlmTokenType t : v.token_types) types.push_back(static_cast<int32_t>(t));
    w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
  }
  if (!v.merges.empty()) w.add_array("tokenizer.ggml.merges", std::span<const std::string>(v.merges));
  const std::pair<const char*, int32_t> ids[] = {
      {"tokenizer.ggml.bos_token_id", v.bos_id},       {"tokenizer.ggml.eos_token_id", v.eos_id},
      {"tokenizer.ggml.eot_token_id", v.eot_id},       {"tokenizer.ggml.eom_token_id", v.eom_id},
      {"tokenizer.ggml.unknown_token_id", v.unk_id},   {"tokenizer.ggml.padding_token_id", v.pad_id},
      {"tokenizer.ggml.seperator_token_id", v.sep_id}, {"tokenizer.ggml.cls_token_id", v.cls_id},
      {"tokenizer.ggml.mask_token_id", v.mask_id}};
  for (const auto& [key, id] : ids) {
    if (id >= 0) w.add_u32(key, static_cast<uint32_t>(id));
  }
  w.add_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w.add_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  if (v.add_sep) w.add_bool("tokenizer.ggml.add_sep_token", v.add_sep);
  if (v.type == text::LlmVocabType::kSpm) w.add_bool("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
}

}  // namespace lmaas

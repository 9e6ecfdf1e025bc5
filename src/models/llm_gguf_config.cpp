// llama_config_from_gguf: see llm_gguf_config.h.
#include "models/llm_gguf_config.h"

#include <cmath>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace lmaas::models {

namespace {

namespace k = kernels;

Status unsupported(const GgufFile& file, const std::string& what) {
  return Status(Code::kUnimplemented, fmt::format("{}: {}", file.source_name(), what));
}

// YaRN as llama.cpp reads it: rope.scaling.factor, .original_context_length (default: the context length)
// and .attn_factor (default 1, times YaRN's own temperature); beta_fast and beta_slow are llama.cpp's 32 and 1.
Status read_yarn(const GgufFile& file, const std::string& p, LlamaConfig& c) {
  LMAAS_ASSIGN_OR_RETURN(const float factor, file.get_f32_or(p + "rope.scaling.factor", 1.0f));
  LMAAS_ASSIGN_OR_RETURN(const int64_t original, file.get_i64_or(p + "rope.scaling.original_context_length", c.context_length));
  LMAAS_ASSIGN_OR_RETURN(const float attn_factor, file.get_f32_or(p + "rope.scaling.attn_factor", 1.0f));
  for (const auto& [key, value] : {std::pair<const char*, double>{"rope.scaling.factor", factor},
                                   {"rope.scaling.original_context_length", static_cast<double>(original)},
                                   {"rope.scaling.attn_factor", attn_factor}}) {
    if (!(value > 0.0) || !std::isfinite(value)) {
      return Status(Code::kDataLoss, fmt::format("{}: {}{} = {}; expected > 0", file.source_name(), p, key, value));
    }
  }
  c.set_yarn({factor, static_cast<double>(original)}, attn_factor * k::ref::yarn_mscale(factor));
  return Status::ok();
}

// Llama 3.1's RoPE scaling: tensor rope_freqs.weight, F32 [head_dim / 2], each pair's frequency divisor.
Status read_rope_freq_factors(const GgufFile& file, LlamaConfig& c) {
  const GgufTensor* t = file.find_tensor("rope_freqs.weight");
  if (t == nullptr) return Status::ok();
  if (t->type != GgmlType::kF32 || t->n_elements != c.head_dim / 2) {
    return Status(Code::kDataLoss, fmt::format("{}: tensor rope_freqs.weight is {} with {} values; expected F32 with "
                                               "head_dim / 2 = {}",
                                               file.source_name(), t->type_name, t->n_elements, c.head_dim / 2));
  }
  c.rope_freq_factors.resize(static_cast<size_t>(t->n_elements));
  std::memcpy(c.rope_freq_factors.data(), t->data, c.rope_freq_factors.size() * sizeof(float));
  return Status::ok();
}

}  // namespace

Result<LlamaConfig> llama_config_from_gguf(const GgufFile& file) {
  LMAAS_ASSIGN_OR_RETURN(std::string arch, file.get_string("general.architecture"));
  if (arch != "llama") {
    return unsupported(file, fmt::format("architecture \"{}\" is not supported (supported: llama)", arch));
  }
  const std::string p = arch + ".";
  LlamaConfig c;
  c.arch = arch;
  LMAAS_ASSIGN_OR_RETURN(c.dim, file.get_i64(p + "embedding_length"));
  LMAAS_ASSIGN_OR_RETURN(c.hidden_dim, file.get_i64(p + "feed_forward_length"));
  LMAAS_ASSIGN_OR_RETURN(c.n_layers, file.get_i64(p + "block_count"));
  LMAAS_ASSIGN_OR_RETURN(c.n_heads, file.get_i64(p + "attention.head_count"));
  LMAAS_ASSIGN_OR_RETURN(c.context_length, file.get_i64(p + "context_length"));
  LMAAS_ASSIGN_OR_RETURN(c.n_kv_heads, file.get_i64_or(p + "attention.head_count_kv", c.n_heads));
  LMAAS_ASSIGN_OR_RETURN(c.head_dim, file.get_i64_or(p + "attention.key_length", c.n_heads > 0 ? c.dim / c.n_heads : 0));
  LMAAS_ASSIGN_OR_RETURN(const int64_t value_length, file.get_i64_or(p + "attention.value_length", c.head_dim));
  if (value_length != c.head_dim) {
    return unsupported(file, fmt::format("attention key length {} differs from value length {}", c.head_dim, value_length));
  }
  LMAAS_ASSIGN_OR_RETURN(c.rms_eps, file.get_f32_or(p + "attention.layer_norm_rms_epsilon", 1e-5f));
  LMAAS_ASSIGN_OR_RETURN(c.rope_theta, file.get_f32_or(p + "rope.freq_base", 10000.0f));
  LMAAS_ASSIGN_OR_RETURN(const int64_t rope_dims, file.get_i64_or(p + "rope.dimension_count", c.head_dim));
  if (rope_dims != c.head_dim) {
    return unsupported(file, fmt::format("rotary embedding over {} of {} head dimensions (partial rotary) is not supported",
                                         rope_dims, c.head_dim));
  }
  LMAAS_ASSIGN_OR_RETURN(const std::string scaling, file.get_string_or(p + "rope.scaling.type", "none"));
  if (scaling == "linear") {
    LMAAS_ASSIGN_OR_RETURN(const float factor, file.get_f32_or(p + "rope.scaling.factor", 1.0f));
    if (!(factor > 0.0f) || !std::isfinite(factor)) {
      return Status(Code::kDataLoss, fmt::format("{}: {}rope.scaling.factor = {}; expected > 0", file.source_name(), p, factor));
    }
    c.rope_freq_scale = 1.0f / factor;
  } else if (scaling == "yarn") {
    LMAAS_RETURN_IF_ERROR(read_yarn(file, p, c));
  } else if (scaling != "none") {
    return unsupported(file, fmt::format("RoPE scaling \"{}\" is not supported (supported: none, linear, yarn)", scaling));
  }
  if (c.rope_yarn.factor > 1.0 && file.find_tensor("rope_freqs.weight") != nullptr) {
    return unsupported(file, "rope_freqs.weight together with YaRN scaling is not supported");
  }
  if (c.rope_yarn.factor <= 1.0) LMAAS_RETURN_IF_ERROR(read_rope_freq_factors(file, c));
  // Vocabulary size: the embedding's rows (the metadata key is optional and sometimes absent).
  const GgufTensor* embd = file.find_tensor("token_embd.weight");
  if (embd == nullptr || embd->dims.size() != 2) {
    return Status(Code::kDataLoss, fmt::format("{}: tensor token_embd.weight is missing or not a matrix", file.source_name()));
  }
  c.n_vocab = static_cast<int64_t>(embd->dims[1]);
  const Status valid = c.validate();
  if (!valid.is_ok()) return Status(Code::kDataLoss, fmt::format("{}: {}", file.source_name(), valid.message()));
  return c;
}

}  // namespace lmaas::models

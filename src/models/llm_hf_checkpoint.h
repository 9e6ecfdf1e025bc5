// Hugging Face LLaMA-architecture checkpoints: a directory holding
//   config.json                      model_type "llama" or "mistral" (LlamaForCausalLM / MistralForCausalLM)
//   model.safetensors                or model.safetensors.index.json + the shards its weight_map names
//   tokenizer.json (+ tokenizer_config.json, generation_config.json)   read by formats/hf_tokenizer.h
// config.json fields: vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
// num_key_value_heads (default: the heads), head_dim (default hidden_size / heads), max_position_embeddings,
// rms_norm_eps, rope_theta (default 10000), rope_scaling (null, linear, or llama3: per-pair frequency
// divisors, written to GGUF as rope_freqs.weight), tie_word_embeddings (default false),
// hidden_act "silu". Biases, other activations, other RoPE scalings and a sliding window shorter than the
// context are kUnimplemented, named.
// Tensors (F32, F16 or BF16) stay memory-mapped; they are mapped to GGUF's names (model.embed_tokens.weight →
// token_embd.weight, model.layers.N.self_attn.q_proj.weight → blk.N.attn_q.weight, …). HF stores the
// query/key rows for rotate-half RoPE, so the model runs with RopeStyle::kHalves; writing it as GGUF
// reorders those rows (llm_writer.h).
#pragma once

#include <string>

#include "base/status.h"
#include "models/llama_model.h"
#include "models/llama_weights.h"

namespace lmaas::models {

// True when `dir` looks like a Hugging Face checkpoint: a config.json with "model_type" or "architectures"
// and no lmaas "task", beside model.safetensors or model.safetensors.index.json.
bool is_hf_checkpoint(const std::string& dir);

// What `dir`/config.json says: the LLaMA hyperparameters (n_vocab from vocab_size) and whether the output
// matrix is the embedding. Errors name the file and field.
struct HfConfig {
  LlamaConfig llama;
  bool tie_word_embeddings = false;
};
Result<HfConfig> read_hf_config(const std::string& dir);

// The weights of `dir` for `config`: memory-mapped shards (kept alive by LlamaWeights::owners); errors name
// the shard and tensor (a missing or unknown-typed tensor, a shape that does not match config.json).
Result<LlamaWeights> llama_weights_from_hf(const std::string& dir, const HfConfig& config);

}  // namespace lmaas::models

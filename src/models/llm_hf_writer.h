// write_llama_hf: a LLaMA model as a Hugging Face checkpoint directory, the layout llm_hf_checkpoint.h reads
// and transformers' LlamaForCausalLM.from_pretrained loads:
//   config.json              model_type "llama", the hyperparameters, rope_scaling, tie_word_embeddings,
//                            torch_dtype, bos/eos token ids
//   model.safetensors        or model-0000i-of-0000n.safetensors shards of at most max_shard_bytes each plus
//                            model.safetensors.index.json (metadata.total_size, weight_map)
//   tokenizer.json, tokenizer_config.json, generation_config.json   formats/hf_tokenizer_writer.h
// Weight matrices are stored as F32, F16 or BF16 (quantized models are dequantized); norms stay F32, so
// nothing they hold is rounded (transformers casts them to the model's dtype on load). Query/key rows are
// stored for rotate-half RoPE, reordered from GGUF's adjacent pairs when the model uses those. A tied output
// matrix is not written (tie_word_embeddings true).
// RoPE scaling: linear → {"rope_type": "linear"}; YaRN and Llama 3.1 scaling with the settings they were read
// with. Per-pair frequency divisors from a GGUF file (rope_freqs.weight, which keeps no settings) are written
// as Llama 3.1 scaling when settings are found that give back every divisor (within float rounding);
// otherwise, and for linear scaling combined with divisors, kUnimplemented naming what cannot be written.
// The directory is published atomically (written beside it, then renamed into place).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "kernels/quant_types.h"
#include "models/llama_model.h"
#include "text/llm_vocab.h"

namespace lmaas::models {

struct HfWriteOptions {
  kernels::WeightType type = kernels::WeightType::kF16;  // kF32, kF16 or kBF16
  std::string chat_template;                             // Jinja source for tokenizer_config.json; "" none
  int64_t max_shard_bytes = 5'000'000'000;               // transformers' save_pretrained default, 5 GB
};

Status write_llama_hf(const std::string& dir, const LlamaModel& model, const text::LlmVocab& vocab,
                      const HfWriteOptions& options);

// The Llama 3.1 settings that give `config`'s rope_freq_factors back (see above), or kUnimplemented saying
// why there are none. Only the ratios to the original context are determined by the divisors; the original
// context is taken as Llama 3.1's 8192.
Result<kernels::ref::Llama3Scaling> llama3_scaling_from_divisors(const LlamaConfig& config);

}  // namespace lmaas::models

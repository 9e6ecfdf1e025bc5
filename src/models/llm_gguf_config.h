// llama_config_from_gguf: the LLaMA hyperparameters of a GGUF file, from its `<arch>.*` metadata keys.
// Architectures: "llama" (LLaMA 1/2/3, Mistral, TinyLlama, … all write this). Others are refused with
// kUnimplemented naming the architecture. RoPE: frequency base, linear scaling and the per-pair frequency
// factors of tensor rope_freqs.weight (Llama 3.1) are read; other scaling types (yarn, longrope) and partial
// rotary dimensions are refused rather than computed wrongly.
#pragma once

#include "base/status.h"
#include "formats/gguf.h"
#include "models/llama_model.h"

namespace lmaas::models {

Result<LlamaConfig> llama_config_from_gguf(const GgufFile& file);

}  // namespace lmaas::models

// load_llm: opens a pretrained decoder-only language model and its tokenizer from
//   - a GGUF file (`general.architecture` "llama"; the tokenizer from its `tokenizer.ggml.*` metadata), or
//   - a llama2.c checkpoint (`.bin`) with its llama2.c tokenizer file (options.tokenizer_path, or
//     `tokenizer.bin` / `tok<vocab>.bin` beside the checkpoint), or
//   - a Hugging Face LLaMA checkpoint directory (llm_hf_checkpoint.h: config.json, safetensors, tokenizer.json),
//   - an lmaas generator directory (llm_bundle.h: config.json naming one of the above, or one .gguf file).
// Weights stay memory-mapped in their stored type; the model keeps the mapping alive.
// Errors name the file and what is wrong or unsupported (an architecture, a weight type, a missing tensor).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "formats/llama2c_checkpoint.h"
#include "models/llama_model.h"
#include "models/llama_weights.h"
#include "text/llm_tokenizer.h"

namespace lmaas::models {

struct LlmLoadOptions {
  std::string tokenizer_path;  // llama2.c checkpoints only; empty: look beside the checkpoint
};

struct LoadedLlm {
  std::shared_ptr<LlamaModel> model;
  std::shared_ptr<const text::LlmTokenizer> tokenizer;
  std::string format;         // "gguf" | "llama2c" | "hf"
  std::string name;           // general.name, or the file's stem
  std::string chat_template;  // tokenizer.chat_template (Jinja source) when the file carries one
};

Result<LoadedLlm> load_llm(const std::string& path, const LlmLoadOptions& options = {});

// The LLaMA hyperparameters of a llama2.c checkpoint header (RMSNorm eps 1e-5, RoPE theta 10000, as
// llama2.c fixes them).
LlamaConfig llama_config_from_llama2c(const Llama2cHeader& header);

// Only the tokenizer of such a file or directory (a vocabulary-only GGUF file is enough).
Result<std::shared_ptr<const text::LlmTokenizer>> load_llm_tokenizer(const std::string& path,
                                                                     const LlmLoadOptions& options = {});

}  // namespace lmaas::models

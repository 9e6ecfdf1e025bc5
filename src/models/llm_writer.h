// Writing LLaMA models as GGUF files (llama.cpp's layout, readable by llama.cpp and by load_llm):
// `general.architecture` "llama", the `llama.*` hyperparameters, the tokenizer as `tokenizer.ggml.*`,
// and the tensors under GGUF names with rows = output features. Every weight matrix is stored in the
// requested type (converted row by row: dequantize to float32, quantize again — the same rules as
// llama.cpp's quantizer, so Q8_0/Q4_0 bytes from float32 match its output); a matrix whose rows do not
// split into whole 32-weight blocks is stored as F16 instead; norms stay float32. A tied
// output matrix is written once (no output.weight), as llama.cpp does. A model whose RoPE pairs halves of a
// head (Hugging Face checkpoints) gets its query/key rows reordered to GGUF's adjacent pairs.
// Also: a randomly initialised LLaMA of a given shape, for benchmarks (weights ~ N(0, 0.02²), norms 1).
#pragma once

#include <string>

#include "base/status.h"
#include "kernels/quant_types.h"
#include "models/llama_model.h"
#include "text/llm_vocab.h"

namespace lmaas::models {

struct LlmWriteOptions {
  kernels::WeightType type = kernels::WeightType::kF16;
  std::string name;           // general.name
  std::string chat_template;  // tokenizer.chat_template (Jinja source); "" for none
};

// Writes `model` (any weight types) with `vocab` to `path` atomically.
Status write_llama_gguf(const std::string& path, const LlamaModel& model, const text::LlmVocab& vocab,
                        const LlmWriteOptions& options);

// A LLaMA with random weights and a synthetic SentencePiece-style vocabulary of config.n_vocab pieces
// (<unk>, <s>, </s>, the 256 byte pieces, then made-up words), for speed measurements only.
struct RandomLlama {
  std::shared_ptr<LlamaModel> model;
  text::LlmVocab vocab;
};
RandomLlama random_llama(const LlamaConfig& config, uint64_t seed);

}  // namespace lmaas::models

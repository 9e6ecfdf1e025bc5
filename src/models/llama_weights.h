// Building LlamaWeights from the tensors of a model file, whatever the file format: each loader lists its
// tensors under GGUF's names and hands over a lookup. Shapes are checked against the config here.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "models/llama_model.h"

namespace lmaas::models {

// A weight as a model file stores it: rows are output features (GGUF ne1), columns input features (ne0).
struct NamedWeight {
  kernels::WeightType type = kernels::WeightType::kF32;
  int64_t n_rows = 0, n_cols = 0;
  const void* data = nullptr;
};

// Builds LLaMA weights from tensors named as in GGUF (token_embd.weight, blk.N.attn_q.weight, …,
// output.weight optional: absent means tied to the embedding). `find` returns nullptr for a missing name.
// Vectors (norms) stored as F16/BF16 are converted to float32 buffers owned by the result.
using FindWeight = std::function<const NamedWeight*(const std::string& name)>;
using NamedWeights = std::unordered_map<std::string, NamedWeight>;
// A FindWeight over `named`, which must outlive it.
FindWeight find_in(const NamedWeights& named);
Result<LlamaWeights> llama_weights_from_named(const LlamaConfig& config, const FindWeight& find);

}  // namespace lmaas::models

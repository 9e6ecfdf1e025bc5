// llama_weights_from_named: see llama_weights.h.
#include "models/llama_weights.h"

#include <memory>
#include <vector>

#include <fmt/format.h>

#include "kernels/cpu/quant.h"

namespace lmaas::models {

namespace k = lmaas::kernels;

namespace {

// A float32 copy of a vector stored in another float type, kept alive by `owners`.
Result<const float*> vector_as_f32(const NamedWeight& w, const std::string& name, int64_t n,
                                   std::vector<std::shared_ptr<const void>>& owners) {
  if (w.n_rows * w.n_cols != n) {
    return Status(Code::kInvalidArgument, fmt::format("weights: {} has {} values; expected {}", name, w.n_rows * w.n_cols, n));
  }
  if (w.type == k::WeightType::kF32) return static_cast<const float*>(w.data);
  auto copy = std::make_shared<std::vector<float>>(static_cast<size_t>(n));
  k::cpu::dequantize_row(w.type, w.data, copy->data(), n);
  owners.push_back(copy);
  return static_cast<const float*>(copy->data());
}

WeightMatrix as_matrix(const NamedWeight& w) { return {w.type, w.data, w.n_rows, w.n_cols, nullptr}; }

}  // namespace

FindWeight find_in(const NamedWeights& named) {
  return [&named](const std::string& name) -> const NamedWeight* {
    const auto it = named.find(name);
    return it == named.end() ? nullptr : &it->second;
  };
}

Result<LlamaWeights> llama_weights_from_named(const LlamaConfig& config, const FindWeight& find) {
  LlamaWeights w;
  auto matrix = [&](const std::string& name, WeightMatrix& out) -> Status {
    const NamedWeight* found = find(name);
    if (found == nullptr) return Status(Code::kInvalidArgument, fmt::format("weights: tensor {} is missing", name));
    if (found->data == nullptr) {
      return Status(Code::kUnimplemented, fmt::format("weights: tensor {} has a type lmaas cannot compute with "
                                                      "(supported: f32, f16, bf16, q8_0, q4_0; requantize with lmaas "
                                                      "quantize or llama.cpp's llama-quantize)",
                                                      name));
    }
    out = as_matrix(*found);
    return Status::ok();
  };
  auto vector = [&](const std::string& name, const float*& out) -> Status {
    const NamedWeight* found = find(name);
    if (found == nullptr || found->data == nullptr) {
      return Status(Code::kInvalidArgument, fmt::format("weights: tensor {} is missing or of an unsupported type", name));
    }
    LMAAS_ASSIGN_OR_RETURN(out, vector_as_f32(*found, name, config.dim, w.owners));
    return Status::ok();
  };
  LMAAS_RETURN_IF_ERROR(matrix("token_embd.weight", w.token_embedding));
  LMAAS_RETURN_IF_ERROR(vector("output_norm.weight", w.output_norm));
  if (find("output.weight") != nullptr) {
    LMAAS_RETURN_IF_ERROR(matrix("output.weight", w.output));
  } else {
    w.output = w.token_embedding;
  }
  w.layers.resize(static_cast<size_t>(config.n_layers));
  for (int64_t i = 0; i < config.n_layers; ++i) {
    LlamaLayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = fmt::format("blk.{}.", i);
    LMAAS_RETURN_IF_ERROR(vector(p + "attn_norm.weight", l.attn_norm));
    LMAAS_RETURN_IF_ERROR(vector(p + "ffn_norm.weight", l.ffn_norm));
    LMAAS_RETURN_IF_ERROR(matrix(p + "attn_q.weight", l.wq));
    LMAAS_RETURN_IF_ERROR(matrix(p + "attn_k.weight", l.wk));
    LMAAS_RETURN_IF_ERROR(matrix(p + "attn_v.weight", l.wv));
    LMAAS_RETURN_IF_ERROR(matrix(p + "attn_output.weight", l.wo));
    LMAAS_RETURN_IF_ERROR(matrix(p + "ffn_gate.weight", l.w_gate));
    LMAAS_RETURN_IF_ERROR(matrix(p + "ffn_up.weight", l.w_up));
    LMAAS_RETURN_IF_ERROR(matrix(p + "ffn_down.weight", l.w_down));
  }
  LMAAS_RETURN_IF_ERROR(validate_weights(config, w));
  return w;
}

}  // namespace lmaas::models

// LlamaModel: inference of LLaMA-family decoder-only language models (RMSNorm, rotary positions, SwiGLU,
// grouped-query attention, tied or separate output embedding) over weights of any WeightType — the
// matrices stay in their stored type (often memory-mapped from the model file) and go through the fused
// dequantize-dot kernels; norm weights are float32.
// One forward() call runs a batch of tokens that may belong to several sequences (continuous batching):
// every token names its sequence's KV-cache slot and its position; tokens of one sequence must come in
// position order, each attending to its own sequence's positions 0..pos. Positions of a slot are written
// by the call that runs them, so a sequence may be fed in chunks.
// Threads: forward() is called by one thread at a time (the model's owner); kernels inside use the
// global pool. The weights are read-only and shared.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "kernels/ref/llm.h"
#include "kernels/quant_types.h"
#include "models/kv_cache.h"

namespace lmaas::kernels::cpu {
struct PackedQuantMatrix;  // kernels/cpu/quant.h
}

namespace lmaas::models {

struct LlamaConfig {
  std::string arch = "llama";
  int64_t n_vocab = 0;
  int64_t dim = 0;             // embedding width
  int64_t hidden_dim = 0;      // feed-forward width
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;      // < n_heads: grouped-query attention
  int64_t head_dim = 0;        // dim / n_heads unless the file says otherwise
  int64_t context_length = 0;  // longest sequence the model was trained for
  float rms_eps = 1e-5f;
  float rope_theta = 10000.0f;
  float rope_freq_scale = 1.0f;  // linear position scaling: positions are multiplied by this
  // Per rotated pair (head_dim / 2 of them): its frequency is divided by this (Llama 3.1's RoPE scaling;
  // GGUF tensor rope_freqs.weight). Empty: none.
  std::vector<float> rope_freq_factors;
  // YaRN scaling (factor > 1; GGUF rope.scaling.type yarn, HF rope_type yarn): its frequencies are in
  // rope_freq_factors, kept here to write the model back.
  kernels::ref::YarnScaling rope_yarn;
  // Llama 3.1 scaling (HF rope_type llama3), when read from a file that names it (a GGUF file holds only the
  // divisors, rope_freqs.weight): its frequencies are in rope_freq_factors, kept here to write the model back.
  kernels::ref::Llama3Scaling rope_llama3;
  float rope_mscale = 1.0f;  // RoPE's cos and sin are multiplied by this (YaRN's attention temperature)
  kernels::ref::RopeStyle rope_style = kernels::ref::RopeStyle::kAdjacentPairs;

  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  // Names the first field out of range (a zero size, heads that do not divide, an odd head size).
  Status validate() const;
  // Turns YaRN scaling on: keeps `yarn`, sets rope_freq_factors to its per-pair divisors (head_dim and
  // rope_theta must be set) and rope_mscale to `mscale`.
  void set_yarn(const kernels::ref::YarnScaling& yarn, double mscale);
  // Turns Llama 3.1 scaling on: keeps `scaling` and sets rope_freq_factors to its divisors.
  void set_llama3(const kernels::ref::Llama3Scaling& scaling);
};

// A weight matrix [n_rows, n_cols] in its stored type, rows contiguous (GGUF's ne0 = n_cols). Q8_0/Q4_0
// projections also get a packed copy (kernels/cpu/quant.h) when the model is built: the products read it,
// everything else (embedding rows, writers) reads `data`.
struct WeightMatrix {
  kernels::WeightType type = kernels::WeightType::kF32;
  const void* data = nullptr;
  int64_t n_rows = 0;
  int64_t n_cols = 0;
  std::shared_ptr<const kernels::cpu::PackedQuantMatrix> packed;
};

struct LlamaLayerWeights {
  const float* attn_norm = nullptr;  // [dim]
  WeightMatrix wq, wk, wv, wo;       // [q_dim, dim], [kv_dim, dim] ×2, [dim, q_dim]
  const float* ffn_norm = nullptr;   // [dim]
  WeightMatrix w_gate, w_up, w_down;  // [hidden, dim] ×2, [dim, hidden]
};

struct LlamaWeights {
  WeightMatrix token_embedding;  // [n_vocab, dim]
  std::vector<LlamaLayerWeights> layers;
  const float* output_norm = nullptr;  // [dim]
  WeightMatrix output;                 // [n_vocab, dim]; the embedding when tied
  // Whatever owns the bytes the pointers above point into (a mapped file, converted buffers).
  std::vector<std::shared_ptr<const void>> owners;
};

// Checks every matrix's shape against the config and that no pointer is missing; names the tensor.
Status validate_weights(const LlamaConfig& config, const LlamaWeights& weights);

// One token of a forward batch.
struct BatchToken {
  int32_t token = 0;
  int32_t pos = 0;   // position in its sequence
  int32_t slot = 0;  // the sequence's KV-cache slot
  bool want_logits = false;
};

class LlamaModel {
 public:
  // Takes validated config and weights (see validate_weights); packs the Q8_0/Q4_0 projections (as much
  // memory again as those weights take; the file's pages they were read from can then be dropped).
  LlamaModel(LlamaConfig config, LlamaWeights weights);

  const LlamaConfig& config() const { return config_; }
  const LlamaWeights& weights() const { return weights_; }
  // Number of parameters (elements of every matrix and norm; a tied output counts once).
  int64_t n_params() const;

  // Runs `batch` (see the file comment); writes one row of n_vocab logits per token with want_logits, in
  // batch order, to `logits` (row stride n_vocab). Throws lmaas::Error on a token id, slot or position
  // out of range, or a position that skips ahead of what the slot holds.
  void forward(std::span<const BatchToken> batch, KvCache& cache, float* logits);

  // The final hidden states (after the output norm) instead of logits: one row of `dim` per token with
  // want_logits. For embeddings.
  void forward_hidden(std::span<const BatchToken> batch, KvCache& cache, float* hidden);

 private:
  void run_layers(std::span<const BatchToken> batch, KvCache& cache);
  void attention(std::span<const BatchToken> batch, KvCache& cache, int64_t layer);
  void store_entries(const float* x, const KvCache& cache, void* rows, int32_t pos, int64_t hd) const;
  // Normalised final states of the tokens that want logits, gathered into rows of final_.
  int64_t gather_final(std::span<const BatchToken> batch);
  // For the batch's rows: x_ += xb_ (the residual) if `add`, then xb_ = rms_norm(x_) · norm_weight unless it is
  // null; in parallel over tokens.
  void add_and_norm(bool add, const float* norm_weight, int64_t n_tokens);
  // y[r] = rms_norm(x[r]) · weight for n_rows rows of dim.
  void norm_rows(const float* x, const float* weight, float* y, int64_t n_rows) const;

  LlamaConfig config_;
  LlamaWeights weights_;
  bool avx2_;  // the kernels/cpu versions of the small kernels run (else the references)
  // Scratch, grown to the largest batch seen: residual x_, normed xb_, q_/k_/v_, attention output att_,
  // feed-forward gate_/up_, final_ rows of tokens that want output, each token's RoPE cos/sin.
  std::vector<float> x_, xb_, q_, k_, v_, att_, gate_, up_, final_, rope_cos_, rope_sin_;
};

}  // namespace lmaas::models

// Sampler: picks each next token of one generated sequence from the model's logits, with the controls
// of the OpenAI API and llama.cpp: temperature, top-k, top-p, min-p, repetition / presence / frequency
// penalties, a seed, and log-probabilities of the chosen and the most likely tokens.
// Order of operations (llama.cpp's default chain): penalties → temperature 0 means argmax (ties: lowest
// id); otherwise top-k → softmax at the temperature → top-p → min-p → draw.
// - repetition_penalty r (llama.cpp / Hugging Face): a token seen in the last `penalty_last_n` tokens has
//   its logit divided by r when positive, multiplied by r when negative.
// - presence / frequency penalties (OpenAI): logit −= presence·[count > 0] + frequency·count over the same
//   window.
// - Log-probabilities are those of the model's distribution (log-softmax of the raw logits, before
//   penalties and truncation), as OpenAI and vLLM report them.
// The draw uses the sampler's own Rng, so a sequence depends only on its seed and its logits: the same
// seed gives the same tokens whether the request ran alone or beside others.
// Not thread-safe: one Sampler per sequence.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/rng.h"
#include "base/status.h"

namespace lmaas::runtime {

struct SamplingParams {
  float temperature = 1.0f;  // 0 = greedy
  int32_t top_k = 0;         // 0 = all tokens
  float top_p = 1.0f;        // 1 = all tokens
  float min_p = 0.0f;        // 0 = off
  float repetition_penalty = 1.0f;  // 1 = off
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int32_t penalty_last_n = 64;  // window of the penalties (prompt and generated tokens); -1 = everything
  uint64_t seed = 0;
  bool logprobs = false;       // report the chosen token's log-probability (costs a pass over the vocabulary)
  int32_t n_top_logprobs = 0;  // how many alternatives to report per token (OpenAI's top_logprobs)
  // Names the first field out of range (temperature < 0, top_p outside (0, 1], …).
  Status validate() const;
};

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0.0f;
};

struct SampledToken {
  int32_t token = 0;
  float logprob = 0.0f;               // of `token` under the model's distribution (when asked for)
  std::vector<TokenLogprob> top;      // the n_top_logprobs most likely tokens, most likely first
};

class Sampler {
 public:
  explicit Sampler(SamplingParams params);

  // Records tokens that count for the penalties without sampling (the prompt).
  void accept(int32_t token);
  // Picks the next token from `logits` (n_vocab values; used as scratch and left modified) and records it.
  SampledToken sample(std::span<float> logits);

  const SamplingParams& params() const { return params_; }

 private:
  void apply_penalties(std::span<float> logits) const;
  int32_t draw(std::span<const float> logits);
  // Draws i in [0, n) with probability weight_of(i) / Σ weight_of (sums in double, in index order).
  template <typename WeightOf>
  size_t draw_index(size_t n, const WeightOf& weight_of);

  SamplingParams params_;
  Rng rng_;
  std::deque<int32_t> recent_;                  // the penalty window, oldest first
  std::unordered_map<int32_t, int32_t> counts_;  // occurrences of each token in recent_
  using Candidate = std::pair<double, int32_t>;  // (unnormalised probability, token)
  std::vector<Candidate> candidates_;            // scratch
  std::vector<float> weights_;                   // scratch: exp((logit - max) / temperature)
  std::vector<double> block_sums_;               // scratch of draw_index
  std::vector<float> raw_logits_;                // scratch: logits before the penalties
};

// log-softmax of logits[token] and the n most likely tokens with their log-probabilities.
SampledToken model_logprobs(std::span<const float> logits, int32_t token, int32_t n_top);

}  // namespace lmaas::runtime

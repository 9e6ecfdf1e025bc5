// Helpers shared by the LLM golden tests.
#pragma once

#include <algorithm>
#include <vector>

#include "models/kv_cache.h"
#include "models/llama_model.h"

namespace lmaas::models {

// Greedy continuation: the prompt as one batch, then `n` argmax tokens one step at a time.
inline std::vector<int32_t> greedy_tokens(LlamaModel& model, const std::vector<int32_t>& prompt, int n) {
  const LlamaConfig& c = model.config();
  KvCache cache(c.n_layers, c.n_kv_heads, c.head_dim, 1, c.context_length);
  std::vector<float> logits(static_cast<size_t>(c.n_vocab));
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < prompt.size(); ++i) batch.push_back({prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size()});
  std::vector<int32_t> out;
  for (int step = 0; step < n; ++step) {
    model.forward(batch, cache, logits.data());
    const auto next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(next);
    batch = {{next, static_cast<int32_t>(cache.length(0)), 0, true}};
  }
  return out;
}

}  // namespace lmaas::models

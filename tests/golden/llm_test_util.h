// Helpers shared by the LLM golden tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/kv_cache.h"
#include "models/llama_model.h"
#include "models/llm_loader.h"

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

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// Logits of every position of `ids` fed as one prompt.
inline std::vector<float> prefill_logits(LlamaModel& model, const std::vector<int32_t>& ids) {
  const LlamaConfig& c = model.config();
  KvCache cache(c.n_layers, c.n_kv_heads, c.head_dim, 1, 64);
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < ids.size(); ++i) batch.push_back({ids[i], static_cast<int32_t>(i), 0, true});
  std::vector<float> logits(ids.size() * static_cast<size_t>(c.n_vocab));
  model.forward(batch, cache, logits.data());
  return logits;
}

// The largest difference between `logits` and the rows of a reference file (every value must be there).
inline double max_error(const std::vector<float>& logits, const nlohmann::json& expected_rows) {
  double err = 0;
  size_t i = 0;
  for (const auto& row : expected_rows) {
    for (const auto& want : row) err = std::max(err, std::abs(logits.at(i++) - want.get<double>()));
  }
  EXPECT_EQ(i, logits.size());
  return err;
}

inline const std::string kStories260KDir = std::string(LMAAS_SOURCE_DIR) + "/../shared/data/models/stories260K/";

// stories260K (in whatever file `llm` was loaded from) against llama2.c's reference: the prompt's token ids,
// its logits within float32 tolerance, and 40 greedy tokens of "Once upon a time".
inline void expect_stories260k_reference(const LoadedLlm& llm, const std::string& what) {
  const auto ref = read_json(kStories260KDir + "reference/greedy_and_logits.json");
  const auto ids = ref["logits_prompt_token_ids"].get<std::vector<int32_t>>();
  EXPECT_EQ(llm.tokenizer->encode(ref["logits_prompt"].get<std::string>(), true, false), ids) << what;
  EXPECT_LT(max_error(prefill_logits(*llm.model, ids), ref["logits"]), 1e-4) << what;
  const auto c = ref["cases"][1];  // "Once upon a time"
  const auto prompt = c["prompt_token_ids"].get<std::vector<int32_t>>();
  auto expected = c["token_ids_after_bos"].get<std::vector<int32_t>>();
  expected.erase(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(prompt.size() - 1));
  expected.resize(40);
  EXPECT_EQ(greedy_tokens(*llm.model, prompt, 40), expected) << what;
}

}  // namespace lmaas::models

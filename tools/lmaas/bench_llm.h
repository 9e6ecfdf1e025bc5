// `lmaas bench --llm FILE`: prompt-processing and generation speed of a pretrained model (bench_llm.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "models/kv_cache.h"

namespace lmaas::cli {

struct LlmBenchArgs {
  std::string model;
  int64_t prompt_tokens = 512;
  int64_t gen_tokens = 128;
  int64_t sequences = 1;  // tg: sequences generated together, one token each per model call
  int repetitions = 5;
  int threads = 2;
  uint64_t seed = 1;
  bool measure_bandwidth = true;
  models::KvType kv_type = models::KvType::kF16;  // as llama-bench's default cache type
};

int run_llm_bench(const LlmBenchArgs& args);

}  // namespace lmaas::cli

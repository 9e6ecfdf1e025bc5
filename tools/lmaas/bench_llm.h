// `lmaas bench --llm FILE`: prompt-processing and generation speed of a pretrained model (bench_llm.cpp).
#pragma once

#include <cstdint>
#include <string>

namespace lmaas::cli {

struct LlmBenchArgs {
  std::string model;
  int64_t prompt_tokens = 512;
  int64_t gen_tokens = 128;
  int repetitions = 5;
  int threads = 2;
  uint64_t seed = 1;
  bool measure_bandwidth = true;
};

int run_llm_bench(const LlmBenchArgs& args);

}  // namespace lmaas::cli

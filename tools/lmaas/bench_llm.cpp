// `lmaas bench --llm FILE`: llama-bench's two measurements on a pretrained model file —
//   pp: one forward pass over a prompt of --prompt-tokens random tokens (logits of the last one), and
//   tg: --gen-tokens steps from an empty cache (logits every step), as generation runs; each step holds one
//       token of each of --sequences sequences, as a server's continuous batch does, and tokens/s counts them all —
// each repeated --repetitions times after one warm-up, the medians printed as one JSON line with the
// weights' bytes streamed per step and the fraction of the machine's read bandwidth
// (measured in the same run) that generation reached.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/rng.h"
#include "base/thread_pool.h"
#include "bench_llm.h"
#include "bench_stats.h"
#include "kernels/cpu/bandwidth.h"
#include "kernels/cpu/quant.h"
#include "models/llm_loader.h"
#include "train/progress.h"

namespace lmaas::cli {
namespace {

// Bytes of weights one generated token reads: every matrix once (a tied output counts twice: it is
// read by the output projection; the embedding lookup reads one row).
int64_t weight_bytes_per_token(const models::LlamaModel& model) {
  auto bytes = [](const models::WeightMatrix& m) { return kernels::row_bytes(m.type, m.n_cols) * m.n_rows; };
  const models::LlamaWeights& w = model.weights();
  int64_t total = bytes(w.output);
  for (const models::LlamaLayerWeights& l : w.layers) {
    total += bytes(l.wq) + bytes(l.wk) + bytes(l.wv) + bytes(l.wo) + bytes(l.w_gate) + bytes(l.w_up) + bytes(l.w_down);
  }
  return total;
}

}  // namespace

int run_llm_bench(const LlmBenchArgs& args) {
  set_num_threads(args.threads);
  auto loaded = models::load_llm(args.model);
  if (!loaded.is_ok()) throw Error(loaded.status());
  models::LlamaModel& model = *loaded.value().model;
  const models::LlamaConfig& c = model.config();
  const int64_t positions = std::max(args.prompt_tokens, args.gen_tokens);
  if (positions > c.context_length) {
    throw Error(Code::kInvalidArgument, fmt::format("{} positions exceed the model's context length {}", positions,
                                                    c.context_length));
  }
  const int64_t n_seq = args.sequences;
  models::KvCache cache(c.n_layers, c.n_kv_heads, c.head_dim, static_cast<int>(n_seq), positions, args.kv_type);
  std::vector<float> logits(static_cast<size_t>(n_seq * c.n_vocab));
  Rng rng(args.seed);
  auto random_token = [&] { return static_cast<int32_t>(rng.below(static_cast<uint64_t>(c.n_vocab))); };

  auto prompt_pass = [&] {
    std::vector<models::BatchToken> batch;
    for (int64_t i = 0; i < args.prompt_tokens; ++i) {
      batch.push_back({random_token(), static_cast<int32_t>(i), 0, i + 1 == args.prompt_tokens});
    }
    cache.clear(0);
    const auto t0 = std::chrono::steady_clock::now();
    model.forward(batch, cache, logits.data());
    return train::seconds_since(t0);
  };
  auto generation = [&] {
    for (int64_t s = 0; s < n_seq; ++s) cache.clear(static_cast<int>(s));
    std::vector<models::BatchToken> step(static_cast<size_t>(n_seq));
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < args.gen_tokens; ++i) {
      for (int64_t s = 0; s < n_seq; ++s) {
        step[static_cast<size_t>(s)] = {random_token(), static_cast<int32_t>(i), static_cast<int32_t>(s), true};
      }
      model.forward(step, cache, logits.data());
    }
    return train::seconds_since(t0);
  };

  std::vector<double> pp, tg;
  if (args.prompt_tokens > 0) {
    prompt_pass();
    for (int r = 0; r < args.repetitions; ++r) pp.push_back(static_cast<double>(args.prompt_tokens) / prompt_pass());
  }
  if (args.gen_tokens > 0) {
    generation();
    for (int r = 0; r < args.repetitions; ++r) tg.push_back(static_cast<double>(args.gen_tokens * n_seq) / generation());
  }
  const double tg_rate = tg.empty() ? 0.0 : median(tg);
  const auto bytes_per_token = weight_bytes_per_token(model);
  nlohmann::json out = {{"impl", "lmaas"},
                        {"model", args.model},
                        {"weight_type", std::string(kernels::weight_type_name(model.weights().layers.at(0).wq.type))},
                        {"n_params", model.n_params()},
                        {"threads", args.threads},
                        {"isa", kernels::cpu::quant_isa_name(kernels::cpu::best_quant_isa())},
                        {"prompt_tokens", args.prompt_tokens},
                        {"gen_tokens", args.gen_tokens},
                        {"sequences", n_seq},
                        {"repetitions", args.repetitions},
                        {"pp_tokens_per_s", pp.empty() ? 0.0 : median(pp)},
                        {"tg_tokens_per_s", tg_rate},
                        {"pp_runs", pp},
                        {"tg_runs", tg},
                        {"weight_bytes_per_token", bytes_per_token}};
  if (args.measure_bandwidth && !tg.empty()) {
    const double bandwidth = kernels::cpu::measure_read_bandwidth();
    out["read_bandwidth_gb_s"] = bandwidth / 1e9;
    const double steps_per_s = tg_rate / static_cast<double>(n_seq);  // each step reads the weights once
    out["tg_weight_gb_s"] = steps_per_s * static_cast<double>(bytes_per_token) / 1e9;
    out["tg_bandwidth_fraction"] = steps_per_s * static_cast<double>(bytes_per_token) / bandwidth;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace lmaas::cli

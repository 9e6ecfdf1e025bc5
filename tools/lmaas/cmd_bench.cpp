// `lmaas bench`: the seed-shaped classifier (vocab 20000, embedding 128, hidden 128, length 64,
// right-padded; transformer: 2 layers, d 128, 4 heads, ff 512, mean-pool) on synthetic data. Prints one
// JSON line: samples/s, median step time, median latency (infer), the model's GEMM FLOPs per step, the
// SGEMM rate measured in the same run, and the fraction of that limit reached. bench/ sets it beside the
// same model in PyTorch (bench/pytorch_twin.py uses the same FLOP formula).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "autograd/tape.h"
#include "base/thread_pool.h"
#include "bench_llm.h"
#include "bench_stats.h"
#include "commands.h"
#include "kernels/cpu/cpu.h"
#include "models/text_classifier.h"
#include "ops/ops.h"
#include "optim/optimizer.h"

namespace lmaas::cli {
namespace {

constexpr int64_t kVocab = 20000, kDim = 128, kSeqLen = 64, kFeedForward = 512, kHeads = 4, kClasses = 2;
constexpr int kBatchesCycled = 8;

struct BenchArgs {
  std::string arch = "lstm", mode = "train";
  int64_t batch = 64, steps = 20, warmup = 3;
  int threads = 2;
  uint64_t seed = 1;
};

struct Batch {
  Tensor ids, labels;
};

// Ids uniform in [1, vocab), lengths uniform in [16, 64], right-padded with 0; random binary labels.
Batch synthetic_batch(Rng& rng, int64_t batch) {
  Batch b{Tensor::zeros({batch, kSeqLen}, DType::kI32), Tensor::empty({batch}, DType::kI32)};
  for (int64_t i = 0; i < batch; ++i) {
    int64_t len = 16 + static_cast<int64_t>(rng.below(kSeqLen - 16 + 1));
    for (int64_t t = 0; t < len; ++t) b.ids.data<int32_t>()[i * kSeqLen + t] = 1 + static_cast<int32_t>(rng.below(kVocab - 1));
    b.labels.data<int32_t>()[i] = static_cast<int32_t>(rng.below(kClasses));
  }
  return b;
}

// GEMM FLOPs of one forward pass (2·m·n·k per matmul over the full padded length); ×3 for training.
double model_flops(const std::string& arch, int64_t batch, bool train) {
  const double b = static_cast<double>(batch), t = kSeqLen, d = kDim;
  double flops = 2 * b * d * kClasses;  // classifier head
  if (arch == "transformer") {
    const double per_layer = 4 * 2 * b * t * d * d       // q, k, v, out projections
                             + 2 * 2 * b * t * t * d      // QKᵀ and P·V over all heads
                             + 2 * 2 * b * t * d * kFeedForward;  // feed-forward
    flops += 2 * per_layer;
  } else {
    const double gates = arch == "lstm" ? 4 : 3;
    flops += 2 * b * t * d * gates * d + 2 * b * t * d * gates * d;  // input + recurrent projections
  }
  return train ? 3 * flops : flops;
}

// SGEMM rate on 1024³ through the engine's GEMM with the configured threads (median of 10, GFLOP/s).
double measure_gemm_gflops() {
  const int64_t n = 1024;
  Tensor a = Tensor::full({n, n}, 0.5), b = Tensor::full({n, n}, 0.25), c = Tensor::zeros({n, n});
  std::vector<double> rates;
  for (int i = 0; i < 11; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    kernels::cpu::gemm(false, false, n, n, n, 1.0f, a.data<float>(), n, b.data<float>(), n, 0.0f, c.data<float>(), n);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i > 0) rates.push_back(2.0 * n * n * n / s / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

int run_bench(const BenchArgs& args) {
  set_num_threads(args.threads);
  const bool train = args.mode == "train";
  models::TextClassifierConfig config;
  config.arch = models::parse_encoder_arch(args.arch).value();
  config.vocab_size = kVocab, config.embedding_dim = kDim, config.hidden_size = kDim, config.n_classes = kClasses;
  config.num_layers = config.arch == models::EncoderArch::kTransformer ? 2 : 1;
  config.n_heads = kHeads, config.dim_feedforward = kFeedForward, config.max_len = kSeqLen;
  config.dropout = config.arch == models::EncoderArch::kTransformer ? 0.1 : 0.0;
  config.seed = args.seed;
  models::TextClassifier model(config);
  model.train(train);
  // Inference serves a fixed model, as `lmaas serve` does: recurrent encoders look up their precomputed
  // first-layer input projections (flops_per_step still counts the full model's arithmetic).
  if (!train) model.freeze_for_inference();
  optim::Adam adam(model.parameters(), optim::AdamOptions{});
  // Several batches, cycled, so that batch-1 latency is a median over sequence lengths (as the twin does).
  Rng rng(args.seed);
  std::vector<Batch> batches;
  for (int i = 0; i < kBatchesCycled; ++i) batches.push_back(synthetic_batch(rng, args.batch));
  std::vector<double> step_ms;
  for (int64_t i = 0; i < args.warmup + args.steps; ++i) {
    const Batch& batch = batches[static_cast<size_t>(i) % batches.size()];
    auto t0 = std::chrono::steady_clock::now();
    if (train) {
      adam.zero_grad();
      Tensor loss = ops::cross_entropy(model.forward(batch.ids), batch.labels);
      autograd::backward(loss);
      adam.step();
    } else {
      autograd::NoGradGuard no_grad;
      Tensor logits = model.forward(batch.ids);
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i >= args.warmup) step_ms.push_back(ms);
  }
  const double step = median(step_ms), gflops = measure_gemm_gflops(), flops = model_flops(args.arch, args.batch, train);
  nlohmann::json out = {{"impl", "lmaas"}, {"arch", args.arch}, {"mode", args.mode}, {"batch", args.batch},
                        {"threads", args.threads}, {"samples_per_s", args.batch / (step / 1000.0)},
                        {"step_ms_median", step}, {"latency_ms", train ? nlohmann::json(nullptr) : nlohmann::json(step)},
                        {"flops_per_step", flops}, {"gemm_gflops", gflops},
                        {"flop_limit_fraction", (flops / (gflops * 1e9)) / (step / 1000.0)}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<BenchArgs>();
  auto llm = std::make_shared<LlmBenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Time the seed-shaped classifier (train or infer), or with --llm a pretrained language model; "
               "prints one JSON line");
  cmd->add_option("--llm", llm->model, "GGUF file or llama2.c checkpoint: measure prompt processing and generation");
  cmd->add_option("--prompt-tokens", llm->prompt_tokens, "--llm: prompt length (0 = skip)")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--gen-tokens", llm->gen_tokens, "--llm: tokens generated (0 = skip)")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--sequences", llm->sequences,
                  "--llm: sequences generated together (tg: one token of each per step, as a server's batch)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--repetitions", llm->repetitions, "--llm: timed runs of each (the median is reported)")
      ->check(CLI::Range(1, 1000));
  cmd->add_flag("!--no-bandwidth", llm->measure_bandwidth, "--llm: skip measuring the memory bandwidth");
  cmd->add_option("--kv-type", llm->kv_type, "--llm: KV-cache entries f16 (default, as llama-bench) | f32 "
                  "| q8_0")
      ->transform(CLI::CheckedTransformer(models::kv_type_names()));
  cmd->add_option("--arch", args->arch, "lstm | gru | transformer")->check(CLI::IsMember({"lstm", "gru", "transformer"}));
  cmd->add_option("--mode", args->mode, "train | infer")->check(CLI::IsMember({"train", "infer"}));
  cmd->add_option("--batch", args->batch, "sequences per step")->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", args->threads, "threads of the kernel pool")->check(CLI::Range(1, 256));
  cmd->add_option("--steps", args->steps, "timed steps")->check(CLI::Range(1, 100000));
  cmd->add_option("--warmup", args->warmup, "untimed steps first")->check(CLI::Range(0, 100000));
  cmd->add_option("--seed", args->seed, "seed for weights and data");
  cmd->callback([args, llm, &exit_code] {
    if (llm->model.empty()) {
      exit_code = run_bench(*args);
      return;
    }
    llm->threads = args->threads;
    llm->seed = args->seed;
    exit_code = run_llm_bench(*llm);
  });
}

}  // namespace lmaas::cli

// lmaas generate: continues a prompt with a pretrained language model (GGUF or llama2.c checkpoint) and
// prints the continuation as it is generated. It runs through the same scheduler as the server, so a
// seed gives the same text here as in an API request. --temperature 0 is greedy decoding.
// With --timings, prompt and generation speeds go to stderr as one JSON line.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>

#include <nlohmann/json.hpp>

#include "base/thread_pool.h"
#include "commands.h"
#include "models/llm_loader.h"
#include "scheduler/llm_scheduler.h"

namespace lmaas::cli {
namespace {

struct GenerateArgs {
  std::string model, tokenizer, prompt;
  runtime::GenerationParams params;
  int64_t seed = -1;
  int threads = 0;
  int64_t context = 0;
  models::KvType kv_type = models::KvType::kF16;
  bool timings = false;
};

int run_generate(GenerateArgs args) {
  if (args.threads > 0) set_num_threads(args.threads);
  args.params.sampling.seed = args.seed >= 0 ? static_cast<uint64_t>(args.seed) : std::random_device{}();
  const Status valid = args.params.sampling.validate();
  if (!valid.is_ok()) throw Error(Code::kInvalidArgument, valid.message());

  auto loaded = models::load_llm(args.model, {args.tokenizer});
  if (!loaded.is_ok()) throw Error(loaded.status());
  models::LoadedLlm& llm = loaded.value();
  auto job = std::make_shared<scheduler::LlmJob>();
  job->prompt = llm.tokenizer->encode(args.prompt, /*add_special=*/true, /*parse_special=*/true);
  if (job->prompt.empty()) {
    throw Error(Code::kInvalidArgument, "the prompt is empty and this model's tokenizer adds no BOS token to start from");
  }
  job->params = args.params;

  using Clock = std::chrono::steady_clock;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
  Clock::time_point first_token;
  int64_t n_generated = 0;
  job->on_event = [&](const scheduler::LlmJobEvent& e) {
    if (e.has_token) {
      if (e.n_generated_tokens == 1) first_token = Clock::now();
      std::fwrite(e.step.text.data(), 1, e.step.text.size(), stdout);
      std::fflush(stdout);
    }
    if (e.done) {
      std::lock_guard lock(mu);
      done = true;
      status = e.status;
      n_generated = e.n_generated_tokens;
      cv.notify_all();
    }
  };

  scheduler::LlmSchedulerOptions options;
  options.max_running = 1;
  options.max_context = args.context;
  options.kv_type = args.kv_type;
  options.batch_max_tokens = 512;
  scheduler::LlmScheduler scheduler("generate", llm.model, llm.tokenizer, options);
  const Clock::time_point start = Clock::now();
  const Status submitted = scheduler.submit(job);
  if (!submitted.is_ok()) throw Error(submitted);
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  const Clock::time_point end = Clock::now();
  std::printf("\n");
  std::fflush(stdout);
  if (!status.is_ok()) throw Error(status);
  if (args.timings) {
    const double prompt_s = std::chrono::duration<double>(first_token - start).count();
    const double gen_s = std::chrono::duration<double>(end - first_token).count();
    const nlohmann::json j = {{"prompt_tokens", job->prompt.size()},
                              {"generated_tokens", n_generated},
                              {"prompt_seconds", prompt_s},
                              {"prompt_tokens_per_s", prompt_s > 0 ? static_cast<double>(job->prompt.size()) / prompt_s : 0.0},
                              {"generation_tokens_per_s", gen_s > 0 ? static_cast<double>(n_generated - 1) / gen_s : 0.0},
                              {"seed", args.params.sampling.seed}};
    std::fprintf(stderr, "%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<GenerateArgs>();
  runtime::SamplingParams& s = args->params.sampling;
  // llama.cpp's defaults.
  s.temperature = 0.8f;
  s.top_k = 40;
  s.top_p = 0.95f;
  s.min_p = 0.05f;
  args->params.max_tokens = 128;
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt with a pretrained language model (GGUF, llama2.c)");
  cmd->add_option("--model", args->model, "GGUF file or llama2.c checkpoint")->required();
  cmd->add_option("--tokenizer", args->tokenizer, "llama2.c tokenizer file (default: beside the checkpoint)");
  cmd->add_option("--prompt,-p", args->prompt, "text to continue (may be empty: generation starts from BOS)");
  cmd->add_option("--max-tokens,-n", args->params.max_tokens, "most tokens to generate")->capture_default_str();
  cmd->add_option("--temperature", s.temperature, "0 = greedy")->capture_default_str();
  cmd->add_option("--top-k", s.top_k, "0 = off")->capture_default_str();
  cmd->add_option("--top-p", s.top_p, "1 = off")->capture_default_str();
  cmd->add_option("--min-p", s.min_p, "0 = off")->capture_default_str();
  cmd->add_option("--repeat-penalty", s.repetition_penalty, "1 = off")->capture_default_str();
  cmd->add_option("--repeat-last-n", s.penalty_last_n, "window of the penalties; -1 = all tokens")->capture_default_str();
  cmd->add_option("--presence-penalty", s.presence_penalty)->capture_default_str();
  cmd->add_option("--frequency-penalty", s.frequency_penalty)->capture_default_str();
  cmd->add_option("--seed", args->seed, "random seed (default: a fresh one each run)");
  cmd->add_option("--stop", args->params.stop, "stop sequence (repeatable); not printed");
  cmd->add_flag("--ignore-eos", args->params.ignore_eos, "keep generating past end-of-generation tokens");
  cmd->add_option("--context", args->context, "positions per sequence (default: the model's context length)");
  cmd->add_option("--kv-type", args->kv_type, "KV-cache entries: f16 (default, half the memory) | f32 | q8_0 "
                  "(about half of f16 again)")
      ->transform(CLI::CheckedTransformer(models::kv_type_names()));
  cmd->add_option("--threads,-t", args->threads, "threads (default: all cores)");
  cmd->add_flag("--timings", args->timings, "print prompt and generation speed to stderr (JSON)");
  cmd->callback([args, &exit_code] { exit_code = run_generate(*args); });
}

}  // namespace lmaas::cli

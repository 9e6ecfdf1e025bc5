// lmaas serve: the model server — every model under --models (<name>/<version>/) behind the HTTP API
// (task, OpenAI and KServe v2 routes, /metrics), API keys in <data-dir>/lmaas.db. Runs until SIGTERM or
// Ctrl-C, then drains in-flight requests and exits 0.
#include <cstdio>

#include "base/thread_pool.h"
#include "commands.h"
#include "serve/server.h"

namespace lmaas::cli {
namespace {

struct ServeArgs {
  serve::ServeOptions options;
  bool no_auth = false;
  int threads = 0;  // 0: all CPUs
};

int run_serve(ServeArgs& args) {
  if (args.threads > 0) set_num_threads(args.threads);
  args.options.auth = !args.no_auth;
  serve::Server server(args.options);
  Status s = server.start();
  if (!s.is_ok()) throw Error(s);
  server.run();
  std::fprintf(stderr, "lmaas serve: drained, exiting\n");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ServeArgs>();
  auto& o = args->options;
  CLI::App* cmd = app.add_subcommand("serve", "Serve the models of a repository over HTTP (OpenAI, KServe v2, task API)");
  cmd->add_option("--models", o.models_dir, "model repository: <dir>/<name>/<version>/ (default models)");
  cmd->add_option("--host", o.http.host, "address to bind (default 127.0.0.1)");
  cmd->add_option("--port", o.http.port, "port (default 8080; 0: any free port)");
  cmd->add_option("--data-dir", o.data_dir, "where the SQLite store lives (default var)");
  cmd->add_flag("--no-auth", args->no_auth, "serve without API keys (only with a loopback --host)");
  cmd->add_option("--io-threads", o.http.io_threads, "HTTP threads (default 1)")->check(CLI::Range(1, 256));
  cmd->add_option("--threads", args->threads, "kernel threads, shared by all models (default: all CPUs)")->check(CLI::Range(1, 1024));
  cmd->add_option("--max-batch-size", o.queue.max_batch_texts, "texts per batch (default 64)")->check(CLI::Range(1, 65536));
  cmd->add_option("--max-queue-delay-us", o.queue.max_queue_delay_us, "how long a batch may wait to fill (default 0: it takes what queued while the last one ran)")
      ->check(CLI::Range(0, 10000000));
  cmd->add_option("--max-queue-texts", o.queue.max_queue_texts, "texts a model's queue holds before 429 (default 4096)")
      ->check(CLI::Range(1, 1 << 24));
  cmd->add_option("--request-timeout-ms", o.request_timeout_ms, "default request deadline, then 504 (default 30000)")
      ->check(CLI::Range(1, 3600000));
  cmd->add_option("--max-body-bytes", o.limits.body_bytes, "request body limit (default 1048576)")->check(CLI::Range(1, 1 << 30));
  cmd->add_option("--max-header-bytes", o.limits.header_bytes, "request line + headers limit (default 16384)")
      ->check(CLI::Range(512, 1 << 20));
  cmd->add_option("--max-json-depth", o.limits.json_depth, "JSON nesting limit (default 32)")->check(CLI::Range(2, 10000));
  cmd->add_option("--max-inputs", o.limits.inputs_per_request, "texts per request (default 256)")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-input-chars", o.limits.chars_per_input, "characters per text (default 20000)")
      ->check(CLI::Range(1, 1 << 26));
  cmd->add_option("--idle-timeout-ms", o.http.idle_timeout_ms, "keep-alive idle timeout (default 60000)")->check(CLI::Range(1, 86400000));
  cmd->add_option("--header-timeout-ms", o.http.header_timeout_ms, "time to receive the headers (default 10000)")
      ->check(CLI::Range(1, 3600000));
  cmd->add_option("--body-timeout-ms", o.http.body_timeout_ms, "time to receive the body / send the response (default 30000)")
      ->check(CLI::Range(1, 3600000));
  cmd->add_option("--drain-timeout-ms", o.http.drain_timeout_ms, "longest graceful drain on SIGTERM (default 30000)")
      ->check(CLI::Range(0, 3600000));
  cmd->add_option("--rate-limit-rpm", o.rate_limit_rpm, "requests per minute per key unless the key says (default 0: none)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--rate-limit-cpm", o.rate_limit_cpm, "characters per minute per key unless the key says (default 0: none)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--llm-slots", o.llm.max_running, "sequences a generator runs at once (default 16)")->check(CLI::Range(1, 4096));
  cmd->add_option("--llm-queue", o.llm.max_waiting, "generation requests that may wait for a slot before 429 (default 64)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--llm-context", o.llm.max_context, "positions per sequence, at most the model's (default 4096)")
      ->check(CLI::Range(16, 1 << 20));
  cmd->add_option("--llm-batch-tokens", o.llm.batch_max_tokens, "tokens per generator model call: prompts are fed in chunks "
                  "of this size (default 512)")->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--llm-kv-type", o.llm.kv_type, "generator KV-cache entries: f16 (default, half the memory) | f32 | "
                  "q8_0 (about half of f16 again)")
      ->transform(CLI::CheckedTransformer(models::kv_type_names()));
  cmd->add_option("--sentiment-en-model", o.sentiment_en, "model /v1/sentiment uses for English (default sentiment-en)");
  cmd->add_option("--sentiment-zh-model", o.sentiment_zh, "model /v1/sentiment uses for Chinese (default sentiment-zh)");
  cmd->callback([args, &exit_code] { exit_code = run_serve(*args); });
}

}  // namespace lmaas::cli

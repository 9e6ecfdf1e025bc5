// lmaas eval: a model directory on a labelled file → accuracy, per-class P/R/F1, macro/micro/weighted,
// confusion, ROC-AUC (binary); a table, or one JSON object with --json. A translation model on parallel
// data, or --hypotheses/--references files, → BLEU and chrF (translation_cli.h).
#include <chrono>
#include <cstdio>
#include <map>

#include "base/thread_pool.h"
#include "commands.h"
#include "config_values.h"
#include "data_flags.h"
#include "eval/classification_metrics.h"
#include "formats/model_bundle.h"
#include "runtime/classifier_session.h"
#include "translation_cli.h"

namespace lmaas::cli {
namespace {

struct EvalArgs {
  ConfigValues values;
  std::string model, data;
  TranslationEvalArgs translation;
  bool json = false;
  int64_t batch_size = 64;
  int threads = 0;
};

// A translation model, or hypothesis files to score.
bool is_translation(const EvalArgs& args) {
  if (args.model.empty()) return !args.translation.hypotheses.empty();
  auto config = read_bundle_config(args.model);
  return config.is_ok() && config.value()["task"] == "translation";
}

int run_eval(const EvalArgs& args) {
  if (args.threads > 0) set_num_threads(args.threads);
  auto merged = args.values.merged("");
  if (!merged.is_ok()) throw Error(merged.status());
  if (is_translation(args)) {
    TranslationEvalArgs t = args.translation;
    t.model = args.model, t.data = args.data, t.json = args.json;
    return run_eval_translation(merged.value(), t);
  }
  if (args.model.empty() || args.data.empty()) throw Error(Code::kInvalidArgument, "--model and --data are required");
  auto spec = data_spec_from(merged.value(), args.data);
  if (!spec.is_ok()) throw Error(spec.status());
  auto session = runtime::ClassifierSession::load(args.model);
  if (!session.is_ok()) throw Error(session.status());
  const auto& labels = session.value()->labels();
  std::map<std::string, int64_t> label_id;
  for (size_t i = 0; i < labels.size(); ++i) label_id[labels[i]] = static_cast<int64_t>(i);
  auto reader = train::DatasetReader::open(spec.value());
  if (!reader.is_ok()) throw Error(reader.status());
  eval::ClassificationMetrics metrics(static_cast<int64_t>(labels.size()));
  std::vector<std::string> texts;
  std::vector<int64_t> truth;
  const auto started = std::chrono::steady_clock::now();
  int64_t n = 0;
  auto flush = [&] {
    const auto probs = session.value()->predict(texts, args.batch_size);
    for (size_t i = 0; i < texts.size(); ++i) metrics.add_probabilities(truth[i], probs[i].data());
    n += static_cast<int64_t>(texts.size());
    texts.clear(), truth.clear();
  };
  train::Example e;
  while (true) {
    auto got = reader.value()->next(e);
    if (!got.is_ok()) throw Error(got.status());
    if (!got.value()) break;
    auto it = label_id.find(e.label);
    if (it == label_id.end())
      throw Error(Code::kInvalidArgument, args.data + ":" + std::to_string(e.line) + ": label '" + e.label +
                                              "' is not one of the model's labels");
    texts.push_back(e.text), truth.push_back(it->second);
    if (texts.size() >= 4096) flush();  // streaming: bounded memory for any file size
  }
  flush();
  if (n == 0) throw Error(Code::kInvalidArgument, args.data + ": no examples");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const eval::ClassificationReport report = metrics.report();
  if (args.json) {
    nlohmann::json j = eval::report_to_json(report, labels);
    j["model"] = args.model, j["data"] = args.data, j["seconds"] = seconds;
    j["skipped_lines"] = reader.value()->n_skipped();
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s on %s: %lld examples, %.1f s\n\n%s", args.model.c_str(), args.data.c_str(),
                static_cast<long long>(n), seconds, eval::report_to_table(report, labels).c_str());
  }
  return 0;
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a model directory on a labelled (or parallel) file");
  cmd->add_option("--model", args->model, "model directory (from lmaas train)");
  cmd->add_option("--data", args->data, "labelled data file; translation: parallel data (source and target columns)");
  TranslationEvalArgs& t = args->translation;
  cmd->add_option("--data-target", t.data_target, "translation: target-side file aligned with --data (two-file form)");
  cmd->add_option("--hypotheses", t.hypotheses, "translation without a model: system output, one sentence per line");
  cmd->add_option("--references", t.references, "translation without a model: references aligned with --hypotheses");
  cmd->add_option("--bleu-tokenize", t.bleu_tokenize, "13a | zh | none (default: zh for a Chinese target, else 13a)");
  cmd->add_option("--beam-size", t.decode.search.beam_size, "translation: beam size (4; 1 = greedy)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--length-penalty", t.decode.search.length_penalty, "translation: score / length^α (1.0)");
  cmd->add_option("--decode-batch-size", t.decode.batch_size, "translation: sentences decoded together (32)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--output-hypotheses", t.output_hypotheses, "translation: write the model's translations here");
  add_parallel_flags(args->values, cmd);
  cmd->add_flag("--json", args->json, "print one JSON object instead of a table");
  cmd->add_option("--batch-size", args->batch_size, "texts per forward pass (64)")->check(CLI::Range(1, 65536));
  cmd->add_option("--threads", args->threads, "kernel threads (default: all CPUs)")->check(CLI::Range(1, 1024));
  add_data_flags(args->values, cmd);
  cmd->callback([args, &exit_code] { exit_code = run_eval(*args); });
}

}  // namespace lmaas::cli

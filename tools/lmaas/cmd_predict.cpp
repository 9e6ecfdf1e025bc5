// lmaas predict: one text per line (stdin or --input) → one JSON line per text with the label, its
// score and every class probability (or the --top-k best). Lines are read and answered in chunks, so
// any amount of input streams through in bounded memory. With a translation model each line is a source
// sentence and the JSON line holds its translation ("text", "score").
#include <cstdio>
#include <fstream>
#include <iostream>

#include "api/classify.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "formats/model_bundle.h"
#include "runtime/classifier_session.h"
#include "translation_cli.h"

namespace lmaas::cli {
namespace {

struct PredictArgs {
  std::string model, input;
  runtime::TranslateOptions translate;
  int64_t top_k = 0;
  int64_t batch_size = 64;
  int64_t chunk = 1024;
  int threads = 0;
};

void answer(const runtime::ClassifierSession& session, const std::vector<std::string>& lines, const PredictArgs& args) {
  const auto probs = session.predict(lines, args.batch_size);
  const auto& labels = session.labels();
  for (const auto& p : probs) {
    const std::vector<size_t> order = api::ranked_classes(p);
    nlohmann::json j = {{"label", labels[order[0]]}, {"score", p[order[0]]}};
    if (args.top_k > 0) {
      nlohmann::json top = nlohmann::json::array();
      for (size_t i = 0; i < std::min<size_t>(order.size(), static_cast<size_t>(args.top_k)); ++i)
        top.push_back({{"label", labels[order[i]]}, {"score", p[order[i]]}});
      j["top_k"] = top;
    } else {
      nlohmann::json all = nlohmann::json::object();
      for (size_t i = 0; i < labels.size(); ++i) all[labels[i]] = p[i];
      j["probabilities"] = all;
    }
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  std::fflush(stdout);
}

// Reads lines in chunks of args.chunk and hands each chunk to `answer`.
template <typename Answer>
void for_each_chunk(const PredictArgs& args, Answer answer_chunk) {
  std::ifstream file;
  if (!args.input.empty()) {
    file.open(args.input, std::ios::binary);
    if (!file) throw Error(Code::kNotFound, "cannot open " + args.input);
  }
  std::istream& in = args.input.empty() ? std::cin : file;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    if (static_cast<int64_t>(lines.size()) >= args.chunk) {
      answer_chunk(lines);
      lines.clear();
    }
  }
  if (!lines.empty()) answer_chunk(lines);
}

int run_predict(const PredictArgs& args) {
  if (args.threads > 0) set_num_threads(args.threads);
  auto config = read_bundle_config(args.model);
  if (config.is_ok() && config.value()["task"] == "translation") {
    auto translator = runtime::TranslatorSession::load(args.model);
    if (!translator.is_ok()) throw Error(translator.status());
    for_each_chunk(args, [&](const std::vector<std::string>& lines) {
      print_translations(*translator.value(), lines, args.translate);
    });
    return 0;
  }
  auto session = runtime::ClassifierSession::load(args.model);
  if (!session.is_ok()) throw Error(session.status());
  for_each_chunk(args, [&](const std::vector<std::string>& lines) { answer(*session.value(), lines, args); });
  return 0;
}

}  // namespace

void add_predict_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand("predict", "Classify (or translate) text lines from stdin or --input into JSON lines");
  cmd->add_option("--model", args->model, "model directory (from lmaas train)")->required();
  cmd->add_option("--input", args->input, "file of texts, one per line (default: stdin)");
  cmd->add_option("--top-k", args->top_k, "print the k most probable labels instead of all probabilities")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--batch-size", args->batch_size, "texts per forward pass (64)")->check(CLI::Range(1, 65536));
  cmd->add_option("--chunk", args->chunk, "lines read before answering (1024)")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--threads", args->threads, "kernel threads (default: all CPUs)")->check(CLI::Range(1, 1024));
  runtime::SearchOptions& search = args->translate.search;
  cmd->add_option("--beam-size", search.beam_size, "translation: beam size (4; 1 = greedy)")->check(CLI::Range(1, 64));
  cmd->add_option("--n-best", search.n_best, "translation: print the n best translations (1)")->check(CLI::Range(1, 64));
  cmd->add_option("--length-penalty", search.length_penalty, "translation: score / length^α (1.0)");
  cmd->add_option("--max-len-ratio", search.max_len_ratio, "translation: at most ratio · source tokens + 10 (1.5)");
  cmd->callback([args, &exit_code] {
    args->translate.batch_size = args->batch_size;
    exit_code = run_predict(*args);
  });
}

}  // namespace lmaas::cli

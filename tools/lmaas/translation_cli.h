// The translation side of the CLI: `lmaas train --task translate` (its flags and run), `lmaas eval` of a
// translation model or of hypothesis files, `lmaas predict` with a translation model, and the scoring
// that train (dev BLEU each epoch) and eval share.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config_values.h"
#include "eval/translation_metrics.h"
#include "runtime/translator_session.h"
#include "train/progress.h"

namespace lmaas::cli {

// Flags only translation training reads (registered on `lmaas train`).
void add_translation_train_flags(ConfigValues& values, CLI::App* cmd);
// Runs a translation training from the merged options; prints the JSON summary; returns the exit code.
int run_train_translation(const nlohmann::json& options, train::Progress& progress);

struct TranslationEvalArgs {
  std::string model, data, data_target;      // a model on parallel data (one file, or two aligned)
  std::string hypotheses, references;        // or: score these files (one sentence per line)
  std::string bleu_tokenize;                 // 13a | zh | none; default from the model's target language
  std::string output_hypotheses;             // write the model's translations here
  runtime::TranslateOptions decode;
  bool json = false;
};
// Prints BLEU and chrF (one JSON object with --json); returns the exit code.
int run_eval_translation(const nlohmann::json& options, const TranslationEvalArgs& args);

// predict: one JSON line per source line: {"text", "score"} (+ "n_best" when n_best > 1).
void print_translations(const runtime::TranslatorSession& session, const std::vector<std::string>& lines,
                        const runtime::TranslateOptions& decode);

// {"bleu", "chrf", "bleu_tokenize", "bleu_detail": {precisions, brevity_penalty, sys_len, ref_len}}
nlohmann::json score_translations(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                                  eval::BleuTokenize tokenize);
std::string bleu_tokenize_name(eval::BleuTokenize tokenize);

}  // namespace lmaas::cli

// train_translator: the whole `lmaas train --task translate` run.
//   1. Reads the parallel training data (read_parallel) and validation pairs from --valid or, without it,
//      a seeded hash split of the training pairs (valid_fraction).
//   2. Trains SentencePiece models on the training side texts — one per side, or one joint model
//      (shared vocabulary, needed for share_embeddings) — with <pad>=0 <unk>=1 <s>=2 </s>=3. Sources are
//      encoded as pieces + </s>; targets as <s> + pieces (decoder input) and pieces + </s> (what it must
//      predict). Training pairs longer than max_len tokens on either side are left out (and counted).
//   3. Trains a Translator (transformer or lstm): batches by token count (make_token_batches), label-smoothed
//      cross-entropy, Adam (β 0.9/0.98, ε 1e-9), warmup then inverse-sqrt (or another schedule),
//      global-norm clipping. Stops at `epochs`, at the time budget `max_minutes`, at early stopping
//      (`patience` epochs without a better dev score) or on request (Ctrl-C).
//   4. After each epoch: dev loss (teacher forced, no smoothing), and the dev score from `score_dev`
//      (decoding lives above this level: the caller decodes and scores, e.g. BLEU and chrF). The best
//      epoch's weights are kept; the last `average_last` epochs' weights are averaged at the end and that
//      average replaces the best when it scores at least as well.
//   5. Publishes the model bundle (config.json task "translation", model.safetensors, source.model and
//      target.model) atomically to out_dir.
// Same data, options, seed and thread count → the same model.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "models/translator.h"
#include "text/sentencepiece_tokenizer.h"
#include "train/parallel_reader.h"
#include "train/progress.h"

namespace lmaas::train {

struct TranslationTokenizerOptions {
  std::string source_model_type = "bpe";  // SentencePiece bpe | unigram | char
  std::string target_model_type = "bpe";  // (joint: source_model_type for both)
  bool joint = false;                     // one model for both sides
  int64_t source_vocab_size = 8000, target_vocab_size = 8000;  // joint: source_vocab_size
  double character_coverage = 0.9995;
};

// What the caller's scorer returns for the dev set: metrics to report, and the one early stopping
// maximises (e.g. BLEU).
struct DevScore {
  nlohmann::json metrics;
  double primary = 0;
};

// The translation model as it stands in training, with its tokenizers (what a scorer decodes with).
struct TranslatorParts {
  models::Translator& model;
  const text::SentencePieceTokenizer& source_tokenizer;
  const text::SentencePieceTokenizer& target_tokenizer;
};
using DevScorer = std::function<Result<DevScore>(const TranslatorParts& parts, const std::vector<SentencePair>& dev)>;

struct TranslationTrainOptions {
  ParallelSpec train;
  ParallelSpec valid;  // paths empty: split from the training data
  double valid_fraction = 0.05;
  int64_t valid_score_limit = 0;  // > 0: score_dev sees at most this many dev pairs (dev loss uses all)
  std::string source_language, target_language;  // recorded in config.json (e.g. "zh", "en")
  TranslationTokenizerOptions tokenizer;
  nlohmann::json architecture;  // TranslatorConfig fields ("arch": transformer | lstm); vocab sizes and special ids come from the tokenizers
  int64_t epochs = 50;
  double max_minutes = 0;  // > 0: training stops once this much wall-clock time has passed
  int64_t batch_tokens = 4096;
  double lr = 7e-4;
  std::string schedule = "inverse_sqrt";
  int64_t warmup_steps = 1000;
  double label_smoothing = 0.1;
  double clip_norm = 0.0;
  double weight_decay = 0.0;
  int64_t patience = 0;     // epochs without a better dev score before stopping; 0: never
  int64_t average_last = 0;  // > 1: average the weights of the last N epochs
  uint64_t seed = 1;
  std::string out_dir;
  DevScorer score_dev;  // optional: without it, early stopping and selection use the dev loss
};

struct TranslationTrainResult {
  nlohmann::json dev_metrics;
  int64_t best_epoch = 0, epochs_run = 0, steps = 0;
  double seconds = 0;
  bool averaged = false, interrupted = false;
};

Result<TranslationTrainResult> train_translator(const TranslationTrainOptions& options, Progress& progress);

}  // namespace lmaas::train

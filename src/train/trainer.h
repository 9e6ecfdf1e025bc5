// train_classifier: the whole `lmaas train` run for text classification.
//   1. Reads the training file twice, streaming (texts are never all in memory): first to learn the
//      labels (sorted) and fit the tokenizer, then to encode each text to ids (an EncodedSet: in memory
//      up to ids_memory_mb, then in a memory-mapped temporary file). Validation comes from
//      --valid or, without it, a seeded hash split of the training lines (valid_fraction).
//   2. Builds the architecture (vocab and class count from the data), the optimizer and LR schedule; a
//      fresh model fits its training-set statistics and, with pretrained_vectors, starts the rows of its
//      token embeddings whose token the file lists (as written, else lowercased) from those vectors.
//   3. Per epoch: bucketed, shuffled minibatches; the model's training loss (cross-entropy; an ensemble
//      sums its members'); optional global-norm clipping; then
//      validation metrics. The best model by `metric` is published to out_dir as a model bundle;
//      training stops after `patience` epochs without improvement.
//   4. With refit: a fresh model trains on training + validation data for the chosen number of epochs
//      and replaces the published one (the usual last step once early stopping has picked the epochs).
//   5. A checkpoint (<out_dir>.ckpt: weights, optimizer state, position) is written at the end of an
//      epoch once checkpoint_interval_s have passed since the last one, after the last epoch, and when a
//      stop is requested (Ctrl-C); resume=true continues from it. The best model is held in memory and
//      published with each checkpoint, so out_dir always matches the checkpoint's best epoch.
// Same data, options, seed and thread count → byte-identical model.safetensors.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "text/text_encoder.h"
#include "train/dataset_reader.h"
#include "train/progress.h"

namespace lmaas::train {

struct TrainOptions {
  DataSpec train;
  DataSpec valid;                 // path empty: split from the training data
  double valid_fraction = 0.1;
  text::TextEncoderSpec tokenizer;
  nlohmann::json architecture;    // "arch" plus its hyperparameters; vocab_size/n_classes/seed filled in
  int64_t epochs = 10;
  int64_t batch_size = 64;
  std::string optimizer = "adam";  // adam | adamw | sgd
  double lr = 1e-3;
  double weight_decay = 0.0;
  double momentum = 0.9;           // sgd
  std::string schedule = "constant";  // constant | warmup_linear | cosine | warmup_cosine
  double warmup_fraction = 0.0;    // of all steps
  double clip_norm = 0.0;          // 0: no clipping
  std::string metric = "accuracy";  // accuracy | macro_f1 | loss
  int64_t patience = 3;            // epochs without improvement before stopping; 0: never
  uint64_t seed = 1;
  std::string out_dir;
  bool resume = false;
  bool refit = false;              // retrain on train + valid for the best epoch count, publish that
  std::string pretrained_vectors;  // .vec file whose vectors start the token embeddings (fresh models)
  double checkpoint_interval_s = 300;  // least seconds between epoch-end checkpoints; 0: every epoch
  int64_t ids_memory_mb = 1024;    // encoded ids held in memory; beyond, a temporary file (EncodedSet)
};

struct TrainResult {
  nlohmann::json dev_metrics;  // the best epoch's report (report_to_json)
  int64_t best_epoch = 0, epochs_run = 0;
  double seconds = 0;
  bool interrupted = false;
};

// Asks a running train_classifier (or train_translator) to checkpoint and return at the next step
// (signal-safe); the trainers poll stop_requested().
void request_stop();
bool stop_requested();

// The seeded hash split used when no validation file is given: example `index` goes to dev.
bool in_dev_split(uint64_t seed, int64_t index, double fraction);

Result<TrainResult> train_classifier(const TrainOptions& options, Progress& progress);

// The checkpoint directory for an output directory.
std::string checkpoint_dir(const std::string& out_dir);

}  // namespace lmaas::train

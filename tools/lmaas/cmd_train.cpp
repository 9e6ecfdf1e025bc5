// lmaas train: text classification from a labelled file to a model directory (see train/trainer.h), or
// with --task translate a translation model from parallel data (translation_cli.h).
// Every option is a flag or a key of a --config YAML/JSON file (flags win); prints one JSON summary
// line on stdout at the end; Ctrl-C checkpoints and exits with status 130.
#include <csignal>
#include <cstdio>

#include "base/thread_pool.h"
#include "commands.h"
#include "config_values.h"
#include "data_flags.h"
#include "train/trainer.h"
#include "translation_cli.h"

namespace lmaas::cli {
namespace {

struct TrainArgs {
  ConfigValues values;
  std::string config;
};

Result<train::TrainOptions> options_from(const nlohmann::json& o) {
  train::TrainOptions t;
  const std::string train_path = get<std::string>(o, "train", "");
  if (train_path.empty()) return Status(Code::kInvalidArgument, "--train (or 'train' in the config) is required");
  auto spec = data_spec_from(o, train_path);
  if (!spec.is_ok()) return spec.status();
  t.train = spec.value();
  const std::string valid_path = get<std::string>(o, "valid", "");
  if (!valid_path.empty()) {
    auto v = data_spec_from(o, valid_path);
    if (!v.is_ok()) return v.status();
    t.valid = v.value();
  }
  t.valid_fraction = get<double>(o, "valid_fraction", 0.1);
  text::TextEncoderSpec& tok = t.tokenizer;
  tok.type = get<std::string>(o, "tokenizer", "word");
  tok.nfkc = get<bool>(o, "nfkc", true);
  tok.lower = get<bool>(o, "lower", true);
  tok.max_len = get<int64_t>(o, "max_len", 256);
  tok.vocab_size = get<int64_t>(o, "vocab_size", 0);
  tok.oov_token = get<std::string>(o, "oov_token", "");
  tok.ngrams = get<int64_t>(o, "ngrams", 1);
  tok.char_ngram_min = get<int64_t>(o, "char_ngram_min", 0);
  tok.char_ngram_max = get<int64_t>(o, "char_ngram_max", 0);
  tok.buckets = get<int64_t>(o, "buckets", tok.ngrams > 1 || tok.char_ngram_max > 0 ? 200000 : 0);
  nlohmann::json arch = {{"arch", get<std::string>(o, "arch", "lstm")}};
  for (const char* key : {"embedding_dim", "hidden_size", "num_layers", "n_heads", "dim_feedforward", "filters"})
    if (o.contains(key)) arch[key] = get<int64_t>(o, key, 0);
  if (o.contains("dropout")) arch["dropout"] = get<double>(o, "dropout", 0.0);
  if (o.contains("alpha")) arch["alpha"] = get<double>(o, "alpha", 1.0);
  if (o.contains("members")) arch["members"] = o["members"];  // ensemble: a list of architectures (config file)
  if (o.contains("widths")) arch["widths"] = get<std::vector<int64_t>>(o, "widths", {});
  t.architecture = arch;
  t.epochs = get<int64_t>(o, "epochs", 10);
  t.batch_size = get<int64_t>(o, "batch_size", 64);
  t.optimizer = get<std::string>(o, "optimizer", "adam");
  t.lr = get<double>(o, "lr", 1e-3);
  t.weight_decay = get<double>(o, "weight_decay", 0.0);
  t.momentum = get<double>(o, "momentum", 0.9);
  t.schedule = get<std::string>(o, "schedule", "constant");
  t.warmup_fraction = get<double>(o, "warmup", 0.0);
  t.clip_norm = get<double>(o, "clip_norm", 0.0);
  t.metric = get<std::string>(o, "metric", "accuracy");
  t.patience = get<int64_t>(o, "patience", 3);
  t.seed = get<uint64_t>(o, "seed", 1);
  t.out_dir = get<std::string>(o, "out", "");
  t.resume = get<bool>(o, "resume", false);
  t.refit = get<bool>(o, "refit", false);
  t.pretrained_vectors = get<std::string>(o, "pretrained_vectors", "");
  t.checkpoint_interval_s = get<double>(o, "checkpoint_interval", 300.0);
  t.ids_memory_mb = get<int64_t>(o, "ids_memory_mb", 1024);
  return t;
}

void on_interrupt(int) { train::request_stop(); }

int run_train(const TrainArgs& args) {
  auto merged = args.values.merged(args.config);
  if (!merged.is_ok()) throw Error(merged.status());
  const nlohmann::json& o = merged.value();
  const std::string task = get<std::string>(o, "task", "classify");
  if (task != "classify" && task != "translate")
    throw Error(Code::kInvalidArgument, "--task: expected classify or translate, got '" + task + "'");
  set_num_threads(static_cast<int>(get<int64_t>(o, "threads", num_threads())));
  auto format = train::parse_log_format(get<std::string>(o, "log_format", "auto"));
  if (!format.is_ok()) throw Error(format.status());
  train::Progress progress(format.value());
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  if (task == "translate") {
    const int code = run_train_translation(o, progress);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    return code;
  }
  auto options = options_from(o);
  if (!options.is_ok()) throw Error(options.status());
  auto result = train::train_classifier(options.value(), progress);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!result.is_ok()) throw Error(result.status());
  const train::TrainResult& r = result.value();
  nlohmann::json summary = {{"out", options.value().out_dir}, {"best_epoch", r.best_epoch},
                            {"epochs_run", r.epochs_run},     {"seconds", r.seconds},
                            {"interrupted", r.interrupted}};
  if (r.dev_metrics.is_object())
    summary["dev"] = {{"accuracy", r.dev_metrics["accuracy"]}, {"macro_f1", r.dev_metrics["macro_f1"]},
                      {"loss", r.dev_metrics["loss"]}};
  std::printf("%s\n", summary.dump().c_str());
  return r.interrupted ? 130 : 0;
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a text classifier (or, with --task translate, a translation model) into a model directory");
  using K = ConfigValues::Kind;
  ConfigValues& v = args->values;
  cmd->add_option("--config", args->config, "YAML or JSON file of options (keys as the flags: valid_fraction, …)");
  v.add(cmd, "--train", K::kString, "training data file");
  v.add(cmd, "--valid", K::kString, "validation data file (default: a split of --train)");
  v.add(cmd, "--valid-fraction", K::kNumber, "share of --train held out for validation without --valid (0.1)");
  add_data_flags(v, cmd);
  v.add(cmd, "--tokenizer", K::kString, "word (default) | char | spm-bpe | spm-unigram");
  v.add(cmd, "--vocab-size", K::kInt, "word/char: keep the N-1 most frequent tokens (0: all); spm: vocabulary size");
  v.add(cmd, "--max-len", K::kInt, "tokens kept per text (256)");
  v.add(cmd, "--ngrams", K::kInt, "bow, nbsvm: also hashed word n-grams up to N (1)");
  v.add(cmd, "--char-ngram-min", K::kInt, "bow, nbsvm: hashed character n-grams of each word, shortest (fastText -minn)");
  v.add(cmd, "--char-ngram-max", K::kInt, "longest character n-gram (0: none; fastText -maxn)");
  v.add(cmd, "--buckets", K::kInt, "hash buckets for the n-grams (200000)");
  v.add(cmd, "--oov-token", K::kString, "word/char: map unknown words to this token (default: drop them)");
  v.add_switch(cmd, "--no-nfkc", "nfkc", false, "skip Unicode NFKC normalisation");
  v.add_switch(cmd, "--no-lower", "lower", false, "keep case (word/char tokenizers)");
  v.add(cmd, "--arch", K::kString, "bow | nbsvm | cnn | rnn | lstm (default) | gru | bilstm | transformer | ensemble (its members: a list in --config)");
  v.add(cmd, "--embedding-dim", K::kInt, "embedding width");
  v.add(cmd, "--hidden-size", K::kInt, "recurrent hidden size / transformer width");
  v.add(cmd, "--num-layers", K::kInt, "recurrent or transformer layers");
  v.add(cmd, "--n-heads", K::kInt, "transformer attention heads");
  v.add(cmd, "--dim-feedforward", K::kInt, "transformer feed-forward width");
  v.add(cmd, "--widths", K::kList, "cnn window widths, e.g. 3,4,5");
  v.add(cmd, "--filters", K::kInt, "cnn feature maps per width");
  v.add(cmd, "--dropout", K::kNumber, "dropout probability");
  v.add(cmd, "--alpha", K::kNumber, "nbsvm: additive smoothing of the naive-Bayes feature counts (1)");
  v.add(cmd, "--epochs", K::kInt, "most epochs (10)");
  v.add(cmd, "--batch-size", K::kInt, "examples per step (64)");
  v.add(cmd, "--optimizer", K::kString, "adam (default) | adamw | sgd");
  v.add(cmd, "--lr", K::kNumber, "learning rate (1e-3)");
  v.add(cmd, "--weight-decay", K::kNumber, "L2 (adam, sgd) or decoupled (adamw) weight decay");
  v.add(cmd, "--momentum", K::kNumber, "sgd momentum (0.9)");
  v.add(cmd, "--schedule", K::kString, "constant | warmup_linear | cosine | warmup_cosine");
  v.add(cmd, "--warmup", K::kNumber, "warm-up share of all steps");
  v.add(cmd, "--clip-norm", K::kNumber, "clip gradients to this global L2 norm (0: off)");
  v.add(cmd, "--metric", K::kString, "early stopping on dev: accuracy (default) | macro_f1 | loss");
  v.add(cmd, "--patience", K::kInt, "epochs without improvement before stopping (3; 0: never)");
  v.add(cmd, "--seed", K::kInt, "seed for initialisation, shuffling, dropout and the validation split");
  v.add(cmd, "--threads", K::kInt, "kernel threads (default: all CPUs)");
  v.add(cmd, "--out", K::kString, "model directory to write (the best epoch's model)");
  v.add_switch(cmd, "--resume", "resume", true, "continue from <out>.ckpt");
  v.add(cmd, "--checkpoint-interval", K::kNumber,
        "least seconds between epoch-end checkpoints (300; 0: every epoch); the last epoch and Ctrl-C always write one");
  v.add(cmd, "--ids-memory-mb", K::kInt,
        "MiB of encoded ids held in memory (1024); beyond, they go to a memory-mapped temporary file beside --out");
  v.add_file_key("members");
  v.add(cmd, "--pretrained-vectors", K::kString,
        ".vec file (word2vec/fastText/GloVe text) whose vectors start the token embeddings; dims must match --embedding-dim");
  v.add_switch(cmd, "--refit", "refit", true,
               "after early stopping, retrain on training + validation data for the best epoch count");
  add_translation_train_flags(v, cmd);
  v.add(cmd, "--log-format", K::kString, "auto (default: bar on a terminal, else JSON lines) | text | json");
  cmd->callback([args, &exit_code] { exit_code = run_train(*args); });
}

}  // namespace lmaas::cli

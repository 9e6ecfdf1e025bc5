#include "train/trainer.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "autograd/tape.h"
#include "base/file_util.h"
#include "base/rng.h"
#include "base/sha256.h"
#include "base/thread_pool.h"
#include "eval/classification_metrics.h"
#include "formats/model_bundle.h"
#include "formats/safetensors.h"
#include "models/classifier.h"
#include "ops/ops.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "text/normalizer.h"
#include "text/word_vectors.h"
#include "train/batching.h"

namespace lmaas::train {
namespace {

std::atomic<bool> g_stop{false};

using Clock = std::chrono::steady_clock;

// Calls fn on every example of the file; reports skipped lines once at the end.
Status for_each_example(const DataSpec& spec, Progress& progress,
                        const std::function<Status(const Example&, int64_t index)>& fn) {
  auto reader = DatasetReader::open(spec);
  if (!reader.is_ok()) return reader.status();
  Example e;
  int64_t index = 0;
  while (true) {
    auto got = reader.value()->next(e);
    if (!got.is_ok()) return got.status();
    if (!got.value()) break;
    Status s = fn(e, index++);
    if (!s.is_ok()) return s;
  }
  if (reader.value()->n_skipped() > 0) {
    std::string text = spec.path + ": skipped " + std::to_string(reader.value()->n_skipped()) + " malformed line(s)";
    for (const auto& r : reader.value()->skip_reports()) text += "\n  " + r;
    progress.message(text);
  }
  return Status::ok();
}

struct EncodedData {
  EncodedSet train, dev;
};

// Where encoded ids spill beyond the memory budget: beside the output directory.
std::string spill_dir(const TrainOptions& o) {
  const std::filesystem::path parent = std::filesystem::path(o.out_dir).parent_path();
  return parent.empty() ? "." : parent.string();
}

EncodedSet empty_set(const TrainOptions& o) { return EncodedSet(o.ids_memory_mb << 20, spill_dir(o)); }

Result<EncodedData> encode_data(const TrainOptions& o, const text::TextEncoder& encoder,
                                const std::vector<std::string>& labels, Progress& progress) {
  std::map<std::string, int32_t> label_id;
  for (size_t i = 0; i < labels.size(); ++i) label_id[labels[i]] = static_cast<int32_t>(i);
  EncodedData data{empty_set(o), empty_set(o)};
  const bool split = o.valid.path.empty();
  auto encode_into = [&](const DataSpec& spec, bool is_valid_file) {
    return for_each_example(spec, progress, [&](const Example& e, int64_t index) {
      auto it = label_id.find(e.label);
      if (it == label_id.end())
        return Status(Code::kInvalidArgument, spec.path + ":" + std::to_string(e.line) + ": label '" + e.label +
                                                  "' does not occur in the training data");
      const bool dev = is_valid_file || (split && in_dev_split(o.seed, index, o.valid_fraction));
      return (dev ? data.dev : data.train).append(encoder.encode(e.text), it->second);
    });
  };
  Status s = encode_into(o.train, false);
  if (s.is_ok() && !split) s = encode_into(o.valid, true);
  if (s.is_ok()) s = data.train.finish();
  if (s.is_ok()) s = data.dev.finish();
  if (!s.is_ok()) return s;
  if (data.train.spilled())
    progress.message(fmt::format("encoded training ids exceed --ids-memory-mb {}: they are kept in a temporary file in {}",
                                 o.ids_memory_mb, spill_dir(o)));
  if (data.train.empty()) return Status(Code::kInvalidArgument, o.train.path + ": no training examples");
  if (data.dev.empty())
    return Status(Code::kInvalidArgument, split ? "the validation split is empty: raise --valid-fraction or give --valid"
                                                : o.valid.path + ": no validation examples");
  return data;
}

struct Evaluation {
  eval::ClassificationReport report;
  double loss = 0;
};

Evaluation evaluate(models::Classifier& model, const EncodedSet& data, int64_t batch_size) {
  autograd::NoGradGuard no_grad;
  model.eval();
  eval::ClassificationMetrics metrics(model.n_classes());
  double loss_sum = 0;
  for (const auto& batch : make_batches(data, batch_size, 0, 0, false)) {
    BatchTensors t = to_tensors(data, batch);
    Tensor logits = model.forward(t.ids);
    loss_sum += ops::cross_entropy(logits, t.labels).item() * static_cast<double>(batch.size());
    Tensor probs = ops::softmax(logits, -1).contiguous();
    const int64_t c = model.n_classes();
    for (size_t i = 0; i < batch.size(); ++i)
      metrics.add_probabilities(data.label(batch[i]), probs.data<float>() + static_cast<int64_t>(i) * c);
  }
  return {metrics.report(), loss_sum / static_cast<double>(std::max<size_t>(1, data.size()))};
}

// One optimisation step on a batch; returns its loss.
double train_step(models::Classifier& model, optim::Optimizer& opt, const BatchTensors& t, const TrainOptions& o,
                  const optim::Schedule& schedule, int64_t global_step) {
  opt.zero_grad();
  model.reseed(mix64(o.seed ^ mix64(static_cast<uint64_t>(global_step) + 1)));
  Tensor loss = model.training_loss(t.ids, t.labels);
  autograd::backward(loss);
  if (o.clip_norm > 0) optim::clip_grad_norm(opt.params(), o.clip_norm);
  opt.set_lr(o.lr * schedule.factor(global_step));
  opt.step();
  return loss.item();
}

int64_t steps_per_epoch(const TrainOptions& o, size_t examples) {
  return (static_cast<int64_t>(examples) + o.batch_size - 1) / o.batch_size;
}

optim::Schedule make_schedule(const TrainOptions& o, int64_t steps_per_epoch, int64_t epochs) {
  optim::Schedule schedule;
  schedule.kind = optim::parse_schedule_kind(o.schedule).value();
  schedule.total_steps = steps_per_epoch * epochs;
  schedule.warmup_steps = static_cast<int64_t>(o.warmup_fraction * static_cast<double>(schedule.total_steps));
  return schedule;
}

void fit_statistics(models::Classifier& model, const EncodedSet& examples) {
  model.fit_statistics([&](const auto& visit) {
    for (size_t i = 0; i < examples.size(); ++i) visit(examples.ids(i), examples.label(i));
  });
}

// Higher is better for every metric but the loss.
double metric_value(const std::string& metric, const Evaluation& e) {
  if (metric == "loss") return -e.loss;
  if (metric == "macro_f1") return e.report.macro_f1;
  return e.report.accuracy;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const TrainOptions& o, const std::vector<Tensor>& params) {
  if (o.optimizer == "sgd") {
    optim::SgdOptions s;
    s.lr = o.lr, s.momentum = o.momentum, s.weight_decay = o.weight_decay;
    return std::make_unique<optim::SGD>(params, s);
  }
  optim::AdamOptions a;
  a.lr = o.lr, a.weight_decay = o.weight_decay;
  return std::make_unique<optim::Adam>(params, a, o.optimizer == "adamw");
}

Status check_options(const TrainOptions& o) {
  auto bad = [](const std::string& why) { return Status(Code::kInvalidArgument, why); };
  if (o.out_dir.empty()) return bad("--out is required");
  if (o.epochs < 1) return bad("--epochs must be at least 1");
  if (o.batch_size < 1) return bad("--batch-size must be at least 1");
  if (!(o.lr > 0)) return bad("--lr must be positive");
  if (o.optimizer != "adam" && o.optimizer != "adamw" && o.optimizer != "sgd")
    return bad("--optimizer must be adam, adamw or sgd");
  if (o.metric != "accuracy" && o.metric != "macro_f1" && o.metric != "loss")
    return bad("--metric must be accuracy, macro_f1 or loss");
  if (o.valid.path.empty() && !(o.valid_fraction > 0 && o.valid_fraction < 1))
    return bad("--valid-fraction must be in (0, 1) when no --valid file is given");
  if (o.warmup_fraction < 0 || o.warmup_fraction >= 1) return bad("--warmup must be in [0, 1)");
  if (o.patience < 0) return bad("--patience must be >= 0");
  if (!(o.checkpoint_interval_s >= 0)) return bad("--checkpoint-interval must be >= 0 seconds");
  if (o.ids_memory_mb < 0) return bad("--ids-memory-mb must be >= 0");
  return optim::parse_schedule_kind(o.schedule).status();
}

// What a run is made of: labels, tokenizer, architecture, and the bundle's static description.
struct RunSetup {
  std::vector<std::string> labels;
  std::unique_ptr<text::TextEncoder> encoder;
  nlohmann::json architecture;
  std::unique_ptr<text::WordVectors> vectors;  // --pretrained-vectors, when given
};

// Copies the pretrained vectors into every token-embedding row whose token the file lists (as
// written, else lowercased); the other rows keep their random start.
Status init_from_vectors(models::Classifier& model, const RunSetup& run, const std::string& path, Progress& progress) {
  const std::vector<Tensor> tables = model.token_embeddings();
  if (tables.empty())
    return Status(Code::kInvalidArgument, "--pretrained-vectors: architecture '" +
                                              run.architecture.value("arch", std::string()) + "' has no token embeddings");
  const std::vector<std::string> tokens = run.encoder->token_strings();
  if (tokens.empty())
    return Status(Code::kInvalidArgument, "--pretrained-vectors needs the word or char tokenizer (SentencePiece pieces are not words)");
  const text::WordVectors& vectors = *run.vectors;
  int64_t found = 0;
  for (const Tensor& table : tables) {
    if (table.size(1) != vectors.dim())
      return Status(Code::kInvalidArgument, fmt::format("{}: vectors of dimension {}, the model's embeddings have {} "
                                                        "(set --embedding-dim {})", path, vectors.dim(), table.size(1), vectors.dim()));
    LMAAS_CHECK(table.dtype() == DType::kF32 && table.is_contiguous(), "token embeddings must be contiguous F32");
    found = 0;
    for (size_t id = 1; id < tokens.size() && static_cast<int64_t>(id) < table.size(0); ++id) {
      auto vec = vectors.find(tokens[id]);
      if (!vec) vec = vectors.find(text::lowercase(tokens[id]));
      if (!vec) continue;
      std::copy(vec->begin(), vec->end(), table.data<float>() + static_cast<int64_t>(id) * table.size(1));
      ++found;
    }
  }
  progress.message(fmt::format("pretrained vectors: {} of {} tokens found in {}", found, tokens.size() - 1, path));
  return Status::ok();
}

// What a fresh model (first run or refit) learns before its first step.
Status prepare_fresh_model(models::Classifier& model, const TrainOptions& o, const RunSetup& run,
                           const EncodedSet& train, Progress& progress) {
  fit_statistics(model, train);
  return run.vectors ? init_from_vectors(model, run, o.pretrained_vectors, progress) : Status::ok();
}

Result<RunSetup> fresh_setup(const TrainOptions& o, Progress& progress) {
  RunSetup r;
  std::set<std::string> labels;
  std::map<std::string, int64_t> counts;
  int64_t n = 0;
  const bool split = o.valid.path.empty();
  auto fitted = text::TextEncoder::fit(o.tokenizer, [&](const std::function<void(std::string_view)>& visit) {
    return for_each_example(o.train, progress, [&](const Example& e, int64_t index) {
      labels.insert(e.label);
      ++counts[e.label];
      ++n;
      if (!split || !in_dev_split(o.seed, index, o.valid_fraction)) visit(e.text);
      return Status::ok();
    });
  });
  if (!fitted.is_ok()) return fitted.status();
  if (n == 0) return Status(Code::kInvalidArgument, o.train.path + ": no examples (is the format right? see --format)");
  if (labels.size() < 2)
    return Status(Code::kInvalidArgument, o.train.path + ": every example has the label '" + *labels.begin() +
                                              "'; a classifier needs at least two classes");
  r.labels.assign(labels.begin(), labels.end());
  r.encoder = std::make_unique<text::TextEncoder>(std::move(fitted.value()));
  auto arch = models::complete_architecture(o.architecture, r.encoder->vocab_size(),
                                            static_cast<int64_t>(r.labels.size()), o.tokenizer.max_len, o.seed);
  if (!arch.is_ok()) return arch.status();
  r.architecture = arch.value();
  return r;
}

nlohmann::json bundle_config(const RunSetup& setup, const models::Classifier& model) {
  return {{"task", "classification"},
          {"architecture", model.config_json()},
          {"tokenizer", setup.encoder->spec_json()},
          {"labels", setup.labels}};
}

nlohmann::json data_json(const DataSpec& spec, size_t examples) {
  auto sha = sha256_file(spec.path);
  return {{"path", spec.path}, {"sha256", sha.is_ok() ? sha.value() : ""}, {"examples", examples}};
}

// config.json of a published model: dev metrics of the chosen epoch, the data and the options.
// refit: the weights come from retraining on training + validation data for `epoch` epochs.
nlohmann::json published_config(const TrainOptions& o, const RunSetup& run, const models::Classifier& model,
                                const EncodedData& d, const nlohmann::json& dev, int64_t epoch, bool refit) {
  nlohmann::json config = bundle_config(run, model);
  config["metrics"] = {{"dev", dev}, {"epoch", epoch}};
  config["data"] = {{"train", data_json(o.train, d.train.size())},
                    {"valid", o.valid.path.empty() ? nlohmann::json({{"split_of_train", o.valid_fraction},
                                                                     {"examples", d.dev.size()}})
                                                   : data_json(o.valid, d.dev.size())}};
  config["training"] = {{"epochs", o.epochs},       {"best_epoch", epoch},    {"batch_size", o.batch_size},
                        {"optimizer", o.optimizer}, {"lr", o.lr},             {"weight_decay", o.weight_decay},
                        {"schedule", o.schedule},   {"warmup_fraction", o.warmup_fraction},
                        {"clip_norm", o.clip_norm}, {"metric", o.metric},     {"seed", o.seed},
                        {"threads", num_threads()}, {"refit_on_train_and_valid", refit},
                        {"pretrained_vectors", o.pretrained_vectors}};
  return config;
}

struct Position {
  int64_t epoch = 1, step = 0, global_step = 0, best_epoch = 0, since_best = 0;
  double best_value = -1e300;
  nlohmann::json best_metrics;
};

nlohmann::json position_json(const Position& p) {
  return {{"epoch", p.epoch},           {"step", p.step},           {"global_step", p.global_step},
          {"best_epoch", p.best_epoch}, {"since_best", p.since_best}, {"best_value", p.best_value},
          {"best_metrics", p.best_metrics}};
}

Status write_checkpoint(const std::string& out_dir, const RunSetup& setup, const models::Classifier& model,
                        const optim::Optimizer& opt, const Position& pos) {
  return write_model_bundle(checkpoint_dir(out_dir), bundle_config(setup, model), model, [&](const std::string& tmp) {
    Status s = setup.encoder->save(tmp);
    TensorMap state;
    for (const auto& [name, t] : opt.state()) state.tensors.emplace_back(name, t);
    if (s.is_ok()) s = write_safetensors((std::filesystem::path(tmp) / "optimizer.safetensors").string(), state);
    if (s.is_ok()) s = write_file_atomic((std::filesystem::path(tmp) / "trainer.json").string(),
                                         position_json(pos).dump(2) + "\n");
    return s;
  });
}

Result<RunSetup> resumed_setup(const std::string& ckpt) {
  auto config = read_bundle_config(ckpt);
  if (!config.is_ok()) return config.status();
  RunSetup r;
  r.labels = config.value()["labels"].get<std::vector<std::string>>();
  auto encoder = text::TextEncoder::load(ckpt, config.value()["tokenizer"]);
  if (!encoder.is_ok()) return encoder.status();
  r.encoder = std::make_unique<text::TextEncoder>(std::move(encoder.value()));
  r.architecture = config.value()["architecture"];
  return r;
}

Status load_position(const std::string& ckpt, optim::Optimizer& opt, Position& pos) {
  auto state = read_safetensors((std::filesystem::path(ckpt) / "optimizer.safetensors").string());
  if (!state.is_ok()) return state.status();
  Status s = opt.load_state(state.value().tensors);
  if (!s.is_ok()) return s;
  auto bytes = read_file((std::filesystem::path(ckpt) / "trainer.json").string());
  if (!bytes.is_ok()) return bytes.status();
  nlohmann::json j = nlohmann::json::parse(bytes.value(), nullptr, false);
  if (j.is_discarded()) return Status(Code::kInvalidArgument, ckpt + "/trainer.json: not valid JSON");
  try {
    pos.epoch = j.at("epoch"), pos.step = j.at("step"), pos.global_step = j.at("global_step");
    pos.best_epoch = j.at("best_epoch"), pos.since_best = j.at("since_best"), pos.best_value = j.at("best_value");
    pos.best_metrics = j.at("best_metrics");
  } catch (const nlohmann::json::exception& e) {
    return Status(Code::kInvalidArgument, ckpt + "/trainer.json: " + e.what());
  }
  return Status::ok();
}

// Publishes a model (its state) with the run's tokenizer files as out_dir.
Status publish_model(const std::string& out_dir, const nlohmann::json& config, const nn::NamedTensors& state,
                     const RunSetup& run) {
  return write_model_bundle(out_dir, config, state, [&](const std::string& tmp) { return run.encoder->save(tmp); });
}

// The best model so far, copied in memory when validation improves and written to out_dir at the next
// checkpoint or at the end: writing it at every improvement took a quarter of a bow run's time.
class BestModel {
 public:
  void update(const models::Classifier& model, nlohmann::json config) {
    const nn::NamedTensors state = model.named_state();
    if (snapshot_.empty()) {
      for (const auto& [name, t] : state) snapshot_.emplace_back(name, t.clone());
    } else {
      for (size_t i = 0; i < state.size(); ++i) snapshot_[i].second.copy_from(state[i].second);
    }
    config_ = std::move(config);
    pending_ = true;
  }
  // Writes the held model if it is newer than out_dir's.
  Status flush(const std::string& out_dir, const RunSetup& run) {
    if (!pending_) return Status::ok();
    Status s = publish_model(out_dir, config_, snapshot_, run);
    pending_ = !s.is_ok();
    return s;
  }

 private:
  nn::NamedTensors snapshot_;
  nlohmann::json config_;
  bool pending_ = false;
};

// Retrains a fresh model on training + validation data for the epochs early stopping chose, and
// publishes it over the selected one (its dev metrics stay those of the selection run).
Status refit_on_all_data(const TrainOptions& o, const RunSetup& run, const EncodedData& d, int64_t epochs,
                         const nlohmann::json& dev, Progress& progress) {
  EncodedSet all = empty_set(o);
  for (const EncodedSet* part : {&d.train, &d.dev})
    for (size_t i = 0; i < part->size(); ++i) {
      Status s = all.append(part->ids(i), part->label(i));
      if (!s.is_ok()) return s;
    }
  if (Status s = all.finish(); !s.is_ok()) return s;
  auto made = models::make_classifier(run.architecture);
  if (!made.is_ok()) return made.status();
  models::Classifier& model = *made.value();
  if (Status s = prepare_fresh_model(model, o, run, all, progress); !s.is_ok()) return s;
  auto opt = make_optimizer(o, model.parameters());
  const optim::Schedule schedule = make_schedule(o, steps_per_epoch(o, all.size()), epochs);
  progress.message(fmt::format("refit: {} epochs on {} training + validation examples", epochs, all.size()));
  model.train(true);
  int64_t global_step = 0;
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    double loss_sum = 0;
    const auto batches = make_batches(all, o.batch_size, o.seed, epoch, true);
    for (const auto& batch : batches) {
      if (g_stop.load()) return Status(Code::kCancelled, "refit interrupted; the selected model stays in " + o.out_dir);
      loss_sum += train_step(model, *opt, to_tensors(all, batch), o, schedule, global_step++);
    }
    progress.message(fmt::format("refit epoch {}/{}: loss {:.4f}", epoch, epochs,
                                 loss_sum / static_cast<double>(std::max<size_t>(1, batches.size()))));
  }
  return publish_model(o.out_dir, published_config(o, run, model, d, dev, epochs, true), model.named_state(), run);
}

}  // namespace

void request_stop() { g_stop.store(true); }
bool stop_requested() { return g_stop.load(); }

bool in_dev_split(uint64_t seed, int64_t index, double fraction) {
  return static_cast<double>(mix64(seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(index)) % 1000000) <
         fraction * 1e6;
}

std::string checkpoint_dir(const std::string& out_dir) {
  std::string d = out_dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d + ".ckpt";
}

Result<TrainResult> train_classifier(const TrainOptions& o, Progress& progress) {
  Status s = check_options(o);
  if (!s.is_ok()) return s;
  g_stop.store(false);
  const auto started = Clock::now();
  const std::string ckpt = checkpoint_dir(o.out_dir);
  if (o.resume && !std::filesystem::exists(ckpt))
    return Status(Code::kNotFound, "--resume: no checkpoint at " + ckpt);
  auto setup = o.resume ? resumed_setup(ckpt) : fresh_setup(o, progress);
  if (!setup.is_ok()) return setup.status();
  RunSetup& run = setup.value();
  if (!o.pretrained_vectors.empty()) {  // read before the data, so a bad file fails fast
    auto vectors = text::WordVectors::read(o.pretrained_vectors);
    if (!vectors.is_ok()) return vectors.status();
    run.vectors = std::make_unique<text::WordVectors>(std::move(vectors.value()));
  }
  auto data = encode_data(o, *run.encoder, run.labels, progress);
  if (!data.is_ok()) return data.status();
  const EncodedData& d = data.value();
  auto made = models::make_classifier(run.architecture);
  if (!made.is_ok()) return made.status();
  models::Classifier& model = *made.value();
  if (!o.resume) {  // a checkpoint holds the statistics and weights already
    s = prepare_fresh_model(model, o, run, d.train, progress);
    if (!s.is_ok()) return s;
  }
  auto opt = make_optimizer(o, model.parameters());
  Position pos;
  if (o.resume) {
    s = load_bundle_weights(ckpt, model);
    if (s.is_ok()) s = load_position(ckpt, *opt, pos);
    if (!s.is_ok()) return s;
    progress.message("resuming from " + ckpt + " at epoch " + std::to_string(pos.epoch) + ", step " +
                     std::to_string(pos.step));
  }
  progress.message(fmt::format("{} training / {} validation examples, {} classes, vocabulary {}, {} parameters",
                               d.train.size(), d.dev.size(), run.labels.size(), run.encoder->vocab_size(),
                               model.n_parameters()));
  const int64_t epoch_steps = steps_per_epoch(o, d.train.size());
  const optim::Schedule schedule = make_schedule(o, epoch_steps, o.epochs);
  TrainResult result;
  BestModel best;
  // A checkpoint holds the best model written so far: out_dir is flushed first.
  auto last_checkpoint = Clock::now();
  auto save_checkpoint = [&](const Position& at) {
    Status st = best.flush(o.out_dir, run);
    if (st.is_ok()) st = write_checkpoint(o.out_dir, run, model, *opt, at);
    last_checkpoint = Clock::now();
    return st;
  };
  int64_t samples_done = 0;
  const auto loop_started = Clock::now();
  for (; pos.epoch <= o.epochs; ++pos.epoch, pos.step = 0) {
    const auto batches = make_batches(d.train, o.batch_size, o.seed, pos.epoch, true);
    model.train(true);
    double loss_sum = 0;
    int64_t loss_n = 0;
    for (; pos.step < static_cast<int64_t>(batches.size()); ++pos.step) {
      if (g_stop.load()) {
        s = save_checkpoint(pos);
        if (!s.is_ok()) return s;
        progress.message("stopped: checkpoint saved to " + ckpt + " (continue with --resume)");
        result.interrupted = true;
        result.best_epoch = pos.best_epoch, result.dev_metrics = pos.best_metrics;
        result.seconds = seconds_since(started);
        return result;
      }
      const auto& batch = batches[static_cast<size_t>(pos.step)];
      loss_sum += train_step(model, *opt, to_tensors(d.train, batch), o, schedule, pos.global_step++);
      ++loss_n;
      samples_done += static_cast<int64_t>(batch.size());
      const double elapsed = seconds_since(loop_started), rate = static_cast<double>(samples_done) / elapsed;
      const double left = static_cast<double>((o.epochs - pos.epoch) * epoch_steps +
                                              static_cast<int64_t>(batches.size()) - pos.step - 1);
      progress.step({pos.epoch, o.epochs, pos.step + 1, static_cast<int64_t>(batches.size()),
                     loss_sum / static_cast<double>(loss_n), opt->lr(), rate,
                     left * elapsed / static_cast<double>(std::max<int64_t>(1, pos.global_step))});
    }
    const Evaluation ev = evaluate(model, d.dev, std::max<int64_t>(o.batch_size, 64));
    const double value = metric_value(o.metric, ev);
    const bool improved = value > pos.best_value;
    nlohmann::json dev = eval::report_to_json(ev.report, run.labels);
    dev["loss"] = ev.loss;
    if (improved) {
      pos.best_value = value, pos.best_epoch = pos.epoch, pos.since_best = 0, pos.best_metrics = dev;
      best.update(model, published_config(o, run, model, d, dev, pos.epoch, false));
    } else {
      ++pos.since_best;
    }
    progress.set_validation(o.metric, o.metric == "loss" ? ev.loss : value);
    progress.epoch({{"epoch", pos.epoch},
                    {"dev_accuracy", ev.report.accuracy},
                    {"dev_macro_f1", ev.report.macro_f1},
                    {"dev_loss", ev.loss},
                    {"improved", improved},
                    {"text", fmt::format("dev accuracy {:.4f}, macro-F1 {:.4f}, loss {:.4f}{}", ev.report.accuracy,
                                         ev.report.macro_f1, ev.loss, improved ? " (best so far)" : "")}});
    result.epochs_run = pos.epoch;
    const bool stop_early = o.patience > 0 && pos.since_best >= o.patience;
    if (stop_early || pos.epoch == o.epochs || seconds_since(last_checkpoint) >= o.checkpoint_interval_s) {
      Position next = pos;
      ++next.epoch, next.step = 0;
      s = save_checkpoint(next);
      if (!s.is_ok()) return s;
    }
    if (stop_early) {
      progress.message(fmt::format("early stop: no improvement of dev {} for {} epochs", o.metric, o.patience));
      break;
    }
  }
  if (o.refit && pos.best_epoch > 0) {
    s = refit_on_all_data(o, run, d, pos.best_epoch, pos.best_metrics, progress);
    if (!s.is_ok()) return s;
  }
  result.best_epoch = pos.best_epoch;
  result.dev_metrics = pos.best_metrics;
  result.seconds = seconds_since(started);
  return result;
}

}  // namespace lmaas::train

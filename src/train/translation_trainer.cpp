#include "train/translation_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "autograd/tape.h"
#include "base/file_util.h"
#include "base/sha256.h"
#include "formats/model_bundle.h"
#include "ops/ops.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "train/token_batches.h"
#include "train/trainer.h"

namespace lmaas::train {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int32_t kPadId = 0, kBosId = 2, kEosId = 3;  // how train_tokenizers reserves them
inline constexpr const char* kSourceModelFile = "source.model";
inline constexpr const char* kTargetModelFile = "target.model";

struct Tokenizers {
  text::SentencePieceTokenizer source, target;  // the same model twice when joint
};

Result<Tokenizers> train_tokenizers(const TranslationTokenizerOptions& o, const std::vector<SentencePair>& pairs) {
  text::SentencePieceTrainOptions spm;
  spm.model_type = o.source_model_type, spm.character_coverage = o.character_coverage, spm.bos_eos = true;
  std::vector<std::string> sources, targets;
  for (const auto& p : pairs) sources.push_back(p.source), targets.push_back(p.target);
  if (o.joint) {
    sources.insert(sources.end(), targets.begin(), targets.end());
    spm.vocab_size = o.source_vocab_size;
    auto joint = text::SentencePieceTokenizer::train(sources, spm);
    if (!joint.is_ok()) return joint.status();
    auto copy = text::SentencePieceTokenizer::from_serialized(joint.value().serialized());
    if (!copy.is_ok()) return copy.status();
    return Tokenizers{std::move(joint.value()), std::move(copy.value())};
  }
  spm.vocab_size = o.source_vocab_size;
  auto source = text::SentencePieceTokenizer::train(sources, spm);
  if (!source.is_ok()) return Status(source.status().code(), "source tokenizer: " + source.status().message());
  spm.vocab_size = o.target_vocab_size, spm.model_type = o.target_model_type;
  auto target = text::SentencePieceTokenizer::train(targets, spm);
  if (!target.is_ok()) return Status(target.status().code(), "target tokenizer: " + target.status().message());
  return Tokenizers{std::move(source.value()), std::move(target.value())};
}

// One pair as ids: source pieces + </s>; target pieces (the decoder reads <s> + them, predicts them + </s>).
struct EncodedPair {
  std::vector<int32_t> source, target;
};

std::vector<EncodedPair> encode_pairs(const Tokenizers& t, const std::vector<SentencePair>& pairs, int64_t max_len,
                                      bool drop_long, int64_t& n_dropped) {
  std::vector<EncodedPair> out;
  n_dropped = 0;
  for (const auto& p : pairs) {
    EncodedPair e{t.source.encode(p.source), t.target.encode(p.target)};
    const int64_t keep = max_len - 1;  // room for </s> (source) and <s>/</s> (target)
    if (static_cast<int64_t>(e.source.size()) > keep || static_cast<int64_t>(e.target.size()) > keep) {
      if (drop_long) {
        ++n_dropped;
        continue;
      }
      e.source.resize(std::min<size_t>(e.source.size(), keep));
      e.target.resize(std::min<size_t>(e.target.size(), keep));
    }
    e.source.push_back(kEosId);
    out.push_back(std::move(e));
  }
  return out;
}

struct BatchIds {
  Tensor source, target_in, target_out;  // [B, Ts], [B, Tt], [B, Tt]; right-padded with kPadId
  int64_t n_target_tokens = 0;
};

BatchIds make_batch(const std::vector<EncodedPair>& data, const std::vector<int32_t>& rows) {
  size_t ts = 1, tt = 1;
  for (int32_t r : rows) ts = std::max(ts, data[r].source.size()), tt = std::max(tt, data[r].target.size() + 1);
  const int64_t b = static_cast<int64_t>(rows.size());
  BatchIds out{Tensor::full({b, static_cast<int64_t>(ts)}, kPadId, DType::kI32),
               Tensor::full({b, static_cast<int64_t>(tt)}, kPadId, DType::kI32),
               Tensor::full({b, static_cast<int64_t>(tt)}, kPadId, DType::kI32), 0};
  for (int64_t i = 0; i < b; ++i) {
    const EncodedPair& e = data[rows[i]];
    std::copy(e.source.begin(), e.source.end(), out.source.data<int32_t>() + i * ts);
    int32_t* in = out.target_in.data<int32_t>() + i * tt;
    int32_t* expected = out.target_out.data<int32_t>() + i * tt;
    in[0] = kBosId;
    std::copy(e.target.begin(), e.target.end(), in + 1);
    std::copy(e.target.begin(), e.target.end(), expected);
    expected[e.target.size()] = kEosId;
    out.n_target_tokens += static_cast<int64_t>(e.target.size()) + 1;
  }
  return out;
}

std::vector<PairLength> lengths_of(const std::vector<EncodedPair>& data) {
  std::vector<PairLength> out;
  for (const auto& e : data)
    out.push_back({static_cast<int32_t>(e.source.size()), static_cast<int32_t>(e.target.size() + 1)});
  return out;
}

// Teacher-forced mean cross-entropy per target token (no smoothing) over the whole set.
double dev_loss(models::Translator& model, const std::vector<EncodedPair>& dev, int64_t batch_tokens) {
  autograd::NoGradGuard no_grad;
  model.eval();
  double sum = 0;
  int64_t tokens = 0;
  for (const auto& rows : make_token_batches(lengths_of(dev), batch_tokens, 0, 0, false)) {
    BatchIds b = make_batch(dev, rows);
    sum += model.loss(b.source, b.target_in, b.target_out, 0.0).item() * static_cast<double>(b.n_target_tokens);
    tokens += b.n_target_tokens;
  }
  return tokens ? sum / static_cast<double>(tokens) : 0.0;
}

nn::NamedTensors snapshot(const nn::Module& model) {
  nn::NamedTensors out;
  for (const auto& [name, t] : model.named_state()) out.emplace_back(name, t.clone());
  return out;
}

nn::NamedTensors average(const std::vector<nn::NamedTensors>& states) {
  nn::NamedTensors out = states.front();
  for (auto& [name, t] : out) t = t.clone();
  for (size_t k = 1; k < states.size(); ++k)
    for (size_t i = 0; i < out.size(); ++i) out[i].second = ops::add(out[i].second, states[k][i].second);
  for (auto& [name, t] : out) t = ops::mul_scalar(t, 1.0 / static_cast<double>(states.size())).contiguous();
  return out;
}

nlohmann::json data_json(const ParallelSpec& spec, size_t pairs) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& path : spec.paths) {
    auto sha = sha256_file(path);
    files.push_back({{"path", path}, {"sha256", sha.is_ok() ? sha.value() : ""}});
  }
  return {{"files", files}, {"pairs", pairs}};
}

}  // namespace

namespace {

struct Run {
  Tokenizers tokenizers;
  std::vector<SentencePair> dev_pairs;
  std::vector<EncodedPair> train, dev;
  models::TranslatorConfig config;
};

Result<Run> prepare(const TranslationTrainOptions& o, Progress& progress, nlohmann::json& data_info) {
  auto train = read_parallel(o.train);
  if (!train.is_ok()) return train.status();
  std::vector<SentencePair> train_pairs, dev_pairs;
  if (o.valid.paths.empty()) {
    for (size_t i = 0; i < train.value().pairs.size(); ++i)
      (in_dev_split(o.seed, static_cast<int64_t>(i), o.valid_fraction) ? dev_pairs : train_pairs)
          .push_back(std::move(train.value().pairs[i]));
  } else {
    train_pairs = std::move(train.value().pairs);
    auto valid = read_parallel(o.valid);
    if (!valid.is_ok()) return valid.status();
    dev_pairs = std::move(valid.value().pairs);
  }
  if (train.value().n_skipped > 0) progress.message(fmt::format("skipped {} malformed line(s)", train.value().n_skipped));
  if (train_pairs.empty() || dev_pairs.empty())
    return Status(Code::kInvalidArgument, "the training or validation set is empty (raise --valid-fraction or give --valid)");
  auto tokenizers = train_tokenizers(o.tokenizer, train_pairs);
  if (!tokenizers.is_ok()) return tokenizers.status();
  nlohmann::json arch = o.architecture;
  arch["src_vocab_size"] = tokenizers.value().source.vocab_size();
  arch["tgt_vocab_size"] = tokenizers.value().target.vocab_size();
  arch["pad_id"] = kPadId, arch["bos_id"] = kBosId, arch["eos_id"] = kEosId;
  if (!arch.contains("seed")) arch["seed"] = o.seed;
  auto config = models::translator_config_from_json(arch);
  if (!config.is_ok()) return config.status();
  Run run{std::move(tokenizers.value()), std::move(dev_pairs), {}, {}, config.value()};
  int64_t dropped = 0, unused = 0;
  run.train = encode_pairs(run.tokenizers, train_pairs, run.config.max_len, true, dropped);
  run.dev = encode_pairs(run.tokenizers, run.dev_pairs, run.config.max_len, false, unused);
  if (dropped > 0)
    progress.message(fmt::format("left out {} training pair(s) longer than max_len {} tokens", dropped, run.config.max_len));
  if (run.train.empty()) return Status(Code::kInvalidArgument, "no training pair fits max_len");
  data_info = {{"train", data_json(o.train, train_pairs.size())},
               {"valid", o.valid.paths.empty() ? nlohmann::json{{"split_fraction", o.valid_fraction}}
                                               : data_json(o.valid, run.dev_pairs.size())},
               {"train_pairs_used", run.train.size()}};
  return run;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const TranslationTrainOptions& o, const nn::Module& model) {
  optim::AdamOptions adam;
  adam.lr = o.lr, adam.beta1 = 0.9, adam.beta2 = 0.98, adam.eps = 1e-9, adam.weight_decay = o.weight_decay;
  return std::make_unique<optim::Adam>(model.parameters(), adam, /*decoupled=*/o.weight_decay > 0);
}

Status check_options(const TranslationTrainOptions& o) {
  auto bad = [](const std::string& what) { return Status(Code::kInvalidArgument, what); };
  if (o.out_dir.empty()) return bad("--out is required");
  if (o.epochs < 1) return bad("--epochs must be at least 1");
  if (o.batch_tokens < 16) return bad("--batch-tokens must be at least 16");
  if (!(o.lr > 0)) return bad("--lr must be positive");
  if (o.label_smoothing < 0 || o.label_smoothing >= 1) return bad("--label-smoothing must be in [0, 1)");
  if (o.valid.paths.empty() && !(o.valid_fraction > 0 && o.valid_fraction < 1))
    return bad("--valid-fraction must be in (0, 1) when no --valid is given");
  for (const std::string& type : {o.tokenizer.source_model_type, o.tokenizer.target_model_type})
    if (type != "bpe" && type != "unigram" && type != "char")
      return bad("the translation tokenizers must be spm-bpe, spm-unigram or spm-char, got spm-" + type);
  return optim::parse_schedule_kind(o.schedule).status();
}

// The dev figures of the model as it stands: loss, and the caller's score when it gave a scorer.
Result<DevScore> score(const TranslationTrainOptions& o, Run& run, models::Translator& model) {
  const double loss = dev_loss(model, run.dev, o.batch_tokens);
  DevScore s{{{"loss", loss}}, -loss};
  if (!o.score_dev) return s;
  std::vector<SentencePair> pairs = run.dev_pairs;
  if (o.valid_score_limit > 0 && static_cast<int64_t>(pairs.size()) > o.valid_score_limit)
    pairs.resize(static_cast<size_t>(o.valid_score_limit));
  autograd::NoGradGuard no_grad;
  model.eval();
  auto scored = o.score_dev(TranslatorParts{model, run.tokenizers.source, run.tokenizers.target}, pairs);
  if (!scored.is_ok()) return scored.status();
  scored.value().metrics["loss"] = loss;
  return scored;
}

Status publish(const TranslationTrainOptions& o, const Run& run, const nn::NamedTensors& state, nlohmann::json config) {
  return write_model_bundle(o.out_dir, std::move(config), state, [&](const std::string& tmp) {
    Status s = write_file_atomic(tmp + "/" + kSourceModelFile, run.tokenizers.source.serialized());
    return s.is_ok() ? write_file_atomic(tmp + "/" + kTargetModelFile, run.tokenizers.target.serialized()) : s;
  });
}

nlohmann::json bundle_config(const TranslationTrainOptions& o, const Run& run, const nlohmann::json& data_info) {
  return {{"task", "translation"},
          {"architecture", models::translator_config_to_json(run.config)},
          {"tokenizer",
           {{"source_type", "spm-" + o.tokenizer.source_model_type},
            {"target_type", "spm-" + (o.tokenizer.joint ? o.tokenizer.source_model_type : o.tokenizer.target_model_type)},
            {"joint", o.tokenizer.joint},
            {"source", kSourceModelFile}, {"target", kTargetModelFile}}},
          {"source_language", o.source_language},
          {"target_language", o.target_language},
          {"data", data_info}};
}

// One epoch's steps; stops early on a stop request or once `out_of_time()`.
struct EpochRun {
  int64_t tokens = 0;  // target tokens trained on
  bool stopped = false, interrupted = false;
};

template <typename OutOfTime>
EpochRun train_epoch(const TranslationTrainOptions& o, const Run& run, models::Translator& model,
                     optim::Optimizer& optimizer, const optim::Schedule& schedule, const std::vector<PairLength>& lengths,
                     int64_t epoch, int64_t& step, Progress& progress, OutOfTime out_of_time) {
  model.train();
  const auto batches = make_token_batches(lengths, o.batch_tokens, o.seed, epoch, true);
  const auto started = Clock::now();
  EpochRun e;
  for (size_t i = 0; i < batches.size(); ++i) {
    e.interrupted = stop_requested();
    e.stopped = e.interrupted || out_of_time();
    if (e.stopped) break;
    BatchIds b = make_batch(run.train, batches[i]);
    model.reseed(mix64(o.seed * 1000003 + static_cast<uint64_t>(step)));
    optimizer.set_lr(o.lr * schedule.factor(step + 1));
    optimizer.zero_grad();
    Tensor loss = model.loss(b.source, b.target_in, b.target_out, o.label_smoothing);
    autograd::backward(loss);
    if (o.clip_norm > 0) optim::clip_grad_norm(model.parameters(), o.clip_norm);
    optimizer.step();
    ++step;
    e.tokens += b.n_target_tokens;
    const double elapsed = seconds_since(started);
    progress.step({epoch, o.epochs, static_cast<int64_t>(i) + 1, static_cast<int64_t>(batches.size()), loss.item(),
                   optimizer.lr(), static_cast<double>(e.tokens) / std::max(elapsed, 1e-9),
                   elapsed / static_cast<double>(i + 1) * static_cast<double>(batches.size() - i - 1)});
  }
  return e;
}

}  // namespace

Result<TranslationTrainResult> train_translator(const TranslationTrainOptions& o, Progress& progress) {
  Status s = check_options(o);
  if (!s.is_ok()) return s;
  const auto started = Clock::now();
  nlohmann::json data_info;
  auto prepared = prepare(o, progress, data_info);
  if (!prepared.is_ok()) return prepared.status();
  Run& run = prepared.value();
  auto built = models::make_translator(run.config);
  if (!built.is_ok()) return built.status();
  models::Translator& model = *built.value();
  auto optimizer = make_optimizer(o, model);
  optim::Schedule schedule{optim::parse_schedule_kind(o.schedule).value(), o.warmup_steps, 0, 0.0};
  const std::vector<PairLength> lengths = lengths_of(run.train);
  schedule.total_steps = o.epochs * static_cast<int64_t>(make_token_batches(lengths, o.batch_tokens, o.seed, 0, true).size());
  progress.message(fmt::format("{} training pairs, {} dev; vocabularies {} / {}; {} parameters", run.train.size(),
                               run.dev.size(), run.config.src_vocab_size, run.config.tgt_vocab_size, model.n_parameters()));

  TranslationTrainResult result;
  nn::NamedTensors best_state;
  std::vector<nn::NamedTensors> recent;  // the last average_last epochs' weights
  double best = -INFINITY;
  int64_t stale = 0, step = 0;
  auto out_of_time = [&] { return o.max_minutes > 0 && seconds_since(started) > o.max_minutes * 60; };
  for (int64_t epoch = 1; epoch <= o.epochs && !result.interrupted; ++epoch) {
    const auto epoch_started = Clock::now();
    const EpochRun e = train_epoch(o, run, model, *optimizer, schedule, lengths, epoch, step, progress, out_of_time);
    result.interrupted = e.interrupted;
    if (e.stopped && e.tokens == 0) break;
    result.epochs_run = epoch;
    auto dev = score(o, run, model);
    if (!dev.is_ok()) return dev.status();
    const bool improved = dev.value().primary > best;
    if (improved) best = dev.value().primary, best_state = snapshot(model), result.best_epoch = epoch,
                  result.dev_metrics = dev.value().metrics, stale = 0;
    else ++stale;
    if (o.average_last > 1) {
      recent.push_back(snapshot(model));
      if (static_cast<int64_t>(recent.size()) > o.average_last) recent.erase(recent.begin());
    }
    nlohmann::json summary = dev.value().metrics;
    summary["epoch"] = epoch, summary["steps"] = step, summary["improved"] = improved;
    summary["elapsed_s"] = seconds_since(started), summary["train_tokens_per_s"] = e.tokens / seconds_since(epoch_started);
    progress.epoch(summary);
    if (e.stopped || (o.patience > 0 && stale >= o.patience)) break;
  }
  if (best_state.empty())
    return Status(Code::kCancelled, result.interrupted || o.max_minutes <= 0
                                        ? "training stopped before the first step; nothing saved"
                                        : "--max-minutes " + fmt::format("{}", o.max_minutes) +
                                              " ran out before the first training step (reading the data and "
                                              "training the tokenizers took longer); nothing saved");
  if (recent.size() > 1) {
    nn::NamedTensors averaged = average(recent);
    Status loaded = model.load_state(averaged);
    if (!loaded.is_ok()) return loaded;
    auto dev = score(o, run, model);
    if (!dev.is_ok()) return dev.status();
    progress.message(fmt::format("average of the last {} epochs: dev {}", recent.size(), dev.value().metrics.dump()));
    if (dev.value().primary >= best) {
      best_state = std::move(averaged), result.dev_metrics = dev.value().metrics, result.averaged = true;
    }
  }
  result.steps = step;
  result.seconds = seconds_since(started);
  nlohmann::json config = bundle_config(o, run, data_info);
  config["metrics"] = {{"dev", result.dev_metrics}};
  config["training"] = {{"epochs_run", result.epochs_run}, {"best_epoch", result.best_epoch},
                        {"averaged_last", result.averaged ? static_cast<int64_t>(recent.size()) : 0},
                        {"steps", step}, {"seconds", result.seconds}, {"batch_tokens", o.batch_tokens},
                        {"lr", o.lr}, {"schedule", o.schedule}, {"warmup_steps", o.warmup_steps},
                        {"label_smoothing", o.label_smoothing}, {"seed", o.seed}};
  s = publish(o, run, best_state, std::move(config));
  if (!s.is_ok()) return s;
  return result;
}

}  // namespace lmaas::train

#include "translation_cli.h"

#include <chrono>
#include <cstdio>

#include "base/file_util.h"
#include "data_flags.h"
#include "runtime/translator_session.h"
#include "train/translation_trainer.h"

namespace lmaas::cli {
namespace {

Result<train::TranslationTrainOptions> translation_options_from(const nlohmann::json& o) {
  train::TranslationTrainOptions t;
  const std::string train_path = get<std::string>(o, "train", "");
  if (train_path.empty()) return Status(Code::kInvalidArgument, "--train (or 'train' in the config) is required");
  auto spec = parallel_spec_from(o, train_path, get<std::string>(o, "train_target", ""));
  if (!spec.is_ok()) return spec.status();
  t.train = spec.value();
  const std::string valid_path = get<std::string>(o, "valid", "");
  if (!valid_path.empty()) {
    auto v = parallel_spec_from(o, valid_path, get<std::string>(o, "valid_target", ""));
    if (!v.is_ok()) return v.status();
    t.valid = v.value();
  }
  t.valid_fraction = get<double>(o, "valid_fraction", 0.05);
  t.valid_score_limit = get<int64_t>(o, "valid_score_limit", 0);
  t.source_language = get<std::string>(o, "source_lang", "");
  t.target_language = get<std::string>(o, "target_lang", "");
  const std::string tokenizer = get<std::string>(o, "tokenizer", "spm-bpe");
  for (auto [key, out] : {std::pair{"source_tokenizer", &t.tokenizer.source_model_type},
                          std::pair{"target_tokenizer", &t.tokenizer.target_model_type}}) {
    const std::string type = get<std::string>(o, key, tokenizer);
    if (type.rfind("spm-", 0) != 0)
      return Status(Code::kInvalidArgument, "option '" + std::string(key) +
                                                "': translation uses spm-bpe, spm-unigram or spm-char, got '" + type + "'");
    *out = type.substr(4);
  }
  t.tokenizer.joint = get<bool>(o, "joint_vocab", false);
  const int64_t vocab = get<int64_t>(o, "vocab_size", 8000);
  t.tokenizer.source_vocab_size = get<int64_t>(o, "source_vocab_size", vocab);
  t.tokenizer.target_vocab_size = get<int64_t>(o, "target_vocab_size", vocab);
  t.tokenizer.character_coverage = get<double>(o, "character_coverage", 0.9995);
  nlohmann::json arch = {{"arch", get<std::string>(o, "arch", "transformer")}};
  for (const char* key : {"d_model", "n_heads", "dim_feedforward", "hidden_size", "encoder_layers", "decoder_layers",
                          "max_len"})
    if (o.contains(key)) arch[key] = get<int64_t>(o, key, 0);
  if (o.contains("dropout")) arch["dropout"] = get<double>(o, "dropout", 0.1);
  if (o.contains("positions")) arch["positions"] = get<std::string>(o, "positions", "sinusoidal");
  for (const char* key : {"norm_first", "share_embeddings", "tie_output"})
    if (o.contains(key)) arch[key] = get<bool>(o, key, true);
  t.architecture = arch;
  t.epochs = get<int64_t>(o, "epochs", 50);
  t.max_minutes = get<double>(o, "max_minutes", 0.0);
  t.batch_tokens = get<int64_t>(o, "batch_tokens", 4096);
  t.lr = get<double>(o, "lr", 7e-4);
  t.schedule = get<std::string>(o, "schedule", "inverse_sqrt");
  t.warmup_steps = get<int64_t>(o, "warmup_steps", 1000);
  t.label_smoothing = get<double>(o, "label_smoothing", 0.1);
  t.clip_norm = get<double>(o, "clip_norm", 0.0);
  t.weight_decay = get<double>(o, "weight_decay", 0.0);
  t.patience = get<int64_t>(o, "patience", 0);
  t.average_last = get<int64_t>(o, "average_last", 0);
  t.seed = get<uint64_t>(o, "seed", 1);
  t.out_dir = get<std::string>(o, "out", "");
  return t;
}

// The best translation of each pair's source by `translate`, beside the pair's target.
struct Hypotheses {
  std::vector<std::string> hypotheses, references;
};
template <typename Translate>
Hypotheses translate_pairs(const std::vector<train::SentencePair>& pairs, Translate translate) {
  std::vector<std::string_view> sources;
  Hypotheses out;
  for (const auto& p : pairs) sources.push_back(p.source), out.references.push_back(p.target);
  for (auto& n_best : translate(sources)) out.hypotheses.push_back(std::move(n_best.front().text));
  return out;
}

// Dev BLEU (greedy or --valid-beam-size) and chrF each epoch; BLEU drives early stopping.
train::DevScorer make_dev_scorer(const nlohmann::json& o, const std::string& target_language) {
  runtime::TranslateOptions decode;
  decode.search.beam_size = get<int64_t>(o, "valid_beam_size", 1);
  decode.batch_size = get<int64_t>(o, "decode_batch_size", 64);
  const eval::BleuTokenize tokenize = eval::default_bleu_tokenize(target_language);
  return [decode, tokenize](const train::TranslatorParts& parts,
                            const std::vector<train::SentencePair>& dev) -> Result<train::DevScore> {
    const Hypotheses h = translate_pairs(dev, [&](std::span<const std::string_view> sources) {
      return runtime::translate_texts(parts.model, parts.source_tokenizer, parts.target_tokenizer, sources, decode);
    });
    nlohmann::json scores = score_translations(h.hypotheses, h.references, tokenize);
    return train::DevScore{{{"bleu", scores["bleu"]}, {"chrf", scores["chrf"]}}, scores["bleu"].get<double>()};
  };
}

std::vector<std::string> read_lines(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.is_ok()) throw Error(bytes.status());
  std::vector<std::string> lines;
  std::string_view rest = bytes.value();
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return lines;
}

eval::BleuTokenize chosen_tokenize(const std::string& name, const std::string& target_language) {
  if (name.empty()) return eval::default_bleu_tokenize(target_language);
  eval::BleuTokenize t;
  if (!eval::parse_bleu_tokenize(name, t))
    throw Error(Code::kInvalidArgument, "--bleu-tokenize: expected 13a, zh or none, got '" + name + "'");
  return t;
}

void print_scores(nlohmann::json scores, const TranslationEvalArgs& a, double seconds) {
  if (a.json) {
    scores["model"] = a.model, scores["data"] = a.data, scores["seconds"] = seconds;
    std::printf("%s\n", scores.dump().c_str());
    return;
  }
  std::printf("%s: %zu sentences, %.1f s\nBLEU %.2f (tokenize %s, BP %.3f, hyp/ref length %lld/%lld)\nchrF %.2f\n",
              a.model.empty() ? a.hypotheses.c_str() : a.model.c_str(), scores["sentences"].get<size_t>(), seconds,
              scores["bleu"].get<double>(), scores["bleu_tokenize"].get<std::string>().c_str(),
              scores["bleu_detail"]["brevity_penalty"].get<double>(),
              static_cast<long long>(scores["bleu_detail"]["sys_len"].get<int64_t>()),
              static_cast<long long>(scores["bleu_detail"]["ref_len"].get<int64_t>()), scores["chrf"].get<double>());
}


}  // namespace

std::string bleu_tokenize_name(eval::BleuTokenize tokenize) {
  switch (tokenize) {
    case eval::BleuTokenize::k13a: return "13a";
    case eval::BleuTokenize::kZh: return "zh";
    case eval::BleuTokenize::kNone: return "none";
  }
  return "?";
}

nlohmann::json score_translations(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                                  eval::BleuTokenize tokenize) {
  const std::vector<std::vector<std::string>> refs{references};
  const eval::BleuScore bleu = eval::corpus_bleu(hypotheses, refs, tokenize);
  return {{"bleu", bleu.score},
          {"chrf", eval::corpus_chrf(hypotheses, refs)},
          {"bleu_tokenize", bleu_tokenize_name(tokenize)},
          {"bleu_detail",
           {{"precisions", bleu.precisions}, {"brevity_penalty", bleu.brevity_penalty},
            {"sys_len", bleu.sys_len}, {"ref_len", bleu.ref_len}}},
          {"sentences", hypotheses.size()}};
}

void add_translation_train_flags(ConfigValues& v, CLI::App* cmd) {
  using K = ConfigValues::Kind;
  add_parallel_flags(v, cmd);
  v.add(cmd, "--task", K::kString, "classify (default) | translate");
  v.add(cmd, "--train-target", K::kString, "translate: target-side file aligned with --train (two-file form)");
  v.add(cmd, "--valid-target", K::kString, "translate: target-side file aligned with --valid");
  v.add(cmd, "--source-lang", K::kString, "translate: source language code, recorded in the model (e.g. zh)");
  v.add(cmd, "--target-lang", K::kString, "translate: target language code; zh selects character-level BLEU");
  v.add_switch(cmd, "--joint-vocab", "joint_vocab", true, "translate: one SentencePiece model for both sides");
  v.add(cmd, "--source-tokenizer", K::kString, "translate: the source side's spm-bpe | spm-unigram | spm-char (--tokenizer)");
  v.add(cmd, "--target-tokenizer", K::kString, "translate: the target side's tokenizer (--tokenizer)");
  v.add(cmd, "--source-vocab-size", K::kInt, "translate: source SentencePiece vocabulary (--vocab-size, 8000)");
  v.add(cmd, "--target-vocab-size", K::kInt, "translate: target SentencePiece vocabulary (--vocab-size, 8000)");
  v.add(cmd, "--character-coverage", K::kNumber, "translate: SentencePiece character coverage (0.9995)");
  v.add(cmd, "--d-model", K::kInt, "translate: transformer width (256)");
  v.add(cmd, "--encoder-layers", K::kInt, "translate: encoder layers (3)");
  v.add(cmd, "--decoder-layers", K::kInt, "translate: decoder layers (3)");
  v.add(cmd, "--positions", K::kString, "translate: sinusoidal (default) | learned");
  v.add_switch(cmd, "--share-embeddings", "share_embeddings", true, "translate: one embedding table (needs --joint-vocab)");
  v.add_switch(cmd, "--no-tie-output", "tie_output", false, "translate: a separate output projection");
  v.add_switch(cmd, "--post-norm", "norm_first", false, "translate: post-norm layers (default pre-norm)");
  v.add(cmd, "--max-minutes", K::kNumber, "translate: stop training after this much wall-clock time");
  v.add(cmd, "--batch-tokens", K::kInt, "translate: padded tokens per batch (4096)");
  v.add(cmd, "--warmup-steps", K::kInt, "translate: linear warm-up steps before the schedule's decay (1000)");
  v.add(cmd, "--label-smoothing", K::kNumber, "translate: label smoothing (0.1)");
  v.add(cmd, "--average-last", K::kInt, "translate: average the weights of the last N epochs (0: off)");
  v.add(cmd, "--valid-score-limit", K::kInt, "translate: dev sentences decoded for BLEU each epoch (0: all)");
  v.add(cmd, "--valid-beam-size", K::kInt, "translate: beam for the per-epoch dev BLEU (1: greedy)");
  v.add(cmd, "--decode-batch-size", K::kInt, "translate: sentences decoded together (64)");
}

int run_train_translation(const nlohmann::json& o, train::Progress& progress) {
  auto options = translation_options_from(o);
  if (!options.is_ok()) throw Error(options.status());
  options.value().score_dev = make_dev_scorer(o, options.value().target_language);
  auto result = train::train_translator(options.value(), progress);
  if (!result.is_ok()) throw Error(result.status());
  const train::TranslationTrainResult& r = result.value();
  nlohmann::json summary = {{"out", options.value().out_dir}, {"best_epoch", r.best_epoch}, {"epochs_run", r.epochs_run},
                            {"steps", r.steps},   {"seconds", r.seconds},         {"averaged", r.averaged},
                            {"interrupted", r.interrupted}, {"dev", r.dev_metrics}};
  std::printf("%s\n", summary.dump().c_str());
  return r.interrupted ? 130 : 0;
}

int run_eval_translation(const nlohmann::json& o, const TranslationEvalArgs& a) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> hypotheses, references;
  std::string target_language;
  if (a.model.empty()) {
    if (a.hypotheses.empty() || a.references.empty())
      throw Error(Code::kInvalidArgument, "give --model and --data, or --hypotheses and --references");
    hypotheses = read_lines(a.hypotheses), references = read_lines(a.references);
    if (hypotheses.size() != references.size())
      throw Error(Code::kInvalidArgument, a.hypotheses + " has " + std::to_string(hypotheses.size()) + " lines but " +
                                              a.references + " has " + std::to_string(references.size()));
  } else {
    auto session = runtime::TranslatorSession::load(a.model);
    if (!session.is_ok()) throw Error(session.status());
    target_language = session.value()->config().value("target_language", "");
    auto spec = parallel_spec_from(o, a.data, a.data_target);
    if (!spec.is_ok()) throw Error(spec.status());
    auto data = train::read_parallel(spec.value());
    if (!data.is_ok()) throw Error(data.status());
    Hypotheses translated = translate_pairs(data.value().pairs, [&](std::span<const std::string_view> sources) {
      return session.value()->translate(sources, a.decode);
    });
    hypotheses = std::move(translated.hypotheses), references = std::move(translated.references);
    if (!a.output_hypotheses.empty()) {
      std::string text;
      for (const auto& h : hypotheses) text += h + "\n";
      Status s = write_file_atomic(a.output_hypotheses, text);
      if (!s.is_ok()) throw Error(s);
    }
  }
  if (hypotheses.empty()) throw Error(Code::kInvalidArgument, "no sentences to score");
  nlohmann::json scores = score_translations(hypotheses, references, chosen_tokenize(a.bleu_tokenize, target_language));
  if (!a.model.empty()) scores["beam_size"] = a.decode.search.beam_size;
  print_scores(std::move(scores), a,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return 0;
}

void print_translations(const runtime::TranslatorSession& session, const std::vector<std::string>& lines,
                        const runtime::TranslateOptions& decode) {
  std::vector<std::string_view> views(lines.begin(), lines.end());
  for (const auto& n_best : session.translate(views, decode)) {
    nlohmann::json j = {{"text", n_best.front().text}, {"score", n_best.front().score}};
    if (decode.search.n_best > 1) {
      j["n_best"] = nlohmann::json::array();
      for (const auto& t : n_best) j["n_best"].push_back({{"text", t.text}, {"score", t.score}});
    }
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  std::fflush(stdout);
}

}  // namespace lmaas::cli

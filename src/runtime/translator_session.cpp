#include "runtime/translator_session.h"

#include <algorithm>
#include <numeric>

#include "autograd/tape.h"
#include "formats/model_bundle.h"
#include "train/batching.h"

namespace lmaas::runtime {
std::vector<std::vector<Translation>> translate_texts(models::Translator& model,
                                                      const text::SentencePieceTokenizer& source_tokenizer,
                                                      const text::SentencePieceTokenizer& target_tokenizer,
                                                      std::span<const std::string_view> texts,
                                                      const TranslateOptions& options) {
  const models::TranslatorConfig& c = model.config();
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(texts.size());
  for (std::string_view t : texts) {
    std::vector<int32_t> pieces = source_tokenizer.encode(t);
    pieces.resize(std::min<size_t>(pieces.size(), static_cast<size_t>(c.max_len - 1)));
    pieces.push_back(c.eos_id);
    ids.push_back(std::move(pieces));
  }
  std::vector<size_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
  std::vector<std::vector<Translation>> out(texts.size());
  autograd::NoGradGuard no_grad;
  const size_t batch = static_cast<size_t>(std::max<int64_t>(1, options.batch_size));
  for (size_t start = 0; start < order.size(); start += batch) {
    std::span<const size_t> rows(order.data() + start, std::min(batch, order.size() - start));
    std::vector<std::span<const int32_t>> sources;
    for (size_t r : rows) sources.emplace_back(ids[r]);
    auto hypotheses = beam_search(model, train::pad_batch(sources, c.pad_id), options.search);
    for (size_t i = 0; i < rows.size(); ++i)
      for (const Hypothesis& h : hypotheses[i]) out[rows[i]].push_back({target_tokenizer.decode(h.tokens), h.score});
  }
  return out;
}

Result<std::unique_ptr<TranslatorSession>> TranslatorSession::load(const std::string& dir) {
  auto config = read_bundle_config(dir);
  if (!config.is_ok()) return config.status();
  const nlohmann::json& c = config.value();
  if (c["task"] != "translation")
    return Status(Code::kInvalidArgument, dir + " holds a " + c["task"].get<std::string>() + " model, not a translator");
  std::unique_ptr<TranslatorSession> s(new TranslatorSession());
  s->config_ = c;
  auto load_tokenizer = [&](const char* side) -> Result<std::unique_ptr<text::SentencePieceTokenizer>> {
    const nlohmann::json& t = c["tokenizer"];
    if (!t.contains(side) || !t[side].is_string())
      return Status(Code::kInvalidArgument, dir + "/config.json: tokenizer." + side + " must name a file");
    auto tok = text::SentencePieceTokenizer::load(dir + "/" + t[side].get<std::string>());
    if (!tok.is_ok()) return tok.status();
    return std::make_unique<text::SentencePieceTokenizer>(std::move(tok.value()));
  };
  auto source = load_tokenizer("source");
  if (!source.is_ok()) return source.status();
  auto target = load_tokenizer("target");
  if (!target.is_ok()) return target.status();
  s->source_ = std::move(source.value()), s->target_ = std::move(target.value());
  auto arch = models::translator_config_from_json(c["architecture"]);
  if (!arch.is_ok()) return Status(arch.status().code(), dir + "/config.json: " + arch.status().message());
  if (arch.value().src_vocab_size != s->source_->vocab_size() || arch.value().tgt_vocab_size != s->target_->vocab_size())
    return Status(Code::kInvalidArgument, dir + ": the tokenizers' vocabularies (" +
                                              std::to_string(s->source_->vocab_size()) + ", " +
                                              std::to_string(s->target_->vocab_size()) +
                                              ") do not match the architecture's src/tgt_vocab_size");
  auto model = models::make_translator(arch.value());
  if (!model.is_ok()) return Status(model.status().code(), dir + "/config.json: " + model.status().message());
  s->model_ = std::move(model.value());
  Status w = load_bundle_weights(dir, *s->model_);
  if (!w.is_ok()) return w;
  s->model_->eval();
  return s;
}

std::vector<std::vector<Translation>> TranslatorSession::translate(std::span<const std::string_view> texts,
                                                                   const TranslateOptions& options) const {
  return translate_texts(*model_, *source_, *target_, texts, options);
}

}  // namespace lmaas::runtime

// Translation inference: texts → translations with a Translator and its SentencePiece models.
//   translate_texts: the core, shared by training-time scoring and serving — each text is encoded
//     (pieces + </s>, cut to the model's max_len), texts are sorted by length and decoded in batches of
//     batch_size sentences with beam_search, and each hypothesis is decoded back to text.
//   TranslatorSession: a translation model bundle (config.json task "translation") loaded for inference.
// One call at a time per model (decoding reuses no shared buffers, but the caller owns the threads).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "models/translator.h"
#include "runtime/beam_search.h"
#include "text/sentencepiece_tokenizer.h"

namespace lmaas::runtime {

struct Translation {
  std::string text;
  double score = 0;  // length-normalised log-probability
};

struct TranslateOptions {
  SearchOptions search;
  int64_t batch_size = 32;  // sentences decoded together
};

// result[i] holds 1 … n_best translations of texts[i], best first.
std::vector<std::vector<Translation>> translate_texts(models::Translator& model,
                                                      const text::SentencePieceTokenizer& source_tokenizer,
                                                      const text::SentencePieceTokenizer& target_tokenizer,
                                                      std::span<const std::string_view> texts,
                                                      const TranslateOptions& options);

class TranslatorSession {
 public:
  static Result<std::unique_ptr<TranslatorSession>> load(const std::string& dir);
  std::vector<std::vector<Translation>> translate(std::span<const std::string_view> texts,
                                                  const TranslateOptions& options) const;
  const nlohmann::json& config() const { return config_; }

 private:
  TranslatorSession() = default;
  nlohmann::json config_;
  std::unique_ptr<text::SentencePieceTokenizer> source_, target_;
  std::unique_ptr<models::Translator> model_;
};

}  // namespace lmaas::runtime

// SentencePiece subword tokenizer (libsentencepiece): loads a .model file, or trains a BPE or unigram
// model in memory from the training texts (`lmaas train --tokenizer spm-bpe|spm-unigram --vocab-size N`).
// Models trained here reserve id 0 for padding and 1 for unknown pieces, matching the word tokenizer's
// convention that 0 pads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace lmaas::text {

struct SentencePieceTrainOptions {
  std::string model_type = "bpe";  // "bpe" | "unigram" | "char" (one piece per character; translation sources)
  int64_t vocab_size = 8000;
  double character_coverage = 0.9995;  // < 1 lets rare characters (e.g. rare Han) map to unknown
  bool bos_eos = false;                // reserve <s>=2 and </s>=3 (translation); off for classifiers
  int64_t max_sentence_length = 8192;  // bytes; longer training lines are skipped by the trainer
};

class SentencePieceTokenizer {
 public:
  SentencePieceTokenizer(SentencePieceTokenizer&&) noexcept;
  SentencePieceTokenizer& operator=(SentencePieceTokenizer&&) noexcept;
  ~SentencePieceTokenizer();

  static Result<SentencePieceTokenizer> load(const std::string& path);
  static Result<SentencePieceTokenizer> from_serialized(std::string_view model_proto);
  // Deterministic: the same texts and options give the same model.
  static Result<SentencePieceTokenizer> train(const std::vector<std::string>& texts,
                                              const SentencePieceTrainOptions& options);

  std::vector<int32_t> encode(std::string_view text) const;
  std::vector<std::string> encode_pieces(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  int64_t vocab_size() const;
  int32_t pad_id() const;  // -1 when the model has none
  std::string serialized() const;

 private:
  SentencePieceTokenizer();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

}  // namespace lmaas::text

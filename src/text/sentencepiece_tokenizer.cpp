#include "text/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "base/check.h"

namespace lmaas::text {
namespace {

Status to_status(const sentencepiece::util::Status& s, const std::string& context) {
  if (s.ok()) return Status();
  return Status(Code::kInvalidArgument, context + ": " + s.ToString());
}

// Feeds the training texts to the trainer without writing them to a file.
class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<std::string>& texts) : texts_(texts) {}
  bool done() const override { return index_ >= texts_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return texts_[index_]; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  const std::vector<std::string>& texts_;
  size_t index_ = 0;
};

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer()
    : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
SentencePieceTokenizer::SentencePieceTokenizer(SentencePieceTokenizer&&) noexcept = default;
SentencePieceTokenizer& SentencePieceTokenizer::operator=(SentencePieceTokenizer&&) noexcept = default;
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

Result<SentencePieceTokenizer> SentencePieceTokenizer::load(const std::string& path) {
  SentencePieceTokenizer t;
  Status s = to_status(t.processor_->Load(path), "sentencepiece model " + path);
  if (!s.is_ok()) return s;
  return t;
}

Result<SentencePieceTokenizer> SentencePieceTokenizer::from_serialized(std::string_view model_proto) {
  SentencePieceTokenizer t;
  Status s = to_status(t.processor_->LoadFromSerializedProto(model_proto), "sentencepiece model");
  if (!s.is_ok()) return s;
  return t;
}

Result<SentencePieceTokenizer> SentencePieceTokenizer::train(const std::vector<std::string>& texts,
                                                             const SentencePieceTrainOptions& options) {
  if (options.model_type != "bpe" && options.model_type != "unigram" && options.model_type != "char")
    return Status(Code::kInvalidArgument, "sentencepiece: model type '" + options.model_type +
                                              "' is not 'bpe', 'unigram' or 'char'");
  if (texts.empty()) return Status(Code::kInvalidArgument, "sentencepiece: no training texts");
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", options.model_type},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"pad_id", "0"},
      {"unk_id", "1"},
      {"bos_id", options.bos_eos ? "2" : "-1"},
      {"eos_id", options.bos_eos ? "3" : "-1"},
      {"max_sentence_length", std::to_string(options.max_sentence_length)},
      {"input_sentence_size", "0"},        // use every text
      {"shuffle_input_sentence", "false"},  // and keep their order: the model depends on the data only
      {"num_threads", "1"},                 // summation order fixed: same texts → same model
      {"hard_vocab_limit", "false"},        // small corpora: shrink the vocabulary instead of failing
      {"minloglevel", "2"},
  };
  VectorIterator it(texts);
  std::string proto;
  Status s = to_status(sentencepiece::SentencePieceTrainer::Train(args, &it, &proto), "sentencepiece training");
  if (!s.is_ok()) return s;
  return from_serialized(proto);
}

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  Status s = to_status(processor_->Encode(text, &ids), "sentencepiece encode");
  LMAAS_CHECK(s.is_ok(), "{}", s.message());
  return std::vector<int32_t>(ids.begin(), ids.end());
}

std::vector<std::string> SentencePieceTokenizer::encode_pieces(std::string_view text) const {
  std::vector<std::string> pieces;
  Status s = to_status(processor_->Encode(text, &pieces), "sentencepiece encode");
  LMAAS_CHECK(s.is_ok(), "{}", s.message());
  return pieces;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  Status s = to_status(processor_->Decode(std::vector<int>(ids.begin(), ids.end()), &out), "sentencepiece decode");
  LMAAS_CHECK(s.is_ok(), "{}", s.message());
  return out;
}

int64_t SentencePieceTokenizer::vocab_size() const { return processor_->GetPieceSize(); }
int32_t SentencePieceTokenizer::pad_id() const { return processor_->pad_id(); }
std::string SentencePieceTokenizer::serialized() const { return std::string(processor_->serialized_model_proto()); }

}  // namespace lmaas::text

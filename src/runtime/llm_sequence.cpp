// LlmSequence: see llm_sequence.h.
#include "runtime/llm_sequence.h"

#include <algorithm>

#include "base/check.h"

namespace lmaas::runtime {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kNone: break;
  }
  return "";
}

LlmSequence::LlmSequence(std::shared_ptr<const text::LlmTokenizer> tokenizer, std::vector<int32_t> prompt,
                         GenerationParams params, int64_t context_length)
    : tokenizer_(std::move(tokenizer)),
      prompt_(std::move(prompt)),
      params_(std::move(params)),
      context_length_(context_length),
      sampler_(params_.sampling),
      stream_(params_.stop) {
  LMAAS_CHECK(!prompt_.empty(), "a generation needs at least one prompt token");
  for (int32_t t : prompt_) sampler_.accept(t);
  const text::LlmVocab& vocab = tokenizer_->vocab();
  strip_leading_space_ = vocab.type == text::LlmVocabType::kSpm && vocab.add_space_prefix &&
                         std::all_of(prompt_.begin(), prompt_.end(), [&](int32_t t) { return tokenizer_->is_control(t); });
  if (params_.max_tokens <= 0) finish_ = FinishReason::kLength;
}

int64_t LlmSequence::n_pending() const {
  if (finished()) return 0;
  if (!prefilled()) return static_cast<int64_t>(prompt_.size()) - n_fed_;
  // After the prompt, the last sampled token waits until it is fed.
  const int64_t total = static_cast<int64_t>(prompt_.size() + generated_.size());
  return total - n_fed_;
}

int32_t LlmSequence::pending_token(int64_t i) const {
  const int64_t pos = n_fed_ + i;
  const auto n_prompt = static_cast<int64_t>(prompt_.size());
  return pos < n_prompt ? prompt_[static_cast<size_t>(pos)] : generated_[static_cast<size_t>(pos - n_prompt)];
}

GenerationStep LlmSequence::on_logits(std::span<float> logits) {
  LMAAS_CHECK(!finished() && prefilled() && n_pending() == 0, "on_logits: the sequence is not waiting for a token");
  GenerationStep step;
  step.token = sampler_.sample(logits);
  const int32_t token = step.token.token;
  generated_.push_back(token);
  const bool end_of_generation = tokenizer_->is_eog(token) && !params_.ignore_eos;
  if (!end_of_generation) {
    std::string piece = tokenizer_->token_to_piece(token);
    if (strip_leading_space_ && generated_.size() == 1 && piece.starts_with(' ')) piece.erase(0, 1);
    step.text = stream_.push(piece);
  }
  if (end_of_generation || stream_.stopped()) {
    finish_ = FinishReason::kStop;
  } else if (static_cast<int32_t>(generated_.size()) >= params_.max_tokens ||
             static_cast<int64_t>(prompt_.size() + generated_.size()) >= context_length_) {
    finish_ = FinishReason::kLength;
  }
  if (finish_ != FinishReason::kNone) step.text += stream_.finish();
  step.finish = finish_;
  return step;
}

}  // namespace lmaas::runtime

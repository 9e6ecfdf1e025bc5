// LlmSequence: the generation state of one request to a decoder-only model: its prompt, what has been
// fed to the model so far, the sampler, the text released so far and why it ended.
// The scheduler feeds tokens (pending_tokens: the unfed prompt, then each sampled token) and hands back
// the logits of the last fed position (on_logits), which samples the next token and reports it.
// Ends: "stop" when the model produces an end-of-generation token (unless ignore_eos) or the text hits a
// stop sequence; "length" after max_tokens tokens or at the context limit.
// Not thread-safe: owned by the scheduler thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/sampler.h"
#include "runtime/text_stream.h"
#include "text/llm_tokenizer.h"

namespace lmaas::runtime {

struct GenerationParams {
  SamplingParams sampling;
  int32_t max_tokens = 16;
  std::vector<std::string> stop;  // stop sequences (text)
  bool ignore_eos = false;
};

enum class FinishReason { kNone, kStop, kLength };
const char* finish_reason_name(FinishReason reason);  // "stop", "length", "" (none)

// What one step produced for a sequence.
struct GenerationStep {
  SampledToken token;
  std::string text;  // text released by this token (may be empty; see TextStream)
  FinishReason finish = FinishReason::kNone;
};

class LlmSequence {
 public:
  // context_length: the model's limit; prompt.size() must be below it (the caller checks and reports).
  LlmSequence(std::shared_ptr<const text::LlmTokenizer> tokenizer, std::vector<int32_t> prompt,
              GenerationParams params, int64_t context_length);

  const std::vector<int32_t>& prompt() const { return prompt_; }
  const std::vector<int32_t>& generated() const { return generated_; }
  const GenerationParams& params() const { return params_; }
  bool finished() const { return finish_ != FinishReason::kNone; }
  FinishReason finish_reason() const { return finish_; }

  // Positions already in the KV cache.
  int64_t n_fed() const { return n_fed_; }
  // Tokens waiting to be fed: the rest of the prompt during prefill, then the last sampled token.
  int64_t n_pending() const;
  int32_t pending_token(int64_t i) const;  // i < n_pending()
  // Records that the first n pending tokens were fed.
  void mark_fed(int64_t n) { n_fed_ += n; }
  // True when the whole prompt has been fed (logits then come from the last fed position).
  bool prefilled() const { return n_fed_ >= static_cast<int64_t>(prompt_.size()); }

  // Samples the next token from the logits of the last fed position; ends the sequence when due.
  GenerationStep on_logits(std::span<float> logits);

 private:
  std::shared_ptr<const text::LlmTokenizer> tokenizer_;
  std::vector<int32_t> prompt_;
  GenerationParams params_;
  int64_t context_length_;
  Sampler sampler_;
  TextStream stream_;
  // SPM: a prompt of special tokens only (just BOS) makes the first word's "▁" a space the text does
  // not have; it is dropped from the first piece, as llama.cpp's and SentencePiece's decoders do.
  bool strip_leading_space_ = false;
  std::vector<int32_t> generated_;
  int64_t n_fed_ = 0;
  FinishReason finish_ = FinishReason::kNone;
};

}  // namespace lmaas::runtime

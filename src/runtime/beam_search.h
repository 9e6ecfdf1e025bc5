// Beam search (and greedy decoding, beam_size 1) over a Translator (transformer or LSTM), batched: the sentences of
// a batch decode together, beam_size rows each, with the decoder's key/value cache (one step feeds one
// token per row). The rules follow fairseq's sequence generator:
//   - <pad> and <s> are never generated;
//   - each step ranks, per sentence, all beam × vocabulary continuations by cumulative log-probability
//     and takes the best 2·beam; a continuation ending in </s> among the first `beam` ranks is finished
//     with score = log-prob / length^length_penalty (length counts </s>), the first `beam` others
//     continue;
//   - a sentence stops once it has `beam` finished hypotheses, or at its length limit
//     min(max_len_ratio · source tokens + max_len_extra, max_tokens + 1, the model's max_len − 1) tokens
//     (</s> counted), where its open hypotheses are finished with </s>;
//   - sentences that are done leave the batch (their rows are dropped from the cache).
// Returned per sentence: the n_best finished hypotheses (at least one), best first, tokens without <s>/</s>.
// Runs under NoGradGuard with the model in eval mode (the caller's job); deterministic.
#pragma once

#include <cstdint>
#include <vector>

#include "models/translator.h"

namespace lmaas::runtime {

struct SearchOptions {
  int64_t beam_size = 4;
  double length_penalty = 1.0;
  double max_len_ratio = 1.5;
  int64_t max_len_extra = 10;
  int64_t n_best = 1;  // <= beam_size
  int64_t max_tokens = 0;  // > 0: at most this many tokens per translation, </s> not counted
};

struct Hypothesis {
  std::vector<int32_t> tokens;
  double score = 0;     // length-normalised log-probability (what ranks hypotheses)
  double log_prob = 0;  // total log-probability, </s> included
};

// src_ids [B, Ts] I32 right-padded with the model's pad id, each row ending in </s>.
std::vector<std::vector<Hypothesis>> beam_search(models::Translator& model, const Tensor& src_ids,
                                                 const SearchOptions& options);

}  // namespace lmaas::runtime

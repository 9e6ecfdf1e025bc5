// Sampler: see sampler.h.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/llm.h"

namespace lmaas::runtime {

Status SamplingParams::validate() const {
  auto bad = [](const char* field, double value, const char* expected) {
    return Status(Code::kInvalidArgument, fmt::format("{} = {}; expected {}", field, value, expected));
  };
  if (!(temperature >= 0.0f) || !std::isfinite(temperature)) return bad("temperature", temperature, "a number ≥ 0");
  if (top_k < 0) return bad("top_k", top_k, "≥ 0 (0 = off)");
  if (!(top_p > 0.0f && top_p <= 1.0f)) return bad("top_p", top_p, "in (0, 1]");
  if (!(min_p >= 0.0f && min_p <= 1.0f)) return bad("min_p", min_p, "in [0, 1]");
  if (!(repetition_penalty > 0.0f) || !std::isfinite(repetition_penalty)) {
    return bad("repetition_penalty", repetition_penalty, "a number > 0 (1 = off)");
  }
  if (!std::isfinite(presence_penalty) || std::fabs(presence_penalty) > 2.0f) {
    return bad("presence_penalty", presence_penalty, "in [-2, 2]");
  }
  if (!std::isfinite(frequency_penalty) || std::fabs(frequency_penalty) > 2.0f) {
    return bad("frequency_penalty", frequency_penalty, "in [-2, 2]");
  }
  if (penalty_last_n < -1) return bad("penalty_last_n", penalty_last_n, "≥ -1 (-1 = all tokens)");
  if (n_top_logprobs < 0 || n_top_logprobs > 20) return bad("top_logprobs", n_top_logprobs, "in [0, 20]");
  return Status::ok();
}

Sampler::Sampler(SamplingParams params) : params_(params), rng_(params.seed) {}

void Sampler::accept(int32_t token) {
  if (params_.penalty_last_n == 0) return;
  recent_.push_back(token);
  ++counts_[token];
  if (params_.penalty_last_n > 0 && static_cast<int64_t>(recent_.size()) > params_.penalty_last_n) {
    const int32_t old = recent_.front();
    recent_.pop_front();
    if (--counts_[old] == 0) counts_.erase(old);
  }
}

void Sampler::apply_penalties(std::span<float> logits) const {
  const bool repetition = params_.repetition_penalty != 1.0f;
  if (!repetition && params_.presence_penalty == 0.0f && params_.frequency_penalty == 0.0f) return;
  for (const auto& [token, count] : counts_) {
    if (token < 0 || static_cast<size_t>(token) >= logits.size()) continue;
    float& l = logits[static_cast<size_t>(token)];
    if (repetition) l = l > 0.0f ? l / params_.repetition_penalty : l * params_.repetition_penalty;
    l -= params_.presence_penalty + params_.frequency_penalty * static_cast<float>(count);
  }
}

SampledToken Sampler::sample(std::span<float> logits) {
  const bool want_logprobs = params_.logprobs || params_.n_top_logprobs > 0;
  // Log-probabilities come from the untouched distribution: keep a copy before the penalties change it.
  if (want_logprobs) raw_logits_.assign(logits.begin(), logits.end());
  apply_penalties(logits);
  const int32_t token = draw(logits);
  accept(token);
  if (!want_logprobs) return SampledToken{token, 0.0f, {}};
  return model_logprobs(raw_logits_, token, params_.n_top_logprobs);
}

int32_t Sampler::draw(std::span<const float> logits) {
  const auto n_vocab = static_cast<int32_t>(logits.size());
  if (params_.temperature == 0.0f) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  // Candidates as (unnormalised probability, id). Sorting is the expensive part over a large vocabulary,
  // so it happens only as far as top-k / top-p need it; otherwise candidates stay in id order.
  auto higher = [](const Candidate& a, const Candidate& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  weights_.resize(static_cast<size_t>(n_vocab));
  const float inv_temperature = 1.0f / params_.temperature;
  if (kernels::cpu::cpu_supports_avx2()) {
    const float max_logit = kernels::cpu::max_value(logits.data(), n_vocab);
    kernels::cpu::scaled_exp(logits.data(), n_vocab, max_logit, inv_temperature, weights_.data());
  } else {
    const float max_logit = *std::max_element(logits.begin(), logits.end());
    for (int32_t i = 0; i < n_vocab; ++i) weights_[i] = std::exp((logits[i] - max_logit) * inv_temperature);
  }
  if (params_.top_k <= 0 && params_.top_p >= 1.0f && params_.min_p <= 0.0f) {
    // Nothing to cut: draw over the weights in id order (the order the candidate list would keep).
    return static_cast<int32_t>(draw_index(weights_.size(), [&](size_t i) { return double{weights_[i]}; }));
  }
  candidates_.resize(static_cast<size_t>(n_vocab));
  // Weights in double from here: long tails of tiny probabilities add up.
  for (int32_t i = 0; i < n_vocab; ++i) candidates_[static_cast<size_t>(i)] = {weights_[static_cast<size_t>(i)], i};
  size_t n_sorted = 0;  // candidates_[0, n_sorted) are the best, in order
  if (params_.top_k > 0 && params_.top_k < n_vocab) {
    const auto k = static_cast<size_t>(params_.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(k), candidates_.end(), higher);
    candidates_.resize(k);
    n_sorted = k;
  }
  double total = 0.0;
  for (const Candidate& c : candidates_) total += c.first;

  // top-p: the smallest best-first prefix whose mass reaches top_p (sorted in growing steps).
  size_t n_keep = candidates_.size();
  if (params_.top_p < 1.0f) {
    for (size_t k = std::min<size_t>(64, n_keep);; k = std::min(n_keep, 4 * k)) {
      if (n_sorted < k) {
        std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(k), candidates_.end(), higher);
        n_sorted = k;
      }
      double cumulative = 0.0;
      size_t i = 0;
      while (i < k && cumulative < params_.top_p * total) cumulative += candidates_[i++].first;
      if (cumulative >= params_.top_p * total || k == n_keep) {
        n_keep = i;
        break;
      }
    }
  }
  // min-p: drop candidates below min_p × the best (the best has weight 1), keeping their order.
  if (params_.min_p > 0.0f) {
    const auto last = std::remove_if(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(n_keep),
                                     [&](const Candidate& c) { return c.first < params_.min_p; });
    n_keep = static_cast<size_t>(last - candidates_.begin());
  }

  return candidates_[draw_index(n_keep, [&](size_t i) { return candidates_[i].first; })].second;
}

template <typename WeightOf>
size_t Sampler::draw_index(size_t n, const WeightOf& weight_of) {
  // Sums of blocks of kBlock weights (four interleaved sums each: a vocabulary is not one long chain of
  // dependent additions), a walk over the blocks to the one r falls in, and a scan inside it.
  constexpr size_t kBlock = 64;
  block_sums_.resize((n + kBlock - 1) / kBlock);
  double total = 0.0;
  for (size_t b = 0; b < block_sums_.size(); ++b) {
    const size_t end = std::min(n, (b + 1) * kBlock);
    double s[4] = {0.0, 0.0, 0.0, 0.0};
    size_t i = b * kBlock;
    for (; i + 4 <= end; i += 4) {
      for (size_t j = 0; j < 4; ++j) s[j] += weight_of(i + j);
    }
    for (; i < end; ++i) s[0] += weight_of(i);
    block_sums_[b] = (s[0] + s[1]) + (s[2] + s[3]);
    total += block_sums_[b];
  }
  const double r = rng_.uniform_double() * total;
  double cumulative = 0.0;
  size_t b = 0;
  for (; b + 1 < block_sums_.size() && cumulative + block_sums_[b] <= r; ++b) cumulative += block_sums_[b];
  size_t last_positive = b * kBlock;
  for (size_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) {
    const double w = weight_of(i);
    cumulative += w;
    if (w > 0.0) last_positive = i;
    if (r < cumulative && w > 0.0) return i;
  }
  return last_positive;  // rounding left r at the block's end
}

SampledToken model_logprobs(std::span<const float> logits, int32_t token, int32_t n_top) {
  SampledToken out;
  out.token = token;
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max_logit);
  const double log_z = max_logit + std::log(sum);
  out.logprob = static_cast<float>(static_cast<double>(logits[static_cast<size_t>(token)]) - log_z);
  if (n_top > 0) {
    std::vector<int32_t> ids(logits.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
    const auto n = std::min<size_t>(static_cast<size_t>(n_top), ids.size());
    std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(), [&](int32_t a, int32_t b) {
      return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)] ||
             (logits[static_cast<size_t>(a)] == logits[static_cast<size_t>(b)] && a < b);
    });
    for (size_t i = 0; i < n; ++i) {
      out.top.push_back({ids[i], static_cast<float>(static_cast<double>(logits[static_cast<size_t>(ids[i])]) - log_z)});
    }
  }
  return out;
}

}  // namespace lmaas::runtime

#include "runtime/beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/ops.h"

namespace lmaas::runtime {
namespace {

constexpr double kDead = -std::numeric_limits<double>::infinity();

struct Beam {
  std::vector<int32_t> tokens;
  double log_prob = kDead;  // kDead: an empty slot (only beam 0 is alive at the first step)
};

// One sentence being decoded: its open beams (beam_size of them, in its rows of the batch) and the
// hypotheses it has finished.
struct Sentence {
  int64_t index = 0;    // in the caller's batch
  int64_t max_len = 0;  // tokens it may produce, </s> included
  std::vector<Beam> beams;
  std::vector<Hypothesis> finished;
};

struct Candidate {
  double log_prob;
  int32_t beam, token;
};

double normalised(double log_prob, size_t length, double penalty) {
  return log_prob / std::pow(static_cast<double>(length), penalty);
}

// Candidate order: higher log-probability first; ties to the lower beam, then the lower token.
bool better(const Candidate& a, const Candidate& b) {
  if (a.log_prob != b.log_prob) return a.log_prob > b.log_prob;
  return a.beam != b.beam ? a.beam < b.beam : a.token < b.token;
}

// The best 2·beam continuations of a sentence's beams, best first; tokens never_a and never_b (<pad> and
// <s>) are never generated. Each beam row keeps its own best `want` in a small heap (most tokens fail the
// heap's threshold at once), then the beams' survivors are ranked together.
std::vector<Candidate> best_candidates(const Sentence& s, const float* logp, int64_t vocab, size_t want,
                                       int64_t never_a, int64_t never_b) {
  std::vector<Candidate> all;
  std::vector<Candidate> heap;  // a min-heap under `better`: heap.front() is the worst kept
  for (size_t k = 0; k < s.beams.size(); ++k) {
    if (s.beams[k].log_prob == kDead) continue;
    const float* row = logp + static_cast<int64_t>(k) * vocab;
    heap.clear();
    for (int64_t v = 0; v < vocab; ++v) {
      if (v == never_a || v == never_b) continue;
      const Candidate c{s.beams[k].log_prob + row[v], static_cast<int32_t>(k), static_cast<int32_t>(v)};
      if (heap.size() < want) {
        heap.push_back(c);
        std::push_heap(heap.begin(), heap.end(), better);
      } else if (better(c, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), better);
        heap.back() = c;
        std::push_heap(heap.begin(), heap.end(), better);
      }
    }
    all.insert(all.end(), heap.begin(), heap.end());
  }
  want = std::min(want, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(want), all.end(), better);
  all.resize(want);
  return all;
}

// Advances one sentence by a step; returns true when it is done. `source_rows` receives, for each of its
// next beams, the row (within its block) whose cache the beam continues.
bool advance(Sentence& s, const float* logp, int64_t vocab, const models::TranslatorConfig& config,
             const SearchOptions& o, std::vector<int32_t>& source_rows) {
  const int32_t eos = config.eos_id;
  const size_t k_beams = s.beams.size();
  const bool last_step = static_cast<int64_t>(s.beams[0].tokens.size()) + 1 >= s.max_len;
  if (last_step) {  // the length limit: every open beam ends here with </s>
    for (size_t k = 0; k < k_beams; ++k) {
      const Beam& b = s.beams[k];
      if (b.log_prob == kDead) continue;
      const double lp = b.log_prob + logp[static_cast<int64_t>(k) * vocab + eos];
      s.finished.push_back({b.tokens, normalised(lp, b.tokens.size() + 1, o.length_penalty), lp});
    }
    return true;
  }
  std::vector<Beam> next;
  const std::vector<Candidate> candidates = best_candidates(s, logp, vocab, 2 * k_beams, config.pad_id, config.bos_id);
  for (size_t rank = 0; rank < candidates.size() && next.size() < k_beams; ++rank) {
    const Candidate& c = candidates[rank];
    const Beam& from = s.beams[static_cast<size_t>(c.beam)];
    if (c.token == eos) {  // finished only from the first beam ranks, as in fairseq
      if (rank < k_beams)
        s.finished.push_back({from.tokens, normalised(c.log_prob, from.tokens.size() + 1, o.length_penalty), c.log_prob});
      continue;
    }
    Beam b{from.tokens, c.log_prob};
    b.tokens.push_back(c.token);
    next.push_back(std::move(b));
    source_rows.push_back(c.beam);
  }
  if (s.finished.size() >= k_beams) return true;
  while (next.size() < k_beams) next.push_back(Beam{}), source_rows.push_back(0);  // tiny vocabularies
  s.beams = std::move(next);
  return false;
}

}  // namespace

std::vector<std::vector<Hypothesis>> beam_search(models::Translator& model, const Tensor& src_ids,
                                                 const SearchOptions& o) {
  const models::TranslatorConfig& config = model.config();
  const int64_t batch = src_ids.size(0), k_beams = std::max<int64_t>(1, o.beam_size);
  Tensor src_mask = model.padding_mask(src_ids);
  models::DecoderState state = model.start_decoding(model.encode(src_ids, src_mask), src_mask);
  std::vector<Sentence> active;
  std::vector<int32_t> rows;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t src_len = 0;
    for (int64_t t = 0; t < src_ids.size(1); ++t) src_len += src_mask.data<uint8_t>()[b * src_ids.size(1) + t] == 0;
    Sentence s{b, std::min<int64_t>(static_cast<int64_t>(o.max_len_ratio * static_cast<double>(src_len)) + o.max_len_extra,
                                    config.max_len - 1),
               std::vector<Beam>(static_cast<size_t>(k_beams)), {}};
    if (o.max_tokens > 0) s.max_len = std::min(s.max_len, o.max_tokens + 1);
    s.max_len = std::max<int64_t>(s.max_len, 1);
    s.beams[0].log_prob = 0;
    active.push_back(std::move(s));
    for (int64_t k = 0; k < k_beams; ++k) rows.push_back(static_cast<int32_t>(b));
  }
  const Tensor expand = Tensor::from_vector(rows, {static_cast<int64_t>(rows.size())});
  models::Translator::select_rows(state, expand, expand);
  std::vector<std::vector<Hypothesis>> results(static_cast<size_t>(batch));
  const int64_t vocab = config.tgt_vocab_size;
  while (!active.empty()) {
    std::vector<int32_t> last;
    for (const Sentence& s : active)
      for (const Beam& b : s.beams) last.push_back(b.tokens.empty() ? config.bos_id : b.tokens.back());
    Tensor logp = model.decode_step(state, Tensor::from_vector(last, {static_cast<int64_t>(last.size())})).contiguous();
    std::vector<Sentence> still;
    std::vector<int32_t> keep_rows, memory_rows;
    for (size_t j = 0; j < active.size(); ++j) {
      std::vector<int32_t> source_rows;
      const float* block = logp.data<float>() + static_cast<int64_t>(j) * k_beams * vocab;
      if (advance(active[j], block, vocab, config, o, source_rows)) {
        auto& done = active[j].finished;
        std::stable_sort(done.begin(), done.end(), [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
        done.resize(std::min<size_t>(done.size(), static_cast<size_t>(std::max<int64_t>(1, o.n_best))));
        results[static_cast<size_t>(active[j].index)] = std::move(done);
        continue;
      }
      for (int32_t r : source_rows) keep_rows.push_back(static_cast<int32_t>(j * k_beams) + r);
      for (int64_t k = 0; k < k_beams; ++k) memory_rows.push_back(static_cast<int32_t>(j * k_beams + k));
      still.push_back(std::move(active[j]));
    }
    // The beams of a sentence share its memory rows, so those move only when a sentence leaves.
    const bool sentence_left = still.size() != active.size();
    active = std::move(still);
    if (!active.empty())
      models::Translator::select_rows(
          state, Tensor::from_vector(keep_rows, {static_cast<int64_t>(keep_rows.size())}),
          sentence_left ? Tensor::from_vector(memory_rows, {static_cast<int64_t>(memory_rows.size())}) : Tensor());
  }
  return results;
}

}  // namespace lmaas::runtime

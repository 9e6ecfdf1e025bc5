// Corpus BLEU and chrF as sacreBLEU computes them with its defaults, so figures compare with published
// ones:
//   BLEU: 13a tokenization (mteval-v13a: punctuation split off, periods and commas except between digits,
//     dashes after digits) or "zh" (every CJK character a token, the rest as 13a — for Chinese targets);
//     n-grams 1..4 clipped by the most any reference holds; brevity penalty against the reference length
//     closest to each hypothesis (ties: the shorter); "exp" smoothing of zero counts; an order with no
//     hypothesis n-grams at all leaves its precision at 0 and the score 0 (unlike NLTK's corpus_bleu,
//     which counts a denominator of 1 there).
//   chrF: character n-grams 1..6 with whitespace removed, beta 2, the statistics summed over the corpus,
//     precision and recall averaged over the orders both sides have; per segment the best reference.
// Texts are UTF-8 (invalid bytes replaced by U+FFFD first); "whitespace" and "character" are Python's, as
// sacreBLEU's are. Depends on text/ for UTF-8 only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmaas::eval {

enum class BleuTokenize { k13a, kZh, kNone };

// sacreBLEU's choice for a target language: zh for Chinese ("zh", "zh-…", "cmn"), 13a otherwise.
BleuTokenize default_bleu_tokenize(std::string_view target_language);
// "13a" | "zh" | "none"; false for another name.
bool parse_bleu_tokenize(std::string_view name, BleuTokenize& out);

std::string tokenize_13a(std::string_view line);
std::string tokenize_zh(std::string_view line);

struct BleuScore {
  double score = 0;                    // 0..100
  std::array<int64_t, 4> correct{};    // clipped n-gram matches, n = 1..4
  std::array<int64_t, 4> total{};      // hypothesis n-grams
  std::array<double, 4> precisions{};  // percent, after smoothing
  double brevity_penalty = 0;
  int64_t sys_len = 0, ref_len = 0;
};

// references[k][i] is the k-th reference of hypothesis i (every stream as long as `hypotheses`).
BleuScore corpus_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::vector<std::string>>& references,
                      BleuTokenize tokenize = BleuTokenize::k13a);
double corpus_chrf(const std::vector<std::string>& hypotheses, const std::vector<std::vector<std::string>>& references);

}  // namespace lmaas::eval

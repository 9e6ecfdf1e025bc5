// BLEU and chrF as sacreBLEU computes them: tokenizations and scores worked out by hand below (n-gram
// counts listed in the comments), including sacreBLEU's departures from NLTK on short hypotheses.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "eval/translation_metrics.h"

namespace lmaas::eval {
namespace {

TEST(Tokenize13a, SplitsPunctuationButNotNumbers) {
  EXPECT_EQ(tokenize_13a("Hello, world!"), "Hello , world !");
  EXPECT_EQ(tokenize_13a("It costs $3.50, ok."), "It costs $ 3.50 , ok .");
  EXPECT_EQ(tokenize_13a("1,000 people (in 2019-2020)"), "1,000 people ( in 2019 - 2020 )");
  EXPECT_EQ(tokenize_13a("well-known don't"), "well-known don't");  // dash after a letter, apostrophe: kept
  EXPECT_EQ(tokenize_13a("&quot;Hi&quot; &amp;lt;b&gt;"), "\" Hi \" < b >");  // entities, &amp; first
  EXPECT_EQ(tokenize_13a("a<skipped>b  \n c"), "ab c");
  EXPECT_EQ(tokenize_13a("Grüße, Köln."), "Grüße , Köln .");
}

TEST(TokenizeZh, EveryCjkCharacterIsAToken) {
  EXPECT_EQ(tokenize_zh("我爱你。"), "我 爱 你 。");
  EXPECT_EQ(tokenize_zh(" Hello世界, ok "), "Hello 世 界 , ok");
  // sacreBLEU's ranges as its Python compares them: U+2001..U+2A6D counts as Chinese, so curly quotes
  // and the euro sign are split off too.
  EXPECT_EQ(tokenize_zh("“Hi”€5"), "“ Hi ” € 5");
}

TEST(CorpusBleu, ExactMatchIs100) {
  const auto s = corpus_bleu({"the cat sat on the mat"}, {{"the cat sat on the mat"}});
  EXPECT_DOUBLE_EQ(s.score, 100.0);
  EXPECT_EQ(s.sys_len, 6);
}

TEST(CorpusBleu, ClippedCountsAndExpSmoothing) {
  // hyp: the cat the cat on the mat (7); ref: the cat is on the mat (6).
  // 1-grams: the 3→2, cat 2→1, on 1, mat 1: 5/7. 2-grams: "the cat" 2→1, "on the", "the mat": 3/6.
  // 3-grams: "on the mat": 1/5. 4-grams: 0/4 → smoothed 100 / (2 * 4). BP 1.
  const auto s = corpus_bleu({"the cat the cat on the mat"}, {{"the cat is on the mat"}});
  EXPECT_EQ(s.correct, (std::array<int64_t, 4>{5, 3, 1, 0}));
  EXPECT_EQ(s.total, (std::array<int64_t, 4>{7, 6, 5, 4}));
  EXPECT_DOUBLE_EQ(s.precisions[3], 12.5);
  const double expected = std::exp((std::log(500.0 / 7) + std::log(50.0) + std::log(20.0) + std::log(12.5)) / 4);
  EXPECT_NEAR(s.score, expected, 1e-9);
}

TEST(CorpusBleu, ShortHypothesesScoreZeroUnlikeNltk) {
  // "a b" has no 3- or 4-grams: sacreBLEU leaves those precisions at 0 (NLTK would count 0/1 and smooth).
  EXPECT_EQ(corpus_bleu({"a b"}, {{"a b c"}}).score, 0.0);
  // Over a corpus the orders have n-grams from the longer segment: all matches, BP exp(1 - 9/8).
  const auto s = corpus_bleu({"a b", "the cat sat on the mat"}, {{"a b c", "the cat sat on the mat"}});
  EXPECT_EQ(s.total, (std::array<int64_t, 4>{8, 6, 4, 3}));
  EXPECT_NEAR(s.score, 100.0 * std::exp(1.0 - 9.0 / 8.0), 1e-9);
}

TEST(CorpusBleu, ClosestReferenceLengthTiesGoToTheShorter) {
  // Hypothesis of 5 words; references of 4 and 6 words are equally close: 4 is used, so no penalty.
  const auto s = corpus_bleu({"a b c d e"}, {{"a b c d"}, {"a b c d e f"}});
  EXPECT_EQ(s.ref_len, 4);
  EXPECT_DOUBLE_EQ(s.brevity_penalty, 1.0);
  // Clipping takes the most any reference holds: "x x" against refs "x" and "x x" matches 2 unigrams.
  EXPECT_EQ(corpus_bleu({"x x"}, {{"x"}, {"x x"}}).correct[0], 2);
}

TEST(CorpusBleu, ChineseTargetsCountCharacters) {
  // hyp 我很喜欢这本书 (7 characters), ref 我非常喜欢这本书 (8): 1-grams 6/7, 2-grams 4/6 (喜欢 欢这 这本
  // 本书), 3-grams 3/5, 4-grams 2/4; BP exp(1 - 8/7).
  const auto s = corpus_bleu({"我很喜欢这本书"}, {{"我非常喜欢这本书"}}, BleuTokenize::kZh);
  EXPECT_EQ(s.correct, (std::array<int64_t, 4>{6, 4, 3, 2}));
  const double expected = std::exp(1.0 - 8.0 / 7) *
                          std::exp((std::log(600.0 / 7) + std::log(400.0 / 6) + std::log(60.0) + std::log(50.0)) / 4);
  EXPECT_NEAR(s.score, expected, 1e-9);
  EXPECT_EQ(corpus_bleu({"我很喜欢这本书"}, {{"我非常喜欢这本书"}}).total[0], 1);  // 13a: one "word"
}

TEST(CorpusBleu, MisalignedStreamsAreAnError) {
  EXPECT_THROW(corpus_bleu({"a", "b"}, {{"a"}}), std::invalid_argument);
  EXPECT_THROW(corpus_chrf({"a"}, {}), std::invalid_argument);
}

TEST(CorpusChrf, HandComputed) {
  EXPECT_DOUBLE_EQ(corpus_chrf({"a b c"}, {{"abc"}}), 100.0);  // whitespace removed
  // "abc" vs "abd": orders 1-3 on both sides: P = R = 2/3, 1/2, 0 → mean 7/18.
  EXPECT_NEAR(corpus_chrf({"abc"}, {{"abd"}}), 100.0 * 7 / 18, 1e-9);
  // "abcd" vs "ab": order 1 P 1/2 R 1, order 2 P 1/3 R 1; order 3+ absent from the reference.
  // P = 5/12, R = 1: F2 = 5 P R / (4 P + R) = 25/32.
  EXPECT_NEAR(corpus_chrf({"abcd"}, {{"ab"}}), 100.0 * 25 / 32, 1e-9);
  // A corpus sums the statistics: order 1 4/5, order 2 2/3, order 3 0/1 → mean 22/45.
  EXPECT_NEAR(corpus_chrf({"abc", "ab"}, {{"abd", "ab"}}), 100.0 * 22 / 45, 1e-9);
  // The best reference per segment.
  EXPECT_DOUBLE_EQ(corpus_chrf({"abc"}, {{"xyz"}, {"abc"}}), 100.0);
}

}  // namespace
}  // namespace lmaas::eval

// Sampler and TextStream against hand-computed distributions and cases.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/sampler.h"
#include "runtime/text_stream.h"

namespace lmaas::runtime {
namespace {

std::vector<float> log_probs(std::vector<double> p) {
  std::vector<float> out;
  for (double v : p) out.push_back(static_cast<float>(std::log(v)));
  return out;
}

// Empirical frequencies of n draws.
std::vector<double> frequencies(SamplingParams params, const std::vector<float>& logits, int n) {
  Sampler sampler(params);
  std::vector<double> counts(logits.size(), 0.0);
  for (int i = 0; i < n; ++i) {
    std::vector<float> l = logits;
    counts[static_cast<size_t>(sampler.sample(l).token)] += 1.0;
  }
  for (double& c : counts) c /= n;
  return counts;
}

void expect_distribution(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 0.01) << what << " token " << i;
}

TEST(Sampler, GreedyTakesTheArgmaxAndTheLowestIdOnTies) {
  SamplingParams p;
  p.temperature = 0.0f;
  Sampler s(p);
  std::vector<float> l = {0.5f, 2.0f, 2.0f, -1.0f};
  EXPECT_EQ(s.sample(l).token, 1);
}

TEST(Sampler, DrawsFollowTheDistributionAndItsTruncations) {
  const auto logits = log_probs({0.5, 0.3, 0.2});
  SamplingParams p;
  p.seed = 7;
  expect_distribution(frequencies(p, logits, 100000), {0.5, 0.3, 0.2}, "plain");
  // Temperature 0.5 squares the probabilities: 0.25, 0.09, 0.04 over 0.38.
  p.temperature = 0.5f;
  expect_distribution(frequencies(p, logits, 100000), {0.25 / 0.38, 0.09 / 0.38, 0.04 / 0.38}, "temperature 0.5");
  p.temperature = 1.0f;
  p.top_k = 2;  // keeps 0.5 and 0.3
  expect_distribution(frequencies(p, logits, 100000), {0.625, 0.375, 0.0}, "top_k 2");
  p.top_k = 0;
  p.top_p = 0.6f;  // 0.5 < 0.6 ≤ 0.8: the first two
  expect_distribution(frequencies(p, logits, 100000), {0.625, 0.375, 0.0}, "top_p 0.6");
  p.top_p = 0.5f;  // 0.5 reaches it alone
  expect_distribution(frequencies(p, logits, 20000), {1.0, 0.0, 0.0}, "top_p 0.5");
  p.top_p = 1.0f;
  p.min_p = 0.5f;  // keep p ≥ 0.25
  expect_distribution(frequencies(p, logits, 100000), {0.625, 0.375, 0.0}, "min_p 0.5");
}

// Over a vocabulary of several summation blocks: mass in three blocks' tokens and a long flat tail.
TEST(Sampler, DrawsOverALargeVocabularyFollowTheDistribution) {
  std::vector<double> p(300, 0.2 / 297);
  p[5] = 0.3, p[130] = 0.3, p[299] = 0.2;
  SamplingParams params;
  params.seed = 11;
  const std::vector<double> got = frequencies(params, log_probs(p), 100000);
  EXPECT_NEAR(got[5], 0.3, 0.01);
  EXPECT_NEAR(got[130], 0.3, 0.01);
  EXPECT_NEAR(got[299], 0.2, 0.01);
  double tail = 0.0;
  for (size_t i = 0; i < got.size(); ++i) tail += (i == 5 || i == 130 || i == 299) ? 0.0 : got[i];
  EXPECT_NEAR(tail, 0.2, 0.01);
}

TEST(Sampler, TheSameSeedGivesTheSameTokens) {
  const auto logits = log_probs({0.25, 0.25, 0.25, 0.25});
  auto run = [&](uint64_t seed) {
    SamplingParams p;
    p.seed = seed;
    Sampler s(p);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) {
      std::vector<float> l = logits;
      out.push_back(s.sample(l).token);
    }
    return out;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repetition_penalty = 2.0f;
  Sampler s(p);
  s.accept(0);
  s.accept(1);
  std::vector<float> l = {2.0f, -2.0f, 1.5f};
  EXPECT_EQ(s.sample(l).token, 2);  // 2 → 1 falls below 1.5
  EXPECT_FLOAT_EQ(l[0], 1.0f);
  EXPECT_FLOAT_EQ(l[1], -4.0f);
  EXPECT_FLOAT_EQ(l[2], 1.5f);
}

TEST(Sampler, PresenceAndFrequencyPenaltiesCountOccurrencesInTheWindow) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  p.penalty_last_n = 3;
  Sampler s(p);
  for (int32_t t : {1, 2, 2, 2}) s.accept(t);  // window holds 2, 2, 2: token 1 has left it
  std::vector<float> l = {0.0f, 1.0f, 1.0f};
  s.sample(l);
  EXPECT_FLOAT_EQ(l[1], 1.0f);
  EXPECT_FLOAT_EQ(l[2], 1.0f - 0.5f - 0.25f * 3);
}

TEST(Sampler, LogprobsAreThoseOfTheModelsDistribution) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.logprobs = true;
  p.n_top_logprobs = 2;
  p.repetition_penalty = 10.0f;  // penalties change the choice, not the reported log-probabilities
  Sampler s(p);
  s.accept(0);
  std::vector<float> l = log_probs({0.6, 0.3, 0.1});
  const SampledToken t = s.sample(l);
  EXPECT_EQ(t.token, 1);
  EXPECT_NEAR(t.logprob, std::log(0.3), 1e-6);
  ASSERT_EQ(t.top.size(), 2u);
  EXPECT_EQ(t.top[0].token, 0);
  EXPECT_NEAR(t.top[0].logprob, std::log(0.6), 1e-6);
  EXPECT_EQ(t.top[1].token, 1);
}

TEST(Sampler, ValidateNamesTheBadField) {
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_NE(p.validate().message().find("top_p"), std::string::npos);
  p = {};
  p.temperature = -1.0f;
  EXPECT_NE(p.validate().message().find("temperature"), std::string::npos);
  p = {};
  p.n_top_logprobs = 21;
  EXPECT_NE(p.validate().message().find("top_logprobs"), std::string::npos);
  EXPECT_TRUE(SamplingParams{}.validate().is_ok());
}

TEST(TextStream, StopSequenceSplitOverPiecesEndsTheStreamBeforeIt) {
  TextStream s({"wor"});
  EXPECT_EQ(s.push("Hel"), "Hel");
  EXPECT_EQ(s.push("lo w"), "lo ");  // "w" may start "wor": held
  EXPECT_EQ(s.push("orld"), "");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.matched_stop(), "wor");
  EXPECT_EQ(s.push("more"), "");
  EXPECT_EQ(s.finish(), "");
}

TEST(TextStream, AHeldTailIsReleasedWhenItStopsMatching) {
  TextStream s({"END"});
  EXPECT_EQ(s.push("abcE"), "abc");
  EXPECT_EQ(s.push("NX"), "ENX");
  EXPECT_FALSE(s.stopped());
}

TEST(TextStream, CharactersSplitOverTokensAreReleasedWhole) {
  TextStream s({});
  EXPECT_EQ(s.push("a\xE4\xBD"), "a");
  EXPECT_EQ(s.push("\xA0"), "\xE4\xBD\xA0");  // 你
  EXPECT_EQ(s.push("\xF0\x9F"), "");
  EXPECT_EQ(s.finish(), "\xEF\xBF\xBD");  // an unfinished character becomes U+FFFD
}

TEST(TextStream, InvalidBytesBecomeReplacementCharacters) {
  TextStream s({});
  EXPECT_EQ(s.push("x\xFFy"), "x\xEF\xBF\xBDy");
}

TEST(TextStream, IncompleteUtf8Suffix) {
  EXPECT_EQ(incomplete_utf8_suffix(""), 0u);
  EXPECT_EQ(incomplete_utf8_suffix("abc"), 0u);
  EXPECT_EQ(incomplete_utf8_suffix("\xE4\xBD\xA0"), 0u);
  EXPECT_EQ(incomplete_utf8_suffix("\xE4\xBD"), 2u);
  EXPECT_EQ(incomplete_utf8_suffix("a\xF0\x9F\x98"), 3u);
  EXPECT_EQ(incomplete_utf8_suffix("\xF0\x9F\x98\x80"), 0u);
}

}  // namespace
}  // namespace lmaas::runtime

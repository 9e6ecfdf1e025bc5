// TextEncoder's hashed character n-grams (fastText's subwords of "<word>"): which n-grams a word gives,
// counted in code points, and that the same n-gram always lands in the same bucket.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "text/text_encoder.h"

namespace lmaas::text {
namespace {

TextEncoder fitted(const TextEncoderSpec& spec, const std::vector<std::string>& texts) {
  auto e = TextEncoder::fit(spec, [&](const auto& visit) {
    for (const auto& t : texts) visit(t);
    return Status::ok();
  });
  EXPECT_TRUE(e.is_ok()) << e.status().to_string();
  return std::move(e.value());
}

TextEncoderSpec char_spec(int64_t lo, int64_t hi) {
  TextEncoderSpec s;
  s.char_ngram_min = lo, s.char_ngram_max = hi, s.buckets = 1000003;
  return s;
}

// The ids after the tokens: the appended character n-grams.
std::vector<int32_t> ngram_ids(const TextEncoder& e, const std::string& text, size_t n_tokens) {
  std::vector<int32_t> ids = e.encode(text);
  EXPECT_GE(ids.size(), n_tokens);
  return {ids.begin() + static_cast<std::ptrdiff_t>(n_tokens), ids.end()};
}

TEST(TextEncoderCharNgrams, CountsCodePointsAndSkipsLoneMarkers) {
  TextEncoder e = fitted(char_spec(1, 3), {"ab", "é"});
  // "<ab>": 1-grams a b (not < or >), 2-grams <a ab b>, 3-grams <ab ab>: 7.
  EXPECT_EQ(ngram_ids(e, "ab", 1).size(), 7u);
  // "<é>" is 3 code points (4 bytes): 1-gram é, 2-grams <é é>, 3-gram <é>: 4.
  EXPECT_EQ(ngram_ids(e, "é", 1).size(), 4u);
  for (int32_t id : ngram_ids(e, "ab", 1)) {
    EXPECT_GE(id, 3);  // after padding and the two words
    EXPECT_LT(id, e.vocab_size());
  }
  EXPECT_EQ(e.vocab_size(), 3 + 1000003);
}

TEST(TextEncoderCharNgrams, SharedSubstringsShareBuckets) {
  TextEncoder e = fitted(char_spec(2, 3), {"ab abc"});
  auto ab = ngram_ids(e, "ab", 1), abc = ngram_ids(e, "abc", 1);
  // "<ab>": <a ab b> <ab ab>; "<abc>": <a ab bc c> <ab abc bc>. Shared: <a, ab, <ab.
  std::set<int32_t> a(ab.begin(), ab.end()), b(abc.begin(), abc.end()), shared;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(shared, shared.end()));
  EXPECT_EQ(ab.size(), 5u);
  EXPECT_EQ(abc.size(), 7u);
  EXPECT_EQ(shared.size(), 3u);
  // Unknown words still give their n-grams; the text's words give theirs in order.
  EXPECT_EQ(ngram_ids(e, "zzz", 0).size(), 7u);
  auto both = ngram_ids(e, "ab abc", 2);
  std::vector<int32_t> expected = ab;
  expected.insert(expected.end(), abc.begin(), abc.end());
  EXPECT_EQ(both, expected);
}

TEST(TextEncoderCharNgrams, SpecErrorsNameTheProblem) {
  TextEncoderSpec s = char_spec(2, 5);
  s.type = "char";
  EXPECT_NE(check_spec(s).message().find("word tokenizer"), std::string::npos);
  s = char_spec(4, 3);
  EXPECT_NE(check_spec(s).message().find("char_ngram_min"), std::string::npos);
  s = char_spec(2, 5);
  s.buckets = 0;
  EXPECT_NE(check_spec(s).message().find("buckets"), std::string::npos);
  s = char_spec(2, 5);
  auto round_trip = spec_from_json(spec_to_json(s));
  ASSERT_TRUE(round_trip.is_ok());
  EXPECT_EQ(round_trip.value().char_ngram_min, 2);
  EXPECT_EQ(round_trip.value().char_ngram_max, 5);
}

}  // namespace
}  // namespace lmaas::text

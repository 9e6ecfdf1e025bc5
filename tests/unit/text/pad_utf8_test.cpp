// pad_sequences against Keras' documented results, and the UTF-8 / NFKC helpers on hand-made bytes.
#include <gtest/gtest.h>

#include "text/normalizer.h"
#include "text/pad.h"
#include "text/utf8.h"

namespace lmaas::text {
namespace {

using Rows = std::vector<std::vector<int32_t>>;

Rows rows_of(const PaddedSequences& p) {
  Rows out;
  for (int64_t r = 0; r < p.rows; ++r) out.emplace_back(p.ids.begin() + r * p.cols, p.ids.begin() + (r + 1) * p.cols);
  return out;
}

const Rows kSeqs = {{1, 2, 3}, {4, 5}, {6}, {}};

TEST(PadSequences, KerasDefaultsArePrePaddingPreTruncatingToTheLongest) {
  EXPECT_EQ(rows_of(pad_sequences(kSeqs)), (Rows{{1, 2, 3}, {0, 4, 5}, {0, 0, 6}, {0, 0, 0}}));
}

TEST(PadSequences, MaxlenCutsFromTheChosenSide) {
  PadOptions o;
  o.maxlen = 2;
  EXPECT_EQ(rows_of(pad_sequences(kSeqs, o)), (Rows{{2, 3}, {4, 5}, {0, 6}, {0, 0}}));
  o.padding = PadSide::kPost, o.truncating = PadSide::kPost;
  EXPECT_EQ(rows_of(pad_sequences(kSeqs, o)), (Rows{{1, 2}, {4, 5}, {6, 0}, {0, 0}}));
  o.maxlen = 5, o.value = -1;
  EXPECT_EQ(rows_of(pad_sequences({{7, 8}}, o)), (Rows{{7, 8, -1, -1, -1}}));
  // The seed: pad_sequences(maxlen=10, padding='post')
  PadOptions seed;
  seed.maxlen = 10, seed.padding = PadSide::kPost;
  EXPECT_EQ(rows_of(pad_sequences({{3, 4, 1}}, seed)), (Rows{{3, 4, 1, 0, 0, 0, 0, 0, 0, 0}}));
}

TEST(PadSequences, BadOptionsAreErrors) {
  PadOptions o;
  o.maxlen = 0;
  EXPECT_THROW(pad_sequences(kSeqs, o), std::exception);
  EXPECT_FALSE(parse_pad_side("middle").is_ok());
  EXPECT_EQ(pad_sequences({}).rows, 0);
}

TEST(Utf8, FindsTheFirstInvalidByte) {
  EXPECT_FALSE(find_invalid_utf8("plain ascii").has_value());
  EXPECT_FALSE(find_invalid_utf8("我爱你 😀").has_value());
  EXPECT_EQ(find_invalid_utf8("ab\xff"), 2u);               // byte never valid
  EXPECT_EQ(find_invalid_utf8("sister\xf0" "city"), 6u);      // TREC's latin-1 byte
  EXPECT_EQ(find_invalid_utf8("x\xe4\xbd"), 1u);             // truncated 3-byte sequence
  EXPECT_EQ(find_invalid_utf8("\xc0\xaf"), 0u);              // overlong '/'
  EXPECT_EQ(find_invalid_utf8("a\xed\xa0\x80"), 1u);         // UTF-16 surrogate
  EXPECT_EQ(find_invalid_utf8("\xf4\x90\x80\x80"), 0u);      // above U+10FFFF
}

TEST(Utf8, ReplacesOrTranscodes) {
  EXPECT_EQ(replace_invalid_utf8("a\xffz"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(replace_invalid_utf8("x\xe4\xbd"), "x\xEF\xBF\xBD");
  EXPECT_EQ(replace_invalid_utf8("我"), "我");
  EXPECT_EQ(latin1_to_utf8("sister\xf0" "city"), "sister\xC3\xB0" "city");  // ð
  std::string s;
  append_utf8(s, 0x1F600);
  size_t pos = 0;
  EXPECT_EQ(next_code_point(s, pos), 0x1F600u);
  EXPECT_EQ(pos, 4u);
}

TEST(Normalizer, NfkcLowercaseAndCjkClasses) {
  EXPECT_EQ(nfkc("ＡＢＣ１２３，！"), "ABC123,!");  // full-width forms
  EXPECT_EQ(nfkc("ﬁ"), "fi");                      // ligature
  EXPECT_EQ(nfkc("e\xCC\x81"), "\xC3\xA9");        // e + combining acute → é
  EXPECT_EQ(nfkc(std::string("a\0b", 3)), std::string("a\0b", 3));  // embedded NUL kept
  EXPECT_EQ(lowercase("ÀÉÎ ΣΑΣ Ab"), "àéî σασ ab");
  EXPECT_TRUE(is_cjk(U'我'));
  EXPECT_TRUE(is_cjk(U'か'));
  EXPECT_TRUE(is_cjk(U'カ'));
  EXPECT_TRUE(is_cjk(U'한'));
  EXPECT_TRUE(is_cjk(U'。'));
  EXPECT_TRUE(is_cjk(0x20BB7));  // 𠮷, extension B
  EXPECT_FALSE(is_cjk(U'a'));
  EXPECT_FALSE(is_cjk(U'é'));
  EXPECT_FALSE(is_cjk(0xFF0C));  // full-width comma (NFKC turns it into ',')
}

}  // namespace
}  // namespace lmaas::text

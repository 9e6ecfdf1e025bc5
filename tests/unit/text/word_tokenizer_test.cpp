// Keras-equivalent tokenization: each expectation is what keras.preprocessing.text.Tokenizer (Keras
// 2.x) returns for the same call, worked out by hand from its source semantics; the CJK cases show the
// documented departure next to Keras' own answer (cjk_split = false).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "text/word_tokenizer.h"

namespace lmaas::text {
namespace {

using Words = std::vector<std::string>;
using Seqs = std::vector<std::vector<int32_t>>;

WordTokenizerOptions keras() {
  WordTokenizerOptions o;
  o.cjk_split = false;
  return o;
}

const std::vector<std::string> kTexts = {"The cat sat on the mat.", "The dog ate my homework!"};

TEST(WordTokenizer, TextToWordSequenceFiltersLowersAndSplits) {
  WordTokenizer t(keras());
  EXPECT_EQ(t.text_to_word_sequence("Hello, World!! hello-world"), (Words{"hello", "world", "hello", "world"}));
  EXPECT_EQ(t.text_to_word_sequence("  tabs\tand\nnewlines  "), (Words{"tabs", "and", "newlines"}));
  // \r and apostrophes are not in the default filters: they stay inside words.
  EXPECT_EQ(t.text_to_word_sequence("don't\rstop"), (Words{"don't\rstop"}));
  EXPECT_EQ(t.text_to_word_sequence(""), Words{});
  WordTokenizerOptions o = keras();
  o.lower = false, o.split = ",", o.filters = "";
  EXPECT_EQ(WordTokenizer(o).text_to_word_sequence("A b,,C"), (Words{"A b", "C"}));
}

TEST(WordTokenizer, WordIndexByCountThenFirstAppearance) {
  WordTokenizer t(keras());
  t.fit_on_texts(kTexts);
  EXPECT_EQ(t.words(), (Words{"the", "cat", "sat", "on", "mat", "dog", "ate", "my", "homework"}));
  EXPECT_EQ(t.index_of("the"), 1);
  EXPECT_EQ(t.index_of("homework"), 9);
  EXPECT_FALSE(t.index_of("a").has_value());
  EXPECT_EQ(t.document_count(), 2);
  EXPECT_EQ(t.word_counts().front(), (std::pair<std::string, int64_t>{"the", 3}));
  EXPECT_EQ(t.texts_to_sequences({"the cat ate the homework", "a dog"}), (Seqs{{1, 2, 7, 1, 9}, {6}}));
  EXPECT_EQ(t.vocab_size(), 10);
}

TEST(WordTokenizer, NumWordsDropsRareWordsOrMapsThemToOov) {
  WordTokenizerOptions o = keras();
  o.num_words = 5;
  WordTokenizer limited(o);
  limited.fit_on_texts(kTexts);
  EXPECT_EQ(limited.texts_to_sequences({"the cat ate the homework", "a dog"}), (Seqs{{1, 2, 1}, {}}));
  EXPECT_EQ(limited.vocab_size(), 5);
  o.oov_token = "<OOV>";
  WordTokenizer with_oov(o);
  with_oov.fit_on_texts(kTexts);
  EXPECT_EQ(with_oov.index_of("<OOV>"), 1);
  EXPECT_EQ(with_oov.index_of("the"), 2);
  EXPECT_EQ(with_oov.texts_to_sequences({"the cat ate the homework", "a dog"}), (Seqs{{2, 3, 1, 2, 1}, {1, 1}}));
  o.num_words = 0;
  WordTokenizer unlimited(o);
  unlimited.fit_on_texts(kTexts);
  EXPECT_EQ(unlimited.texts_to_sequences({"the cat ate the homework", "a dog"}), (Seqs{{2, 3, 8, 2, 10}, {1, 7}}));
}

TEST(WordTokenizer, OovTokenSeenInTextsKeepsItsLaterIndexAsKerasDoes) {
  WordTokenizerOptions o = keras();
  o.oov_token = "unk";
  WordTokenizer t(o);
  t.fit_on_texts({"unk unk x"});
  // sorted_voc = [unk, unk, x]; dict(zip(...)) keeps unk → 2; index 1 is then unused.
  EXPECT_EQ(t.index_of("unk"), 2);
  EXPECT_EQ(t.index_of("x"), 3);
  EXPECT_EQ(t.text_to_sequence("x y"), (std::vector<int32_t>{3, 2}));
}

TEST(WordTokenizer, CharLevelKeepsEveryCharacterAndIgnoresFilters) {
  WordTokenizerOptions o = keras();
  o.char_level = true;
  WordTokenizer t(o);
  t.fit_on_texts({"ab a!", "B"});
  // a:2 b:2 ' ':1 '!':1 → a, b, ' ', '!'
  EXPECT_EQ(t.words(), (Words{"a", "b", " ", "!"}));
  EXPECT_EQ(t.text_to_sequence("Ba!"), (std::vector<int32_t>{2, 1, 4}));
}

TEST(WordTokenizer, SeedTextsKerasAndCjkAware) {
  const std::vector<std::string> seed = {"我爱你", "你好", "你好呀"};
  WordTokenizer keras_like(keras());
  keras_like.fit_on_texts(seed);
  EXPECT_EQ(keras_like.words(), (Words{"我爱你", "你好", "你好呀"}));  // Keras: one word per text
  EXPECT_EQ(keras_like.texts_to_sequences(seed), (Seqs{{1}, {2}, {3}}));
  WordTokenizer cjk;  // default: CJK-aware
  cjk.fit_on_texts(seed);
  // counts 我1 爱1 你3 好2 呀1 → 你, 好, 我, 爱, 呀
  EXPECT_EQ(cjk.words(), (Words{"你", "好", "我", "爱", "呀"}));
  EXPECT_EQ(cjk.texts_to_sequences(seed), (Seqs{{3, 4, 1}, {1, 2}, {1, 2, 5}}));
  EXPECT_EQ(cjk.text_to_word_sequence("Hello世界，ok 한국어 カタカナ"),
            (Words{"hello", "世", "界", "，ok", "한", "국", "어", "カ", "タ", "カ", "ナ"}));
}

TEST(WordTokenizer, LowercaseIsUnicodeAware) {
  WordTokenizer t(keras());
  EXPECT_EQ(t.text_to_word_sequence("ÉCOLE Straße ΑΒΓ"), (Words{"école", "straße", "αβγ"}));
}

TEST(WordTokenizer, JsonRoundTripKeepsIndexAndOptions) {
  WordTokenizerOptions o;
  o.num_words = 4, o.oov_token = "<unk>";
  WordTokenizer t(o);
  t.fit_on_texts(kTexts);
  auto back = WordTokenizer::from_json(nlohmann::json::parse(t.to_json().dump()));
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back.value().words(), t.words());
  EXPECT_EQ(back.value().text_to_sequence("the dog barked"), t.text_to_sequence("the dog barked"));
  nlohmann::json broken = t.to_json();
  broken.erase("filters");
  auto bad = WordTokenizer::from_json(broken);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("filters"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace lmaas::text

// LlmTokenizer against independent references: SentencePiece 0.1.97's ids for llama2.c's export of the
// Llama 2 vocab, llama2.c's prompt ids for stories260K, llama.cpp's gpt-2 vectors for GPT-2's own
// encoder.json + vocab.bpe, hand-derived WordPiece and pre-tokenizer splits; round trips on the vector
// strings and on seeded random Unicode; bad vocabs and bad files. (The GGUF vocabs and their vectors
// are tested in tests/unit/formats/gguf_vocab_test.cpp.)
#include "text/llm_tokenizer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "text/gpt2_vocab.h"
#include "text/llama2c_tokenizer.h"
#include "text/pre_tokenizer.h"
#include "text/utf8.h"
#include "unit/text/llm_vectors.h"

namespace lmaas::text {
namespace {

using test::read_vector_cases;
using test::tokenizer_vectors_dir;

const std::string kLlama2Dir = tokenizer_vectors_dir() + "sentencepiece/llama2/";
const std::string kGpt2Dir = tokenizer_vectors_dir() + "gpt2/";
const std::string kStoriesDir = std::string(LMAAS_SOURCE_DIR) + "/../shared/data/models/stories260K/";

const LlmTokenizer& llama2() {
  static const LlmTokenizer tokenizer =
      LlmTokenizer::create(read_llama2c_tokenizer(kLlama2Dir + "tokenizer.bin", 32000).value()).value();
  return tokenizer;
}

const LlmTokenizer& gpt2() {
  static const LlmTokenizer tokenizer =
      LlmTokenizer::create(read_gpt2_vocab(kGpt2Dir + "encoder.json", kGpt2Dir + "vocab.bpe").value())
          .value();
  return tokenizer;
}

// Runs every vector case; returns how many match, reporting each mismatch.
size_t count_matches(const LlmTokenizer& tokenizer, const std::vector<test::VectorCase>& cases) {
  size_t n_pass = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<int32_t> ids = tokenizer.encode(cases[i].text, false, false);
    EXPECT_EQ(ids, cases[i].ids) << "case " << i << ": '" << cases[i].text << "'";
    n_pass += ids == cases[i].ids ? 1 : 0;
  }
  return n_pass;
}

TEST(LlmTokenizer, Llama2cExportMatchesSentencePiece) {
  const auto cases =
      read_vector_cases(kLlama2Dir + "llama2.spm-0.1.97.inp", kLlama2Dir + "llama2.spm-0.1.97.out");
  ASSERT_EQ(cases.size(), 75u);
  EXPECT_EQ(count_matches(llama2(), cases), 75u);
}

TEST(LlmTokenizer, Llama2cPromptWithBos) {
  // llama2.c test.c: "I believe the meaning of life is" → BOS then SentencePiece's ids.
  EXPECT_EQ(llama2().encode("I believe the meaning of life is", true, false),
            (std::vector<int32_t>{1, 306, 4658, 278, 6593, 310, 2834, 338}));
  EXPECT_EQ(llama2().encode("", true, false), (std::vector<int32_t>{1}));
  EXPECT_TRUE(llama2().encode("", false, false).empty());
}

TEST(LlmTokenizer, Stories260KPromptsMatchLlama2c) {
  auto vocab = read_llama2c_tokenizer(kStoriesDir + "tok512.bin", 512);
  ASSERT_TRUE(vocab.is_ok()) << vocab.status().to_string();
  auto tokenizer = LlmTokenizer::create(std::move(vocab).value());
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.status().to_string();
  const auto reference =
      nlohmann::json::parse(test::read_whole_file(kStoriesDir + "reference/greedy_and_logits.json"));
  ASSERT_EQ(reference["cases"].size(), 4u);
  for (const auto& c : reference["cases"]) {
    const std::string prompt = c["prompt"];
    EXPECT_EQ(tokenizer->encode(prompt, true, false), c["prompt_token_ids"].get<std::vector<int32_t>>())
        << prompt;
  }
}

TEST(LlmTokenizer, Gpt2FilesMatchLlamaCppVectors) {
  const std::string dir = tokenizer_vectors_dir() + "llama.cpp/";
  const auto cases = read_vector_cases(dir + "ggml-vocab-gpt-2.gguf.inp", dir + "ggml-vocab-gpt-2.gguf.out");
  ASSERT_EQ(cases.size(), 46u);
  EXPECT_EQ(count_matches(gpt2(), cases), 46u);
}

TEST(LlmTokenizer, PiecesAndSpecialTokens) {
  EXPECT_EQ(llama2().token_to_piece(15043), " Hello");  // "▁Hello"
  EXPECT_EQ(llama2().token_to_piece(13), "\n");         // <0x0A>
  EXPECT_EQ(llama2().token_to_piece(1), "<s>");
  EXPECT_EQ(llama2().token_to_piece(-1), "");
  EXPECT_EQ(llama2().token_to_piece(32000), "");
  EXPECT_EQ(gpt2().token_to_piece(995), " world");  // "Ġworld"
  // parse_special cuts control tokens out; the SPM space prefix follows a special token.
  EXPECT_EQ(llama2().encode("<s>Hello", false, true), (std::vector<int32_t>{1, 15043}));
  EXPECT_NE(llama2().encode("<s>Hello", false, false)[0], 1);
  EXPECT_EQ(gpt2().encode("<|endoftext|>", false, true), (std::vector<int32_t>{50256}));
  const std::vector<int32_t> plain = gpt2().encode("<|endoftext|>", false, false);
  EXPECT_GT(plain.size(), 1u);
  EXPECT_EQ(gpt2().decode(plain, false), "<|endoftext|>");
  EXPECT_TRUE(gpt2().is_eog(50256));
  EXPECT_TRUE(llama2().is_eog(2));
  EXPECT_FALSE(llama2().is_eog(1));
  const std::vector<int32_t> with_bos = llama2().encode("Hello", true, false);
  EXPECT_EQ(llama2().decode(with_bos, true), "Hello");
  EXPECT_EQ(llama2().decode(with_bos, false), "<s> Hello");
}

TEST(LlmTokenizer, VectorStringsRoundTrip) {
  for (const std::string name : {"llama2.spm-0.1.97"}) {
    for (const auto& c : read_vector_cases(kLlama2Dir + name + ".inp", kLlama2Dir + name + ".out")) {
      EXPECT_EQ(llama2().decode(c.ids, false), c.text);
      EXPECT_EQ(llama2().decode(llama2().encode(c.text, true, false), true), c.text);
    }
  }
  const std::string dir = tokenizer_vectors_dir() + "llama.cpp/";
  for (const auto& c :
       read_vector_cases(dir + "ggml-vocab-gpt-2.gguf.inp", dir + "ggml-vocab-gpt-2.gguf.out")) {
    EXPECT_EQ(gpt2().decode(c.ids, false), c.text);
  }
}

TEST(LlmTokenizer, RandomUnicodeRoundTrips) {
  Rng rng(20240611);
  for (int i = 0; i < 300; ++i) {
    const std::string s = test::random_unicode_text(rng);
    ASSERT_FALSE(find_invalid_utf8(s).has_value());
    EXPECT_EQ(llama2().decode(llama2().encode(s, false, false), false), s) << "SPM: '" << s << "'";
    EXPECT_EQ(llama2().decode(llama2().encode(s, true, false), true), s) << "SPM+BOS: '" << s << "'";
    EXPECT_EQ(gpt2().decode(gpt2().encode(s, false, false), false), s) << "BPE: '" << s << "'";
  }
}

TEST(LlmTokenizer, InvalidUtf8IsEncodedByteForByte) {
  // SPM: invalid bytes fall back to their <0xXX> pieces (id = byte + 3 in Llama 2), each on its own.
  const std::vector<int32_t> ids = llama2().encode("a\xFF\xC3", false, false);
  ASSERT_EQ(ids.size(), 3u);  // "▁a", <0xFF>, <0xC3>
  EXPECT_EQ(ids[1], 0xFF + 3);
  EXPECT_EQ(ids[2], 0xC3 + 3);
  Rng rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(rng.below(30), '\0');
    for (char& c : bytes) c = static_cast<char>(rng.below(256));
    EXPECT_EQ(gpt2().decode(gpt2().encode(bytes, false, false), false), bytes);
    if (bytes.find("\xE2\x96\x81") == std::string::npos) {
      EXPECT_EQ(llama2().decode(llama2().encode(bytes, false, false), false), bytes);
    }
  }
}

TEST(LlmTokenizer, LongSingleLine) {
  std::string line;
  while (line.size() < (1u << 20))
    line += "Hello world, 3333 🦙 我想在apple工作 aaaaaaaaaaaaaaa!!!!   ";
  EXPECT_EQ(gpt2().decode(gpt2().encode(line, false, false), false), line);
  EXPECT_EQ(llama2().decode(llama2().encode(line, false, false), false), line);
  const std::string same(1u << 20, 'a');  // one 1 MiB word
  EXPECT_EQ(gpt2().decode(gpt2().encode(same, false, false), false), same);
}

TEST(PreTokenizer, Gpt2SplitsByHand) {
  auto pre = PreTokenizer::for_name("gpt-2");
  ASSERT_TRUE(pre.is_ok());
  std::vector<std::string_view> pieces;
  pre->split("Hello world's 123  x", pieces);
  EXPECT_EQ(pieces, (std::vector<std::string_view>{"Hello", " world", "'s", " 123", " ", " x"}));
  pieces.clear();
  pre->split(
      "a\xFF"
      "b",
      pieces);  // the invalid byte matches as U+FFFD: neither letter nor space
  EXPECT_EQ(pieces, (std::vector<std::string_view>{"a", "\xFF", "b"}));
  EXPECT_FALSE(PreTokenizer::for_name("no-such-pre").is_ok());
  EXPECT_FALSE(PreTokenizer::from_patterns({"[z-a]"}).is_ok());
}

// A WordPiece vocab in llama.cpp's form, and what BERT's basic tokenizer + greedy matching give by hand.
LlmVocab tiny_wordpiece() {
  LlmVocab v;
  v.type = LlmVocabType::kWordPiece;
  v.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "▁hello", "▁world", "▁un",
              "aff",   "able",  "▁,",    "▁!",    "▁cafe",  "▁我"};
  v.token_types.assign(v.tokens.size(), LlmTokenType::kNormal);
  for (int i = 0; i < 4; ++i) v.token_types[static_cast<size_t>(i)] = LlmTokenType::kControl;
  v.pad_id = 0;
  v.unk_id = 1;
  v.bos_id = v.cls_id = 2;
  v.sep_id = 3;
  v.add_bos = v.add_sep = true;
  return v;
}

TEST(LlmTokenizer, WordPieceByHand) {
  auto tokenizer = LlmTokenizer::create(tiny_wordpiece());
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.status().to_string();
  EXPECT_EQ(tokenizer->encode("Hello, WORLD!", false, false), (std::vector<int32_t>{4, 9, 5, 10}));
  EXPECT_EQ(tokenizer->encode("unaffable", false, false), (std::vector<int32_t>{6, 7, 8}));
  EXPECT_EQ(tokenizer->encode("unaffablex", false, false), (std::vector<int32_t>{1}));  // "x" matches nothing
  EXPECT_EQ(tokenizer->encode("Café\u200B", false, false),
            (std::vector<int32_t>{11}));                                              // accent, ZWSP dropped
  EXPECT_EQ(tokenizer->encode("我爱", false, false), (std::vector<int32_t>{12, 1}));  // CJK split
  EXPECT_EQ(tokenizer->encode("hello", true, false), (std::vector<int32_t>{2, 4, 3}));
  EXPECT_EQ(tokenizer->encode(std::string(101, 'a'), false, false), (std::vector<int32_t>{1}));
  EXPECT_EQ(tokenizer->decode(std::vector<int32_t>{2, 4, 9, 5, 10, 3}, true), "hello, world!");
  EXPECT_EQ(tokenizer->decode(std::vector<int32_t>{6, 7, 8}, true), "unaffable");
  EXPECT_EQ(tokenizer->encode("a\xFF\xC3" "b", false, false), (std::vector<int32_t>{1}));  // "ab": invalid bytes dropped
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(rng.below(30), '\0');
    for (char& c : bytes) c = static_cast<char>(rng.below(256));
    for (int32_t id : tokenizer->encode(bytes, true, true)) EXPECT_TRUE(id >= 0 && id < tokenizer->n_vocab());
  }
}

void expect_invalid(LlmVocab vocab, const std::string& needle) {
  const auto tokenizer = LlmTokenizer::create(std::move(vocab));
  ASSERT_FALSE(tokenizer.is_ok()) << needle;
  EXPECT_EQ(tokenizer.status().code(), Code::kInvalidArgument);
  EXPECT_NE(tokenizer.status().message().find(needle), std::string::npos) << tokenizer.status().message();
}

TEST(LlmVocab, BadVocabsAreRejected) {
  const LlmVocab good = tiny_wordpiece();
  ASSERT_TRUE(good.validate().is_ok());
  LlmVocab v = good;
  v.bos_id = 13;
  expect_invalid(v, "bos_id is 13");
  v = good;
  v.mask_id = -2;
  expect_invalid(v, "mask_id is -2");
  v = good;
  v.scores = {0.0f};
  expect_invalid(v, "scores has 1 entries, expected 13");
  v = good;
  v.token_types.pop_back();
  expect_invalid(v, "token_types has 12 entries");
  v = good;
  v.token_types[5] = static_cast<LlmTokenType>(9);
  expect_invalid(v, "token_types[5] is 9");
  v = good;
  v.tokens[5] = "▁hello";
  expect_invalid(v, "duplicates token 4");
  v = good;
  v.tokens[5].clear();
  expect_invalid(v, "token 5 is empty");
  v = good;
  v.sep_id = -1;
  expect_invalid(v, "add_sep is set but sep_id is absent");
  v = good;
  v.unk_id = -1;
  expect_invalid(v, "unk_id is absent");
  v = good;
  v.token_types[5] = LlmTokenType::kByte;
  expect_invalid(v, "expected <0xXX>");
  v = good;
  v.tokens.clear();
  v.token_types.clear();
  expect_invalid(v, "tokens is empty");
  v = good;
  v.type = LlmVocabType::kBpe;
  v.merges = {"ab"};
  expect_invalid(v, "merges[0] is 'ab'");
  v.merges.clear();
  v.pre = "no-such-pre";
  expect_invalid(v, "pre-tokenizer 'no-such-pre'");
  EXPECT_FALSE(llm_vocab_type_from_name("t5").is_ok());
  EXPECT_EQ(llm_vocab_type_from_name("gpt2").value(), LlmVocabType::kBpe);
}

TEST(Llama2cTokenizer, FileMustMatchVocabSize) {
  const std::string bytes = test::read_whole_file(kStoriesDir + "tok512.bin");
  ASSERT_FALSE(bytes.empty());
  EXPECT_TRUE(parse_llama2c_tokenizer(bytes, 512, "tok512.bin").is_ok());
  const auto more = parse_llama2c_tokenizer(bytes, 513, "tok512.bin");
  EXPECT_EQ(more.status().code(), Code::kDataLoss);
  EXPECT_NE(more.status().message().find("token 512 at offset"), std::string::npos)
      << more.status().message();
  const auto fewer = parse_llama2c_tokenizer(bytes, 511, "tok512.bin");
  EXPECT_EQ(fewer.status().code(), Code::kDataLoss);
  EXPECT_NE(fewer.status().message().find("follow token 510"), std::string::npos) << fewer.status().message();
  EXPECT_EQ(parse_llama2c_tokenizer(bytes.substr(0, 3), 512, "x").status().code(), Code::kDataLoss);
  EXPECT_EQ(parse_llama2c_tokenizer(bytes.substr(0, 100), 512, "x").status().code(), Code::kDataLoss);
  EXPECT_EQ(parse_llama2c_tokenizer(bytes, 0, "x").status().code(), Code::kInvalidArgument);
  std::string bad_length = bytes;
  bad_length[8] = 0x7F;  // token 0's length
  EXPECT_NE(parse_llama2c_tokenizer(bad_length, 512, "x").status().message().find("length is"),
            std::string::npos);
  EXPECT_EQ(read_llama2c_tokenizer(kStoriesDir + "no-such-file.bin", 512).status().code(), Code::kNotFound);
}

TEST(Gpt2Vocab, BadFilesAreRejected) {
  EXPECT_FALSE(read_gpt2_vocab(kGpt2Dir + "vocab.bpe", kGpt2Dir + "vocab.bpe").is_ok());        // not JSON
  EXPECT_FALSE(read_gpt2_vocab(kGpt2Dir + "encoder.json", kGpt2Dir + "encoder.json").is_ok());  // not merges
  EXPECT_FALSE(read_gpt2_vocab(kGpt2Dir + "missing.json", kGpt2Dir + "vocab.bpe").is_ok());
}

}  // namespace
}  // namespace lmaas::text

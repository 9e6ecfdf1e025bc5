// vocab_from_gguf + LlmTokenizer against llama.cpp's published tokenizer vectors: for every vocab-only
// GGUF in ../shared/data/tokenizer-vectors/llama.cpp, each of the 46 strings of its .inp must encode
// (no BOS, no special-token parsing: llama.cpp's test-tokenizer-0) to exactly the ids of its .out line.
// Also: decoding gives the strings back where the tokenizer promises it, llama.cpp's default special
// ids, and GGUF metadata that is wrong is refused with the file named.
#include "formats/gguf_vocab.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "formats/gguf_vocab_writer.h"
#include "formats/gguf_writer.h"
#include "text/llm_tokenizer.h"
#include "unit/text/llm_vectors.h"

namespace lmaas {
namespace {

using text::LlmTokenizer;
using text::LlmVocab;
using text::LlmVocabType;

const std::string kDir = test::tokenizer_vectors_dir() + "llama.cpp/ggml-vocab-";

LlmTokenizer load(const std::string& name) {
  auto file = GgufFile::open(kDir + name + ".gguf");
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  auto vocab = vocab_from_gguf(file.value());
  EXPECT_TRUE(vocab.is_ok()) << vocab.status().to_string();
  auto tokenizer = LlmTokenizer::create(std::move(vocab).value());
  EXPECT_TRUE(tokenizer.is_ok()) << tokenizer.status().to_string();
  return std::move(tokenizer).value();
}

std::vector<test::VectorCase> cases_of(const std::string& name) {
  return test::read_vector_cases(kDir + name + ".gguf.inp", kDir + name + ".gguf.out");
}

class LlamaCppVectors : public testing::TestWithParam<const char*> {};

TEST_P(LlamaCppVectors, EveryStringEncodesToTheReferenceIds) {
  const LlmTokenizer tokenizer = load(GetParam());
  const auto cases = cases_of(GetParam());
  ASSERT_EQ(cases.size(), 46u);
  size_t n_pass = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<int32_t> ids = tokenizer.encode(cases[i].text, false, false);
    EXPECT_EQ(ids, cases[i].ids) << GetParam() << " case " << i << ": '" << cases[i].text << "'";
    n_pass += ids == cases[i].ids ? 1 : 0;
  }
  std::printf("%s: %zu/%zu\n", GetParam(), n_pass, cases.size());
  EXPECT_EQ(n_pass, 46u);
}

std::string param_name(const testing::TestParamInfo<const char*>& param_info) {
  std::string name = param_info.param;
  for (char& c : name) c = c == '-' ? '_' : c;
  return name;
}

INSTANTIATE_TEST_SUITE_P(Vocabs, LlamaCppVectors,
                         testing::Values("bert-bge", "deepseek-coder", "deepseek-llm", "falcon", "gpt-2",
                                         "llama-spm", "mpt", "phi-3", "refact", "starcoder"),
                         param_name);

// Every vocab but WordPiece, which is lossy (see WordPieceDecodes).
class LosslessVocabs : public testing::TestWithParam<const char*> {};

TEST_P(LosslessVocabs, ReferenceIdsDecodeToTheStrings) {
  const LlmTokenizer tokenizer = load(GetParam());
  for (const auto& c : cases_of(GetParam())) EXPECT_EQ(tokenizer.decode(c.ids, false), c.text);
}

INSTANTIATE_TEST_SUITE_P(Vocabs, LosslessVocabs,
                         testing::Values("deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-spm",
                                         "mpt", "phi-3", "refact", "starcoder"),
                         param_name);

TEST(GgufVocab, RandomUnicodeRoundTrips) {
  for (const char* name : {"llama-spm", "phi-3", "deepseek-llm", "mpt", "falcon"}) {
    const LlmTokenizer tokenizer = load(name);
    Rng rng(99);
    for (int i = 0; i < 100; ++i) {
      const std::string s = test::random_unicode_text(rng);
      EXPECT_EQ(tokenizer.decode(tokenizer.encode(s, false, false), false), s) << name << ": '" << s << "'";
    }
  }
}

TEST(GgufVocab, WordPieceDecodes) {
  // BERT's decoder: lower case, accents gone, punctuation joined back ("clean_up_tokenization").
  const LlmTokenizer bge = load("bert-bge");
  EXPECT_EQ(bge.decode(bge.encode("Hello, World!", false, false), false), "hello, world!");
  EXPECT_EQ(bge.decode(bge.encode("Führer Cửa Việt", false, false), false), "fuhrer cua viet");
  const std::vector<int32_t> ids = bge.encode("Hello", true, false);
  EXPECT_EQ(ids, (std::vector<int32_t>{101, 7592, 102}));  // [CLS] hello [SEP]
  EXPECT_EQ(bge.decode(ids, true), "hello");
  EXPECT_EQ(bge.decode(ids, false), "[CLS] hello [SEP]");
}

TEST(GgufVocab, LlamaCppDefaults) {
  auto file = GgufFile::open(kDir + "llama-spm.gguf");
  ASSERT_TRUE(file.is_ok());
  const LlmVocab spm = vocab_from_gguf(*file).value();
  EXPECT_EQ(spm.type, LlmVocabType::kSpm);
  EXPECT_EQ(spm.n_tokens(), 32000);
  EXPECT_EQ(spm.bos_id, 1);
  EXPECT_EQ(spm.eos_id, 2);
  EXPECT_EQ(spm.unk_id, 0);
  EXPECT_TRUE(spm.add_bos);
  EXPECT_TRUE(spm.add_space_prefix);
  auto bert_file = GgufFile::open(kDir + "bert-bge.gguf");
  ASSERT_TRUE(bert_file.is_ok());
  const LlmVocab bert = vocab_from_gguf(*bert_file).value();
  EXPECT_EQ(bert.bos_id, 101);  // no bos key: [CLS]
  EXPECT_EQ(bert.sep_id, 102);
  EXPECT_TRUE(bert.add_sep);
}

// A tiny SPM vocab written with GgufWriter, then changed key by key.
LlmVocab tiny_spm() {
  LlmVocab v;
  v.tokens = {"<unk>", "<s>", "</s>", "▁a", "a"};
  v.scores = {0, 0, 0, -1, -2};
  v.token_types = {text::LlmTokenType::kUnknown, text::LlmTokenType::kControl, text::LlmTokenType::kControl,
                   text::LlmTokenType::kNormal, text::LlmTokenType::kNormal};
  v.bos_id = 1;
  v.eos_id = 2;
  v.unk_id = 0;
  v.add_bos = true;
  return v;
}

Result<LlmVocab> read_back(const std::function<void(GgufWriter&)>& write) {
  GgufWriter writer;
  write(writer);
  LMAAS_ASSIGN_OR_RETURN(std::string bytes, writer.serialize());
  LMAAS_ASSIGN_OR_RETURN(GgufFile file, GgufFile::parse(std::move(bytes), "tiny.gguf"));
  return vocab_from_gguf(file);
}

void expect_error(const Result<LlmVocab>& vocab, Code code, const std::string& needle) {
  ASSERT_FALSE(vocab.is_ok()) << needle;
  EXPECT_EQ(vocab.status().code(), code) << vocab.status().to_string();
  EXPECT_NE(vocab.status().message().find(needle), std::string::npos) << vocab.status().message();
  EXPECT_NE(vocab.status().message().find("tiny.gguf"), std::string::npos) << vocab.status().message();
}

TEST(GgufVocab, WrittenVocabReadsBack) {
  auto vocab = read_back([](GgufWriter& w) { add_vocab_to_gguf(w, tiny_spm()); });
  ASSERT_TRUE(vocab.is_ok()) << vocab.status().to_string();
  EXPECT_EQ(vocab->tokens, tiny_spm().tokens);
  EXPECT_EQ(vocab->scores, tiny_spm().scores);
  EXPECT_EQ(vocab->token_types, tiny_spm().token_types);
  EXPECT_EQ(LlmTokenizer::create(*vocab).value().encode("a", true, false), (std::vector<int32_t>{1, 3}));
}

TEST(GgufVocab, BadMetadataIsRefused) {
  const std::vector<std::string> tokens = tiny_spm().tokens;
  auto with = [&](const std::function<void(GgufWriter&)>& extra) {
    return read_back([&](GgufWriter& w) {
      w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
      extra(w);
    });
  };
  expect_error(with([](GgufWriter&) {}), Code::kNotFound, "tokenizer.ggml.model");
  expect_error(with([](GgufWriter& w) { w.add_string("tokenizer.ggml.model", "t5"); }),
               Code::kInvalidArgument, "'t5'");
  expect_error(with([](GgufWriter& w) {
                 w.add_string("tokenizer.ggml.model", "llama");
                 w.add_u32("tokenizer.ggml.bos_token_id", 99);
               }),
               Code::kInvalidArgument, "bos_id is 99");
  expect_error(with([](GgufWriter& w) {
                 w.add_string("tokenizer.ggml.model", "llama");
                 const float scores[] = {0, 1};
                 w.add_array("tokenizer.ggml.scores", std::span<const float>(scores));
               }),
               Code::kInvalidArgument, "scores has 2 entries, expected 5");
  expect_error(with([](GgufWriter& w) { w.add_string("tokenizer.ggml.model", "gpt2"); }), Code::kNotFound,
               "tokenizer.ggml.merges");
  expect_error(with([](GgufWriter& w) {
                 w.add_string("tokenizer.ggml.model", "llama");
                 w.add_string("tokenizer.ggml.token_type", "normal");
               }),
               Code::kDataLoss, "tokenizer.ggml.token_type");
  const auto bad_tokens = read_back([](GgufWriter& w) {
    w.add_string("tokenizer.ggml.model", "llama");
    const uint32_t ids[] = {1, 2};
    w.add_array("tokenizer.ggml.tokens", std::span<const uint32_t>(ids));
  });
  expect_error(bad_tokens, Code::kDataLoss, "tokenizer.ggml.tokens");
}

}  // namespace
}  // namespace lmaas

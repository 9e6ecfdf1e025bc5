// write_hf_tokenizer against two independent references:
// - Hugging Face tokenizers: for the vocabularies of ../shared/data that golden/fixtures/hf_tokenizer holds HF's
//   own ids for, the tokenizer.json lmaas writes must be the same JSON document as the one HF tokenizers was run
//   on (rebuilt by tests/tools/hf_tokenizer/gen_hf_tokenizer_fixtures.py, its SHA-256 pinned by the fixture),
//   so HF gives those ids for lmaas' file.
// - llama.cpp's tokenizer vectors: every vocab-only GGUF there, written as a Hugging Face directory and read
//   back with read_hf_tokenizer, encodes each .inp string to the .out ids and keeps its special ids and flags.
// Also: vocabularies tokenizer.json cannot hold are refused with the token named.
#include "formats/hf_tokenizer_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "formats/gguf.h"
#include "formats/gguf_vocab.h"
#include "formats/hf_tokenizer.h"
#include "scratch_dir.h"
#include "text/llama2c_tokenizer.h"
#include "text/llm_tokenizer.h"
#include "unit/text/llm_vectors.h"

namespace lmaas {
namespace {

using text::LlmSpacePrefix;
using text::LlmTokenizer;
using text::LlmVocab;

const std::string kGenerated = LMAAS_HF_TOKENIZER_DIR;
const std::string kVectors = test::tokenizer_vectors_dir() + "llama.cpp/ggml-vocab-";

LlmVocab gguf_vocab(const std::string& name) {
  auto file = GgufFile::open(kVectors + name + ".gguf");
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  auto vocab = vocab_from_gguf(file.value());
  EXPECT_TRUE(vocab.is_ok()) << vocab.status().to_string();
  return std::move(vocab).value();
}

// A scratch directory per test and process.
std::filesystem::path scratch(const std::string& name) {
  return testing_util::test_scratch_dir("lmaas_hf_tokenizer_writer_" + name);
}

// The first few differences between two documents, as JSON Patch operations.
std::string first_differences(const nlohmann::json& ours, const nlohmann::json& theirs) {
  const nlohmann::json patch = nlohmann::json::diff(ours, theirs);
  std::string out;
  for (size_t i = 0; i < std::min<size_t>(patch.size(), 5); ++i) out += patch[i].dump().substr(0, 300) + "\n";
  return out;
}

struct HfSet {
  const char* name;
  std::function<LlmVocab()> vocab;
};

LlmVocab llama_spm_with(LlmSpacePrefix prefix, bool add_space_prefix) {
  LlmVocab vocab = gguf_vocab("llama-spm");
  vocab.space_prefix = prefix;
  vocab.add_space_prefix = add_space_prefix;
  return vocab;
}

// Phi-3 as Microsoft publishes its tokenizer.json (what the fixture script builds): without the GGUF's trailing
// "[PAD<id>]" tokens, which only pad the table to the embedding's size, and with <unk> an unknown token.
LlmVocab phi3() {
  LlmVocab vocab = gguf_vocab("phi-3");
  while (vocab.tokens.back() == "[PAD" + std::to_string(vocab.n_tokens() - 1) + "]") {
    vocab.tokens.pop_back();
    vocab.token_types.pop_back();
    vocab.scores.pop_back();
  }
  vocab.token_types[static_cast<size_t>(vocab.unk_id)] = text::LlmTokenType::kUnknown;
  return vocab;
}

const HfSet kHfSets[] = {
    {"llama-spm", [] { return gguf_vocab("llama-spm"); }},
    {"llama-spm-metaspace", [] { return llama_spm_with(LlmSpacePrefix::kFirstUnlessSpace, true); }},
    {"llama-spm-always", [] { return llama_spm_with(LlmSpacePrefix::kEveryUnlessSpace, true); }},
    {"llama-spm-noprefix", [] { return llama_spm_with(LlmSpacePrefix::kEveryStretch, false); }},
    {"phi-3", phi3},
    {"stories260K",
     [] {
       return text::read_llama2c_tokenizer(std::string(LMAAS_SOURCE_DIR) + "/../shared/data/models/stories260K/tok512.bin",
                                           512)
           .value();
     }},
    {"bert-bge", [] { return gguf_vocab("bert-bge"); }},
};

class HfTokenizersRanOnTheSameDocument : public testing::TestWithParam<HfSet> {};

TEST_P(HfTokenizersRanOnTheSameDocument, WrittenTokenizerJsonEqualsIt) {
  const HfSet& set = GetParam();
  const auto ours = hf_tokenizer_json(set.vocab());
  ASSERT_TRUE(ours.is_ok()) << ours.status().to_string();
  const auto theirs = read_file(kGenerated + "/" + set.name + "/tokenizer.json");
  ASSERT_TRUE(theirs.is_ok()) << theirs.status().to_string() << " (gen_hf_tokenizer_fixtures.py writes it: run ctest)";
  const nlohmann::json a = nlohmann::json::parse(ours.value());
  const nlohmann::json b = nlohmann::json::parse(theirs.value());
  EXPECT_TRUE(a == b) << set.name << ": lmaas → HF reference:\n" << first_differences(a, b);
}

INSTANTIATE_TEST_SUITE_P(Sets, HfTokenizersRanOnTheSameDocument, testing::ValuesIn(kHfSets),
                         [](const testing::TestParamInfo<HfSet>& param_info) {
                           std::string name = param_info.param.name;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

class RoundTripThroughHfFiles : public testing::TestWithParam<const char*> {};

TEST_P(RoundTripThroughHfFiles, LlamaCppVectorsEncodeAsBefore) {
  const std::string name = GetParam();
  const LlmVocab original = gguf_vocab(name);
  const auto dir = scratch(name);
  ASSERT_TRUE(write_hf_tokenizer(dir.string(), original, {"{{ messages }}", 4096}).is_ok());
  auto files = read_hf_tokenizer(dir.string());
  ASSERT_TRUE(files.is_ok()) << files.status().to_string();
  const LlmVocab& back = files.value().vocab;
  EXPECT_EQ(files.value().chat_template, "{{ messages }}");
  EXPECT_EQ(back.type, original.type);
  EXPECT_EQ(back.tokens, original.tokens);
  for (const auto& [field, a, b] : {std::tuple{"bos", back.bos_id, original.bos_id}, {"eos", back.eos_id, original.eos_id},
                                    {"unk", back.unk_id, original.unk_id}, {"pad", back.pad_id, original.pad_id},
                                    {"eot", back.eot_id, original.eot_id}}) {
    EXPECT_EQ(a, b) << name << " " << field;
  }
  EXPECT_EQ(back.add_bos, original.add_bos) << name;
  EXPECT_EQ(back.add_eos, original.add_eos) << name;
  EXPECT_EQ(back.add_space_prefix, original.add_space_prefix) << name;
  const nlohmann::json config = nlohmann::json::parse(read_file((dir / "tokenizer_config.json").string()).value());
  EXPECT_EQ(config["model_max_length"], 4096);

  const LlmTokenizer tokenizer = LlmTokenizer::create(back).value();
  const auto cases = test::read_vector_cases(kVectors + name + ".gguf.inp", kVectors + name + ".gguf.out");
  ASSERT_EQ(cases.size(), 46u);
  size_t n_pass = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<int32_t> ids = tokenizer.encode(cases[i].text, false, false);
    EXPECT_EQ(ids, cases[i].ids) << name << " case " << i << ": '" << cases[i].text << "'";
    n_pass += ids == cases[i].ids ? 1 : 0;
  }
  std::printf("%s written as tokenizer.json and read back: %zu/%zu\n", name.c_str(), n_pass, cases.size());
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Vocabs, RoundTripThroughHfFiles,
                         testing::Values("bert-bge", "deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-spm",
                                         "mpt", "phi-3", "refact", "starcoder"),
                         [](const testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

// Every HF set the reference ids exist for (hf_tokenizer_test.cpp), read, written and read again: every field that
// decides the ids is the same, so the ids HF gives for the original files are the ids of the written ones.
class HfSetsReadWriteRead : public testing::TestWithParam<const char*> {};

TEST_P(HfSetsReadWriteRead, EveryFieldComesBack) {
  const std::string name = GetParam();
  const auto first = read_hf_tokenizer(kGenerated + "/" + name);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string() << " (gen_hf_tokenizer_fixtures.py writes it: run ctest)";
  const LlmVocab& a = first.value().vocab;
  const auto dir = scratch(name);
  ASSERT_TRUE(write_hf_tokenizer(dir.string(), a, {first.value().chat_template, 0}).is_ok());
  const auto second = read_hf_tokenizer(dir.string());
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  const LlmVocab& b = second.value().vocab;
  EXPECT_EQ(second.value().chat_template, first.value().chat_template);
  EXPECT_EQ(b.type, a.type);
  EXPECT_EQ(b.pre, a.pre);
  EXPECT_EQ(b.pre_patterns, a.pre_patterns);
  EXPECT_EQ(b.ignore_merges, a.ignore_merges);
  EXPECT_EQ(b.tokens, a.tokens);
  EXPECT_EQ(b.token_types, a.token_types);
  EXPECT_EQ(b.scores, a.scores);
  EXPECT_EQ(b.merges, a.merges);
  const std::vector<int32_t> ids_a = {a.bos_id, a.eos_id, a.eot_id, a.eom_id, a.unk_id, a.pad_id, a.sep_id, a.cls_id, a.mask_id};
  const std::vector<int32_t> ids_b = {b.bos_id, b.eos_id, b.eot_id, b.eom_id, b.unk_id, b.pad_id, b.sep_id, b.cls_id, b.mask_id};
  EXPECT_EQ(ids_b, ids_a);
  const std::vector<bool> flags_a = {a.add_bos, a.add_eos, a.add_sep, a.add_space_prefix};
  const std::vector<bool> flags_b = {b.add_bos, b.add_eos, b.add_sep, b.add_space_prefix};
  EXPECT_EQ(flags_b, flags_a);
  EXPECT_EQ(b.space_prefix, a.space_prefix);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Sets, HfSetsReadWriteRead,
                         testing::Values("llama-spm", "llama-spm-metaspace", "llama-spm-always", "llama-spm-noprefix",
                                         "phi-3", "stories260K", "gpt-2", "llama3-gpt2", "deepseek-llm",
                                         "deepseek-coder", "bert-bge"),
                         [](const testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(HfTokenizerWriter, VocabulariesTokenizerJsonCannotHoldAreRefused) {
  LlmVocab vocab = gguf_vocab("gpt-2");
  vocab.tokens[300] = "\xC3(";  // not UTF-8
  auto written = hf_tokenizer_json(vocab);
  ASSERT_FALSE(written.is_ok());
  EXPECT_NE(written.status().message().find("token 300 is not UTF-8"), std::string::npos)
      << written.status().to_string();

  vocab = gguf_vocab("gpt-2");
  vocab.pre = "no-such-pre";
  written = hf_tokenizer_json(vocab);
  ASSERT_FALSE(written.is_ok());
  EXPECT_NE(written.status().message().find("no-such-pre"), std::string::npos) << written.status().to_string();

  vocab = gguf_vocab("bert-bge");
  vocab.tokens.push_back("\xE2\x96\x81[CLS]");  // a word-initial "[CLS]": the same text as the control token
  vocab.token_types.push_back(text::LlmTokenType::kNormal);
  if (!vocab.scores.empty()) vocab.scores.push_back(0.0f);
  written = hf_tokenizer_json(vocab);
  ASSERT_FALSE(written.is_ok());
  EXPECT_NE(written.status().message().find("both become '[CLS]'"), std::string::npos)
      << written.status().to_string();
}

}  // namespace
}  // namespace lmaas

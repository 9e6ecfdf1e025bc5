// read_hf_tokenizer + LlmTokenizer against Hugging Face tokenizers itself. The tokenizer directories are
// rebuilt from ../shared/data by tests/tools/hf_tokenizer/gen_hf_tokenizer_fixtures.py (ctest runs it
// first, into LMAAS_HF_TOKENIZER_DIR); golden/fixtures/hf_tokenizer/<set>.json holds, per string, the ids
// HF tokenizers 0.23 gave for those very files (their SHA-256 is checked) without and with special
// tokens, and its decodings. HF always matches added tokens in the text, so lmaas encodes with
// parse_special. Also: the special ids and flags each set's files imply, and files that are wrong or
// unsupported are refused with the file and field named.
#include "formats/hf_tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/file_util.h"
#include "base/sha256.h"
#include "text/llm_tokenizer.h"

namespace lmaas {
namespace {

using text::LlmSpacePrefix;
using text::LlmTokenizer;
using text::LlmVocabType;

const std::string kGenerated = LMAAS_HF_TOKENIZER_DIR;
const std::string kExpected = std::string(LMAAS_FIXTURES_DIR) + "/hf_tokenizer/";

HfTokenizerFiles load_files(const std::string& set) {
  auto files = read_hf_tokenizer(kGenerated + "/" + set);
  EXPECT_TRUE(files.is_ok()) << files.status().to_string()
                             << " (the directories come from gen_hf_tokenizer_fixtures.py: run ctest)";
  return files.is_ok() ? std::move(files).value() : HfTokenizerFiles{};
}

// Python's str.replace (non-overlapping, left to right).
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// HF's decoding as lmaas promises to give it back. Two departures, both in HF's decoders:
// - WordPiece: transformers' decode cleans up " ' " → "'" after the Rust decoder (which does not);
//   lmaas does the whole of transformers' clean-up.
// - Byte-level BPE: HF pushes non-special added tokens ("ü" in DeepSeek's vocab) through the ByteLevel
//   decoder, which turns their characters into lone bytes (U+FFFD); lmaas gives their text. Such
//   strings are not compared (nullopt).
std::optional<std::string> lmaas_decoding(const std::string& hf, LlmVocabType type) {
  if (type == LlmVocabType::kWordPiece) return replace_all(hf, " ' ", "'");
  if (type == LlmVocabType::kBpe && hf.find("\xEF\xBF\xBD") != std::string::npos) return std::nullopt;
  return hf;
}

class HfReference : public testing::TestWithParam<const char*> {};

TEST_P(HfReference, EveryStringEncodesAndDecodesAsHfTokenizers) {
  const std::string set = GetParam();
  const nlohmann::json expected = nlohmann::json::parse(read_file(kExpected + set + ".json").value());
  ASSERT_EQ(sha256_file(kGenerated + "/" + set + "/tokenizer.json").value(), expected["tokenizer_sha256"]);
  auto tokenizer = LlmTokenizer::create(load_files(set).vocab);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.status().to_string();
  const auto& cases = expected["cases"];
  ASSERT_GE(cases.size(), 58u);
  size_t n_pass = 0;
  size_t n_decoded = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const std::string text = c["text"];
    const auto ids = tokenizer->encode(text, false, true);
    const auto ids_special = tokenizer->encode(text, true, true);
    EXPECT_EQ(ids, c["ids"].get<std::vector<int32_t>>()) << set << " case " << i << ": '" << text << "'";
    EXPECT_EQ(ids_special, c["ids_special"].get<std::vector<int32_t>>()) << set << " case " << i;
    n_pass += ids == c["ids"] && ids_special == c["ids_special"] ? 1 : 0;
    const std::vector<int32_t> reference = c["ids_special"];
    for (const auto& [skip, key] : {std::pair{false, "decoded"}, {true, "decoded_skip"}}) {
      const auto wanted = lmaas_decoding(c[key], tokenizer->type());
      n_decoded += wanted ? 1 : 0;
      if (wanted) {
        EXPECT_EQ(tokenizer->decode(reference, skip), *wanted) << set << " case " << i << " " << key;
      }
    }
  }
  std::printf("%s: %zu/%zu strings encode as HF tokenizers does; %zu/%zu decodings compared\n", set.c_str(),
              n_pass, cases.size(), n_decoded, 2 * cases.size());
}

std::string param_name(const testing::TestParamInfo<const char*>& info) {
  std::string name = info.param;
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Sets, HfReference,
                         testing::Values("llama-spm", "llama-spm-metaspace", "llama-spm-always",
                                         "llama-spm-noprefix", "phi-3", "stories260K", "gpt-2", "llama3-gpt2",
                                         "deepseek-llm", "deepseek-coder", "bert-bge"),
                         param_name);

TEST(HfTokenizer, SentencePieceStyleSets) {
  const HfTokenizerFiles llama = load_files("llama-spm");
  EXPECT_EQ(llama.vocab.type, LlmVocabType::kSpm);
  EXPECT_EQ(llama.vocab.n_tokens(), 32000);
  EXPECT_EQ(llama.vocab.bos_id, 1);
  EXPECT_EQ(llama.vocab.eos_id, 2);
  EXPECT_EQ(llama.vocab.unk_id, 0);
  EXPECT_TRUE(llama.vocab.add_bos);
  EXPECT_FALSE(llama.vocab.add_eos);
  EXPECT_TRUE(llama.vocab.add_space_prefix);
  EXPECT_EQ(llama.vocab.space_prefix, LlmSpacePrefix::kEveryStretch);
  EXPECT_EQ(llama.vocab.token_type(3), text::LlmTokenType::kByte);  // <0x00>
  EXPECT_EQ(llama.vocab.token_type(0), text::LlmTokenType::kUnknown);
  EXPECT_EQ(llama.chat_template, "");

  const HfTokenizerFiles metaspace = load_files("llama-spm-metaspace");
  EXPECT_EQ(metaspace.vocab.space_prefix, LlmSpacePrefix::kFirstUnlessSpace);
  EXPECT_TRUE(metaspace.vocab.add_bos);  // from the TemplateProcessing: the config has no add_bos_token
  EXPECT_EQ(metaspace.chat_template, "{{ messages }}");  // the "default" of the list
  EXPECT_EQ(load_files("llama-spm-always").vocab.space_prefix, LlmSpacePrefix::kEveryUnlessSpace);
  EXPECT_FALSE(load_files("llama-spm-noprefix").vocab.add_space_prefix);

  const HfTokenizerFiles phi3 = load_files("phi-3");
  EXPECT_EQ(phi3.vocab.n_tokens(), 32011);
  EXPECT_EQ(phi3.vocab.eos_id, 32000);  // tokenizer_config's eos_token "<|endoftext|>"
  EXPECT_EQ(phi3.vocab.eot_id, 32001);  // the others of generation_config's [32000, 32001, 32007]
  EXPECT_EQ(phi3.vocab.eom_id, 32007);
  EXPECT_EQ(phi3.vocab.token_type(32007), text::LlmTokenType::kControl);
  EXPECT_EQ(phi3.vocab.token_type(2), text::LlmTokenType::kUserDefined);
  EXPECT_NE(phi3.chat_template.find("<|assistant|>"), std::string::npos);
  const LlmTokenizer phi3_tokenizer = LlmTokenizer::create(phi3.vocab).value();
  for (int32_t id : {32000, 32001, 32007}) EXPECT_TRUE(phi3_tokenizer.is_eog(id)) << id;
  EXPECT_FALSE(phi3_tokenizer.is_eog(2));  // "</s>" is a plain added token in Phi-3
}

TEST(HfTokenizer, ByteLevelSets) {
  const HfTokenizerFiles gpt2 = load_files("gpt-2");
  EXPECT_EQ(gpt2.vocab.type, LlmVocabType::kBpe);
  EXPECT_EQ(gpt2.vocab.pre, "gpt-2");
  EXPECT_EQ(gpt2.vocab.merges.size(), 50000u);
  EXPECT_FALSE(gpt2.vocab.add_bos);
  EXPECT_FALSE(gpt2.vocab.ignore_merges);

  const HfTokenizerFiles llama3 = load_files("llama3-gpt2");
  EXPECT_EQ(llama3.vocab.pre, "llama3");
  EXPECT_TRUE(llama3.vocab.ignore_merges);
  EXPECT_EQ(llama3.vocab.n_tokens(), 50261);
  EXPECT_EQ(llama3.vocab.bos_id, 50257);
  EXPECT_TRUE(llama3.vocab.add_bos);
  EXPECT_EQ(llama3.vocab.eos_id, 50259);  // <|eot_id|> (tokenizer_config)
  EXPECT_EQ(llama3.vocab.eot_id, 50258);  // <|end_of_text|> (generation_config)
  EXPECT_EQ(llama3.vocab.token_type(50260), text::LlmTokenType::kUserDefined);
  EXPECT_EQ(llama3.chat_template, "{{ bos_token }}{{ messages }}");

  EXPECT_EQ(load_files("deepseek-llm").vocab.pre, "deepseek-llm");
  const HfTokenizerFiles coder = load_files("deepseek-coder");
  EXPECT_EQ(coder.vocab.pre, "deepseek-coder");
  EXPECT_EQ(coder.vocab.bos_id, 32013);
  EXPECT_EQ(coder.vocab.eos_id, 32014);
}

TEST(HfTokenizer, WordPieceSet) {
  const HfTokenizerFiles bert = load_files("bert-bge");
  EXPECT_EQ(bert.vocab.type, LlmVocabType::kWordPiece);
  EXPECT_EQ(bert.vocab.cls_id, 101);
  EXPECT_EQ(bert.vocab.bos_id, 101);
  EXPECT_EQ(bert.vocab.sep_id, 102);
  EXPECT_EQ(bert.vocab.unk_id, 100);
  EXPECT_EQ(bert.vocab.pad_id, 0);
  EXPECT_EQ(bert.vocab.mask_id, 103);
  EXPECT_TRUE(bert.vocab.add_bos);
  EXPECT_TRUE(bert.vocab.add_sep);
  EXPECT_EQ(bert.vocab.tokens[7592], "\xE2\x96\x81hello");  // llama.cpp's form
}

// --- Files that are wrong or unsupported: a scratch directory per case. ---

class HfTokenizerErrors : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        ("lmaas_hf_tokenizer_" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  // A tiny valid BPE tokenizer.json, changed by `edit`.
  void write_bpe(const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = {
        {"added_tokens", {{{"id", 0}, {"content", "<s>"}, {"special", true}}}},
        {"normalizer", nullptr},
        {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
        {"post_processor", nullptr},
        {"model",
         {{"type", "BPE"}, {"vocab", {{"<s>", 0}, {"a", 1}, {"b", 2}, {"ab", 3}}}, {"merges", {"a b"}}}}};
    edit(j);
    write("tokenizer.json", j.dump());
  }
  void expect_error(Code code, const std::string& file, const std::string& needle) {
    const auto result = read_hf_tokenizer(dir_.string());
    ASSERT_FALSE(result.is_ok()) << needle;
    EXPECT_EQ(result.status().code(), code) << result.status().to_string();
    const std::string& message = result.status().message();
    EXPECT_NE(message.find((dir_ / file).string()), std::string::npos) << message;
    EXPECT_NE(message.find(needle), std::string::npos) << message;
  }

  std::filesystem::path dir_;
};

TEST_F(HfTokenizerErrors, TheTinyFileReads) {
  write_bpe([](nlohmann::json&) {});
  auto files = read_hf_tokenizer(dir_.string());
  ASSERT_TRUE(files.is_ok()) << files.status().to_string();
  const LlmTokenizer tokenizer = LlmTokenizer::create(files->vocab).value();
  EXPECT_EQ(tokenizer.encode("ab<s>ba", false, true), (std::vector<int32_t>{3, 0, 2, 1}));
}

TEST_F(HfTokenizerErrors, MissingAndMalformedFiles) {
  expect_error(Code::kNotFound, "tokenizer.json", "cannot open");
  write("tokenizer.json", "{\"model\": ");
  expect_error(Code::kDataLoss, "tokenizer.json", "not valid JSON");
  write("tokenizer.json", "[1, 2]");
  expect_error(Code::kDataLoss, "tokenizer.json", "expected a JSON object");
  write_bpe([](nlohmann::json&) {});
  write("tokenizer_config.json", "{\"bos_token\": \"<s>\",}");
  expect_error(Code::kDataLoss, "tokenizer_config.json", "not valid JSON");
}

TEST_F(HfTokenizerErrors, UnsupportedModelsAndComponents) {
  write_bpe([](nlohmann::json& j) { j["model"] = {{"type", "Unigram"}, {"vocab", {{"a", 0.0}}}}; });
  expect_error(Code::kUnimplemented, "tokenizer.json", "model.type: is 'Unigram'");
  write_bpe([](nlohmann::json& j) { j["normalizer"] = {{"type", "NFC"}}; });
  expect_error(Code::kUnimplemented, "tokenizer.json", "normalizer: type 'NFC'");
  write_bpe([](nlohmann::json& j) { j["pre_tokenizer"]["add_prefix_space"] = true; });
  expect_error(Code::kUnimplemented, "tokenizer.json", "pre_tokenizer.add_prefix_space: is true");
  write_bpe([](nlohmann::json& j) {
    j["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers", {{{"type", "Whitespace"}}, {{"type", "ByteLevel"}, {"use_regex", false}}}}};
  });
  expect_error(Code::kUnimplemented, "tokenizer.json", "pre_tokenizer.pretokenizers[0]: type 'Whitespace'");
  write_bpe([](nlohmann::json& j) { j["pre_tokenizer"] = nullptr; });
  expect_error(Code::kUnimplemented, "tokenizer.json", "pre_tokenizer: BPE without a ByteLevel");
  write_bpe([](nlohmann::json& j) { j["model"]["dropout"] = 0.1; });
  expect_error(Code::kUnimplemented, "tokenizer.json", "model.dropout");
}

TEST_F(HfTokenizerErrors, BadMergesAndIds) {
  write_bpe([](nlohmann::json& j) { j["model"]["merges"] = {"a b", "ab"}; });
  expect_error(Code::kDataLoss, "tokenizer.json", R"(model.merges[1]: is "ab", expected "left right")");
  write_bpe([](nlohmann::json& j) {
    j["model"]["merges"] = nlohmann::json::array({nlohmann::json::array({"a", "c"})});
  });
  expect_error(Code::kDataLoss, "tokenizer.json", "model.merges[0]: 'c' is not a token");
  write_bpe([](nlohmann::json& j) { j["model"]["merges"] = {"b a"}; });
  expect_error(Code::kDataLoss, "tokenizer.json", "model.merges[0]: makes 'ba', which is not a token");
  write_bpe([](nlohmann::json& j) { j["model"]["merges"] = {42}; });
  expect_error(Code::kDataLoss, "tokenizer.json", "model.merges[0]: is 42");
  write_bpe([](nlohmann::json& j) { j["model"]["vocab"]["ab"] = 4; });
  expect_error(Code::kDataLoss, "tokenizer.json", "id 3 is in neither model.vocab nor added_tokens");
  write_bpe([](nlohmann::json& j) { j["model"]["vocab"]["ab"] = 5; });
  expect_error(Code::kDataLoss, "tokenizer.json", R"(model.vocab["ab"]: is 5, expected a token id 0..4)");
  write_bpe([](nlohmann::json& j) { j["model"]["vocab"]["ab"] = "3"; });
  expect_error(Code::kDataLoss, "tokenizer.json", R"(model.vocab["ab"]: is "3", expected an integer)");
  write_bpe([](nlohmann::json& j) { j["added_tokens"][0]["id"] = 1; });
  expect_error(Code::kDataLoss, "tokenizer.json",
               "added_tokens[0]: id 1 is '<s>' here but 'a' in model.vocab");
  write_bpe([](nlohmann::json& j) {
    j["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "Split"}, {"pattern", {{"Regex", "(a"}}}, {"behavior", "Isolated"}},
                            {{"type", "ByteLevel"}, {"use_regex", false}}}}};
  });
  expect_error(Code::kDataLoss, "tokenizer.json",
               "pre_tokenizer.pretokenizers[0]: pre-tokenizer pattern '(a'");
}

TEST_F(HfTokenizerErrors, BadConfigFiles) {
  write_bpe([](nlohmann::json&) {});
  write("tokenizer_config.json", R"({"bos_token": {"content": "<bos>"}})");
  expect_error(Code::kDataLoss, "tokenizer_config.json", "bos_token.content: '<bos>' is not a token");
  write("tokenizer_config.json", R"({"add_bos_token": "yes"})");
  expect_error(Code::kDataLoss, "tokenizer_config.json",
               R"(add_bos_token: is "yes", expected true or false)");
  write("tokenizer_config.json", R"({"add_bos_token": true})");
  const auto no_bos = read_hf_tokenizer(dir_.string());
  ASSERT_FALSE(no_bos.is_ok());
  EXPECT_NE(no_bos.status().message().find("add_bos is set but bos_id is absent"), std::string::npos);
  write("tokenizer_config.json", R"({"bos_token": "<s>", "chat_template": 7})");
  expect_error(Code::kDataLoss, "tokenizer_config.json", "chat_template: is 7");
  write("tokenizer_config.json", "{}");
  write("generation_config.json", R"({"eos_token_id": [0, 9]})");
  expect_error(Code::kDataLoss, "generation_config.json", "eos_token_id[1]: is 9, expected a token id 0..3");
  write("generation_config.json", R"({"eos_token_id": 0})");
  write("chat_template.jinja", "{{ messages }}");
  auto files = read_hf_tokenizer(dir_.string());
  ASSERT_TRUE(files.is_ok()) << files.status().to_string();
  EXPECT_EQ(files->vocab.eos_id, 0);
  EXPECT_EQ(files->chat_template, "{{ messages }}");
}

TEST_F(HfTokenizerErrors, WordPieceSettingsOtherThanUncasedBert) {
  nlohmann::json j = {
      {"normalizer", {{"type", "BertNormalizer"}, {"lowercase", false}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"model",
       {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"vocab", {{"[UNK]", 0}, {"a", 1}, {"##b", 2}}}}}};
  write("tokenizer.json", j.dump());
  expect_error(Code::kUnimplemented, "tokenizer.json", "normalizer.lowercase: is false");
  j["normalizer"]["lowercase"] = true;
  j["model"]["continuing_subword_prefix"] = "@@";
  write("tokenizer.json", j.dump());
  expect_error(Code::kUnimplemented, "tokenizer.json", "model.continuing_subword_prefix");
  j["model"].erase("continuing_subword_prefix");
  write("tokenizer.json", j.dump());
  auto files = read_hf_tokenizer(dir_.string());
  ASSERT_TRUE(files.is_ok()) << files.status().to_string();
  EXPECT_EQ(files->vocab.tokens, (std::vector<std::string>{"[UNK]",
                                                           "\xE2\x96\x81"
                                                           "a",
                                                           "b"}));
  EXPECT_EQ(LlmTokenizer::create(files->vocab).value().encode("ab A", false, false),
            (std::vector<int32_t>{1, 2, 1}));
}

}  // namespace
}  // namespace lmaas

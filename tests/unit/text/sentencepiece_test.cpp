// SentencePiece: the published vectors (../shared/data/tokenizer-vectors/sentencepiece) must come out
// id for id, and models trained here must be deterministic and reserve 0 for padding.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "text/sentencepiece_tokenizer.h"

namespace lmaas::text {
namespace {

const std::string kVectors = std::string(LMAAS_SOURCE_DIR) + "/../shared/data/tokenizer-vectors/sentencepiece/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The vector files: every input is followed by "\n__ggml_vocab_test__\n" (the first input is empty);
// outputs are one line of space-separated ids per input.
std::vector<std::string> split_inputs(const std::string& text) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t hit = text.find(sep, start);
    if (hit == std::string::npos) return out;  // nothing follows the last separator
    out.push_back(text.substr(start, hit - start));
    start = hit + sep.size();
  }
}

void expect_vectors(const std::string& dir, const std::string& model, const std::string& stem) {
  auto tok = SentencePieceTokenizer::load(kVectors + dir + "/" + model);
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  std::vector<std::string> inputs = split_inputs(read_file(kVectors + dir + "/" + stem + ".inp"));
  std::istringstream outputs(read_file(kVectors + dir + "/" + stem + ".out"));
  std::string line;
  size_t n = 0;
  for (const std::string& input : inputs) {
    ASSERT_TRUE(std::getline(outputs, line)) << "more inputs than output lines";
    std::vector<int32_t> expected;
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) expected.push_back(id);
    EXPECT_EQ(tok.value().encode(input), expected) << dir << " input #" << n << ": " << input;
    ++n;
  }
  EXPECT_GT(n, 70u);
}

TEST(SentencePiece, ReproducesTheTestModelVectors) {
  expect_vectors("spm-test-model", "test_model.model", "test_model.spm-0.1.97");
}

TEST(SentencePiece, ReproducesTheLlama2Vectors) { expect_vectors("llama2", "tokenizer.model", "llama2.spm-0.1.97"); }

TEST(SentencePiece, TrainsDeterministicBpeAndUnigramWithPaddingAtZero) {
  std::vector<std::string> texts;
  std::istringstream botchan(read_file(kVectors + "spm-test-model/botchan.txt"));
  for (std::string line; std::getline(botchan, line) && texts.size() < 2000;)
    if (!line.empty()) texts.push_back(line);
  ASSERT_GT(texts.size(), 1000u);
  for (std::string type : {"bpe", "unigram"}) {
    SentencePieceTrainOptions o;
    o.model_type = type, o.vocab_size = 300;
    auto a = SentencePieceTokenizer::train(texts, o), b = SentencePieceTokenizer::train(texts, o);
    ASSERT_TRUE(a.is_ok()) << a.status().message();
    ASSERT_TRUE(b.is_ok()) << b.status().message();
    EXPECT_EQ(a.value().serialized(), b.value().serialized()) << type;
    EXPECT_EQ(a.value().vocab_size(), 300) << type;
    EXPECT_EQ(a.value().pad_id(), 0) << type;
    const std::string sentence = "I am a cat, and a teacher of mathematics.";
    std::vector<int32_t> ids = a.value().encode(sentence);
    EXPECT_FALSE(ids.empty());
    for (int32_t id : ids) EXPECT_GT(id, 0) << type;  // never the padding id
    EXPECT_EQ(a.value().decode(ids), sentence) << type;
  }
  SentencePieceTrainOptions bad;
  bad.model_type = "wordpiece";
  EXPECT_FALSE(SentencePieceTokenizer::train(texts, bad).is_ok());
  EXPECT_FALSE(SentencePieceTokenizer::load("/nonexistent/model").is_ok());
  EXPECT_FALSE(SentencePieceTokenizer::from_serialized("not a model").is_ok());
}

}  // namespace
}  // namespace lmaas::text

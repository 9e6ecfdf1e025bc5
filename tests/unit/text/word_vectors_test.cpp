// WordVectors: the .vec layouts real files use (word2vec/fastText with a header, GloVe without), values
// read exactly, repeats keeping the first vector, and every malformed file rejected with its line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "text/word_vectors.h"

namespace lmaas::text {
namespace {

std::string write_temp(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / ("lmaas_wv_" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

std::vector<float> vec(const WordVectors& v, const std::string& w) {
  auto got = v.find(w);
  return got ? std::vector<float>(got->begin(), got->end()) : std::vector<float>{};
}

TEST(WordVectors, ReadsHeaderedAndGloveFilesAndKeepsTheFirstOfARepeatedWord) {
  const auto with_header = WordVectors::read(write_temp("h.vec", "3 2\nthe 0.5 -1\ncat 1e-3 2.25\r\nthe 9 9\nété -0 4\n"));
  ASSERT_TRUE(with_header.is_ok()) << with_header.status().message();
  EXPECT_EQ(with_header.value().dim(), 2);
  EXPECT_EQ(with_header.value().size(), 3u);
  EXPECT_EQ(vec(with_header.value(), "the"), (std::vector<float>{0.5f, -1.0f}));
  EXPECT_EQ(vec(with_header.value(), "cat"), (std::vector<float>{0.001f, 2.25f}));
  EXPECT_EQ(vec(with_header.value(), "été"), (std::vector<float>{-0.0f, 4.0f}));
  EXPECT_FALSE(with_header.value().find("dog").has_value());
  const auto glove = WordVectors::read(write_temp("g.txt", "a 1 2 3\nb 4 5 6\n"));
  ASSERT_TRUE(glove.is_ok()) << glove.status().message();
  EXPECT_EQ(glove.value().dim(), 3);
  EXPECT_EQ(vec(glove.value(), "b"), (std::vector<float>{4, 5, 6}));
}

TEST(WordVectors, MalformedFilesNameTheLineAndTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2 3\nthe 1 2 3\ncat 1 2\n", ":3: 'cat' has 2 values, expected 3"},
      {"the 1 2\ncat 1 x\n", ":2: value 2 of 'cat' ('x') is not a finite number"},
      {"the 1 nan\n", ":1: value 2 of 'the' ('nan') is not a finite number"},
      {"5 2\nthe 1 2\n", "announces 5 words but the file ends after 1 lines"},
      {"0 0\n", ":1: the header must give a word count >= 0 and a dimension >= 1"},
      {"\n\n", "lists no words"},
      {"lonely\n", ":1: a word with no values"},
  };
  for (const auto& [content, expected] : cases) {
    const std::string path = write_temp("bad.vec", content);
    const auto got = WordVectors::read(path);
    ASSERT_FALSE(got.is_ok()) << content;
    EXPECT_NE(got.status().message().find(expected), std::string::npos) << got.status().message();
    EXPECT_NE(got.status().message().find(path), std::string::npos) << got.status().message();
  }
  EXPECT_FALSE(WordVectors::read("/nonexistent/vectors.vec").is_ok());
}

}  // namespace
}  // namespace lmaas::text

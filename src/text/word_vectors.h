// WordVectors: pretrained word vectors from a text file in the word2vec / fastText `.vec` layout — an
// optional "COUNT DIM" header line, then one "word v1 … vDIM" line per word, fields separated by
// spaces — or GloVe's (the same without the header). Every line is checked: a wrong number of values,
// a value that is not a finite number, or a header that disagrees with the lines is an error naming
// the file and line. A word listed twice keeps its first vector (word2vec files repeat some).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace lmaas::text {

class WordVectors {
 public:
  static Result<WordVectors> read(const std::string& path);

  int64_t dim() const { return dim_; }
  size_t size() const { return words_.size(); }
  // The vector of `word`, or nothing when the file does not list it.
  std::optional<std::span<const float>> find(const std::string& word) const;

 private:
  int64_t dim_ = 0;
  std::vector<std::string> words_;
  std::vector<float> values_;  // size() × dim, in file order
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace lmaas::text

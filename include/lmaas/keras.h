// lmaas' small public C++ API for people who think in Keras: a Tokenizer, pad_sequences, and a
// Sequential model of Embedding / SimpleRNN / LSTM / GRU / Dropout / Dense layers that compiles with a
// loss and an optimizer, fits on padded id sequences and predicts. Semantics are Keras' (defaults
// included: Embedding without mask_zero, LSTM with unit_forget_bias, Adam at 1e-3, batch size 32),
// computed by lmaas' engine. The tokenizer is CJK-aware (text/word_tokenizer.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "text/pad.h"
#include "text/word_tokenizer.h"

namespace lmaas {

using Tokenizer = text::WordTokenizer;
using TokenizerOptions = text::WordTokenizerOptions;

struct PadSequencesOptions {
  std::optional<int64_t> maxlen;
  std::string padding = "pre", truncating = "pre";
  int32_t value = 0;
};
// Keras' pad_sequences; rows of the result are the padded sequences.
std::vector<std::vector<int32_t>> pad_sequences(const std::vector<std::vector<int32_t>>& sequences,
                                                const PadSequencesOptions& options = {});

namespace layers {
// A layer description; Sequential builds the weights when it knows the input width.
struct Layer {
  std::string kind;  // embedding | simple_rnn | lstm | gru | dropout | dense
  int64_t input_dim = 0, units = 0;
  bool mask_zero = false, return_sequences = false;
  double rate = 0.0;
  std::string activation;
};
Layer Embedding(int64_t input_dim, int64_t output_dim, bool mask_zero = false);
Layer SimpleRNN(int64_t units, bool return_sequences = false);
Layer LSTM(int64_t units, bool return_sequences = false);
Layer GRU(int64_t units, bool return_sequences = false);
Layer Dropout(double rate);
Layer Dense(int64_t units, const std::string& activation = "linear");
}  // namespace layers

struct CompileOptions {
  std::string loss = "binary_crossentropy";  // | categorical_crossentropy | sparse_categorical_crossentropy | mse
  std::string optimizer = "adam";            // | adamw | sgd
  double learning_rate = 0.0;                // 0: the optimizer's Keras default (adam 1e-3, sgd 1e-2)
  std::vector<std::string> metrics;          // "accuracy"
};

struct FitOptions {
  int64_t epochs = 1;
  int64_t batch_size = 32;
  bool shuffle = true;
  bool verbose = true;  // one line per epoch on stdout, as Keras' verbose=2
  uint64_t seed = 1;
};

struct History {
  std::vector<double> loss, accuracy;  // per epoch (accuracy when asked for in compile)
};

class Sequential {
 public:
  Sequential();
  ~Sequential();
  Sequential(Sequential&&) noexcept;
  void add(const layers::Layer& layer);
  void compile(const CompileOptions& options = {});
  // x: padded id rows; y: one target row per example (a single value for binary/sparse targets).
  History fit(const std::vector<std::vector<int32_t>>& x, const std::vector<std::vector<float>>& y,
              const FitOptions& options = {});
  History fit(const std::vector<std::vector<int32_t>>& x, const std::vector<float>& y, const FitOptions& options = {});
  // The last layer's outputs (after its activation), one row per input row.
  std::vector<std::vector<float>> predict(const std::vector<std::vector<int32_t>>& x, int64_t batch_size = 32);
  int64_t count_params() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmaas

// The Keras-style facade: it learns (a masked LSTM overfits a small set), follows Keras' shapes and
// padding, and refuses misuse with a message.
#include <gtest/gtest.h>

#include "lmaas/keras.h"

namespace lmaas {
namespace {

TEST(Sequential, MaskedLstmLearnsAndPredictsProbabilities) {
  const std::vector<std::string> texts = {"good great film", "bad awful film", "great fun", "awful mess",
                                          "good good", "bad bad plot", "fine great", "poor awful"};
  const std::vector<float> labels = {1, 0, 1, 0, 1, 0, 1, 0};
  Tokenizer tokenizer;
  tokenizer.fit_on_texts(texts);
  const auto data = pad_sequences(tokenizer.texts_to_sequences(texts), {.maxlen = 6, .padding = "post"});
  ASSERT_EQ(data.size(), 8u);
  ASSERT_EQ(data[0].size(), 6u);
  Sequential model;
  model.add(layers::Embedding(static_cast<int64_t>(tokenizer.words().size()) + 1, 8, /*mask_zero=*/true));
  model.add(layers::LSTM(16));
  model.add(layers::Dense(1, "sigmoid"));
  model.compile({.loss = "binary_crossentropy", .optimizer = "adam", .learning_rate = 0.01, .metrics = {"accuracy"}});
  const History h = model.fit(data, labels, {.epochs = 60, .batch_size = 4, .verbose = false});
  ASSERT_EQ(h.loss.size(), 60u);
  EXPECT_LT(h.loss.back(), 0.1 * h.loss.front());
  EXPECT_EQ(h.accuracy.back(), 1.0);
  const auto p = model.predict(data);
  for (size_t i = 0; i < p.size(); ++i) {
    ASSERT_EQ(p[i].size(), 1u);
    EXPECT_EQ(p[i][0] > 0.5f, labels[i] > 0.5f) << texts[i] << " " << p[i][0];
  }
  // Embedding(V, 8) + LSTM(16) + Dense(1): V·8 + 4·16·(8 + 16) + 2·4·16 + 16 + 1
  const int64_t v = static_cast<int64_t>(tokenizer.words().size()) + 1;
  EXPECT_EQ(model.count_params(), v * 8 + 4 * 16 * (8 + 16) + 2 * 4 * 16 + 16 + 1);
}

TEST(Sequential, SoftmaxClassesWithSparseTargets) {
  const std::vector<std::vector<int32_t>> x = {{1, 2, 0}, {3, 4, 0}, {5, 6, 0}, {1, 1, 2}, {3, 3, 4}, {5, 5, 6}};
  const std::vector<float> y = {0, 1, 2, 0, 1, 2};
  Sequential model;
  model.add(layers::Embedding(7, 6));
  model.add(layers::GRU(12));
  model.add(layers::Dense(3, "softmax"));
  model.compile({.loss = "sparse_categorical_crossentropy", .learning_rate = 0.02, .metrics = {"accuracy"}});
  const History h = model.fit(x, y, {.epochs = 80, .batch_size = 3, .verbose = false});
  EXPECT_EQ(h.accuracy.back(), 1.0);
  const auto p = model.predict(x);
  float sum = 0;
  for (float v : p[0]) sum += v;
  EXPECT_NEAR(sum, 1.0f, 1e-5);  // softmax probabilities
}

TEST(Sequential, MisuseIsAnError) {
  Sequential empty;
  EXPECT_THROW(empty.compile(), std::exception);  // no Dense at the end
  Sequential no_input;
  no_input.add(layers::Dense(1, "sigmoid"));
  EXPECT_THROW(no_input.compile(), std::exception);
  Sequential model;
  model.add(layers::Embedding(5, 4));
  model.add(layers::LSTM(3));
  model.add(layers::Dense(1, "sigmoid"));
  EXPECT_THROW(model.fit({{1, 2}}, std::vector<float>{1}), std::exception);  // before compile
  model.compile();
  EXPECT_THROW(model.fit({{1, 2}, {1}}, std::vector<float>{1, 0}), std::exception);  // ragged rows
  EXPECT_THROW(pad_sequences({{1}}, {.maxlen = std::nullopt, .padding = "middle"}), std::exception);
}

}  // namespace
}  // namespace lmaas

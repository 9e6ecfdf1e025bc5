// The seed document's Keras program, line for line, on lmaas' public C++ API (include/lmaas/keras.h):
//
//   tokenizer = Tokenizer(); tokenizer.fit_on_texts(texts)
//   sequences = tokenizer.texts_to_sequences(texts)
//   data = pad_sequences(sequences, maxlen=10, padding='post')
//   model = Sequential()
//   model.add(Embedding(len(tokenizer.word_index) + 1, 10))
//   model.add(LSTM(100))
//   model.add(Dense(1, activation='sigmoid'))
//   model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
//   model.fit(data, labels, epochs=10)
//   predictions = model.predict(data)
//
// One difference: the tokenizer is CJK-aware, so "我爱你" is three tokens (Keras sees one word).
#include <cstdio>

#include "lmaas/keras.h"

int main() {
  const std::vector<std::string> texts = {"我爱你", "你好", "你好呀"};
  const std::vector<float> labels = {1, 0, 1};

  lmaas::Tokenizer tokenizer;
  tokenizer.fit_on_texts(texts);
  const auto sequences = tokenizer.texts_to_sequences(texts);
  const auto data = lmaas::pad_sequences(sequences, {.maxlen = 10, .padding = "post"});

  lmaas::Sequential model;
  model.add(lmaas::layers::Embedding(static_cast<int64_t>(tokenizer.words().size()) + 1, 10));
  model.add(lmaas::layers::LSTM(100));
  model.add(lmaas::layers::Dense(1, "sigmoid"));
  model.compile({.loss = "binary_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  model.fit(data, labels, {.epochs = 10});
  const auto predictions = model.predict(data);

  for (size_t i = 0; i < texts.size(); ++i)
    std::printf("%s -> %.4f (label %.0f)\n", texts[i].c_str(), predictions[i][0], labels[i]);
  return 0;
}

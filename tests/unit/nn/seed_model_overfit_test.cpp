// The seed system's model — Embedding(V, 10) → LSTM(100) → Dense(1, sigmoid), binary cross-entropy,
// Adam — must drive the loss on one toy batch (random labels, so only memorisation helps) close to 0.
#include <gtest/gtest.h>

#include "autograd/tape.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/recurrent.h"
#include "ops/ops.h"
#include "optim/optimizer.h"

namespace lmaas::nn {
namespace {

TEST(SeedModel, OverfitsAToyBatch) {
  Rng rng(2024);
  const int64_t vocab = 40, batch = 8, steps = 12;
  Embedding embedding(vocab, 10, rng, 0);
  RecurrentOptions o;
  o.input_size = 10, o.hidden_size = 100;
  LSTM lstm(o, rng);
  Linear dense(100, 1, rng);  // Dense(1, sigmoid): the sigmoid is folded into the loss below
  Tensor ids = Tensor::zeros({batch, steps}, DType::kI32);
  Tensor labels = Tensor::empty({batch, 1});
  for (int64_t b = 0; b < batch; ++b) {
    int64_t len = 4 + b;  // right-padded, lengths 4…11
    for (int64_t t = 0; t < len; ++t) ids.data<int32_t>()[b * steps + t] = 1 + static_cast<int32_t>(rng.below(vocab - 1));
    labels.data<float>()[b] = static_cast<float>(rng.below(2));
  }
  std::vector<Tensor> params = embedding.parameters();
  for (auto* m : std::initializer_list<const Module*>{&lstm, &dense})
    for (auto& p : m->parameters()) params.push_back(p);
  optim::Adam adam(params, {.lr = 1e-2});
  double first_loss = 0, loss_value = 0;
  for (int step = 0; step < 150; ++step) {
    adam.zero_grad();
    auto state = lstm.forward(embedding.forward(ids), embedding.padding_mask(ids));
    // sigmoid + binary cross-entropy, in the numerically stable fused form.
    Tensor logits = dense.forward(ops::select(state.h_n, 0, 0));
    Tensor loss = ops::binary_cross_entropy_with_logits(logits, labels);
    autograd::backward(loss);
    adam.step();
    loss_value = loss.item();
    if (step == 0) first_loss = loss_value;
  }
  EXPECT_GT(first_loss, 0.5);
  EXPECT_LT(loss_value, 0.02) << "loss went from " << first_loss << " to " << loss_value;
}

}  // namespace
}  // namespace lmaas::nn

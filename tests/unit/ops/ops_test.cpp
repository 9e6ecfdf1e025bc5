// Hand-computed cases: values worked out on paper, independent of any kernel.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/tape.h"
#include "base/rng.h"
#include "base/thread_pool.h"
#include "ops/ops.h"

namespace lmaas::ops {
namespace {

Tensor vec(std::vector<float> v, Shape s) { return Tensor::from_vector(v, s); }

void expect_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-6) {
  auto v = t.to_vector<double>();
  ASSERT_EQ(v.size(), expected.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], tol) << "element " << i;
}

TEST(OpsHand, LinearForwardBackward) {
  Tensor x = vec({1, 2, 3, 4}, {2, 2}).set_requires_grad(true);
  Tensor w = vec({1, 0, -1, 2, 0.5f, 0.5f}, {3, 2}).set_requires_grad(true);
  Tensor b = vec({0.1f, 0.2f, 0.3f}, {3}).set_requires_grad(true);
  Tensor y = linear(x, w, b);  // rows: [1, 3, 1.5]+b, [3, 5, 3.5]+b
  expect_values(y, {1.1, 3.2, 1.8, 3.1, 5.2, 3.8}, 1e-6);
  autograd::backward(sum_all(y));
  expect_values(x.grad(), {0.5, 2.5, 0.5, 2.5});  // Σ_rows of w
  expect_values(w.grad(), {4, 6, 4, 6, 4, 6});
  expect_values(b.grad(), {2, 2, 2});
}

TEST(OpsHand, SoftmaxAndCrossEntropy) {
  Tensor logits = vec({0, std::log(3.0f), 0, 0}, {2, 2}).set_requires_grad(true);
  expect_values(softmax(logits), {0.25, 0.75, 0.5, 0.5});
  Tensor targets = Tensor::from_vector<int32_t>({1, 0}, {2});
  Tensor loss = cross_entropy(logits, targets);
  EXPECT_NEAR(loss.item(), (-std::log(0.75) - std::log(0.5)) / 2, 1e-6);
  autograd::backward(loss);
  expect_values(logits.grad(), {0.125, -0.125, -0.25, 0.25});
}

TEST(OpsHand, LabelSmoothingAndIgnoreIndex) {
  Tensor logits = vec({0, 0, 5, 5}, {2, 2});
  Tensor targets = Tensor::from_vector<int32_t>({0, -100}, {2});
  // One kept row with uniform p = 0.5: q = (0.95, 0.05) → loss = -(0.95 + 0.05)·log 0.5
  EXPECT_NEAR(cross_entropy(logits, targets, -100, 0.1).item(), std::log(2.0), 1e-6);
}

TEST(OpsHand, BinaryCrossEntropyWithLogits) {
  Tensor x = vec({0, 2}, {2});
  Tensor y = vec({1, 0}, {2});
  double expected = (std::log(2.0) + (2 + std::log1p(std::exp(-2.0)))) / 2;
  EXPECT_NEAR(binary_cross_entropy_with_logits(x, y).item(), expected, 1e-6);
}

TEST(OpsHand, LayerNormNormalises) {
  Tensor x = vec({1, 2, 3, 4}, {1, 4});
  // mean 2.5, var 1.25
  double r = 1.0 / std::sqrt(1.25 + 1e-5);
  expect_values(layer_norm(x, Tensor(), Tensor(), 1e-5), {-1.5 * r, -0.5 * r, 0.5 * r, 1.5 * r}, 1e-5);
}

TEST(OpsHand, EmbeddingPaddingRowGetsNoGradient) {
  Tensor w = vec({1, 2, 3, 4, 5, 6}, {3, 2}).set_requires_grad(true);
  Tensor ids = Tensor::from_vector<int32_t>({2, 0, 2}, {3});
  Tensor e = embedding(ids, w, 0);
  expect_values(e, {5, 6, 1, 2, 5, 6});
  autograd::backward(sum_all(e));
  expect_values(w.grad(), {0, 0, 0, 0, 2, 2});
  EXPECT_THROW(embedding(Tensor::from_vector<int32_t>({3}, {1}), w), Error);
}

TEST(OpsHand, AttentionCausalFirstRowSeesOnlyItself) {
  // One head, D = 1: row 0 may only attend to key 0, so its output is v[0].
  Tensor q = vec({1, 1, 1}, {1, 3, 1}), k = vec({0, 1, 2}, {1, 3, 1}), v = vec({10, 20, 30}, {1, 3, 1});
  Tensor out = scaled_dot_product_attention(q, k, v, 1, Tensor(), true);
  double e1 = std::exp(1.0), e2 = std::exp(2.0);
  expect_values(out, {10, (10 + 20 * e1) / (1 + e1), (10 + 20 * e1 + 30 * e2) / (1 + e1 + e2)}, 1e-4);
}

TEST(OpsHand, ShapeErrorsNameTheShapes) {
  try {
    linear(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}), Tensor());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
}

TEST(OpsHand, NoGradRecordsNothing) {
  Tensor w = vec({1, 2}, {2}).set_requires_grad(true);
  autograd::clear_tape();
  {
    autograd::NoGradGuard no_grad;
    Tensor y = mul(w, w);
    EXPECT_FALSE(y.requires_grad());
  }
  EXPECT_EQ(autograd::tape_size(), 0u);
  Tensor y = mul(w, w);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(autograd::tape_size(), 1u);
  autograd::clear_tape();
}

TEST(OpsHand, LstmPaddingDoesNotChangeResult) {
  // A sequence of length 2 alone must give the same final state as the same sequence padded to length 4.
  Rng rng(5);
  auto rnd = [&](Shape s) {
    Tensor t = Tensor::empty(s);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.uniform(-1, 1));
    return t;
  };
  Tensor w_ih = rnd({8, 3}), w_hh = rnd({8, 2}), b_ih = rnd({8}), b_hh = rnd({8});
  Tensor x_short = rnd({1, 2, 3});
  Tensor x_long = Tensor::zeros({1, 4, 3});
  x_long.slice(1, 0, 2).copy_from(x_short);
  x_long.slice(1, 2, 4).fill(7.0);  // garbage in the padding
  Tensor mask = Tensor::from_vector<uint8_t>({1, 1, 0, 0}, {1, 4});
  for (bool reverse : {false, true}) {
    auto a = lstm(x_short, Tensor(), Tensor(), Tensor(), w_ih, w_hh, b_ih, b_hh, reverse);
    auto b = lstm(x_long, mask, Tensor(), Tensor(), w_ih, w_hh, b_ih, b_hh, reverse);
    expect_values(b.h_n, a.h_n.to_vector<double>(), 1e-6);
    expect_values(b.c_n, a.c_n.to_vector<double>(), 1e-6);
    expect_values(b.output.slice(1, 0, 2), a.output.to_vector<double>(), 1e-6);
    expect_values(b.output.slice(1, 2, 4), {0, 0, 0, 0}, 0);
  }
}

TEST(OpsHand, DropoutKeepsTheRightShareScaledAndIndependentOfThreads) {
  constexpr int64_t n = 200000;
  constexpr double p = 0.3;
  Tensor x = Tensor::full({n}, 2.0);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Rng rng(42);
    return dropout(x, p, true, rng).to_vector<float>();
  };
  const auto one = run(1), two = run(2);
  EXPECT_EQ(one, two);
  int64_t kept = 0, both_kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(one[i] == 0.0f || std::abs(one[i] - 2.0 / (1.0 - p)) < 1e-5) << i << ": " << one[i];
    kept += one[i] != 0.0f;
    if (i > 0) both_kept += one[i] != 0.0f && one[i - 1] != 0.0f;
  }
  // Binomial: σ of the kept share is sqrt(p(1-p)/n) ≈ 0.001; allow 5σ. Neighbours are independent.
  EXPECT_NEAR(static_cast<double>(kept) / n, 1.0 - p, 0.005);
  EXPECT_NEAR(static_cast<double>(both_kept) / (n - 1), (1.0 - p) * (1.0 - p), 0.006);
  // A second draw from the same generator gives a different mask.
  Rng rng(42);
  auto first = dropout(x, p, true, rng).to_vector<float>(), second = dropout(x, p, true, rng).to_vector<float>();
  EXPECT_NE(first, second);
  EXPECT_EQ(dropout(x, p, false, rng).data<float>(), x.data<float>());  // eval: the input itself
}

}  // namespace
}  // namespace lmaas::ops

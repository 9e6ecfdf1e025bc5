// Row-sparse embedding (and embedding-bag) gradients: the same numbers as the dense gradient, and optimizers that use them
// — exactly like dense for plain SGD, and PyTorch SparseAdam's lazy rule for Adam.
#include <gtest/gtest.h>

#include "autograd/tape.h"
#include "base/rng.h"
#include "ops/ops.h"
#include "optim/optimizer.h"

namespace lmaas::optim {
namespace {

Tensor random_weight(uint64_t seed, int64_t rows, int64_t cols) {
  Rng rng(seed);
  Tensor t = Tensor::empty({rows, cols});
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.uniform(-1, 1));
  return t.set_requires_grad(true);
}

// Σ (embedding(ids) ⊙ w) for fixed weights w, so each looked-up row gets a distinct gradient.
Tensor loss_of(const Tensor& weight, const Tensor& ids, bool sparse) {
  Tensor e = ops::embedding(ids, weight, 0, sparse);
  Tensor w = Tensor::empty(e.shape());
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = 0.01f * static_cast<float>(i % 7) - 0.025f;  // never 0
  return ops::sum_all(ops::mul(e, w));
}

Tensor dense_from(const AutogradMeta& m, const Shape& shape) {
  Tensor d = Tensor::zeros(shape);
  const int64_t width = shape[1];
  for (int64_t i = 0; i < m.sparse_rows.numel(); ++i)
    for (int64_t j = 0; j < width; ++j)
      d.data<float>()[m.sparse_rows.data<int64_t>()[i] * width + j] += m.sparse_values.data<float>()[i * width + j];
  return d;
}

TEST(SparseGrad, EmbeddingRowsSumRepeatsSkipPaddingAndMatchDense) {
  const Tensor ids = Tensor::from_vector<int32_t>({3, 1, 3, 0, 5, 3}, {2, 3});
  Tensor dense_w = random_weight(1, 8, 4), sparse_w = dense_w.clone().set_requires_grad(true);
  autograd::backward(loss_of(dense_w, ids, false));
  autograd::backward(loss_of(sparse_w, ids, true));
  const AutogradMeta& m = *sparse_w.autograd_meta();
  EXPECT_FALSE(m.grad.defined());
  EXPECT_EQ(m.sparse_rows.to_vector<int64_t>(), (std::vector<int64_t>{3, 1, 5}));  // distinct, no padding row 0
  EXPECT_EQ(dense_from(m, {8, 4}).to_vector<float>(), dense_w.grad().to_vector<float>());
  // A second sparse backward merges; a dense one makes the gradient dense.
  autograd::backward(loss_of(sparse_w, Tensor::from_vector<int32_t>({1, 7}, {1, 2}), true));
  EXPECT_EQ(m.sparse_rows.to_vector<int64_t>(), (std::vector<int64_t>{3, 1, 5, 7}));
  autograd::backward(ops::sum_all(ops::mul(sparse_w, sparse_w)));
  EXPECT_TRUE(m.grad.defined());
  EXPECT_FALSE(m.sparse_rows.defined());
}

TEST(SparseGrad, PlainSgdIsExactlyDenseSgd) {
  Tensor dense_w = random_weight(2, 10, 3), sparse_w = dense_w.clone().set_requires_grad(true);
  SgdOptions o;
  o.lr = 0.3;
  SGD dense({dense_w}, o), sparse({sparse_w}, o);
  for (int step = 0; step < 5; ++step) {
    const Tensor ids = Tensor::from_vector<int32_t>({1 + step, 2, 9 - step, 2}, {2, 2});
    dense.zero_grad(), sparse.zero_grad();
    autograd::backward(loss_of(dense_w, ids, false));
    autograd::backward(loss_of(sparse_w, ids, true));
    dense.step(), sparse.step();
  }
  EXPECT_EQ(dense_w.to_vector<float>(), sparse_w.to_vector<float>());
}

TEST(SparseGrad, AdamIsLazyLikeSparseAdamAndClippingSeesTheValues) {
  const int64_t width = 19;  // two eight-lane blocks and a tail of the in-place row update
  Tensor dense_w = random_weight(3, 6, width), sparse_w = dense_w.clone().set_requires_grad(true);
  const std::vector<float> initial = sparse_w.to_vector<float>();
  AdamOptions o;
  o.lr = 0.1;
  Adam dense({dense_w}, o), sparse({sparse_w}, o);
  for (int step = 0; step < 4; ++step) {
    // Row 2 every step; row 4 only in the first step.
    const Tensor ids = step == 0 ? Tensor::from_vector<int32_t>({2, 4}, {1, 2}) : Tensor::from_vector<int32_t>({2}, {1, 1});
    dense.zero_grad(), sparse.zero_grad();
    autograd::backward(loss_of(dense_w, ids, false));
    autograd::backward(loss_of(sparse_w, ids, true));
    if (step == 0) {
      EXPECT_NEAR(clip_grad_norm(sparse.params(), 1e9), clip_grad_norm(dense.params(), 1e9), 1e-7);
    }
    dense.step(), sparse.step();
  }
  const auto d = dense_w.to_vector<float>(), s = sparse_w.to_vector<float>();
  for (int64_t j = 0; j < width; ++j) {
    EXPECT_FLOAT_EQ(s[2 * width + j], d[2 * width + j]);         // touched every step: as dense
    EXPECT_NE(s[4 * width + j], d[4 * width + j]);               // dense keeps moving row 4 on its momentum …
    EXPECT_FLOAT_EQ(s[5 * width + j], initial[5 * width + j]);  // … lazy leaves untouched rows alone
  }
}

// embedding_bag_mean against sums written out here: row b's output is the mean of its non-padding rows,
// and each of those rows receives dout[b] / count — summed over repeats, in the sparse and dense forms.
TEST(SparseGrad, EmbeddingBagMeanIsTheMaskedMeanAndItsRowGradientsMatchDense) {
  const Tensor ids = Tensor::from_vector<int32_t>({3, 1, 3, 0, /**/ 0, 0, 0, 0, /**/ 5, 0, 2, 0}, {3, 4});
  Tensor dense_w = random_weight(4, 7, 3), sparse_w = dense_w.clone().set_requires_grad(true);
  const std::vector<float> w = dense_w.to_vector<float>();
  const Tensor out = ops::embedding_bag_mean(ids, dense_w, 0, false);
  ASSERT_EQ(out.shape(), (Shape{3, 3}));
  for (int64_t d = 0; d < 3; ++d) {
    EXPECT_FLOAT_EQ(out.data<float>()[d], (w[3 * 3 + d] + w[1 * 3 + d] + w[3 * 3 + d]) / 3.0f);
    EXPECT_EQ(out.data<float>()[3 + d], 0.0f);  // padding only
    EXPECT_FLOAT_EQ(out.data<float>()[6 + d], (w[5 * 3 + d] + w[2 * 3 + d]) / 2.0f);
  }
  // loss = Σ out ⊙ c with c[b, d] = b + 1 + d/10: row 3 gets 2·c[0]/3, row 1 c[0]/3, rows 5 and 2 c[2]/2.
  auto loss = [](const Tensor& o) {
    Tensor c = Tensor::empty({3, 3});
    for (int64_t i = 0; i < 9; ++i) c.data<float>()[i] = static_cast<float>(i / 3 + 1) + 0.1f * static_cast<float>(i % 3);
    return ops::sum_all(ops::mul(o, c));
  };
  autograd::backward(loss(out));
  autograd::backward(loss(ops::embedding_bag_mean(ids, sparse_w, 0, true)));
  const AutogradMeta& m = *sparse_w.autograd_meta();
  EXPECT_EQ(m.sparse_rows.to_vector<int64_t>(), (std::vector<int64_t>{3, 1, 5, 2}));
  const std::vector<float> g = dense_w.grad().to_vector<float>();
  for (int64_t d = 0; d < 3; ++d) {
    const float c0 = 1.0f + 0.1f * static_cast<float>(d), c2 = 3.0f + 0.1f * static_cast<float>(d);
    EXPECT_FLOAT_EQ(g[3 * 3 + d], 2.0f * c0 / 3.0f);
    EXPECT_FLOAT_EQ(g[1 * 3 + d], c0 / 3.0f);
    EXPECT_FLOAT_EQ(g[5 * 3 + d], c2 / 2.0f);
    EXPECT_FLOAT_EQ(g[2 * 3 + d], c2 / 2.0f);
    EXPECT_EQ(g[0 * 3 + d], 0.0f);  // padding never learns
  }
  const std::vector<float> from_sparse = dense_from(m, {7, 3}).to_vector<float>();
  for (size_t i = 0; i < g.size(); ++i) EXPECT_FLOAT_EQ(from_sparse[i], g[i]) << i;
}

}  // namespace
}  // namespace lmaas::optim

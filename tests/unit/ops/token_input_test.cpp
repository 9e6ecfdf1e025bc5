// The token-table form of the recurrent ops (ops::TokenInput) against the dense form they shortcut:
// lstm/gru/simple_rnn(embedding(ids)) must equal the same op fed by ids and table = E·W_ihᵀ + b_ih, over
// right-, left- and mixed-padded batches, both directions, with and without initial states.
#include <gtest/gtest.h>

#include "autograd/tape.h"
#include "base/rng.h"
#include "ops/dispatch.h"
#include "ops/ops.h"

namespace lmaas::ops {
namespace {

constexpr int64_t kVocab = 11, kInput = 5, kHidden = 6, kBatch = 4, kSteps = 7;

Tensor random_tensor(Rng& rng, Shape shape) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.uniform(-1, 1));
  return t;
}

// ids with 0 as padding, laid out per `side`: 'r' right-padded, 'l' left-padded, 'm' holes in the middle.
struct Batch {
  Tensor ids, mask;
};
Batch make_batch(Rng& rng, char side) {
  const int64_t lengths[kBatch] = {7, 3, 5, 1};
  Batch b{Tensor::zeros({kBatch, kSteps}, DType::kI32), Tensor::zeros({kBatch, kSteps}, DType::kU8)};
  for (int64_t r = 0; r < kBatch; ++r)
    for (int64_t t = 0; t < kSteps; ++t) {
      const bool token = side == 'r' ? t < lengths[r] : side == 'l' ? t >= kSteps - lengths[r] : (t + r) % 3 != 1;
      if (!token) continue;
      b.ids.data<int32_t>()[r * kSteps + t] = 1 + static_cast<int32_t>(rng.below(kVocab - 1));
      b.mask.data<uint8_t>()[r * kSteps + t] = 1;
    }
  return b;
}

void expect_same(const Tensor& dense, const Tensor& tokens, const char* what) {
  ASSERT_EQ(dense.defined(), tokens.defined()) << what;
  if (!dense.defined()) return;
  auto a = dense.to_vector<double>(), b = tokens.to_vector<double>();
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << what << " element " << i;
}

void expect_same(const RecurrentOutput& dense, const RecurrentOutput& tokens) {
  expect_same(dense.output, tokens.output, "output");
  expect_same(dense.h_n, tokens.h_n, "h_n");
  expect_same(dense.c_n, tokens.c_n, "c_n");
}

class TokenInputTest : public ::testing::TestWithParam<std::tuple<int, char, bool, bool>> {};

TEST_P(TokenInputTest, MatchesDenseForm) {
  const auto [gates, side, reverse, with_state] = GetParam();
  Rng rng(static_cast<uint64_t>(gates * 100 + side + reverse * 7 + with_state * 3));
  Tensor table_source = random_tensor(rng, {kVocab, kInput});  // the embedding weight
  Tensor w_ih = random_tensor(rng, {gates * kHidden, kInput}), w_hh = random_tensor(rng, {gates * kHidden, kHidden});
  Tensor b_ih = random_tensor(rng, {gates * kHidden}), b_hh = random_tensor(rng, {gates * kHidden});
  Tensor h0 = with_state ? random_tensor(rng, {kBatch, kHidden}) : Tensor();
  Tensor c0 = with_state && gates == 4 ? random_tensor(rng, {kBatch, kHidden}) : Tensor();
  Batch batch = make_batch(rng, side);
  Tensor x = embedding(batch.ids, table_source);
  const TokenInput in{batch.ids, add(matmul(table_source, transpose(w_ih, 0, 1)), b_ih)};
  for (Backend backend : {Backend::kRef, Backend::kCpu})  // the fused table lookup lives in both
  for (bool want_output : {true, false}) {
    BackendGuard guard(backend);
    if (gates == 4) {
      expect_same(lstm(x, batch.mask, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, want_output),
                  lstm(in, batch.mask, h0, c0, w_hh, b_hh, reverse, want_output));
    } else if (gates == 3) {
      expect_same(gru(x, batch.mask, h0, w_ih, w_hh, b_ih, b_hh, reverse, want_output),
                  gru(in, batch.mask, h0, w_hh, b_hh, reverse, want_output));
    } else {
      for (auto act : {RnnActivation::kTanh, RnnActivation::kRelu})
        expect_same(simple_rnn(x, batch.mask, h0, w_ih, w_hh, b_ih, b_hh, act, reverse, want_output),
                    simple_rnn(in, batch.mask, h0, w_hh, b_hh, act, reverse, want_output));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllCells, TokenInputTest,
                         ::testing::Combine(::testing::Values(4, 3, 1), ::testing::Values('r', 'l', 'm'),
                                            ::testing::Bool(), ::testing::Bool()));

TEST(TokenInput, RejectsIdsOutsideTheTable) {
  Tensor table = Tensor::zeros({3, 8}), w_hh = Tensor::zeros({8, 2});
  Tensor ids = Tensor::from_vector<int32_t>({0, 1, 3}, {1, 3});
  try {
    lstm(TokenInput{ids, table}, Tensor(), Tensor(), Tensor(), w_hh, Tensor(), false);
    FAIL() << "an id outside the table was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("ids[0, 2] = 3"), std::string::npos) << e.what();
  }
}

TEST(TokenInput, RefusesToDropGradients) {
  Tensor table = Tensor::zeros({3, 6}), w_hh = Tensor::zeros({6, 2}).set_requires_grad(true);
  Tensor ids = Tensor::from_vector<int32_t>({0, 1, 2}, {1, 3});
  EXPECT_THROW(gru(TokenInput{ids, table}, Tensor(), Tensor(), w_hh, Tensor(), false), std::exception);
  autograd::NoGradGuard no_grad;
  EXPECT_NO_THROW(gru(TokenInput{ids, table}, Tensor(), Tensor(), w_hh, Tensor(), false));
}

}  // namespace
}  // namespace lmaas::ops

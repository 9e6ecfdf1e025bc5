// ops: the differentiable operations of the engine. This is the only level that checks shapes; each op
// allocates its output, dispatches to a kernel (ops/dispatch.h) and, when an input requires grad,
// records its hand-written backward on the autograd tape. Inputs may be non-contiguous views.
// Floating ops accept F32 (fast kernels) and F64 (reference kernels, for gradient checks).
// Every op here is also listed in the op registry (ops/registry.h) that the test harnesses walk.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/rng.h"
#include "kernels/unary.h"
#include "tensor/tensor.h"

namespace lmaas::ops {

// ---- elementwise (NumPy broadcasting) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& x, double value);
Tensor mul_scalar(const Tensor& x, double value);
Tensor unary(kernels::Unary op, const Tensor& x);
inline Tensor sigmoid(const Tensor& x) { return unary(kernels::Unary::kSigmoid, x); }
inline Tensor tanh(const Tensor& x) { return unary(kernels::Unary::kTanh, x); }
inline Tensor relu(const Tensor& x) { return unary(kernels::Unary::kRelu, x); }
inline Tensor gelu(const Tensor& x) { return unary(kernels::Unary::kGelu, x); }
inline Tensor gelu_tanh(const Tensor& x) { return unary(kernels::Unary::kGeluTanh, x); }
inline Tensor exp(const Tensor& x) { return unary(kernels::Unary::kExp, x); }
inline Tensor log(const Tensor& x) { return unary(kernels::Unary::kLog, x); }
// Sums a gradient of a broadcast result back to `shape` (the input's shape before broadcasting).
Tensor sum_to(const Tensor& g, const Shape& shape);

// ---- linear algebra ----
// a[..., m, k] · b[k, n] or batched a[B, m, k] · b[B, k, n].
Tensor matmul(const Tensor& a, const Tensor& b);
// x[..., in] · weightᵀ + bias: weight[out, in], bias[out] or undefined (PyTorch nn.Linear layout).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

// ---- reductions ----
Tensor sum(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);  // gradient to the first maximum
Tensor sum_all(const Tensor& x);   // scalar, shape []
Tensor mean_all(const Tensor& x);  // scalar, shape []

// ---- shape (autograd-aware views and copies) ----
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor contiguous(const Tensor& x);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);

// Row gather/scatter for packed token layouts: x[N, D] and indices I32 [M] in [0, N).
// gather_rows: out[i] = x[indices[i]] → [M, D]. scatter_rows: out[n_rows, D] zero except
// out[indices[i]] = x[i] (indices must be distinct). Each is the other's backward.
Tensor gather_rows(const Tensor& x, const Tensor& indices);
Tensor scatter_rows(const Tensor& x, const Tensor& indices, int64_t n_rows);

// ---- neural-network primitives ----
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);
// Normalises over the last axis; gamma/beta [last] or undefined.
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps = 1e-5);
// ids: I32 of any shape, values in [0, vocab); padding_idx (or -1) rows get no gradient. With
// sparse_grad the weight's gradient is row-sparse (only the rows looked up; autograd::accumulate_sparse_grad),
// as PyTorch's Embedding(sparse=True): a large vocabulary costs nothing per step.
Tensor embedding(const Tensor& ids, const Tensor& weight, int64_t padding_idx = -1, bool sparse_grad = false);
// ids [B, T] → [B, D]: the mean of the embeddings of each row's ids that are not padding_idx (zero for a row
// of padding only) = masked-mean pooling of embedding(), fused so that the [B, T, D] lookups never exist
// (PyTorch's EmbeddingBag, mode "mean"). Same gradient options as embedding().
Tensor embedding_bag_mean(const Tensor& ids, const Tensor& weight, int64_t padding_idx = -1, bool sparse_grad = false);
// Inverted dropout: zeroes with probability p and scales survivors by 1/(1-p); identity when !training.
Tensor dropout(const Tensor& x, double p, bool training, Rng& rng);

// ---- recurrent sequences (one direction, one layer; nn/ composes layers and directions) ----
// x[B, T, I]; mask[B, T] U8 (1 = real token) or undefined; h0/c0 [B, H] or undefined (zeros).
// Weights in PyTorch layout: w_ih[G·H, I], w_hh[G·H, H], b_ih/b_hh[G·H] (G = 4 LSTM, 3 GRU, 1 RNN).
// Padded steps carry the state through unchanged and output zeros (PyTorch packed-sequence semantics).
// `reverse` processes t = T-1 … 0. With want_output = false only the final states are produced (Keras'
// return_sequences=False), which saves building the [B, T, H] sequence.
struct RecurrentOutput {
  Tensor output;  // [B, T, H], undefined when not wanted
  Tensor h_n;     // [B, H]
  Tensor c_n;     // [B, H] (LSTM only)
};
enum class RnnActivation { kTanh, kRelu };
RecurrentOutput lstm(const Tensor& x, const Tensor& mask, const Tensor& h0, const Tensor& c0, const Tensor& w_ih,
                     const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, bool reverse, bool want_output = true);
RecurrentOutput gru(const Tensor& x, const Tensor& mask, const Tensor& h0, const Tensor& w_ih, const Tensor& w_hh,
                    const Tensor& b_ih, const Tensor& b_hh, bool reverse, bool want_output = true);
RecurrentOutput simple_rnn(const Tensor& x, const Tensor& mask, const Tensor& h0, const Tensor& w_ih,
                           const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, RnnActivation activation,
                           bool reverse, bool want_output = true);

// Inference from token ids: when the input is an embedding lookup, x·W_ihᵀ + b_ih of token v is the same
// at every position, so the caller precomputes `table` [V, G·H] = Embedding·W_ihᵀ + b_ih once and the op
// looks rows up instead of running the input GEMM (half an LSTM's arithmetic). ids [B, T] I32 in [0, V).
// b_hh is applied as in the dense form. No gradient is recorded: nothing passed may require grad while
// grad mode is on.
struct TokenInput {
  Tensor ids;    // [B, T] I32
  Tensor table;  // [V, G·H]
};
RecurrentOutput lstm(const TokenInput& in, const Tensor& mask, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                     const Tensor& b_hh, bool reverse, bool want_output = true);
RecurrentOutput gru(const TokenInput& in, const Tensor& mask, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                    bool reverse, bool want_output = true);
RecurrentOutput simple_rnn(const TokenInput& in, const Tensor& mask, const Tensor& h0, const Tensor& w_hh,
                           const Tensor& b_hh, RnnActivation activation, bool reverse, bool want_output = true);

// ---- attention ----
// q[B, Tq, H·D], k/v[B, Tk, H·D] (heads interleaved as a projection writes them); key_padding_mask
// [B, Tk] U8 (1 = ignore that key, PyTorch's convention) or undefined; causal hides keys j > i.
// Returns [B, Tq, H·D]. Scale 1/sqrt(D).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t n_heads,
                                    const Tensor& key_padding_mask, bool causal);

// ---- losses (mean reduction, scalar output) ----
// logits[N, C], targets[N] I32.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100,
                     double label_smoothing = 0.0);
// logits and targets of the same shape; targets in [0, 1].
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets);
Tensor mse_loss(const Tensor& prediction, const Tensor& target);

}  // namespace lmaas::ops

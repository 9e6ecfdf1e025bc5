// SimpleRNN, LSTM and GRU layers: multi-layer, optionally bidirectional, batch-first, with padding masks.
// Semantics are PyTorch's (gate layouts, parameter names weight_ih_l{k}[_reverse] …, GRU with
// reset-after — Keras' GRU(reset_after=True) default). With a mask [B, T] (1 = token), padded steps
// never change the state and produce zero outputs (PyTorch packed sequences); Keras instead repeats the
// last output at masked steps — use pooling "last" to read the final state either way.
// Keras' return_sequences=False is `pool(output, mask, kLast)` or h_n of the last layer.
// Init (Keras defaults): glorot_uniform input kernels, orthogonal recurrent kernels, zero biases;
// unit_forget_bias sets the LSTM forget-gate bias to 1 (split as 1 in bias_ih, 0 in bias_hh).
#pragma once

#include "base/rng.h"
#include "nn/dropout.h"
#include "nn/module.h"
#include "ops/ops.h"

namespace lmaas::nn {

enum class CellKind { kRnnTanh, kRnnRelu, kLstm, kGru };

struct RecurrentOptions {
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 1;
  bool bidirectional = false;
  bool bias = true;
  bool unit_forget_bias = false;  // LSTM only
  double dropout = 0.0;           // between layers, training only (PyTorch semantics)
  bool return_sequences = true;   // false: only h_n/c_n (the last layer's output sequence is not built)
  uint64_t dropout_seed = 0x0d0d;
};

struct RecurrentState {
  Tensor output;  // [B, T, D·H], D = 2 when bidirectional; undefined unless return_sequences
  Tensor h_n;     // [L·D, B, H], ordered layer-major, forward before reverse (PyTorch)
  Tensor c_n;     // [L·D, B, H] (LSTM only)
};

class Recurrent : public Module {
 public:
  Recurrent(CellKind kind, const RecurrentOptions& options, Rng& rng);
  // x[B, T, input]; mask[B, T] U8 or undefined; h0/c0 [L·D, B, H] or undefined (zeros).
  RecurrentState forward(const Tensor& x, const Tensor& mask = Tensor(), const Tensor& h0 = Tensor(),
                         const Tensor& c0 = Tensor());

  // Inference when the input is an embedding lookup (see ops::TokenInput): token_tables() precomputes,
  // per direction of layer 0, embedding_weight[V, input]·W_ihᵀ + b_ih → [V, G·H] from the current
  // weights; forward_tokens() is forward(embedding(ids)) with layer 0 reading those rows instead of
  // multiplying. Tables go stale when the weights change. forward_tokens records no gradient.
  std::vector<Tensor> token_tables(const Tensor& embedding_weight) const;
  RecurrentState forward_tokens(const Tensor& ids, const std::vector<Tensor>& tables, const Tensor& mask = Tensor(),
                                const Tensor& h0 = Tensor(), const Tensor& c0 = Tensor());
  const RecurrentOptions& options() const { return options_; }
  int64_t output_size() const { return options_.hidden_size * (options_.bidirectional ? 2 : 1); }
  int64_t n_gates() const;  // 4 LSTM, 3 GRU, 1 simple RNN
  int64_t n_directions() const { return options_.bidirectional ? 2 : 1; }

 private:
  struct DirectionWeights {
    Tensor w_ih, w_hh, b_ih, b_hh;
  };
  // Layer 0 reads `tokens` when given (x is then unused), else x.
  ops::RecurrentOutput run_direction(const DirectionWeights& w, const Tensor& x, const ops::TokenInput* tokens,
                                     const Tensor& mask, const Tensor& h0, const Tensor& c0, bool reverse,
                                     bool want_output) const;
  RecurrentState run_layers(const Tensor& x, const Tensor& ids, const std::vector<Tensor>* tables, int64_t batch,
                            const Tensor& mask, const Tensor& h0, const Tensor& c0);

  CellKind kind_;
  RecurrentOptions options_;
  std::vector<DirectionWeights> weights_;  // index layer·D + direction
  std::shared_ptr<Dropout> dropout_;
};

class SimpleRNN : public Recurrent {
 public:
  SimpleRNN(const RecurrentOptions& o, Rng& rng, bool relu = false)
      : Recurrent(relu ? CellKind::kRnnRelu : CellKind::kRnnTanh, o, rng) {}
};
class LSTM : public Recurrent {
 public:
  LSTM(const RecurrentOptions& o, Rng& rng) : Recurrent(CellKind::kLstm, o, rng) {}
};
class GRU : public Recurrent {
 public:
  GRU(const RecurrentOptions& o, Rng& rng) : Recurrent(CellKind::kGru, o, rng) {}
};

}  // namespace lmaas::nn

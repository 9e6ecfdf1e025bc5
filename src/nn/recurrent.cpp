#include "nn/recurrent.h"

#include "autograd/tape.h"
#include "nn/init.h"

namespace lmaas::nn {
namespace {

int64_t gates_of(CellKind kind) {
  switch (kind) {
    case CellKind::kLstm: return 4;
    case CellKind::kGru: return 3;
    default: return 1;
  }
}

}  // namespace

Recurrent::Recurrent(CellKind kind, const RecurrentOptions& options, Rng& rng) : kind_(kind), options_(options) {
  const int64_t h = options.hidden_size, g = gates_of(kind), n_dirs = options.bidirectional ? 2 : 1;
  LMAAS_CHECK(options.input_size > 0 && h > 0 && options.num_layers > 0,
              "recurrent layer: input_size {}, hidden_size {} and num_layers {} must be positive", options.input_size, h,
              options.num_layers);
  for (int64_t layer = 0; layer < options.num_layers; ++layer) {
    const int64_t in = layer == 0 ? options.input_size : h * n_dirs;
    for (int64_t dir = 0; dir < n_dirs; ++dir) {
      const std::string suffix = "_l" + std::to_string(layer) + (dir == 1 ? "_reverse" : "");
      DirectionWeights w;
      Tensor w_ih = Tensor::empty({g * h, in}), w_hh = Tensor::empty({g * h, h});
      init::glorot_uniform(w_ih, rng, in, g * h);
      init::orthogonal(w_hh, rng);
      w.w_ih = register_parameter("weight_ih" + suffix, w_ih);
      w.w_hh = register_parameter("weight_hh" + suffix, w_hh);
      if (options.bias) {
        Tensor b_ih = Tensor::zeros({g * h});
        if (kind == CellKind::kLstm && options.unit_forget_bias) b_ih.slice(0, h, 2 * h).fill(1.0);
        w.b_ih = register_parameter("bias_ih" + suffix, b_ih);
        w.b_hh = register_parameter("bias_hh" + suffix, Tensor::zeros({g * h}));
      }
      weights_.push_back(w);
    }
  }
  if (options.dropout > 0.0) dropout_ = register_module("dropout", std::make_shared<Dropout>(options.dropout, options.dropout_seed));
}

ops::RecurrentOutput Recurrent::run_direction(const DirectionWeights& w, const Tensor& x, const ops::TokenInput* tokens,
                                              const Tensor& mask, const Tensor& h0, const Tensor& c0, bool reverse,
                                              bool want_output) const {
  const bool rev = reverse, out = want_output;
  const auto act = kind_ == CellKind::kRnnRelu ? ops::RnnActivation::kRelu : ops::RnnActivation::kTanh;
  switch (kind_) {
    case CellKind::kLstm:
      return tokens ? ops::lstm(*tokens, mask, h0, c0, w.w_hh, w.b_hh, rev, out)
                    : ops::lstm(x, mask, h0, c0, w.w_ih, w.w_hh, w.b_ih, w.b_hh, rev, out);
    case CellKind::kGru:
      return tokens ? ops::gru(*tokens, mask, h0, w.w_hh, w.b_hh, rev, out)
                    : ops::gru(x, mask, h0, w.w_ih, w.w_hh, w.b_ih, w.b_hh, rev, out);
    case CellKind::kRnnTanh:
    case CellKind::kRnnRelu:
      return tokens ? ops::simple_rnn(*tokens, mask, h0, w.w_hh, w.b_hh, act, rev, out)
                    : ops::simple_rnn(x, mask, h0, w.w_ih, w.w_hh, w.b_ih, w.b_hh, act, rev, out);
  }
  return {};
}

int64_t Recurrent::n_gates() const { return gates_of(kind_); }

RecurrentState Recurrent::forward(const Tensor& x, const Tensor& mask, const Tensor& h0, const Tensor& c0) {
  LMAAS_CHECK(x.dim() == 3 && x.size(2) == options_.input_size, "recurrent layer: input of shape {} is not [B, T, {}]",
              shape_str(x.shape()), options_.input_size);
  return run_layers(x, Tensor(), nullptr, x.size(0), mask, h0, c0);
}

std::vector<Tensor> Recurrent::token_tables(const Tensor& embedding_weight) const {
  LMAAS_CHECK(embedding_weight.dim() == 2 && embedding_weight.size(1) == options_.input_size,
              "recurrent layer: embedding weight of shape {} is not [V, {}]", shape_str(embedding_weight.shape()),
              options_.input_size);
  autograd::NoGradGuard no_grad;
  std::vector<Tensor> tables;
  for (int64_t dir = 0; dir < n_directions(); ++dir) {
    const DirectionWeights& w = weights_[dir];
    Tensor table = ops::matmul(embedding_weight, ops::transpose(w.w_ih, 0, 1));
    tables.push_back(w.b_ih.defined() ? ops::add(table, w.b_ih) : table);
  }
  return tables;
}

RecurrentState Recurrent::forward_tokens(const Tensor& ids, const std::vector<Tensor>& tables, const Tensor& mask,
                                         const Tensor& h0, const Tensor& c0) {
  LMAAS_CHECK(ids.dim() == 2, "recurrent layer: token ids of shape {} are not [B, T]", shape_str(ids.shape()));
  LMAAS_CHECK(static_cast<int64_t>(tables.size()) == n_directions(),
              "recurrent layer: {} token tables given, one per direction expected", tables.size());
  return run_layers(Tensor(), ids, &tables, ids.size(0), mask, h0, c0);
}

RecurrentState Recurrent::run_layers(const Tensor& x, const Tensor& ids, const std::vector<Tensor>* tables,
                                     int64_t batch, const Tensor& mask, const Tensor& h0, const Tensor& c0) {
  const int64_t n_dirs = n_directions(), n_states = options_.num_layers * n_dirs;
  const int64_t h = options_.hidden_size;
  for (const Tensor* s : {&h0, &c0})
    LMAAS_CHECK(!s->defined() || s->shape() == Shape({n_states, batch, h}),
                "recurrent layer: initial state of shape {} is not [{}, {}, {}]", shape_str(s->shape()), n_states, batch, h);
  RecurrentState state;
  std::vector<Tensor> h_list, c_list;
  Tensor layer_input = x;
  for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
    std::vector<Tensor> outputs;
    for (int64_t dir = 0; dir < n_dirs; ++dir) {
      const int64_t idx = layer * n_dirs + dir;
      Tensor h_init = h0.defined() ? ops::select(h0, 0, idx) : Tensor();
      Tensor c_init = c0.defined() ? ops::select(c0, 0, idx) : Tensor();
      const bool last_layer = layer + 1 == options_.num_layers;
      const ops::TokenInput tokens{ids, tables && layer == 0 ? (*tables)[dir] : Tensor()};
      auto r = run_direction(weights_[idx], layer_input, tokens.table.defined() ? &tokens : nullptr, mask, h_init,
                             c_init, dir == 1, !last_layer || options_.return_sequences);
      outputs.push_back(r.output);
      h_list.push_back(ops::reshape(r.h_n, {1, batch, h}));
      if (r.c_n.defined()) c_list.push_back(ops::reshape(r.c_n, {1, batch, h}));
    }
    if (!outputs[0].defined()) break;  // last layer without return_sequences
    layer_input = n_dirs == 1 ? outputs[0] : ops::cat(outputs, 2);
    if (dropout_ && layer + 1 < options_.num_layers) layer_input = dropout_->forward(layer_input);
  }
  if (options_.return_sequences) state.output = layer_input;
  state.h_n = ops::cat(h_list, 0);
  if (!c_list.empty()) state.c_n = ops::cat(c_list, 0);
  return state;
}

}  // namespace lmaas::nn

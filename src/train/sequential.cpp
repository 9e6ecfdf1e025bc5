// The Keras-style facade (include/lmaas/keras.h) over nn layers, ops and optimizers.
#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>

#include "autograd/tape.h"
#include "base/rng.h"
#include "lmaas/keras.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/recurrent.h"
#include "ops/ops.h"
#include "optim/optimizer.h"

namespace lmaas {

std::vector<std::vector<int32_t>> pad_sequences(const std::vector<std::vector<int32_t>>& sequences,
                                                const PadSequencesOptions& o) {
  text::PadOptions p;
  p.maxlen = o.maxlen, p.value = o.value;
  auto padding = text::parse_pad_side(o.padding), truncating = text::parse_pad_side(o.truncating);
  if (!padding.is_ok()) throw Error(padding.status());
  if (!truncating.is_ok()) throw Error(truncating.status());
  p.padding = padding.value(), p.truncating = truncating.value();
  const text::PaddedSequences padded = text::pad_sequences(sequences, p);
  std::vector<std::vector<int32_t>> rows;
  for (int64_t r = 0; r < padded.rows; ++r)
    rows.emplace_back(padded.ids.begin() + r * padded.cols, padded.ids.begin() + (r + 1) * padded.cols);
  return rows;
}

namespace layers {
Layer Embedding(int64_t input_dim, int64_t output_dim, bool mask_zero) {
  return {"embedding", input_dim, output_dim, mask_zero, false, 0.0, ""};
}
Layer SimpleRNN(int64_t units, bool return_sequences) { return {"simple_rnn", 0, units, false, return_sequences, 0.0, ""}; }
Layer LSTM(int64_t units, bool return_sequences) { return {"lstm", 0, units, false, return_sequences, 0.0, ""}; }
Layer GRU(int64_t units, bool return_sequences) { return {"gru", 0, units, false, return_sequences, 0.0, ""}; }
Layer Dropout(double rate) { return {"dropout", 0, 0, false, false, rate, ""}; }
Layer Dense(int64_t units, const std::string& activation) { return {"dense", 0, units, false, false, 0.0, activation}; }
}  // namespace layers

namespace {

// One built layer: the module and how to run it.
struct Built {
  layers::Layer spec;
  std::shared_ptr<nn::Module> module;
};

nn::Activation dense_activation(const std::string& name) {
  if (name == "linear" || name.empty() || name == "softmax") return nn::Activation::kNone;  // softmax: below
  if (name == "sigmoid") return nn::Activation::kSigmoid;
  if (name == "tanh") return nn::Activation::kTanh;
  if (name == "relu") return nn::Activation::kRelu;
  if (name == "gelu") return nn::Activation::kGelu;
  throw Error(Code::kInvalidArgument, "Dense: unknown activation '" + name + "'");
}

}  // namespace

struct Sequential::Impl : nn::Module {
  std::vector<layers::Layer> specs;
  std::vector<Built> built;
  CompileOptions compiled;
  std::unique_ptr<optim::Optimizer> optimizer;
  Rng rng{1};
  bool is_compiled = false;

  void build() {
    int64_t width = 0;
    std::map<std::string, int> seen;
    for (const layers::Layer& s : specs) {
      const int n = seen[s.kind]++;
      const std::string name = n == 0 ? s.kind : s.kind + "_" + std::to_string(n);  // Keras' naming
      std::shared_ptr<nn::Module> m;
      if (s.kind == "embedding") {
        m = std::make_shared<nn::Embedding>(s.input_dim, s.units, rng, s.mask_zero ? 0 : -1);
        width = s.units;
      } else if (s.kind == "dropout") {
        m = std::make_shared<nn::Dropout>(s.rate, 0x5eed + static_cast<uint64_t>(built.size()));
      } else if (s.kind == "dense") {
        if (width == 0) throw Error(Code::kInvalidArgument, "Sequential: Dense needs an input layer before it");
        m = std::make_shared<nn::Linear>(width, s.units, rng, true, dense_activation(s.activation));
        width = s.units;
      } else {
        if (width == 0) throw Error(Code::kInvalidArgument, "Sequential: " + s.kind + " needs an Embedding before it");
        nn::RecurrentOptions o;
        o.input_size = width, o.hidden_size = s.units, o.return_sequences = s.return_sequences;
        o.unit_forget_bias = s.kind == "lstm";  // Keras' LSTM default
        const nn::CellKind kind = s.kind == "lstm" ? nn::CellKind::kLstm
                                  : s.kind == "gru" ? nn::CellKind::kGru
                                                    : nn::CellKind::kRnnTanh;
        m = std::make_shared<nn::Recurrent>(kind, o, rng);
        width = s.units;
      }
      built.push_back({s, register_module(name, m)});
    }
  }

  // The last layer's pre-activation output when `logits` (its activation is folded into the loss), else
  // the activated output.
  Tensor forward(const Tensor& ids, bool logits) {
    Tensor x = ids, mask;
    for (size_t i = 0; i < built.size(); ++i) {
      const Built& b = built[i];
      const bool last = i + 1 == built.size();
      if (b.spec.kind == "embedding") {
        auto& e = static_cast<nn::Embedding&>(*b.module);
        if (b.spec.mask_zero) mask = e.padding_mask(x);
        x = e.forward(x);
      } else if (b.spec.kind == "dropout") {
        x = static_cast<nn::Dropout&>(*b.module).forward(x);
      } else if (b.spec.kind == "dense") {
        auto& d = static_cast<nn::Linear&>(*b.module);
        x = last && logits ? ops::linear(x, d.weight(), d.bias()) : d.forward(x);
        if (b.spec.activation == "softmax" && !(last && logits)) x = ops::softmax(x, -1);
      } else {
        auto state = static_cast<nn::Recurrent&>(*b.module).forward(x, mask);
        x = b.spec.return_sequences ? state.output : ops::select(state.h_n, 0, state.h_n.size(0) - 1);
      }
    }
    return x;
  }

  Tensor loss(const Tensor& logits, const Tensor& y) const {
    const std::string& l = compiled.loss;
    const std::string& act = built.back().spec.activation;
    if (l == "binary_crossentropy") {
      if (act == "sigmoid") return ops::binary_cross_entropy_with_logits(logits, y);
      throw Error(Code::kInvalidArgument, "binary_crossentropy needs a last Dense with activation 'sigmoid'");
    }
    if (l == "sparse_categorical_crossentropy" || l == "categorical_crossentropy") {
      if (act != "softmax") throw Error(Code::kInvalidArgument, l + " needs a last Dense with activation 'softmax'");
      std::vector<int32_t> classes;
      const auto values = y.to_vector<float>();
      const int64_t width = y.size(1);
      for (int64_t r = 0; r < y.size(0); ++r) {
        if (l == "sparse_categorical_crossentropy") {
          classes.push_back(static_cast<int32_t>(values[r * width]));
          continue;
        }
        const auto row = values.begin() + r * width;
        classes.push_back(static_cast<int32_t>(std::max_element(row, row + width) - row));  // one-hot → index
      }
      return ops::cross_entropy(logits, Tensor::from_vector(classes, {y.size(0)}));
    }
    if (l == "mse") {  // on the activated output
      Tensor out = logits;
      if (act == "sigmoid" || act == "tanh" || act == "relu" || act == "gelu") out = nn::apply_activation(dense_activation(act), logits);
      if (act == "softmax") out = ops::softmax(logits, -1);
      return ops::mse_loss(out, y);
    }
    throw Error(Code::kInvalidArgument, "unknown loss '" + l + "'");
  }
};

Sequential::Sequential() : impl_(std::make_unique<Impl>()) {}
Sequential::~Sequential() = default;
Sequential::Sequential(Sequential&&) noexcept = default;

void Sequential::add(const layers::Layer& layer) {
  if (impl_->is_compiled) throw Error(Code::kFailedPrecondition, "Sequential: add() after compile()");
  impl_->specs.push_back(layer);
}

void Sequential::compile(const CompileOptions& options) {
  if (impl_->specs.empty() || impl_->specs.back().kind != "dense")
    throw Error(Code::kInvalidArgument, "Sequential: the last layer must be Dense");
  impl_->compiled = options;
  impl_->build();
  const bool sgd = options.optimizer == "sgd";
  const double lr = options.learning_rate > 0 ? options.learning_rate : (sgd ? 1e-2 : 1e-3);
  if (sgd) {
    optim::SgdOptions o;
    o.lr = lr;
    impl_->optimizer = std::make_unique<optim::SGD>(impl_->parameters(), o);
  } else if (options.optimizer == "adam" || options.optimizer == "adamw") {
    optim::AdamOptions o;
    o.lr = lr, o.eps = 1e-7;  // Keras' epsilon
    impl_->optimizer = std::make_unique<optim::Adam>(impl_->parameters(), o, options.optimizer == "adamw");
  } else {
    throw Error(Code::kInvalidArgument, "unknown optimizer '" + options.optimizer + "' (adam, adamw, sgd)");
  }
  impl_->is_compiled = true;
}

namespace {

Tensor rows_to_ids(const std::vector<std::vector<int32_t>>& x, const std::vector<size_t>& pick) {
  const int64_t width = x.empty() ? 0 : static_cast<int64_t>(x[0].size());
  Tensor ids = Tensor::empty({static_cast<int64_t>(pick.size()), width}, DType::kI32);
  for (size_t i = 0; i < pick.size(); ++i) {
    if (static_cast<int64_t>(x[pick[i]].size()) != width)
      throw Error(Code::kInvalidArgument, "Sequential: row " + std::to_string(pick[i]) + " has " +
                                              std::to_string(x[pick[i]].size()) + " ids, row 0 has " +
                                              std::to_string(width) + " (pad them first)");
    std::copy(x[pick[i]].begin(), x[pick[i]].end(), ids.data<int32_t>() + i * width);
  }
  return ids;
}

}  // namespace

History Sequential::fit(const std::vector<std::vector<int32_t>>& x, const std::vector<float>& y, const FitOptions& o) {
  std::vector<std::vector<float>> rows;
  for (float v : y) rows.push_back({v});
  return fit(x, rows, o);
}

History Sequential::fit(const std::vector<std::vector<int32_t>>& x, const std::vector<std::vector<float>>& y,
                        const FitOptions& o) {
  if (!impl_->is_compiled) throw Error(Code::kFailedPrecondition, "Sequential: fit() before compile()");
  if (x.size() != y.size() || x.empty())
    throw Error(Code::kInvalidArgument, "Sequential: fit() got " + std::to_string(x.size()) + " inputs and " +
                                            std::to_string(y.size()) + " targets");
  const bool accuracy = std::find(impl_->compiled.metrics.begin(), impl_->compiled.metrics.end(), "accuracy") !=
                        impl_->compiled.metrics.end();
  const bool binary = impl_->compiled.loss == "binary_crossentropy";
  History history;
  Rng rng(o.seed);
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  impl_->train(true);
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    if (o.shuffle) shuffle(order, rng);
    double loss_sum = 0;
    int64_t correct = 0;
    for (size_t start = 0; start < order.size(); start += static_cast<size_t>(o.batch_size)) {
      std::vector<size_t> pick(order.begin() + static_cast<std::ptrdiff_t>(start),
                               order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + o.batch_size)));
      Tensor ids = rows_to_ids(x, pick);
      const int64_t width = static_cast<int64_t>(y[pick[0]].size());
      Tensor target = Tensor::empty({static_cast<int64_t>(pick.size()), width});
      for (size_t i = 0; i < pick.size(); ++i) std::copy(y[pick[i]].begin(), y[pick[i]].end(), target.data<float>() + i * width);
      impl_->optimizer->zero_grad();
      Tensor logits = impl_->forward(ids, true);
      Tensor loss = impl_->loss(logits, target);
      autograd::backward(loss);
      impl_->optimizer->step();
      loss_sum += loss.item() * static_cast<double>(pick.size());
      if (accuracy) {
        const auto out = logits.to_vector<float>(), t = target.to_vector<float>();
        const int64_t k = logits.size(-1);
        for (size_t i = 0; i < pick.size(); ++i) {
          if (binary) {
            correct += (out[i * k] > 0) == (t[i * width] > 0.5f);  // logit > 0 ⇔ sigmoid > ½
          } else {
            const auto row = out.begin() + static_cast<std::ptrdiff_t>(i * k);
            const int64_t pred = std::max_element(row, row + k) - row;
            const int64_t truth = width == 1 ? static_cast<int64_t>(t[i])
                                             : std::max_element(t.begin() + i * width, t.begin() + (i + 1) * width) -
                                                   (t.begin() + i * width);
            correct += pred == truth;
          }
        }
      }
    }
    history.loss.push_back(loss_sum / static_cast<double>(x.size()));
    if (accuracy) history.accuracy.push_back(static_cast<double>(correct) / static_cast<double>(x.size()));
    if (o.verbose) {
      std::printf("Epoch %lld/%lld - loss: %.4f", static_cast<long long>(epoch), static_cast<long long>(o.epochs),
                  history.loss.back());
      if (accuracy) std::printf(" - accuracy: %.4f", history.accuracy.back());
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  return history;
}

std::vector<std::vector<float>> Sequential::predict(const std::vector<std::vector<int32_t>>& x, int64_t batch_size) {
  if (!impl_->is_compiled) throw Error(Code::kFailedPrecondition, "Sequential: predict() before compile()");
  autograd::NoGradGuard no_grad;
  impl_->eval();
  std::vector<std::vector<float>> out;
  for (size_t start = 0; start < x.size(); start += static_cast<size_t>(batch_size)) {
    std::vector<size_t> pick;
    for (size_t i = start; i < std::min(x.size(), start + static_cast<size_t>(batch_size)); ++i) pick.push_back(i);
    Tensor y = impl_->forward(rows_to_ids(x, pick), false).contiguous();
    const int64_t k = y.size(-1);
    for (size_t i = 0; i < pick.size(); ++i) out.emplace_back(y.data<float>() + i * k, y.data<float>() + (i + 1) * k);
  }
  impl_->train(true);
  return out;
}

int64_t Sequential::count_params() const { return impl_->n_parameters(); }

}  // namespace lmaas

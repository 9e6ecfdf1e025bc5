// `lmaas demo`: what the engine can do so far, in a few seconds. Trains the seed system's model —
// Embedding(V, 10) → LSTM(100) → Dense(1, sigmoid), binary cross-entropy, Adam — on a synthetic task
// (is there more of token 1 than of token 2 in a right-padded sequence?) and prints loss and held-out
// accuracy per epoch.
#include <cstdio>

#include "autograd/tape.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/recurrent.h"
#include "ops/ops.h"
#include "optim/optimizer.h"

namespace lmaas::cli {
namespace {

constexpr int64_t kVocab = 12, kSeqLen = 20;

class SeedModel : public nn::Module {
 public:
  explicit SeedModel(Rng& rng) {
    embedding_ = register_module("embedding", std::make_shared<nn::Embedding>(kVocab, 10, rng, 0));
    nn::RecurrentOptions o;
    o.input_size = 10, o.hidden_size = 100;
    lstm_ = register_module("lstm", std::make_shared<nn::LSTM>(o, rng));
    dense_ = register_module("dense", std::make_shared<nn::Linear>(100, 1, rng));
  }
  // Logits [B]; the sigmoid is folded into the loss (binary cross-entropy with logits).
  Tensor forward(const Tensor& ids) {
    auto state = lstm_->forward(embedding_->forward(ids), embedding_->padding_mask(ids));
    return ops::reshape(dense_->forward(ops::select(state.h_n, 0, 0)), {ids.size(0)});
  }

 private:
  std::shared_ptr<nn::Embedding> embedding_;
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::Linear> dense_;
};

struct Data {
  Tensor ids, labels;
};

Data make_data(Rng& rng, int64_t n) {
  Data d{Tensor::zeros({n, kSeqLen}, DType::kI32), Tensor::empty({n}, DType::kF32)};
  for (int64_t i = 0; i < n; ++i) {
    int64_t len = 5 + static_cast<int64_t>(rng.below(kSeqLen - 5 + 1)), ones = 0, twos = 0;
    for (int64_t t = 0; t < len; ++t) {
      int32_t id = 1 + static_cast<int32_t>(rng.below(kVocab - 1));
      ones += id == 1, twos += id == 2;
      d.ids.data<int32_t>()[i * kSeqLen + t] = id;
    }
    d.labels.data<float>()[i] = ones > twos ? 1.0f : 0.0f;
  }
  return d;
}

double accuracy(SeedModel& model, const Data& d) {
  autograd::NoGradGuard no_grad;
  auto logits = model.forward(d.ids).to_vector<float>();
  auto labels = d.labels.to_vector<float>();
  int64_t correct = 0;
  for (size_t i = 0; i < logits.size(); ++i) correct += (logits[i] > 0) == (labels[i] > 0.5f);
  return static_cast<double>(correct) / static_cast<double>(logits.size());
}

int run_demo(int epochs) {
  Rng rng(42);
  SeedModel model(rng);
  Data train = make_data(rng, 2048), held_out = make_data(rng, 512);
  optim::Adam adam(model.parameters(), optim::AdamOptions{.lr = 3e-3});
  const int64_t batch = 64;
  std::printf("lmaas demo: Embedding(%lld,10) → LSTM(100) → Dense(1, sigmoid), BCE, Adam; %lld parameters, %d threads\n",
              static_cast<long long>(kVocab), static_cast<long long>(model.n_parameters()), num_threads());
  std::printf("task: is token 1 more frequent than token 2 in a right-padded sequence (length 5–20)?\n");
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    double total = 0;
    int64_t n_batches = 0;
    model.train();
    for (int64_t start = 0; start < train.ids.size(0); start += batch, ++n_batches) {
      Tensor ids = train.ids.slice(0, start, start + batch), labels = train.labels.slice(0, start, start + batch);
      adam.zero_grad();
      Tensor loss = ops::binary_cross_entropy_with_logits(model.forward(ids), labels);
      autograd::backward(loss);
      adam.step();
      total += loss.item();
    }
    std::printf("epoch %2d  loss %.4f  held-out accuracy %.3f\n", epoch, total / static_cast<double>(n_batches),
                accuracy(model, held_out));
  }
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_code) {
  auto epochs = std::make_shared<int>(8);
  CLI::App* cmd = app.add_subcommand("demo", "Train the seed model on a synthetic task and print its progress");
  cmd->add_option("--epochs", *epochs, "training epochs")->check(CLI::Range(1, 1000));
  cmd->callback([epochs, &exit_code] { exit_code = run_demo(*epochs); });
}

}  // namespace lmaas::cli

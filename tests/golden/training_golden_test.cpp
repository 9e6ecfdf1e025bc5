// Losses, optimizers (five steps each), clipping, schedules and the seed model against PyTorch 1.13.
#include "autograd/tape.h"
#include "golden/golden_util.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "nn/recurrent.h"
#include "ops/ops.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace lmaas::golden {
namespace {

Tensor scalar_of(const Tensor& t) { return t.reshape({1}); }

TEST(GoldenLosses, BinaryCrossEntropyWithLogits) {
  Fixture f("loss_bce");
  Tensor logits = f.get("input.logits").clone().set_requires_grad(true);
  Tensor loss = ops::binary_cross_entropy_with_logits(logits, f.get("input.targets"));
  expect_close(scalar_of(loss), scalar_of(f.get("output.loss")), "bce loss");
  autograd::backward(loss);
  expect_close(logits.grad(), f.get("grad.input.logits"), "bce grad");
}

class GoldenCrossEntropy : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenCrossEntropy, LossAndGradient) {
  Fixture f(GetParam());
  Tensor logits = f.get("input.logits").clone().set_requires_grad(true);
  double smoothing = f.config().value("label_smoothing", 0.0);
  Tensor loss = ops::cross_entropy(logits, f.get("input.targets"), -100, smoothing);
  expect_close(scalar_of(loss), scalar_of(f.get("output.loss")), "ce loss");
  autograd::backward(loss);
  expect_close(logits.grad(), f.get("grad.input.logits"), "ce grad");
}

INSTANTIATE_TEST_SUITE_P(Losses, GoldenCrossEntropy, ::testing::Values("loss_ce", "loss_ce_plain"));

TEST(GoldenLosses, MeanSquaredError) {
  Fixture f("loss_mse");
  Tensor pred = f.get("input.prediction").clone().set_requires_grad(true);
  Tensor loss = ops::mse_loss(pred, f.get("input.target"));
  expect_close(scalar_of(loss), scalar_of(f.get("output.loss")), "mse loss");
  autograd::backward(loss);
  expect_close(pred.grad(), f.get("grad.input.prediction"), "mse grad");
}

std::unique_ptr<optim::Optimizer> make_optimizer(const nlohmann::json& c, std::vector<Tensor> params) {
  const std::string kind = c.at("optimizer");
  if (kind == "sgd") {
    optim::SgdOptions o;
    o.lr = c.at("lr"), o.momentum = c.value("momentum", 0.0), o.dampening = c.value("dampening", 0.0);
    o.weight_decay = c.value("weight_decay", 0.0), o.nesterov = c.value("nesterov", false);
    return std::make_unique<optim::SGD>(std::move(params), o);
  }
  optim::AdamOptions o;
  o.lr = c.at("lr"), o.beta1 = c.at("betas")[0], o.beta2 = c.at("betas")[1], o.eps = c.at("eps");
  o.weight_decay = c.value("weight_decay", 0.0);
  return std::make_unique<optim::Adam>(std::move(params), o, kind == "adamw");
}

// Runs the fixture's n steps: loss before each step and every parameter after it must match.
template <typename LossFn>
void check_trajectory(const Fixture& f, nn::Module& model, LossFn loss_fn, double rtol = 1e-5, double atol = 1e-6) {
  ASSERT_TRUE(model.load_state(f.with_prefix("param.")).is_ok());
  auto optimizer = make_optimizer(f.config(), model.parameters());
  const double clip = f.config().value("clip_grad_norm", 0.0);
  for (int k = 1; k <= f.config().at("n_steps").get<int>(); ++k) {
    const std::string step = "step" + std::to_string(k);
    optimizer->zero_grad();
    Tensor loss = loss_fn();
    expect_close(scalar_of(loss), scalar_of(f.get(step + ".loss")), f.name() + " " + step + ".loss", rtol, atol);
    autograd::backward(loss);
    if (clip > 0) {
      double norm = optim::clip_grad_norm(model.parameters(), clip);
      EXPECT_NEAR(norm, f.get(step + ".grad_norm").item(), 1e-5 * norm) << step;
    }
    optimizer->step();
    for (const auto& [name, param] : model.named_parameters())
      expect_close(param, f.get(step + ".param." + name), f.name() + " " + step + ".param." + name, rtol, atol);
  }
}

class GoldenOptimizer : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenOptimizer, FiveStepsMatchPyTorch) {
  Fixture f(GetParam());
  Rng rng(1);
  Container model;
  auto linear = model.add("linear", std::make_shared<nn::Linear>(4, 3, rng));
  Tensor x = f.get("input.x"), targets = f.get("input.targets");
  check_trajectory(f, model, [&] { return ops::cross_entropy(linear->forward(x), targets); });
}

INSTANTIATE_TEST_SUITE_P(Optimizers, GoldenOptimizer,
                         ::testing::Values("optim_sgd", "optim_sgd_momentum", "optim_sgd_nesterov", "optim_adam",
                                           "optim_adam_l2", "optim_adamw", "optim_clip"));

// The seed system's model: Embedding(V,10) → LSTM(100) → Dense(1) on the last step, BCE, Adam.
TEST(GoldenSeedModel, FiveAdamStepsMatchPyTorch) {
  Fixture f("seed_model_adam");
  Rng rng(1);
  Container model;
  auto embedding = model.add("embedding", std::make_shared<nn::Embedding>(30, 10, rng));
  nn::RecurrentOptions ro;
  ro.input_size = 10, ro.hidden_size = 100;
  auto lstm = model.add("lstm", std::make_shared<nn::LSTM>(ro, rng));
  auto dense = model.add("dense", std::make_shared<nn::Linear>(100, 1, rng));
  Tensor ids = f.get("input.ids"), labels = f.get("input.labels");
  auto loss_fn = [&] {
    auto state = lstm->forward(embedding->forward(ids));
    Tensor logits = dense->forward(nn::pool(state.output, Tensor(), nn::Pooling::kLast));
    return ops::binary_cross_entropy_with_logits(ops::reshape(logits, {ids.size(0)}), labels);
  };
  // Adam divides each update by the gradient's running RMS, so on weights whose gradients are nearly zero
  // the last-bit rounding of the LSTM's GEMMs (OpenBLAS rounds differently on AVX2 and AVX-512 machines)
  // shifts parameters by ~1.5e-6 after a few steps; 3e-6 absolute still catches any wrong update (lr 1e-3).
  check_trajectory(f, model, loss_fn, 1e-5, 3e-6);
}

TEST(GoldenSchedules, MatchFormulasAndTorchCosine) {
  Fixture f("schedules");
  std::vector<std::pair<std::string, optim::Schedule>> cases = {
      {"linear_warmup", {optim::ScheduleKind::kWarmupLinear, 10, 100, 0.0}},
      {"cosine", {optim::ScheduleKind::kCosine, 0, 100, 0.0}},
      {"cosine_warmup", {optim::ScheduleKind::kWarmupCosine, 10, 100, 0.0}},
  };
  for (const auto& [name, schedule] : cases) {
    std::vector<float> lr;
    for (int64_t s = 0; s < 100; ++s) lr.push_back(static_cast<float>(schedule.factor(s)));
    expect_close(Tensor::from_vector(lr, {100}), f.get("output." + name), name, 1e-5, 1e-7);
  }
}

}  // namespace
}  // namespace lmaas::golden

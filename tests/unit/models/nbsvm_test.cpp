// NbsvmClassifier: the naive-Bayes log-count ratios against values worked out by hand, the logits as
// bias + the sum over a text's distinct features of ratio * weight (training and frozen serving forms),
// and the ratios surviving a model file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <set>

#include "autograd/tape.h"
#include "formats/module_state.h"
#include "models/nbsvm_classifier.h"

namespace lmaas::models {
namespace {

// Vocabulary 0 (padding), 1, 2, 3. Class 0: {1, 2} (1 twice: counted once), {2}; class 1: {3, 1}.
void fit_toy(NbsvmClassifier& model) {
  const std::vector<std::pair<std::vector<int32_t>, int32_t>> examples = {
      {{1, 1, 2, 0}, 0}, {{2}, 0}, {{3, 1}, 1}};
  model.fit_statistics([&](const auto& visit) {
    for (const auto& [ids, label] : examples) visit(ids, label);
  });
}

NbsvmClassifier toy_model() {
  NbsvmConfig c;
  c.vocab_size = 4, c.n_classes = 2, c.alpha = 1.0;
  return NbsvmClassifier(c);
}

Tensor state_tensor(const nn::Module& m, const std::string& name) {
  for (const auto& [n, t] : m.named_state())
    if (n == name) return t;
  ADD_FAILURE() << "no " << name;
  return Tensor();
}

TEST(Nbsvm, RatiosAreSmoothedLogCountRatios) {
  NbsvmClassifier model = toy_model();
  fit_toy(model);
  // Documents holding each feature: f1 c0 1 c1 1; f2 c0 2 c1 0; f3 c0 0 c1 1.
  // Class 1 vs rest, alpha 1: p = (2, 1, 2) / 5, q = (2, 3, 1) / 6.
  const std::vector<double> r1 = {0, std::log((2.0 / 5) / (2.0 / 6)), std::log((1.0 / 5) / (3.0 / 6)),
                                  std::log((2.0 / 5) / (1.0 / 6))};
  auto r = state_tensor(model, "nb_ratio").to_vector<float>();
  ASSERT_EQ(r.size(), 8u);
  for (int f = 0; f < 4; ++f) {
    EXPECT_NEAR(r[static_cast<size_t>(f * 2 + 1)], r1[static_cast<size_t>(f)], 1e-6) << "feature " << f;
    EXPECT_NEAR(r[static_cast<size_t>(f * 2)], -r1[static_cast<size_t>(f)], 1e-6) << "two classes: opposite signs";
  }
  EXPECT_EQ(model.parameters().size(), 2u) << "the ratios are a buffer, not a parameter";
}

// The fitted toy model's weights and bias set by hand.
void set_toy_weights(NbsvmClassifier& model, const std::vector<float>& w) {
  EXPECT_TRUE(model.load_state({{"weight", Tensor::from_vector<float>(w, {4, 2})},
                                {"bias", Tensor::from_vector<float>({0.1f, -0.2f}, {2})},
                                {"nb_ratio", state_tensor(model, "nb_ratio")}})
                  .is_ok());
}

// Training form, then the frozen serving form (one weight * ratio table, fused gather-and-sum).
class NbsvmForms : public ::testing::TestWithParam<bool> {};

TEST_P(NbsvmForms, LogitsSumDistinctFeatures) {
  const std::vector<float> w = {0, 0, 0.5f, -1.0f, 2.0f, 0.25f, -0.5f, 3.0f};
  NbsvmClassifier model = toy_model();
  fit_toy(model);
  set_toy_weights(model, w);
  auto r = state_tensor(model, "nb_ratio").to_vector<float>();
  autograd::NoGradGuard no_grad;
  if (GetParam()) {
    model.eval();
    ASSERT_TRUE(model.freeze_for_inference());
  }
  // Row 0: features {1, 2} (2 repeated); row 1: {3}; row 2: nothing (bias only).
  Tensor ids = Tensor::from_vector<int32_t>({2, 1, 2, 3, 0, 0, 0, 0, 0}, {3, 3});
  auto logits = model.forward(ids).to_vector<float>();
  auto term = [&](int f, int c) { return r[static_cast<size_t>(f * 2 + c)] * w[static_cast<size_t>(f * 2 + c)]; };
  EXPECT_NEAR(logits[0], 0.1f + term(1, 0) + term(2, 0), 1e-5);
  EXPECT_NEAR(logits[1], -0.2f + term(1, 1) + term(2, 1), 1e-5);
  EXPECT_NEAR(logits[2], 0.1f + term(3, 0), 1e-5);
  EXPECT_NEAR(logits[3], -0.2f + term(3, 1), 1e-5);
  EXPECT_NEAR(logits[4], 0.1f, 1e-6);
  EXPECT_NEAR(logits[5], -0.2f, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(TrainingAndFrozen, NbsvmForms, ::testing::Bool());

TEST(Nbsvm, FrozenFormGivesTheSameFloats) {
  // Random weights and rows with repeats and padding: the serving form adds the same products in the
  // same order, so its output equals the training form's bit for bit, and a row's result does not
  // depend on the rows beside it.
  NbsvmConfig c;
  c.vocab_size = 50, c.n_classes = 3;
  NbsvmClassifier model(c);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::uniform_int_distribution<int32_t> id(0, 49);
  std::vector<float> w(150), ratio(150);
  for (auto& x : w) x = u(rng);
  for (auto& x : ratio) x = u(rng);
  std::fill(ratio.begin(), ratio.begin() + 3, 0.0f);  // padding's ratios, zero as fit_statistics leaves them
  ASSERT_TRUE(model.load_state({{"weight", Tensor::from_vector<float>(w, {50, 3})},
                                {"bias", Tensor::from_vector<float>({0.3f, -0.1f, 0.05f}, {3})},
                                {"nb_ratio", Tensor::from_vector<float>(ratio, {50, 3})}})
                  .is_ok());
  std::vector<int32_t> rows(8 * 40);
  for (auto& x : rows) x = id(rng) % 3 == 0 ? 0 : id(rng);
  Tensor ids = Tensor::from_vector<int32_t>(rows, {8, 40});
  autograd::NoGradGuard no_grad;
  model.eval();
  const auto general = model.forward(ids).to_vector<float>();
  ASSERT_TRUE(model.freeze_for_inference());
  EXPECT_EQ(model.forward(ids).to_vector<float>(), general);
  Tensor alone = Tensor::from_vector<int32_t>(std::vector<int32_t>(rows.begin() + 40, rows.begin() + 80), {1, 40});
  EXPECT_EQ(model.forward(alone).to_vector<float>(), std::vector<float>(general.begin() + 3, general.begin() + 6));
}

TEST(Nbsvm, LongRowsOverALargeVocabularySumEachFeatureOnceInOrder) {
  // Rows long enough for the radix sort, ids over three bytes, repeats and padding: both forms must
  // equal the sum over std::set's ascending distinct ids, added in that order in float.
  NbsvmConfig c;
  c.vocab_size = (1 << 20) + 5, c.n_classes = 2;
  NbsvmClassifier model(c);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int32_t> id(1, static_cast<int32_t>(c.vocab_size - 1));
  std::vector<float> w(static_cast<size_t>(c.vocab_size * 2)), ratio(w.size());
  for (auto& x : w) x = u(rng);
  for (size_t i = 2; i < ratio.size(); ++i) ratio[i] = u(rng);
  ASSERT_TRUE(model.load_state({{"weight", Tensor::from_vector<float>(w, {c.vocab_size, 2})},
                                {"bias", Tensor::from_vector<float>({0.0f, 0.0f}, {2})},
                                {"nb_ratio", Tensor::from_vector<float>(ratio, {c.vocab_size, 2})}})
                  .is_ok());
  const int64_t rows = 3, width = 500;
  std::vector<int32_t> ids(static_cast<size_t>(rows * width), 0);
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t t = 0; t < width - 40 * b; ++t)  // rows of 500, 460, 420 ids, then padding
      ids[static_cast<size_t>(b * width + t)] = t % 5 == 4 ? ids[static_cast<size_t>(b * width + t / 2)] : id(rng);
  std::vector<float> expected;
  for (int64_t b = 0; b < rows; ++b) {
    const std::set<int32_t> distinct(ids.begin() + b * width, ids.begin() + (b + 1) * width);
    float sum[2] = {0, 0};
    for (int32_t f : distinct)
      if (f > 0)
        for (int k = 0; k < 2; ++k) sum[k] += w[static_cast<size_t>(f * 2 + k)] * ratio[static_cast<size_t>(f * 2 + k)];
    expected.insert(expected.end(), sum, sum + 2);
  }
  Tensor batch = Tensor::from_vector<int32_t>(ids, {rows, width});
  autograd::NoGradGuard no_grad;
  model.eval();
  EXPECT_EQ(model.forward(batch).to_vector<float>(), expected);
  ASSERT_TRUE(model.freeze_for_inference());
  EXPECT_EQ(model.forward(batch).to_vector<float>(), expected);
}

TEST(Nbsvm, RatiosTravelInTheModelFile) {
  NbsvmClassifier trained = toy_model();
  fit_toy(trained);
  const std::string path = (std::filesystem::temp_directory_path() / "lmaas_nbsvm_state.safetensors").string();
  ASSERT_TRUE(save_module_state(trained, path).is_ok());
  NbsvmClassifier loaded = toy_model();
  ASSERT_TRUE(load_module_state(loaded, path).is_ok());
  EXPECT_EQ(state_tensor(loaded, "nb_ratio").to_vector<float>(), state_tensor(trained, "nb_ratio").to_vector<float>());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace lmaas::models
